//! What keeps campaigns honest under real use: a form posted twice does its work once;
//! per-row SMS fills the typed text's variables; campaigns that never sent do not hold an
//! audience hostage and can be deleted; receipts only touch their own provider's messages;
//! odd callbacks lose only themselves; stop words as phones write them; WhatsApp marketing
//! preferences; schedules that could never run; what a cancelled run and a pause say;
//! drafts sent after their time; refusals of one recipient that must not pause a run;
//! providers' failure reports in pt-BR; one-time tokens that fit only their own form.

use diesel::prelude::*;
use engajar::models::provider_settings::SmsProvider;
use engajar::schema::{audit_log, campaigns, contact_channels, dnd_entries, interactions};
use serde_json::json;

use crate::campaigns::{cli, json as json_of, wait_until};
use crate::helpers::*;
use crate::providers::*;
use crate::whatsapp_sms::{
    app_with, campaign_from, ledger, phones, twilio_callback, wait_done, whatsapp_callback,
    zenvia_callback,
};

const JOAO: &str = "+5511987650001";
const MARIA: &str = "+5511987650002";
const ANA: &str = "+5511987650003";
const PEDRO: &str = "+5511987650004";

fn campaign_count(app: &TestApp) -> i64 {
    campaigns::table.count().get_result(&mut app.db()).unwrap()
}

/// The CSRF token and the one-time token of the form `form` on `page`.
async fn form_tokens(app: &TestApp, page: &str, form: &str) -> (String, String) {
    let html = app.get_html(page).await;
    let csrf = field_value(&html, &format!("{form} input[name=csrf_token]"))
        .unwrap_or_else(|| panic!("no csrf_token in {form} on {page}"));
    let once = field_value(&html, &format!("{form} input[name=form_token]"))
        .unwrap_or_else(|| panic!("no form_token in {form} on {page}"));
    (csrf, once)
}

fn with_tokens<'a>(
    fields: &[(&'a str, &'a str)],
    tokens: &'a (String, String),
) -> Vec<(&'a str, &'a str)> {
    let mut all = fields.to_vec();
    all.push(("csrf_token", &tokens.0));
    all.push(("form_token", &tokens.1));
    all
}

async fn import_phones(app: &TestApp, rows: &[(&str, &str, &str, &str)]) -> String {
    let segment = app.add_segment("Clientes");
    app.import_bytes("publico.csv", phones(rows), segment, &[])
        .await
        .0
        .to_string()
}

fn sms_fields<'a>(audience: &'a str, acao: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Aviso"),
        ("channel", "sms"),
        ("target", "audience"),
        ("audience_id", audience),
        ("body", "Olá @PrimeiroNome, temos novidades."),
        ("schedule", "now"),
        ("acao", acao),
    ]
}

crate::for_both_backends!(
    a_form_posted_twice_does_its_work_once,
    per_row_sms_fills_the_typed_text_for_rows_without_their_own,
    only_a_campaign_that_sent_or_will_send_keeps_its_audience,
    a_receipt_touches_only_its_own_providers_message,
    a_nul_in_a_callback_id_loses_only_that_event,
    stop_words_are_read_as_phones_write_them,
    a_phone_that_stopped_whatsapp_marketing_gets_no_marketing_template,
    a_cancelled_run_shows_no_pending_messages,
    a_draft_sent_after_its_time_is_refused_and_stays_a_draft,
    refusals_of_one_recipient_never_pause_a_run,
    a_providers_failure_report_is_shown_in_portuguese,
    a_one_time_token_fits_only_its_own_form,
);

