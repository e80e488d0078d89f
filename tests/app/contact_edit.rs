//! Editar contato: invalid values change nothing; conflicts name the other contact; a
//! saved edit is audited with before and after, against the contact.

use diesel::prelude::*;
use engajar::models::ContactProfile;
use engajar::schema::{audit_log, contacts};

use crate::helpers::*;

crate::on_both_backends!(
    invalid_values_are_named_beside_their_fields_and_change_nothing,
    a_saved_edit_changes_every_field_and_is_audited,
    a_document_or_channel_of_another_contact_is_refused_with_a_link,
    an_admin_merges_two_contacts_into_one,
    contacts_with_different_documents_are_never_merged,
);

fn row(phone: &'static str, name: &'static str, cpf: &'static str) -> [&'static str; 13] {
    [
        "TELEFONE", phone, "", name, cpf, "", "Loja", "", "", "", "", "", "MEDIA",
    ]
}

/// Two contacts (Ana, Bruno) and Ana's id.
async fn two(app: &TestApp) -> (i64, i64) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    app.import_bytes(
        "a.csv",
        layout_csv(&[
            row("11987650001", "Ana Lima", "11144477735"),
            row("11987650002", "Bruno Souza", "52998224725"),
        ]),
        segment,
        &[],
    )
    .await;
    let id = |document: &str| -> i64 {
        contacts::table
            .filter(contacts::document.eq(document))
            .select(contacts::id)
            .first(&mut app.db())
            .unwrap()
    };
    (id("11144477735"), id("52998224725"))
}

fn profile(app: &TestApp, id: i64) -> ContactProfile {
    ContactProfile::find(&mut app.db(), id).unwrap().unwrap()
}

async fn invalid_values_are_named_beside_their_fields_and_change_nothing(app: TestApp) {
    let (ana, _) = two(&app).await;
    let before = profile(&app, ana);
    let page = format!("/contatos/{ana}/editar");
    let html = app.get_html(&page).await;
    assert_eq!(field_value(&html, "#nome").as_deref(), Some("Ana Lima"));
    assert_eq!(
        field_value(&html, "#cpfcnpj").as_deref(),
        Some("111.444.777-35")
    );
    let long = "x".repeat(201);
    let response = app
        .submit(
            &page,
            &page,
            &[
                ("nome", &long),
                ("cpfcnpj", "111.444.777-00"),
                ("prioridade", "URGENTE"),
                ("novo_canal", "ana@"),
                ("remover_0", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        attrs(&html, "#error-summary a", "href"),
        vec!["#nome", "#cpfcnpj", "#prioridade", "#novo_canal"]
    );
    assert_eq!(
        attrs(&html, "#cpfcnpj", "aria-describedby"),
        vec!["cpfcnpj-error"]
    );
    assert!(texts(&html, "#cpfcnpj-error")[0].starts_with("CPF/CNPJ inválido"));
    // What was typed stays in the form.
    assert_eq!(
        field_value(&html, "#cpfcnpj").as_deref(),
        Some("111.444.777-00")
    );
    assert_eq!(profile(&app, ana), before, "nothing changed");
    // Removing the only channel is refused too.
    let response = app
        .submit(
            &page,
            &page,
            &[("nome", "Ana"), ("prioridade", "ALTA"), ("remover_0", "on")],
        )
        .await;
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, "#canais-error")[0].contains("ao menos um"));
    assert_eq!(profile(&app, ana), before);
}

async fn a_saved_edit_changes_every_field_and_is_audited(app: TestApp) {
    let (ana, _) = two(&app).await;
    let vip = app.add_segment("VIP").to_string();
    let page = format!("/contatos/{ana}/editar");
    let segment_field = format!("segmento_{vip}");
    let response = app
        .submit(
            &page,
            &page,
            &[
                ("nome", "  Ana   Lima  Prado "),
                ("cpfcnpj", "11.222.333/0001-81"),
                ("codcliente", "C-9"),
                ("prioridade", "alta"),
                ("tags", "Loja Sul, VIP ,, Loja Sul"),
                (&segment_field, "on"),
                ("novo_canal", "Ana.Prado@Exemplo.com.br"),
                ("remover_0", "on"),
            ],
        )
        .await;
    assert_eq!(location(&response), format!("/contatos/{ana}?salvo=1"));
    let after = profile(&app, ana);
    assert_eq!(after.name.as_deref(), Some("Ana Lima Prado"));
    assert_eq!(after.document.as_deref(), Some("11222333000181"));
    assert_eq!(after.customer_code.as_deref(), Some("C-9"));
    assert_eq!(after.priority, "ALTA");
    assert_eq!(after.tags, vec!["Loja Sul", "VIP"]);
    assert_eq!(after.segments, vec!["VIP"]);
    let channels: Vec<&str> = after.channels.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(channels, vec!["ana.prado@exemplo.com.br"]);
    let html = app.get_html(&format!("/contatos/{ana}?salvo=1")).await;
    assert_eq!(texts(&html, "#saved"), vec!["Contato salvo."]);
    assert_eq!(texts(&html, "dd.document"), vec!["11.222.333/0001-81"]);
    // Found by the new name; the old phone leads nowhere.
    let html = app.get_html("/contatos?q=prado").await;
    assert_eq!(texts(&html, "td.name"), vec!["Ana Lima Prado"]);
    let html = app.get_html("/contatos?q=11987650001").await;
    assert!(texts(&html, "td.name").is_empty());
    // Audited with before and after, against the contact.
    let (detail, contact): (String, Option<i64>) = audit_log::table
        .filter(audit_log::action.eq("contact_edit"))
        .select((audit_log::detail, audit_log::contact_id))
        .first(&mut app.db())
        .unwrap();
    assert_eq!(contact, Some(ana));
    for part in [
        "nome: Ana Lima → Ana Lima Prado",
        "CPF/CNPJ: 11144477735 → 11222333000181",
        "prioridade: Média → Alta",
        "segmentos: Clientes → VIP",
    ] {
        assert!(detail.contains(part), "{part} in {detail}");
    }
    app.assert_no_orphans();
}

