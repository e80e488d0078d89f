//! Excluir público: an import undone, and the contact base compared with the state
//! before it.

use diesel::prelude::*;
use engajar::models::ContactProfile;
use engajar::schema::{audiences, contacts};

use crate::helpers::*;

crate::on_both_backends!(
    undoing_an_import_leaves_exactly_the_contacts_it_did_not_create,
    an_import_in_use_or_running_is_not_undone,
);

fn row(phone: &'static str, name: &'static str, tag: &'static str) -> [&'static str; 13] {
    [
        "TELEFONE", phone, "", name, "", "", tag, "", "", "", "", "", "",
    ]
}

fn base(app: &TestApp) -> Vec<ContactProfile> {
    ContactProfile::page_after(&mut app.db(), 0, 1_000).unwrap()
}

fn by_phone<'a>(profiles: &'a [ContactProfile], phone: &str) -> Option<&'a ContactProfile> {
    profiles
        .iter()
        .find(|p| p.channels.iter().any(|c| c.value == phone))
}

async fn undoing_an_import_leaves_exactly_the_contacts_it_did_not_create(app: TestApp) {
    app.login_admin().await;
    let first = app.add_segment("Primeiro");
    let second = app.add_segment("Segundo");
    app.import_bytes(
        "a.csv",
        layout_csv(&[
            row("11987650001", "Xavier", "Loja A"),
            row("11987650002", "Yara", "Loja A"),
        ]),
        first,
        &[],
    )
    .await;
    let before = base(&app);
    assert_eq!(before.len(), 2);
    let (undone, _) = app
        .import_bytes(
            "b.csv",
            layout_csv(&[
                row("11987650002", "Yara Atualizada", "Loja B"),
                row("11987650003", "Zeca", "Loja B"),
                row("11987650004", "Wagner", "Loja B"),
            ]),
            second,
            &[],
        )
        .await;
    // Wagner wrote to us after the import: the import no longer owns him alone.
    engajar::models::NewInteraction {
        kind: engajar::domain::RecordType::Telefone,
        value: "+5511987650004",
        body: "Oi",
        occurred_at: engajar::time::now(),
        external_id: None,
    }
    .insert(&mut app.db(), engajar::time::now())
    .unwrap();

    let audience_page = app.get_html(&format!("/engajar/publicos/{undone}")).await;
    assert_eq!(
        attrs(&audience_page, "#delete-audience", "href"),
        vec![format!("/admin/publicos/{undone}/excluir")]
    );
    let page = format!("/admin/publicos/{undone}/excluir");
    let html = app.get_html(&page).await;
    assert_eq!(texts(&html, "#undo-members"), vec!["3 removida(s)"]);
    assert_eq!(texts(&html, "#undo-deleted"), vec!["1 excluído(s)"]);
    assert!(texts(&html, "#undo-kept")[0].starts_with("2, com os valores atuais (1 foram"));
    assert_eq!(
        texts(&html, "#undo-removed"),
        vec!["2 tag(s) e 2 participação(ões) no segmento retiradas"]
    );
    // Looking changed nothing.
    assert_eq!(base(&app).len(), 4);

    let response = app.submit(&page, &page, &[]).await;
    assert_eq!(location(&response), "/engajar/publicos?excluido=1");
    let after = base(&app);
    // Zeca, whom only this import knew, is gone; nobody else is.
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(by_phone(&after, "+5511987650003").is_none());
    // Xavier is exactly as before; Yara keeps her current name but not what only this
    // import gave her (its tag and segment).
    let x = by_phone(&after, "+5511987650001").unwrap();
    assert_eq!(Some(x), by_phone(&before, "+5511987650001"));
    let y = by_phone(&after, "+5511987650002").unwrap();
    let y_before = by_phone(&before, "+5511987650002").unwrap();
    assert_eq!(y.name.as_deref(), Some("Yara Atualizada"));
    assert_eq!(y.tags, y_before.tags);
    assert_eq!(y.segments, y_before.segments);
    // Wagner stays (he wrote to us), without this import's tag and segment.
    let w = by_phone(&after, "+5511987650004").unwrap();
    assert!(w.tags.is_empty() && w.segments.is_empty(), "{w:?}");
    // The audience is gone; the other one and the segment stay.
    let left: Vec<i64> = audiences::table
        .select(audiences::id)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        app.get(&format!("/engajar/publicos/{undone}"))
            .await
            .status(),
        404
    );
    let html = app.get_html("/engajar/publicos?excluido=1").await;
    assert!(texts(&html, "#deleted")[0].starts_with("Público excluído"));
    assert!(app.audit_actions().contains(&"audience_delete".to_string()));
    let contacts_left: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(contacts_left, 3);
    app.assert_no_orphans();
}

async fn an_import_in_use_or_running_is_not_undone(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Em uso");
    let (id, _) = app
        .import_bytes(
            "c.csv",
            layout_csv(&[row("11987650005", "Carla", "Loja C")]),
            segment,
            &[],
        )
        .await;
    // Staff may not.
    let html = app.get_html(&format!("/engajar/publicos/{id}")).await;
    assert!(texts(&html, "#delete-audience").is_empty());
    assert_eq!(
        app.get(&format!("/admin/publicos/{id}/excluir"))
            .await
            .status(),
        403
    );
    // A campaign that will send to it (scheduled): refused, named. (One that never
    // sends does not hold it: see campaign_guards.)
    let audience = id.to_string();
    let draft = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &[
                ("name", "Aviso de Carla"),
                ("channel", "email"),
                ("target", "audience"),
                ("audience_id", &audience),
                ("subject", "Oi"),
                ("body", "Olá @PrimeiroNome!"),
                ("schedule", "once"),
                ("at", "2099-12-01T14:30"),
                ("acao", "agendar"),
            ],
        )
        .await;
    assert_eq!(draft.status(), 303);
    app.logout().await;
    app.login_admin().await;
    let page = format!("/admin/publicos/{id}/excluir");
    let html = app.get_html(&page).await;
    assert!(texts(&html, "#refused")[0].contains("Aviso de Carla"));
    assert!(texts(&html, "#confirm-delete").is_empty());
    let token = app.csrf_token("/engajar").await;
    let response = app.post_form(&page, &[("csrf_token", &token)]).await;
    assert_eq!(response.status(), 409);
    // While it imports: refused too.
    let holder = app.hold_import_lock(id);
    diesel::update(audiences::table.find(id))
        .set(audiences::status.eq("processing"))
        .execute(&mut app.db())
        .unwrap();
    let html = app.get_html(&page).await;
    assert!(texts(&html, "#refused")[0].contains("sendo importado"));
    diesel::update(audiences::table.find(id))
        .set(audiences::status.eq("done"))
        .execute(&mut app.db())
        .unwrap();
    drop(holder);
    assert_eq!(base(&app).len(), 1, "nothing changed");
}