async fn a_form_posted_twice_does_its_work_once(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let audience = import_phones(
        &app,
        &[
            ("11987650001", "", "JOÃO", ""),
            ("11987650002", "", "MARIA", ""),
        ],
    )
    .await;
    let new = "/engajar/campanhas/nova";
    // A double click: the second post leads where the first did.
    let tokens = form_tokens(&app, new, "form.campaign-form").await;
    let fields = sms_fields(&audience, "agendar");
    let first = app.post_form(new, &with_tokens(&fields, &tokens)).await;
    let second = app.post_form(new, &with_tokens(&fields, &tokens)).await;
    assert_eq!(first.status(), 303);
    assert_eq!(second.status(), 303);
    assert_eq!(location(&first), location(&second));
    assert_eq!(campaign_count(&app), 1);
    // Two posts racing each other: still one campaign.
    let tokens = form_tokens(&app, new, "form.campaign-form").await;
    let all = with_tokens(&fields, &tokens);
    let (a, b) = tokio::join!(app.post_form(new, &all), app.post_form(new, &all));
    assert_eq!(a.status(), 303);
    assert_eq!(b.status(), 303);
    assert_eq!(location(&a), location(&b));
    assert_eq!(campaign_count(&app), 2);
    let (one, two) = (campaign_from(&first), campaign_from(&a));
    wait_done(&app, one).await;
    wait_done(&app, two).await;
    // One message per campaign and phone.
    assert_eq!(fake.to("5511987650001").len(), 2);
    assert_eq!(fake.to("5511987650002").len(), 2);

    // Enviar teste posted twice sends one test.
    let previa = format!("/engajar/campanhas/{one}/previa");
    let tokens = form_tokens(&app, &previa, "form.test-form").await;
    let test = [("to", "11 98888-7777"), ("recipient", "")];
    let action = format!("/engajar/campanhas/{one}/teste");
    let first = app.post_form(&action, &with_tokens(&test, &tokens)).await;
    assert_eq!(first.status(), 200);
    let again = app.post_form(&action, &with_tokens(&test, &tokens)).await;
    assert_eq!(again.status(), 303);
    // It lands on the preview saying what the first post did.
    assert_eq!(location(&again), format!("{previa}?teste=enviado"));
    let page = app.get_html(&location(&again)).await;
    let notice = texts(&page, ".alert-ok").join(" ");
    assert!(notice.contains("Mensagem de teste enviada"), "{notice}");
    assert_eq!(fake.to("5511988887777").len(), 1);

    // A draft's Enviar posted twice: the second leads to the campaign, not to a refusal.
    let tokens = form_tokens(&app, new, "form.campaign-form").await;
    let draft = app
        .post_form(new, &with_tokens(&sms_fields(&audience, "salvar"), &tokens))
        .await;
    assert_eq!(draft.status(), 303);
    let draft = campaign_from(&draft);
    let previa = format!("/engajar/campanhas/{draft}/previa");
    let tokens = form_tokens(&app, &previa, "form[action$='/agendar']").await;
    let action = format!("/engajar/campanhas/{draft}/agendar");
    let first = app.post_form(&action, &with_tokens(&[], &tokens)).await;
    let again = app.post_form(&action, &with_tokens(&[], &tokens)).await;
    assert_eq!(first.status(), 303);
    assert_eq!(again.status(), 303);
    assert_eq!(location(&again), format!("/engajar/campanhas/{draft}"));
    wait_done(&app, draft).await;
    assert_eq!(fake.to("5511987650001").len(), 3);

    // Sincronizar com a Meta posted twice calls Meta once.
    let modelos = "/admin/configuracoes/whatsapp/modelos";
    let tokens = form_tokens(&app, modelos, "form.inline").await;
    let sync = [("acao", "sincronizar")];
    let first = app.post_form(modelos, &with_tokens(&sync, &tokens)).await;
    assert_eq!(first.status(), 200);
    let again = app.post_form(modelos, &with_tokens(&sync, &tokens)).await;
    assert_eq!(again.status(), 303);
    assert_eq!(
        location(&again),
        format!("{modelos}?sincronizacao=concluida")
    );
    let page = app.get_html(&location(&again)).await;
    let notice = texts(&page, ".alert-ok").join(" ");
    assert!(notice.contains("Sincronização concluída"), "{notice}");
    let synced = audit_log::table
        .filter(audit_log::action.eq("whatsapp_template_sync"))
        .count()
        .get_result::<i64>(&mut app.db())
        .unwrap();
    assert_eq!(synced, 1);
}

