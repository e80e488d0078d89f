//! Who is the same contact: rows whose keys lead to different people are refused, rows
//! linked by any key become one contact in any order, and no two contacts share a CPF/CNPJ.

use diesel::prelude::*;
use engajar::models::ContactProfile;
use engajar::schema::{contacts, document_conflicts};

use crate::helpers::*;

crate::on_both_backends!(
    a_phone_of_one_person_with_the_cpf_of_another_is_refused_and_merges_nothing,
    a_code_of_another_person_is_refused_too,
    rows_linked_by_a_code_become_one_contact_in_either_order,
    rows_linked_by_a_chain_across_batches_become_one_contact,
    two_cpfs_linked_by_one_code_are_refused_whole,
    the_database_refuses_a_second_contact_with_the_same_document,
    repeated_documents_found_by_the_migration_are_set_aside_for_a_person,
    a_repeated_phone_with_two_cpfs_is_refused_whole_in_either_order,
    a_cpf_or_code_only_a_repeat_carries_is_kept_in_either_order,
);

const ANA_PHONE: &str = "11987650001";
const ANA_CPF: &str = "11144477735";
const BRUNO_PHONE: &str = "11987650002";
const BRUNO_CPF: &str = "12345678909";

fn contacts_of(app: &TestApp) -> Vec<ContactProfile> {
    ContactProfile::page_after(&mut app.db(), 0, 1_000).unwrap()
}

fn contact_with(app: &TestApp, channel: &str) -> ContactProfile {
    contacts_of(app)
        .into_iter()
        .find(|c| c.channels.iter().any(|ch| ch.value.ends_with(channel)))
        .unwrap_or_else(|| panic!("nobody has {channel}"))
}