async fn a_document_or_channel_of_another_contact_is_refused_with_a_link(app: TestApp) {
    let (ana, bruno) = two(&app).await;
    let before = profile(&app, ana);
    let page = format!("/contatos/{ana}/editar");
    for (field, value) in [
        ("cpfcnpj", "529.982.247-25"),
        ("novo_canal", "(11) 98765-0002"),
    ] {
        let mut fields = vec![("nome", "Ana Lima"), ("prioridade", "MEDIA")];
        fields.push((field, value));
        let response = app.submit(&page, &page, &fields).await;
        assert_eq!(response.status(), 200);
        let html = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(
            attrs(&html, "#owner a", "href"),
            vec![format!("/contatos/{bruno}")],
            "{field}"
        );
        assert!(texts(&html, &format!("#{field}-error"))[0].contains("outro contato"));
        assert_eq!(profile(&app, ana), before, "{field}: nothing changed");
    }
}

async fn an_admin_merges_two_contacts_into_one(app: TestApp) {
    let (ana, bruno) = two(&app).await;
    engajar::models::NewInteraction {
        kind: engajar::domain::RecordType::Telefone,
        value: "+5511987650002",
        body: "Oi",
        occurred_at: engajar::time::now(),
        external_id: None,
    }
    .insert(&mut app.db(), engajar::time::now())
    .unwrap();
    let merge = format!("/contatos/{ana}/mesclar?com={bruno}");
    // Staff may not.
    assert_eq!(app.get(&merge).await.status(), 403);
    app.logout().await;
    app.login_admin().await;
    // The conflict on the edit page offers it.
    let page = format!("/contatos/{ana}/editar");
    let response = app
        .submit(
            &page,
            &page,
            &[
                ("nome", "Ana Lima"),
                ("prioridade", "MEDIA"),
                ("novo_canal", "11987650002"),
            ],
        )
        .await;
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(attrs(&html, "#merge-link", "href"), vec![merge.clone()]);
    // Bruno's CPF was typed by mistake; without it, he may be Ana.
    diesel::update(contacts::table.find(bruno))
        .set(contacts::document.eq(None::<String>))
        .execute(&mut app.db())
        .unwrap();
    let html = app.get_html(&merge).await;
    assert_eq!(texts(&html, "dl.merge-side").len(), 2);
    let response = app
        .submit(
            &merge,
            &format!("/contatos/{ana}/mesclar"),
            &[("com", &bruno.to_string())],
        )
        .await;
    assert_eq!(location(&response), format!("/contatos/{ana}?salvo=1"));
    let kept = profile(&app, ana);
    let channels: Vec<&str> = kept.channels.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(channels, vec!["+5511987650001", "+5511987650002"]);
    assert_eq!(kept.name.as_deref(), Some("Ana Lima"));
    assert_eq!(kept.document.as_deref(), Some("11144477735"));
    assert!(
        ContactProfile::find(&mut app.db(), bruno)
            .unwrap()
            .is_none()
    );
    // Bruno's import row and interaction are Ana's now.
    let html = app.get_html(&format!("/contatos/{ana}")).await;
    assert_eq!(texts(&html, "table.contact-audiences tbody tr").len(), 2);
    assert_eq!(texts(&html, "table.interactions tbody tr").len(), 1);
    assert!(app.audit_actions().contains(&"contact_merge".to_string()));
    app.assert_no_orphans();
}

/// A CPF/CNPJ names one legal person: two contacts with different ones are refused, on
/// the confirmation page and on a forged post, and nothing moves.
async fn contacts_with_different_documents_are_never_merged(app: TestApp) {
    let (ana, bruno) = two(&app).await;
    app.logout().await;
    app.login_admin().await;
    let merge = format!("/contatos/{ana}/mesclar?com={bruno}");
    let html = app.get_html(&merge).await;
    let refusal = texts(&html, "#merge-refused").join(" ");
    assert!(refusal.contains("CPF/CNPJ diferentes"), "{refusal}");
    assert!(
        texts(&html, "#confirm-merge").is_empty(),
        "no button to merge"
    );
    let (before_ana, before_bruno) = (profile(&app, ana), profile(&app, bruno));
    let response = app
        .submit(
            &format!("/contatos/{bruno}"),
            &format!("/contatos/{ana}/mesclar"),
            &[("com", &bruno.to_string())],
        )
        .await;
    assert_eq!(response.status(), 409);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, "#merge-refused")[0].contains("pessoas diferentes"));
    assert_eq!(profile(&app, ana), before_ana);
    assert_eq!(profile(&app, bruno), before_bruno);
    assert!(!app.audit_actions().contains(&"contact_merge".to_string()));
}