async fn per_row_sms_fills_the_typed_text_for_rows_without_their_own(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let audience = import_phones(
        &app,
        &[
            ("11987650001", "Seu boleto chegou.", "JOÃO", ""),
            ("11987650002", "", "MARIA DA SILVA", ""),
            ("11987650003", "", "", ""),
            (
                "11987650004",
                "Oi @PrimeiroNome, sua fatura: @Coringa1",
                "PEDRO",
                "R$ 50",
            ),
            ("11987650005", "Siga @lojacentro (promo)", "", ""),
        ],
    )
    .await;
    let fields = [
        ("name", "Fatura"),
        ("channel", "sms"),
        ("target", "audience"),
        ("audience_id", audience.as_str()),
        ("per_row_message", "on"),
        ("body", "Olá @PrimeiroNome, sua fatura vence amanhã."),
        ("schedule", "now"),
        ("acao", "salvar"),
    ];
    let saved = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &fields,
        )
        .await;
    assert_eq!(saved.status(), 303);
    let id = campaign_from(&saved);
    // The preview shows the typed text rendered, and the row without a name skipped.
    let page = app
        .get_html(&format!("/engajar/campanhas/{id}/previa"))
        .await;
    let bodies = texts(&page, "article.sample pre.body");
    assert!(
        bodies.contains(&"Olá Maria, sua fatura vence amanhã.".to_string()),
        "{bodies:?}"
    );
    assert!(
        bodies.contains(&"Seu boleto chegou.".to_string()),
        "{bodies:?}"
    );
    // A row's own MENSAGEM has its variables filled too; text that is no template
    // (an unknown @word) goes as written.
    assert!(
        bodies.contains(&"Oi Pedro, sua fatura: R$ 50".to_string()),
        "{bodies:?}"
    );
    assert!(
        bodies.contains(&"Siga @lojacentro (promo)".to_string()),
        "{bodies:?}"
    );
    assert!(
        !bodies
            .iter()
            .any(|b| b.contains("@PrimeiroNome") || b.contains("@Coringa")),
        "{bodies:?}"
    );
    let r = app
        .submit(
            &format!("/engajar/campanhas/{id}/previa"),
            &format!("/engajar/campanhas/{id}/agendar"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    wait_done(&app, id).await;
    assert_eq!(
        fake.to("5511987650002")[0].texts,
        vec!["Olá Maria, sua fatura vence amanhã."]
    );
    assert_eq!(
        fake.to("5511987650001")[0].texts,
        vec!["Seu boleto chegou."]
    );
    assert!(fake.to("5511987650003").is_empty());
    assert_eq!(
        fake.to("5511987650004")[0].texts,
        vec!["Oi Pedro, sua fatura: R$ 50"]
    );
    let ana = ledger(&app).into_iter().find(|r| r.0 == ANA).unwrap();
    assert_eq!(
        (ana.1.as_str(), ana.4.as_deref()),
        ("skipped", Some("empty_variable"))
    );
}

/// A campaign made on the command line (a draft with `--draft`); its id.
fn sms_campaign(app: &TestApp, name: &str, audience: &str, draft: bool) -> i64 {
    let mut args = vec![
        "campaign",
        "create",
        "--name",
        name,
        "--channel",
        "sms",
        "--audience",
        audience,
        "--body",
        "Oi @PrimeiroNome",
        "--json",
    ];
    if draft {
        args.push("--draft");
    }
    let (code, out) = cli(app, &args);
    assert_eq!(code, 0, "{out}");
    json_of(&out)["id"].as_i64().unwrap()
}

fn exists(app: &TestApp, id: i64) -> bool {
    campaigns::table
        .find(id)
        .count()
        .get_result::<i64>(&mut app.db())
        .unwrap()
        == 1
}

async fn only_a_campaign_that_sent_or_will_send_keeps_its_audience(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let audience = import_phones(&app, &[("11987650001", "", "JOÃO", "")]).await;
    let draft = sms_campaign(&app, "Rascunho de março", &audience, true);
    let cancelled = sms_campaign(&app, "Cancelada antes de enviar", &audience, true);
    let r = app
        .submit(
            &format!("/engajar/campanhas/{cancelled}"),
            &format!("/engajar/campanhas/{cancelled}/cancelar"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    // Campaigns that never sent do not block: the page names them as going too.
    let excluir = format!("/admin/publicos/{audience}/excluir");
    let page = app.get_html(&excluir).await;
    assert!(
        texts(&page, "#refused").is_empty(),
        "{:?}",
        texts(&page, "#refused")
    );
    let going = texts(&page, "#undo-campaigns").join(" ");
    assert!(
        going.contains("Rascunho de março") && going.contains("Cancelada antes de enviar"),
        "{going}"
    );

    // One that sent blocks, named alone.
    let sent = sms_campaign(&app, "Enviada", &audience, false);
    wait_done(&app, sent).await;
    let page = app.get_html(&excluir).await;
    let refused = texts(&page, "#refused").join(" ");
    assert!(refused.contains("Enviada"), "{refused}");
    assert!(!refused.contains("Rascunho"), "{refused}");
    assert_eq!(app.submit(&excluir, &excluir, &[]).await.status(), 409);
    let (code, _) = cli(&app, &["audience", "delete", &audience, "--yes"]);
    assert_eq!(code, 3);

    // Excluir campanha: refused for the one that sent, done (and audited) for the draft.
    let confirm = format!("/engajar/campanhas/{sent}/excluir");
    let page = app.get_html(&confirm).await;
    assert!(
        texts(&page, "#refused").join(" ").contains("já enviou"),
        "{:?}",
        texts(&page, "#refused")
    );
    assert_eq!(app.submit(&confirm, &confirm, &[]).await.status(), 409);
    assert!(exists(&app, sent));
    let page = app.get_html(&format!("/engajar/campanhas/{draft}")).await;
    assert_eq!(
        attrs(&page, "#delete-campaign", "href"),
        vec![format!("/engajar/campanhas/{draft}/excluir")]
    );
    let confirm = format!("/engajar/campanhas/{draft}/excluir");
    assert!(texts(&app.get_html(&confirm).await, "#refused").is_empty());
    let r = app.submit(&confirm, &confirm, &[]).await;
    assert_eq!(r.status(), 303);
    assert!(!exists(&app, draft));
    app.wait_for_audit("campaign_delete", 1).await;

    // An audience held only by a draft: the command line deletes both.
    let other = import_phones(&app, &[("11987650002", "", "MARIA", "")]).await;
    let held = sms_campaign(&app, "Só rascunho", &other, true);
    let (code, out) = cli(&app, &["audience", "delete", &other, "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(!exists(&app, held));
    // And the page, for one held by a cancelled campaign.
    let third = import_phones(&app, &[("11987650003", "", "ANA", "")]).await;
    let held = sms_campaign(&app, "Outra", &third, true);
    let r = app
        .submit(
            &format!("/engajar/campanhas/{held}"),
            &format!("/engajar/campanhas/{held}/cancelar"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let excluir = format!("/admin/publicos/{third}/excluir");
    assert_eq!(app.submit(&excluir, &excluir, &[]).await.status(), 303);
    assert!(!exists(&app, held));
    assert!(exists(&app, sent));
}

/// A WhatsApp template campaign (template `aviso`) and an SMS campaign, both sent to
/// João and Maria; the app's SMS goes through `sms`.
async fn whatsapp_and_sms_sent(app: &TestApp, fake: &FakeProviders) {
    app.login_admin().await;
    fake.approve("aviso", 1);
    let (code, out) = cli(
        app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "aviso",
            "--body",
            "Olá {{1}}, temos novidades.",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let audience = import_phones(
        app,
        &[
            ("11987650001", "", "JOÃO", ""),
            ("11987650002", "", "MARIA", ""),
        ],
    )
    .await;
    let (code, out) = cli(
        app,
        &[
            "campaign",
            "create",
            "--name",
            "No WhatsApp",
            "--channel",
            "whatsapp",
            "--audience",
            &audience,
            "--template",
            "aviso",
            "--param",
            "1=@PrimeiroNome",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    wait_done(app, json_of(&out)["id"].as_i64().unwrap()).await;
    let sms = sms_campaign(app, "Por SMS", &audience, false);
    wait_done(app, sms).await;
}

/// The provider's id of the message to `phone` whose id starts with `prefix`.
fn provider_id(app: &TestApp, phone: &str, prefix: &str) -> String {
    ledger(app)
        .into_iter()
        .filter(|r| r.0 == phone)
        .filter_map(|r| r.2)
        .find(|id| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} message to {phone}"))
}

fn status_by_id(app: &TestApp, id: &str) -> String {
    ledger(app)
        .into_iter()
        .find(|r| r.2.as_deref() == Some(id))
        .map(|r| r.1)
        .unwrap()
}

async fn a_receipt_touches_only_its_own_providers_message(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Twilio).await else {
        return;
    };
    whatsapp_and_sms_sent(&app, &fake).await;
    let wamid = provider_id(&app, JOAO, "wamid.");
    let sid = provider_id(&app, JOAO, "SM");
    let not_delivered = |id: &str| {
        json!({"type": "MESSAGE_STATUS", "messageId": id,
               "messageStatus": {"code": "NOT_DELIVERED", "causes": [{"reason": "UNREACHABLE"}]}})
    };
    // Zenvia naming the WhatsApp message and the Twilio SMS: neither is Zenvia's.
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), not_delivered(&wamid)).await,
        200
    );
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), not_delivered(&sid)).await,
        200
    );
    // Twilio naming the WhatsApp message; WhatsApp naming the SMS.
    let failed = [
        ("MessageSid", wamid.as_str()),
        ("MessageStatus", "failed"),
        ("ErrorCode", "30003"),
    ];
    assert_eq!(twilio_callback(&app, &failed, TWILIO_TOKEN).await, 200);
    let body = wa_statuses(&[(sid.as_str(), "failed", 1_800_000_000, Some(131026))]);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    assert_eq!(status_by_id(&app, &wamid), "sent");
    assert_eq!(status_by_id(&app, &sid), "sent");
    let sem_whatsapp: i64 = contact_channels::table
        .filter(contact_channels::whatsapp.eq("no"))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(sem_whatsapp, 0);
    // Each provider's own receipt applies.
    let body = wa_statuses(&[(wamid.as_str(), "delivered", 1_800_000_000, None)]);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let delivered = [("MessageSid", sid.as_str()), ("MessageStatus", "delivered")];
    assert_eq!(twilio_callback(&app, &delivered, TWILIO_TOKEN).await, 200);
    assert_eq!(status_by_id(&app, &wamid), "delivered");
    assert_eq!(status_by_id(&app, &sid), "delivered");
}

async fn a_nul_in_a_callback_id_loses_only_that_event(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    whatsapp_and_sms_sent(&app, &fake).await;
    let wamid = provider_id(&app, JOAO, "wamid.");
    // A batch of statuses, one with a NUL in its id: the others apply.
    let body = wa_statuses(&[
        ("wamid.\u{0}HBgN", "delivered", 1_800_000_000, None),
        (wamid.as_str(), "delivered", 1_800_000_000, None),
    ]);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    assert_eq!(status_by_id(&app, &wamid), "delivered");
    // Two customers' messages, one with a NUL in its id: the other is recorded.
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID,
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511940001000", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": "5511987650001"}],
            "messages": [
                {"from": "5511987650001", "id": "wamid.IN\u{0}1", "timestamp": "1800000000",
                 "type": "text", "text": {"body": "primeira"}},
                {"from": "5511987650002", "id": "wamid.IN.2", "timestamp": "1800000000",
                 "type": "text", "text": {"body": "segunda"}}]}}]}]})
    .to_string()
    .into_bytes();
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let bodies: Vec<String> = interactions::table
        .select(interactions::body)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(bodies, vec!["segunda"]);
    // Zenvia sends one event per call: refused as malformed, never a server error.
    let status = json!({"type": "MESSAGE_STATUS", "messageId": "zen-\u{0}1",
                        "messageStatus": {"code": "DELIVERED"}});
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), status).await,
        400
    );
    let message = json!({"type": "MESSAGE", "message": {"id": "z\u{0}9", "from": "5511987650001",
                         "contents": [{"type": "text", "text": "oi"}]}});
    assert_eq!(
        zenvia_callback(&app, Some(ZENVIA_SECRET), message).await,
        400
    );
    assert_eq!(
        interactions::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap(),
        1
    );
}