/// Ana and Bruno in the base; returns the segment.
async fn ana_and_bruno(app: &TestApp) -> i64 {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    let rows = [
        person(
            "TELEFONE",
            ANA_PHONE,
            "Ana Lima",
            "111.444.777-35",
            "A-1",
            "",
            "",
        ),
        person(
            "TELEFONE",
            BRUNO_PHONE,
            "Bruno Souza",
            "123.456.789-09",
            "B-2",
            "",
            "",
        ),
    ];
    let (_, html) = app
        .import_bytes("base.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    segment
}

fn rejected(html: &scraper::Html) -> Vec<(String, String)> {
    attrs(html, "table.rejected td[data-code]", "data-code")
        .into_iter()
        .zip(texts(html, "table.rejected td[data-code]"))
        .collect()
}

async fn a_phone_of_one_person_with_the_cpf_of_another_is_refused_and_merges_nothing(app: TestApp) {
    let segment = ana_and_bruno(&app).await;
    let (id, html) = app
        .import_bytes(
            "mix.csv",
            layout_csv(&[person("TELEFONE", ANA_PHONE, "", BRUNO_CPF, "", "", "")]),
            segment,
            &[],
        )
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída com rejeições"]);
    let rows = rejected(&html);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "identity_conflict");
    for name in ["Ana Lima", "Bruno Souza", "pelo telefone", "pelo CPF/CNPJ"] {
        assert!(rows[0].1.contains(name), "{name} in {:?}", rows[0].1);
    }
    let ana = contact_with(&app, ANA_PHONE);
    assert_eq!(ana.document.as_deref(), Some(ANA_CPF));
    // The rejected row downloads like any other, for fixing.
    let csv = app
        .get(&format!("/engajar/publicos/{id}/rejeitadas.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("identity_conflict") || csv.contains("dois contatos diferentes"));
    assert!(csv.contains(BRUNO_CPF));

    // Bruno's e-mail with Bruno's CPF lands on Bruno, never on Ana.
    app.import_bytes(
        "bruno.csv",
        layout_csv(&[person(
            "EMAIL",
            "bruno@exemplo.com.br",
            "Bruno Souza",
            BRUNO_CPF,
            "",
            "",
            "",
        )]),
        segment,
        &[],
    )
    .await;
    let ana = contact_with(&app, ANA_PHONE);
    assert_eq!(ana.name.as_deref(), Some("Ana Lima"));
    assert_eq!(ana.channels.len(), 1);
    let bruno = contact_with(&app, "bruno@exemplo.com.br");
    assert_eq!(bruno.document.as_deref(), Some(BRUNO_CPF));
    assert_eq!(bruno.channels.len(), 2);
    assert_eq!(contacts_of(&app).len(), 2);
}

async fn a_code_of_another_person_is_refused_too(app: TestApp) {
    let segment = ana_and_bruno(&app).await;
    let (_, html) = app
        .import_bytes(
            "codes.csv",
            layout_csv(&[
                // Ana's phone, Bruno's customer code.
                person("TELEFONE", ANA_PHONE, "", "", "B-2", "", ""),
                // Ana's CPF, Bruno's customer code.
                person("EMAIL", "ana@exemplo.com.br", "", ANA_CPF, "B-2", "", ""),
                // A new phone with Ana's code: hers.
                person("TELEFONE", "11987650003", "", "", "A-1", "", ""),
            ]),
            segment,
            &[],
        )
        .await;
    let rows = rejected(&html);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (code, message) in &rows {
        assert_eq!(code, "identity_conflict");
        assert!(message.contains("Ana Lima") && message.contains("Bruno Souza"));
        assert!(message.contains("CODCLIENTE"));
    }
    assert_eq!(
        contact_with(&app, "11987650003").name.as_deref(),
        Some("Ana Lima")
    );
    assert_eq!(contacts_of(&app).len(), 2);
    assert_eq!(contact_with(&app, BRUNO_PHONE).channels.len(), 1);
}

/// The contacts as sets of channels with their document and code, in a stable order.
fn identities(app: &TestApp) -> Vec<(Vec<String>, Option<String>, Option<String>)> {
    let mut all: Vec<_> = contacts_of(app)
        .into_iter()
        .map(|c| {
            let mut channels: Vec<String> = c.channels.into_iter().map(|ch| ch.value).collect();
            channels.sort();
            (channels, c.document, c.customer_code)
        })
        .collect();
    all.sort();
    all
}

async fn rows_linked_by_a_code_become_one_contact_in_either_order(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Ordem");
    let phone = person("TELEFONE", "11999992001", "Gil", "", "K9", "", "");
    let email = person(
        "EMAIL",
        "gil@exemplo.com.br",
        "Gil",
        "333.222.111-69",
        "K9",
        "",
        "",
    );
    app.import_bytes("a.csv", layout_csv(&[phone, email]), segment, &[])
        .await;
    let forward = identities(&app);
    assert_eq!(forward.len(), 1, "{forward:?}");
    assert_eq!(forward[0].0.len(), 2);
    assert_eq!(forward[0].1.as_deref(), Some("33322211169"));

    let Some(other) = spawn_app(app_backend(&app)).await else {
        return;
    };
    other.login_staff().await;
    let segment = other.add_segment("Ordem");
    other
        .import_bytes("b.csv", layout_csv(&[email, phone]), segment, &[])
        .await;
    assert_eq!(identities(&other), forward);
}

fn app_backend(app: &TestApp) -> Backend {
    if app.database_url.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

async fn rows_linked_by_a_chain_across_batches_become_one_contact(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Cadeia");
    // 2,500 filler rows put the links in different batches of 1,000 rows.
    let filler: Vec<String> = (0..2_500)
        .map(|i| format!("1198{:07}", 1_000_000 + i))
        .collect();
    let mut rows: Vec<[&str; 13]> = Vec::new();
    rows.push(person("TELEFONE", "11911110001", "Lia", "", "L-7", "", ""));
    for phone in &filler[..1_200] {
        rows.push(person("TELEFONE", phone, "", "", "", "", ""));
    }
    rows.push(person("EMAIL", "lia@exemplo.com.br", "", "", "L-7", "", ""));
    for phone in &filler[1_200..] {
        rows.push(person("TELEFONE", phone, "", "", "", "", ""));
    }
    rows.push(person(
        "EMAIL",
        "lia2@exemplo.com.br",
        "Lia Reis",
        "529.982.247-25",
        "L-7",
        "",
        "ALTA",
    ));
    let (_, html) = app
        .import_bytes("cadeia.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    let lia = contact_with(&app, "11911110001");
    assert_eq!(lia.channels.len(), 3);
    assert_eq!(lia.document.as_deref(), Some("52998224725"));
    assert_eq!(lia.name.as_deref(), Some("Lia Reis"));
    assert_eq!(lia.priority, "ALTA");
    let total: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(total, 2_501);
}

async fn two_cpfs_linked_by_one_code_are_refused_whole(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Dois CPFs");
    let (_, html) = app
        .import_bytes(
            "dois.csv",
            layout_csv(&[
                person(
                    "TELEFONE",
                    "11911112001",
                    "Rui",
                    "111.444.777-35",
                    "Z-1",
                    "",
                    "",
                ),
                person(
                    "TELEFONE",
                    "11911112002",
                    "Eva",
                    "123.456.789-09",
                    "Z-1",
                    "",
                    "",
                ),
                person("TELEFONE", "11911112003", "Ivo", "", "", "", ""),
            ]),
            segment,
            &[],
        )
        .await;
    let rows = rejected(&html);
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|(code, m)| code == "identity_conflict" && m.contains("CPF/CNPJ diferentes"))
    );
    assert_eq!(identities(&app).len(), 1);
}

async fn the_database_refuses_a_second_contact_with_the_same_document(app: TestApp) {
    let mut conn = app.db();
    let insert = |conn: &mut engajar::db::DbConnection| {
        diesel::insert_into(contacts::table)
            .values((
                contacts::document.eq(ANA_CPF),
                contacts::priority.eq("BAIXA"),
                contacts::created_at.eq(1),
                contacts::updated_at.eq(1),
            ))
            .execute(conn)
    };
    insert(&mut conn).unwrap();
    assert!(
        insert(&mut conn).is_err(),
        "a second contact with the same CPF"
    );
    // Contacts without a document are not affected.
    for _ in 0..2 {
        diesel::insert_into(contacts::table)
            .values((
                contacts::priority.eq("BAIXA"),
                contacts::created_at.eq(1),
                contacts::updated_at.eq(1),
            ))
            .execute(&mut conn)
            .unwrap();
    }
}

async fn repeated_documents_found_by_the_migration_are_set_aside_for_a_person(app: TestApp) {
    {
        let mut conn = app.db();
        engajar::db::revert_migrations_after(&mut conn, "2026-11-27-000002").unwrap();
        for name in ["Primeira", "Segunda", "Terceira"] {
            diesel::insert_into(contacts::table)
                .values((
                    contacts::name.eq(name),
                    contacts::document.eq(ANA_CPF),
                    contacts::priority.eq("BAIXA"),
                    contacts::created_at.eq(1),
                    contacts::updated_at.eq(1),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        engajar::db::run_migrations(&mut conn).unwrap();
    }
    app.login_staff().await;
    let documents: Vec<(String, Option<String>)> = contacts::table
        .order(contacts::id)
        .select((contacts::name.assume_not_null(), contacts::document))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(
        documents,
        vec![
            ("Primeira".to_string(), Some(ANA_CPF.to_string())),
            ("Segunda".to_string(), None),
            ("Terceira".to_string(), None),
        ]
    );
    let html = app.get_html("/contatos").await;
    assert!(texts(&html, "#repeated-documents")[0].starts_with("2 contato(s)"));
    let html = app.get_html("/contatos/cpf-repetidos").await;
    // Shown with its punctuation.
    assert_eq!(
        texts(&html, "td.document"),
        vec!["111.444.777-35", "111.444.777-35"]
    );
    assert_eq!(texts(&html, "td.lost a"), vec!["#2 Segunda", "#3 Terceira"]);
    assert_eq!(texts(&html, "td.kept a"), vec!["#1", "#1"]);
    let html = app.get_html("/contatos/2").await;
    assert!(texts(&html, ".repeated-document")[0].contains("o contato #1 também tinha"));
    let html = app.get_html("/contatos/1").await;
    assert_eq!(texts(&html, ".repeated-document").len(), 2);
    let first: i64 = document_conflicts::table
        .select(document_conflicts::id)
        .order(document_conflicts::id)
        .first(&mut app.db())
        .unwrap();
    let response = app
        .submit(
            "/contatos/cpf-repetidos",
            &format!("/contatos/cpf-repetidos/{first}/resolvido"),
            &[],
        )
        .await;
    assert_eq!(location(&response), "/contatos/cpf-repetidos?ok=1");
    let html = app.get_html("/contatos/cpf-repetidos").await;
    assert_eq!(texts(&html, "td.lost a"), vec!["#3 Terceira"]);
    assert!(
        app.audit_actions()
            .contains(&"document_conflict_resolved".to_string())
    );
}

/// L1 (phone X, CPF A), L2 (e-mail, CPF A), L3 (phone X, CPF B): one linked group with two
/// CPFs, refused whole whichever row comes first; the repeated phone does not decide.
async fn a_repeated_phone_with_two_cpfs_is_refused_whole_in_either_order(app: TestApp) {
    let rows = two_cpf_group();
    let reversed: Vec<[&str; 13]> = rows[..3].iter().rev().chain(&rows[3..]).copied().collect();
    let Some(other) = spawn_app(app_backend(&app)).await else {
        return;
    };
    let mut outcomes = Vec::new();
    for (app, order) in [(&app, rows.to_vec()), (&other, reversed)] {
        app.login_staff().await;
        let segment = app.add_segment("Ordem");
        let (_, html) = app
            .import_bytes("ordem.csv", layout_csv(&order), segment, &[])
            .await;
        let refused = rejected(&html);
        assert_eq!(refused.len(), 3, "{refused:?}");
        assert!(
            refused
                .iter()
                .all(|(code, m)| code == "identity_conflict" && m.contains("CPF/CNPJ diferentes")),
            "{refused:?}"
        );
        outcomes.push(identities(app));
    }
    assert_eq!(outcomes[0].len(), 1, "only Ivo: {:?}", outcomes[0]);
    assert_eq!(outcomes[0], outcomes[1]);
}

/// A phone written twice, its CPF/CNPJ and code only on one of the rows: whichever comes
/// first, the contact gets them (the repeat is still counted as a duplicate).
async fn a_cpf_or_code_only_a_repeat_carries_is_kept_in_either_order(app: TestApp) {
    let rows = [
        person(
            "TELEFONE",
            "11987654321",
            "Ana",
            "111.444.777-35",
            "",
            "",
            "",
        ),
        person("TELEFONE", "011 98765 4321", "Beto", "", "", "", ""),
        person("TELEFONE", "11987654322", "Caio", "", "", "", ""),
        person("TELEFONE", "(11) 98765-4322", "Caio", "", "K5", "", ""),
    ];
    let reversed = [rows[1], rows[0], rows[3], rows[2]];
    let Some(other) = spawn_app(app_backend(&app)).await else {
        return;
    };
    let mut outcomes = Vec::new();
    for (app, order) in [(&app, rows), (&other, reversed)] {
        app.login_staff().await;
        let segment = app.add_segment("Repetidos");
        let (_, html) = app
            .import_bytes("repetidos.csv", layout_csv(&order), segment, &[])
            .await;
        assert_eq!(texts(&html, "#count-duplicates"), vec!["2"]);
        outcomes.push(identities(app));
    }
    assert_eq!(
        outcomes[0],
        vec![
            (
                vec!["+5511987654321".to_string()],
                Some("11144477735".to_string()),
                None
            ),
            (
                vec!["+5511987654322".to_string()],
                None,
                Some("K5".to_string())
            ),
        ]
    );
    assert_eq!(outcomes[0], outcomes[1]);
}