async fn stop_words_are_read_as_phones_write_them(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let replies = [
        ("5511987650001", "pare"),
        ("5511987650002", "Sair…"),
        ("5511987650003", "Sair 👍"),
        ("5511987650004", "Pare de me mandar mensagem"),
    ];
    for (i, (from, text)) in replies.iter().enumerate() {
        let event = json!({"type": "MESSAGE", "message": {"id": format!("zen-in-{i}"),
            "from": from, "contents": [{"type": "text", "text": text}]}});
        assert_eq!(zenvia_callback(&app, Some(ZENVIA_SECRET), event).await, 200);
    }
    let mut listed: Vec<String> = dnd_entries::table
        .select(dnd_entries::value)
        .load(&mut app.db())
        .unwrap();
    listed.sort();
    assert_eq!(listed, vec![JOAO, MARIA, ANA]);
    // A sentence is a customer talking: it waits in the Fila.
    let fila = app.get("/fila").await.text().await.unwrap();
    assert!(fila.contains("Pare de me mandar mensagem"), "{fila}");
    assert!(!listed.contains(&PEDRO.to_string()));
}

/// How many the preview skipped for the reason labelled `label`.
fn skipped(page: &scraper::Html, label: &str) -> i64 {
    let row = scraper::Selector::parse("table.skipped tbody tr").unwrap();
    let cell = scraper::Selector::parse("td").unwrap();
    page.select(&row)
        .find_map(|tr| {
            let cells: Vec<String> = tr
                .select(&cell)
                .map(|c| c.text().collect::<String>().trim().to_string())
                .collect();
            (cells.first().map(String::as_str) == Some(label))
                .then(|| cells[1].replace('.', "").parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no skip line {label}"))
}

fn user_preference(wa_id: &str, value: &str, ts: i64) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID,
        "changes": [{"field": "user_preferences", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511940001000", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"wa_id": wa_id, "profile": {"name": "Cliente"}}],
            "user_preferences": [{"wa_id": wa_id, "detail": "User requested to stop marketing messages",
                "category": "marketing_messages", "value": value, "timestamp": ts}]}}]}]})
    .to_string()
    .into_bytes()
}

fn whatsapp_draft(app: &TestApp, audience: &str, template: &str) -> i64 {
    let (code, out) = cli(
        app,
        &[
            "campaign",
            "create",
            "--name",
            template,
            "--channel",
            "whatsapp",
            "--audience",
            audience,
            "--template",
            template,
            "--param",
            "1=@PrimeiroNome",
            "--draft",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    json_of(&out)["id"].as_i64().unwrap()
}

async fn a_phone_that_stopped_whatsapp_marketing_gets_no_marketing_template(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    whatsapp_and_sms_sent(&app, &fake).await;
    let (code, out) = cli(
        &app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "lembrete",
            "--category",
            "UTILITY",
            "--body",
            "{{1}}, sua fatura vence amanhã.",
        ],
    );
    assert_eq!(code, 0, "{out}");
    // Maria's marketing message came back with 131050; João stopped them in WhatsApp.
    let maria = provider_id(&app, MARIA, "wamid.");
    let body = wa_statuses(&[(maria.as_str(), "failed", 1_700_000_000, Some(131050))]);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let body = user_preference("5511987650001", "stop", 1_700_000_100);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let joao: i64 = contact_channels::table
        .filter(contact_channels::value.eq(JOAO))
        .select(contact_channels::contact_id)
        .first(&mut app.db())
        .unwrap();
    let contact = app
        .get(&format!("/contatos/{joao}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        contact.contains("não recebe modelos de marketing no WhatsApp"),
        "{contact}"
    );
    let audience: i64 = engajar::schema::audiences::table
        .select(engajar::schema::audiences::id)
        .first(&mut app.db())
        .unwrap();
    let audience = audience.to_string();
    const REASON: &str = "Parou as mensagens de marketing no WhatsApp";
    let marketing = whatsapp_draft(&app, &audience, "aviso");
    let previa = format!("/engajar/campanhas/{marketing}/previa");
    assert_eq!(skipped(&app.get_html(&previa).await, REASON), 2);
    // A utility template still goes to both.
    let utility = whatsapp_draft(&app, &audience, "lembrete");
    let page = app
        .get_html(&format!("/engajar/campanhas/{utility}/previa"))
        .await;
    assert_eq!(skipped(&page, REASON), 0);
    // João takes them back; a stale "stop" replayed afterwards changes nothing.
    let body = user_preference("5511987650001", "resume", 1_700_000_200);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let body = user_preference("5511987650001", "stop", 1_700_000_100);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    assert_eq!(skipped(&app.get_html(&previa).await, REASON), 1);
    // Meta refusing the send itself with 131050 teaches the same.
    fake.refuse_next(
        400,
        json!({"error": {"code": 131050, "type": "OAuthException",
                         "message": "(#131050) User has stopped marketing messages"}}),
    );
    let r = app
        .submit(
            &previa,
            &format!("/engajar/campanhas/{marketing}/agendar"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    wait_done(&app, marketing).await;
    let page = app
        .get_html(&format!(
            "/engajar/campanhas/{}/previa",
            whatsapp_draft(&app, &audience, "aviso")
        ))
        .await;
    assert_eq!(skipped(&page, REASON), 2);
}

async fn a_cancelled_run_shows_no_pending_messages(backend: Backend) {
    // No e-mail provider: the run pauses with its messages still waiting.
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.login_staff().await;
    let audience = crate::campaigns::import_rows(
        &app,
        &[
            ("a@exemplo.com.br", "ANA", "x"),
            ("b@exemplo.com.br", "BIA", "y"),
        ],
    )
    .await
    .to_string();
    let fields = [
        ("name", "Sem servidor"),
        ("channel", "email"),
        ("target", "audience"),
        ("audience_id", audience.as_str()),
        ("subject", "Oferta"),
        ("body", "Olá, @PrimeiroNome!"),
        ("schedule", "now"),
        ("acao", "agendar"),
    ];
    let r = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &fields,
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = campaign_from(&r);
    let html = wait_until(&app, id, |h| h.contains("Pausada")).await;
    assert!(html.contains("Pendentes"), "paused, they are pending");
    let page = format!("/engajar/campanhas/{id}");
    let r = app
        .submit(&page, &format!("/engajar/campanhas/{id}/cancelar"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let html = app.get(&page).await.text().await.unwrap();
    assert!(!html.contains("Pendente"), "{html}");
    let parsed = scraper::Html::parse_document(&html);
    assert_eq!(texts(&parsed, "[data-count=unsent]"), vec!["2"]);
    // The CSV names them as the page does.
    let csv = app
        .get(&format!("/engajar/campanhas/{id}/envios.csv"))
        .await
        .text()
        .await
        .unwrap();
    let statuses: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(';').nth(4))
        .collect();
    assert_eq!(
        statuses,
        vec!["Não enviadas (cancelada)", "Não enviadas (cancelada)"],
        "{csv}"
    );
}

crate::on_both_backends!(a_recurrence_whose_end_date_has_passed_is_refused);

async fn a_recurrence_whose_end_date_has_passed_is_refused(app: TestApp) {
    app.login_staff().await;
    let audience = crate::campaigns::import_rows(&app, &[("a@exemplo.com.br", "ANA", "x")])
        .await
        .to_string();
    for (kind, extra) in [("daily", ("day", "1")), ("weekly", ("dia_1", "on"))] {
        let fields = [
            ("name", "Lembrete"),
            ("channel", "email"),
            ("target", "audience"),
            ("audience_id", audience.as_str()),
            ("subject", "Lembrete"),
            ("body", "Olá, @PrimeiroNome!"),
            ("schedule", kind),
            ("time", "09:00"),
            extra,
            ("until", "2020-01-31"),
            ("acao", "agendar"),
        ];
        let r = app
            .submit(
                "/engajar/campanhas/nova",
                "/engajar/campanhas/nova",
                &fields,
            )
            .await;
        assert_eq!(r.status(), 200, "{kind}");
        let page = scraper::Html::parse_document(&r.text().await.unwrap());
        let error = texts(&page, "#until-error").join(" ");
        assert!(error.contains("já passou"), "{kind}: {error}");
        assert_eq!(campaign_count(&app), 0);
    }
}

fn local(text: &str) -> i64 {
    engajar::campaigns::schedule::parse_local(text).unwrap()
}

async fn page_status(app: &TestApp, id: i64) -> String {
    let html = app.get_html(&format!("/engajar/campanhas/{id}")).await;
    texts(&html, ".page-head .status").join("")
}

fn runs_of(app: &TestApp, id: i64) -> i64 {
    engajar::schema::campaign_runs::table
        .filter(engajar::schema::campaign_runs::campaign_id.eq(id))
        .count()
        .get_result(&mut app.db())
        .unwrap()
}

async fn a_draft_sent_after_its_time_is_refused_and_stays_a_draft(backend: Backend) {
    let smtp = crate::campaigns::SmtpServer::start();
    let url = smtp.url();
    // 2026-12-01 is a Tuesday.
    let clock = engajar::time::Clock::manual(local("2026-12-01 08:00"));
    let shared = clock.clone();
    let Some(app) = spawn_app_configured(
        backend,
        |_, _| {},
        move |c| {
            c.smtp =
                Some(engajar::models::channel_settings::EmailSettings::from_url(&url).unwrap());
            c.clock = shared;
        },
    )
    .await
    else {
        return;
    };
    app.login_staff().await;
    let audience = crate::campaigns::import_rows(&app, &[("a@exemplo.com.br", "ANA", "x")])
        .await
        .to_string();
    let compose = |extra: &[(&'static str, &'static str)], acao: &'static str| {
        let mut fields = vec![
            ("name", "Lembrete"),
            ("channel", "email"),
            ("target", "audience"),
            ("audience_id", audience.as_str()),
            ("subject", "Lembrete"),
            ("body", "Olá, @PrimeiroNome!"),
            ("acao", acao),
        ];
        fields.extend_from_slice(extra);
        fields
    };
    let new = "/engajar/campanhas/nova";
    let mut drafts = Vec::new();
    for extra in [
        &[("schedule", "once"), ("at", "2026-12-01 08:30")][..],
        &[
            ("schedule", "daily"),
            ("time", "09:00"),
            ("until", "2026-12-01"),
        ][..],
        &[("schedule", "once"), ("at", "2026-12-01 10:00")][..],
    ] {
        let r = app.submit(new, new, &compose(extra, "salvar")).await;
        assert_eq!(r.status(), 303, "{extra:?}");
        drafts.push(campaign_from(&r));
    }
    // 09:30: the first draft's time and the daily one's last occurrence have passed.
    clock.set(local("2026-12-01 09:30"));
    let enviar = |id: i64| {
        let app = &app;
        async move {
            app.submit(
                &format!("/engajar/campanhas/{id}/previa"),
                &format!("/engajar/campanhas/{id}/agendar"),
                &[],
            )
            .await
        }
    };
    for (id, says) in [
        (drafts[0], "já passaram"),
        (drafts[1], "Nenhum envio cabe até a data final"),
    ] {
        let r = enviar(id).await;
        assert_eq!(r.status(), 409, "draft {id}");
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "draft {id}: {body}");
        assert!(body.contains("Nada foi enviado"), "draft {id}: {body}");
        assert_eq!(page_status(&app, id).await, "Rascunho");
        assert_eq!(runs_of(&app, id), 0);
    }
    // One whose time is still ahead goes out as scheduled.
    let r = enviar(drafts[2]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(page_status(&app, drafts[2]).await, "Agendada");
    assert!(smtp.messages().is_empty());

    // An end date still ahead with no occurrence before it is not said to have passed.
    for extra in [
        // Mondays only, until Sunday the 6th.
        &[
            ("schedule", "weekly"),
            ("time", "09:00"),
            ("dia_1", "on"),
            ("until", "2026-12-06"),
        ][..],
        // Day 1 of each month (already past at 09:30), until the 20th.
        &[
            ("schedule", "monthly"),
            ("time", "09:00"),
            ("day", "1"),
            ("until", "2026-12-20"),
        ][..],
    ] {
        let r = app.submit(new, new, &compose(extra, "agendar")).await;
        assert_eq!(r.status(), 200, "{extra:?}");
        let page = scraper::Html::parse_document(&r.text().await.unwrap());
        let error = texts(&page, "#until-error").join(" ");
        assert!(
            error.contains("Nenhum envio cabe até a data final"),
            "{error}"
        );
        assert!(!error.contains("já passou"), "{error}");
    }
    assert_eq!(campaign_count(&app), 3);
}

/// A WhatsApp campaign of template `aviso` to these phones, as the command line makes it.
fn whatsapp_campaign(app: &TestApp, audience: &str) -> i64 {
    let (code, out) = cli(
        app,
        &[
            "campaign",
            "create",
            "--name",
            "Aviso",
            "--channel",
            "whatsapp",
            "--audience",
            audience,
            "--template",
            "aviso",
            "--param",
            "1=@PrimeiroNome",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    json_of(&out)["id"].as_i64().unwrap()
}

fn meta_refusal(code: i64) -> serde_json::Value {
    json!({"error": {"code": code, "type": "OAuthException",
                     "message": format!("(#{code}) refused")}})
}

async fn refusals_of_one_recipient_never_pause_a_run(backend: Backend) {
    let fake = FakeProviders::start().await;
    let settings = engajar::models::channel_settings::CampaignSettings {
        pause_after_failures: 2,
        ..Default::default()
    };
    let Some(app) =
        crate::whatsapp_sms::app_with_seed(backend, &fake, SmsProvider::Zenvia, 80, move |conn| {
            settings.save(conn, 1).unwrap()
        })
        .await
    else {
        return;
    };
    app.login_admin().await;
    fake.approve("aviso", 1);
    let (code, out) = cli(
        &app,
        &[
            "whatsapp",
            "template",
            "add",
            "--name",
            "aviso",
            "--body",
            "Olá {{1}}.",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let audience = import_phones(
        &app,
        &[
            ("11987650001", "", "JOÃO", ""),
            ("11987650002", "", "MARIA", ""),
            ("11987650003", "", "ANA", ""),
        ],
    )
    .await;
    let settled = |h: &str| h.contains("Concluída") || h.contains("Pausada");
    // Each person refused on their own: stopped marketing, no WhatsApp.
    for c in [131050, 131026, 131050] {
        fake.refuse_next(400, meta_refusal(c));
    }
    let id = whatsapp_campaign(&app, &audience);
    crate::campaigns::wait_until(&app, id, settled).await;
    assert_eq!(page_status(&app, id).await, "Concluída");
    assert!(
        ledger(&app).iter().all(|r| r.1 == "failed"),
        "{:?}",
        ledger(&app)
    );
    // A failure that does count (the template is gone), on every message: with nothing
    // left to send, the run ends instead of pausing.
    let two = import_phones(
        &app,
        &[
            ("11987650001", "", "JOÃO", ""),
            ("11987650002", "", "MARIA", ""),
        ],
    )
    .await;
    for _ in 0..2 {
        fake.refuse_next(400, meta_refusal(132001));
    }
    let id = whatsapp_campaign(&app, &two);
    crate::campaigns::wait_until(&app, id, settled).await;
    assert_eq!(page_status(&app, id).await, "Concluída");
}

async fn a_providers_failure_report_is_shown_in_portuguese(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Twilio).await else {
        return;
    };
    whatsapp_and_sms_sent(&app, &fake).await;
    let joao = provider_id(&app, JOAO, "wamid.");
    let maria = provider_id(&app, MARIA, "wamid.");
    let body = wa_statuses(&[
        (joao.as_str(), "failed", 1_800_000_000, Some(131050)),
        (maria.as_str(), "failed", 1_800_000_000, Some(987654)),
    ]);
    assert_eq!(whatsapp_callback(&app, &body).await, 200);
    let sms = provider_id(&app, JOAO, "SM");
    let failed = [
        ("MessageSid", sms.as_str()),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
    ];
    assert_eq!(twilio_callback(&app, &failed, TWILIO_TOKEN).await, 200);
    let campaigns: Vec<i64> = campaigns::table
        .order(campaigns::id)
        .select(campaigns::id)
        .load(&mut app.db())
        .unwrap();
    let mut shown = Vec::new();
    for id in campaigns {
        let page = app.get_html(&format!("/engajar/campanhas/{id}")).await;
        shown.extend(texts(&page, "td[data-label='Motivo / erro']"));
        let csv = app
            .get(&format!("/engajar/campanhas/{id}/envios.csv"))
            .await
            .text()
            .await
            .unwrap();
        shown.push(csv);
    }
    let all = shown.join("\n");
    assert!(
        all.contains("a pessoa parou de receber mensagens de marketing no WhatsApp"),
        "{all}"
    );
    assert!(all.contains("falha informada pelo provedor"), "{all}");
    assert!(
        all.contains("o número de destino está inacessível ou não existe"),
        "{all}"
    );
    assert!(!all.to_lowercase().contains("undeliverable"), "{all}");
}

async fn a_one_time_token_fits_only_its_own_form(backend: Backend) {
    let fake = FakeProviders::start().await;
    let Some(app) = app_with(backend, &fake, SmsProvider::Zenvia).await else {
        return;
    };
    app.login_admin().await;
    let audience = import_phones(&app, &[("11987650001", "", "JOÃO", "")]).await;
    let new = "/engajar/campanhas/nova";
    let tokens = form_tokens(&app, new, "form.campaign-form").await;
    let draft = app
        .post_form(new, &with_tokens(&sms_fields(&audience, "salvar"), &tokens))
        .await;
    assert_eq!(draft.status(), 303);
    let draft = campaign_from(&draft);
    // An unused composer token posted to the draft's Enviar: refused, nothing changes.
    let composer = form_tokens(&app, new, "form.campaign-form").await;
    let agendar = format!("/engajar/campanhas/{draft}/agendar");
    let r = app.post_form(&agendar, &with_tokens(&[], &composer)).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("recarregue a página"), "{body}");
    assert_eq!(page_status(&app, draft).await, "Rascunho");
    // The composer's own post with it still creates its campaign.
    let r = app
        .post_form(
            new,
            &with_tokens(&sms_fields(&audience, "salvar"), &composer),
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_ne!(campaign_from(&r), draft);
    assert_eq!(campaign_count(&app), 2);
    // The draft's Enviar token posted to the composer: the form comes back, nothing saved.
    let previa = format!("/engajar/campanhas/{draft}/previa");
    let enviar = form_tokens(&app, &previa, "form[action$='/agendar']").await;
    let r = app
        .post_form(
            new,
            &with_tokens(&sms_fields(&audience, "agendar"), &enviar),
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = scraper::Html::parse_document(&r.text().await.unwrap());
    let summary = texts(&page, ".error-summary, .errors, [role=alert]").join(" ");
    assert!(summary.contains("recarregue a página"), "{summary}");
    assert_eq!(campaign_count(&app), 2);
    // …and it still sends the draft from its own form.
    let r = app.post_form(&agendar, &with_tokens(&[], &enviar)).await;
    assert_eq!(r.status(), 303);
    wait_done(&app, draft).await;
    assert_eq!(fake.to("5511987650001").len(), 1);
}
