use diesel::prelude::*;
use engajar::models::ContactProfile;
use engajar::schema::{audiences, contact_channels, contacts, dnd_entries, interactions};

use crate::helpers::*;

crate::on_both_backends!(
    the_form_shows_every_field_and_each_legal_basis,
    a_full_import_merges_contacts_and_shows_the_audience,
    missing_fields_come_back_named_with_the_input_kept,
    a_file_level_failure_leaves_no_contact,
    validar_sem_importar_writes_nothing,
    validations_expire_and_belong_to_their_user,
    rejected_rows_download_fixes_and_imports_again,
    options_change_a_contact_imported_twice,
    nao_perturbe_and_duplicates_are_skipped_and_counted,
    verify_keeps_only_phones_that_bring_news,
    rows_sharing_a_code_without_document_are_one_contact,
    two_imports_at_once_create_no_duplicates,
    uploads_over_the_limit_get_a_clear_page,
    the_rejected_rows_file_imports_again_with_its_error_column_and_same_values,
    a_second_post_of_the_same_form_leads_to_the_first_audience,
    a_new_tag_or_segment_counts_as_an_update,
    ms_dos_and_macintosh_csv_files_import_with_names_intact,
);

fn contacts_of(app: &TestApp) -> Vec<ContactProfile> {
    ContactProfile::page_after(&mut app.db(), 0, 1_000).unwrap()
}

fn count(html: &scraper::Html, id: &str) -> i64 {
    texts(html, &format!("#{id}"))[0].parse().unwrap()
}

async fn the_form_shows_every_field_and_each_legal_basis(app: TestApp) {
    app.login_staff().await;
    let html = app.get_html("/engajar/publicos/importar").await;
    assert!(
        texts(&html, ".alert-error")[0].contains("Nenhum segmento"),
        "no segment yet"
    );
    app.add_segment("Clientes VIP");
    let html = app.get_html("/engajar/publicos/importar").await;
    for name in [
        "descricao",
        "segmento",
        "arquivo",
        "autorizacao",
        "nao_perturbe",
        "manter_segmento",
        "limpar_tag",
        "verify",
        "csrf_token",
    ] {
        let selector = scraper::Selector::parse(&format!("[name={name}]")).unwrap();
        assert!(html.select(&selector).next().is_some(), "{name} missing");
    }
    let bases = texts(&html, "#autorizacao option");
    assert_eq!(bases.len(), 11);
    assert!(bases.contains(&"Proteção do crédito".to_string()));
    let buttons = texts(&html, "button[name=acao]");
    assert_eq!(buttons, vec!["Importar", "Validar sem importar"]);
}

async fn a_full_import_merges_contacts_and_shows_the_audience(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Nordeste");
    let (id, html) = app
        .import_fixture("excel_ptbr_windows1252.csv", segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    assert_eq!(count(&html, "count-rows"), 4);
    assert_eq!(count(&html, "count-imported"), 4);
    assert_eq!(count(&html, "count-created"), 3);
    assert_eq!(count(&html, "count-rejected"), 0);
    assert_eq!(texts(&html, "table.members tbody tr").len(), 4);
    assert!(texts(&html, "dd.file")[0].contains("excel_ptbr_windows1252.csv"));

    let contacts = contacts_of(&app);
    assert_eq!(contacts.len(), 3);
    let francisca = contacts
        .iter()
        .find(|c| c.document.as_deref() == Some("11144477735"))
        .unwrap();
    assert_eq!(francisca.name.as_deref(), Some("FRANCISCA GONÇALVES"));
    let channels: Vec<&str> = francisca
        .channels
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(
        channels,
        vec!["+5585991234567", "francisca.goncalves@exemplo.com.br"]
    );
    assert_eq!(francisca.priority, "ALTA");
    assert_eq!(francisca.tags, vec!["Loja Aldeota"]);
    assert_eq!(francisca.segments, vec!["Nordeste"]);
    let angela = contacts
        .iter()
        .find(|c| c.name.as_deref() == Some("ÂNGELA"))
        .unwrap();
    assert_eq!(
        angela.priority, "BAIXA",
        "new contacts without priority are BAIXA"
    );

    let list = app.get_html("/engajar/publicos").await;
    let first = texts(&list, "table.audiences tbody tr:first-child td");
    assert_eq!(first[0], "Campanha de teste");
    assert_eq!(first[6], "Concluída");
    assert_eq!(first[7], "4");
    let found = app.get_html("/engajar/publicos?q=campanha").await;
    assert_eq!(texts(&found, "table.audiences tbody tr").len(), 1);
    let none = app.get_html("/engajar/publicos?q=inexistente").await;
    assert_eq!(texts(&none, "table.audiences tbody tr").len(), 0);
    assert!(id > 0);
}

async fn missing_fields_come_back_named_with_the_input_kept(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Sul").to_string();
    let response = app
        .post_import(
            "",
            Vec::new(),
            &[
                ("descricao", "  Minha campanha "),
                ("segmento", &segment),
                ("acao", "importar"),
                ("limpar_tag", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        texts(&html, ".field-error"),
        vec![
            "Escolha o arquivo preenchido no layout.",
            "Escolha a autorização de processamento (base legal)."
        ]
    );
    assert_eq!(
        field_value(&html, "#descricao").as_deref(),
        Some("  Minha campanha ")
    );
    let selected = scraper::Selector::parse("#segmento option[selected]").unwrap();
    assert_eq!(
        html.select(&selected)
            .next()
            .and_then(|o| o.value().attr("value")),
        Some(segment.as_str())
    );
    let ticked = scraper::Selector::parse("input[name=limpar_tag][checked]").unwrap();
    assert!(html.select(&ticked).next().is_some());
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 0);
    // Without a CSRF token nothing happens either.
    let form = reqwest::multipart::Form::new().text("descricao", "x");
    let response = app
        .client
        .post(app.url("/engajar/publicos/importar"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

async fn a_file_level_failure_leaves_no_contact(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Falhas");
    let (_, html) = app
        .import_fixture("file_level_errors.csv", segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Falhou"]);
    // The codes stay in the page's markup; what people read is their pt-BR name.
    let shown = texts(&html, "table.file-errors tbody td[data-code]");
    assert!(
        shown[0].starts_with("Chave obrigatória vazia: "),
        "{shown:?}"
    );
    assert!(
        shown[2].starts_with("Tipo de registro inválido: "),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .all(|t| !t.contains("key_missing") && !t.contains("record_type")),
        "no code on screen: {shown:?}"
    );
    let codes = attrs(&html, "table.file-errors tbody td[data-code]", "data-code");
    assert_eq!(
        codes,
        vec![
            "key_missing",
            "key_missing",
            "record_type",
            "formula",
            "extra_content"
        ]
    );
    let lines = texts(&html, "table.file-errors tbody td:first-child");
    assert_eq!(lines, vec!["3", "4", "5", "6", "7"]);
    assert!(contacts_of(&app).is_empty());
    let channels: i64 = contact_channels::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(channels, 0);
}

/// Excel's "CSV (MS-DOS)" (code page 850) and "CSV (Macintosh)" (Mac Roman, bare CR):
/// names are stored as typed; a file no code page reads clearly is refused.
async fn ms_dos_and_macintosh_csv_files_import_with_names_intact(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Codificações");
    let (_, html) = app
        .import_fixture("accents_cp850_msdos.csv", segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    let (_, html) = app
        .import_fixture("accents_macroman.csv", segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    let mut names: Vec<String> = contacts_of(&app)
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
    names.sort();
    let mut expected: Vec<String> = [
        "JOÃO DA CONCEIÇÃO",
        "Sebastião Gonçalves Lúcia Antônio Inês Estêvão",
        "joão da conceição",
        "ágata àquela ângela não édipo êxito íris ótimo ônibus põe úmido müller maçã",
        "ÁGATA ÀQUELA ÂNGELA ÃO ÉDEN ÊXITO ÍRIS ÓRION ÔNIBUS ÕES ÚRSULA MÜLLER ÇA",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "the second file re-imports the same five people"
    );
    let (_, html) = app
        .import_fixture("unknown_encoding.csv", segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Falhou"]);
    assert_eq!(
        attrs(&html, "table.file-errors tbody td[data-code]", "data-code"),
        vec!["encoding"]
    );
    assert_eq!(contacts_of(&app).len(), 5);
}

/// Validar sem importar: POST, then a result page (nothing written); the same upload is
/// then imported from it with the same choices, without choosing the file again.
async fn validar_sem_importar_writes_nothing(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Simulação").to_string();
    let bytes = std::fs::read(fixture("row_level_errors.csv")).unwrap();
    let response = app
        .post_import(
            "row_level_errors.csv",
            bytes,
            &[
                ("descricao", "Teste"),
                ("segmento", &segment),
                ("autorizacao", "protecao_credito"),
                ("nao_perturbe", "on"),
                ("limpar_tag", "on"),
                ("acao", "validar"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "POST → redirect → result");
    let result = location(&response);
    let id: i64 = result
        .trim_start_matches("/engajar/publicos/validacoes/")
        .parse()
        .unwrap_or_else(|_| panic!("redirected to {result}"));
    let html = app.get_html(&result).await;
    assert_eq!(
        texts(&html, "#verdict"),
        vec!["O arquivo pode ser importado."]
    );
    assert_eq!(count(&html, "count-rows"), 6);
    assert_eq!(count(&html, "count-imported"), 1);
    assert_eq!(count(&html, "count-rejected"), 5);
    assert_eq!(
        texts(&html, "table.rejected thead th"),
        vec!["Linha", "Coluna", "Problema", "Valor"]
    );
    let problems = texts(&html, "table.rejected tbody td[data-label=Problema]");
    assert_eq!(problems.len(), 5);
    assert!(
        problems[0].starts_with("Número em notação científica: "),
        "{problems:?}"
    );
    assert_eq!(
        texts(&html, "table.rejected tbody td[data-label=Coluna]")[0],
        "VALOR_DO_REGISTRO"
    );
    assert!(!texts(&html, "table.rejected tbody td[data-label=Valor]")[0].is_empty());
    assert!(texts(&html, "#kept")[0].contains("30 minutos"));
    assert!(contacts_of(&app).is_empty());
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 0);
    assert_eq!(app.uploads_kept(), 1, "the upload waits for Importar");

    // Reading the result again submits nothing.
    let again = app.get_html(&result).await;
    assert_eq!(count(&again, "count-imported"), 1);
    assert_eq!(app.uploads_kept(), 1);

    // Corrigir: the form with every choice kept (the file is chosen again).
    let form = app
        .get_html(&format!("/engajar/publicos/importar?validacao={id}"))
        .await;
    assert_eq!(field_value(&form, "#descricao").as_deref(), Some("Teste"));
    assert_eq!(
        attrs(&form, "#segmento option[selected]", "value"),
        vec![segment.clone()]
    );
    assert_eq!(
        attrs(&form, "#autorizacao option[selected]", "value"),
        vec!["protecao_credito"]
    );
    let checked = attrs(&form, "input[type=checkbox][checked]", "name");
    assert_eq!(checked, vec!["nao_perturbe", "limpar_tag"]);
    assert!(texts(&form, "#notice")[0].contains("escolha o arquivo"));

    // Importar este arquivo: the kept upload, with the validated choices.
    let response = app
        .submit(&result, &format!("{result}/importar"), &[])
        .await;
    let audience = location(&response);
    let audience_id: i64 = audience
        .trim_start_matches("/engajar/publicos/")
        .parse()
        .unwrap_or_else(|_| panic!("redirected to {audience}"));
    let html = app.wait_for_audience(audience_id).await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída com rejeições"]);
    assert_eq!(count(&html, "count-imported"), 1);
    assert_eq!(count(&html, "count-rejected"), 5);
    assert_eq!(texts(&html, "h1"), vec!["Teste"]);
    let details = texts(&html, "dl.details").join(" ");
    assert!(details.contains("Proteção do crédito"), "{details}");
    assert!(
        details.contains("Verificar site Não Perturbe") && details.contains("Limpar tag"),
        "{details}"
    );
    assert_eq!(contacts_of(&app).len(), 1);
    // Pressed twice: the same audience.
    let response = app
        .submit(&result, &format!("{result}/importar"), &[])
        .await;
    assert_eq!(location(&response), audience);
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 1);
    assert_eq!(
        app.uploads_kept(),
        0,
        "the import took the upload and let it go"
    );
    app.assert_no_orphans();
}

/// A file that cannot be imported is not kept; a kept one expires (and is then swept
/// away); someone else's validation does not exist for another user.
async fn validations_expire_and_belong_to_their_user(app: TestApp) {
    use engajar::models::validation::{KEEP_SECS, Validation};
    use engajar::schema::import_validations;
    app.login_staff().await;
    let segment = app.add_segment("Validações").to_string();
    let fields = [
        ("descricao", "Validada"),
        ("segmento", segment.as_str()),
        ("autorizacao", "consentimento"),
        ("acao", "validar"),
    ];
    let bad = std::fs::read(fixture("file_level_errors.csv")).unwrap();
    let response = app.post_import("ruim.csv", bad, &fields).await;
    let refused = location(&response);
    let html = app.get_html(&refused).await;
    assert!(texts(&html, "#verdict")[0].starts_with("O arquivo não pode ser importado"));
    assert!(texts(&html, "#import-validated").is_empty(), "no Importar");
    assert_eq!(texts(&html, "#fix"), vec!["Corrigir"]);
    assert_eq!(
        attrs(&html, "table.file-errors tbody td[data-code]", "data-code")[0],
        "key_missing"
    );
    assert_eq!(app.uploads_kept(), 0, "nothing to import, nothing kept");
    let response = app
        .submit(&refused, &format!("{refused}/importar"), &[])
        .await;
    assert_eq!(response.status(), 409);

    let good = std::fs::read(fixture("row_level_errors.csv")).unwrap();
    let response = app.post_import("bom.csv", good, &fields).await;
    let kept = location(&response);
    let id: i64 = kept
        .trim_start_matches("/engajar/publicos/validacoes/")
        .parse()
        .unwrap();
    assert_eq!(app.uploads_kept(), 1);
    // Its time runs out.
    diesel::update(import_validations::table.find(id))
        .set(import_validations::expires_at.eq(engajar::time::now() - 1))
        .execute(&mut app.db())
        .unwrap();
    let html = app.get_html(&kept).await;
    assert!(texts(&html, "#kept")[0].contains("expirou"));
    assert!(texts(&html, "#import-validated").is_empty());
    let response = app.submit(&kept, &format!("{kept}/importar"), &[]).await;
    assert_eq!(response.status(), 409);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, "#import-error")[0].contains("expirou"));
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 0);
    // The sweep forgets it, and its upload, once past its time.
    let left = Validation::sweep(&mut app.db(), engajar::time::now() + KEEP_SECS).unwrap();
    for file in left {
        if let engajar::models::upload::UploadRef::File(path) = file {
            std::fs::remove_file(path).unwrap();
        }
    }
    assert_eq!(app.uploads_kept(), 0);
    assert_eq!(app.get(&kept).await.status(), 404);

    // Another user's validation is not found.
    let bytes = std::fs::read(fixture("row_level_errors.csv")).unwrap();
    let response = app.post_import("outro.csv", bytes, &fields).await;
    let staffs = location(&response);
    app.logout().await;
    app.login_admin().await;
    assert_eq!(app.get(&staffs).await.status(), 404);
    let form = app
        .get_html(&format!(
            "/engajar/publicos/importar?validacao={}",
            staffs.rsplit('/').next().unwrap()
        ))
        .await;
    assert_eq!(field_value(&form, "#descricao").as_deref(), Some(""));
}

async fn rejected_rows_download_fixes_and_imports_again(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Correções");
    let (id, html) = app
        .import_fixture("row_level_errors.csv", segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída com rejeições"]);
    assert_eq!(count(&html, "count-rejected"), 5);
    let response = app
        .get(&format!("/engajar/publicos/{id}/rejeitadas.csv"))
        .await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header.len(), 14);
    assert_eq!(header[13], "ERRO");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert!(rows[0][13].contains("notação científica"));

    // The user fixes each value and sends the file back, ERRO column removed.
    let mut fixed = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    fixed.write_record(&header[..13]).unwrap();
    for (i, row) in rows.iter().enumerate() {
        let mut cells: Vec<String> = row.iter().take(13).map(str::to_string).collect();
        cells[1] = if cells[0] == "EMAIL" {
            format!("corrigido{i}@exemplo.com.br")
        } else {
            format!("1198800000{i}")
        };
        cells[4] = String::new();
        cells[12] = "ALTA".into();
        fixed.write_record(&cells).unwrap();
    }
    let (_, html) = app
        .import_bytes("corrigido.csv", fixed.into_inner().unwrap(), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    assert_eq!(count(&html, "count-imported"), 5);
    assert_eq!(count(&html, "count-rejected"), 0);
}

async fn options_change_a_contact_imported_twice(app: TestApp) {
    app.login_staff().await;
    let first_segment = app.add_segment("Primeiro");
    let second_segment = app.add_segment("Segundo");
    let row = |tag: &'static str, name: &'static str| -> [&'static str; 13] {
        [
            "TELEFONE",
            "11987654321",
            "",
            name,
            "52998224725",
            "",
            tag,
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    };
    app.import_bytes(
        "a.csv",
        layout_csv(&[row("Loja A", "Maria")]),
        first_segment,
        &[],
    )
    .await;
    // Plain second import: tags and segments add up, empty cells erase nothing.
    app.import_bytes(
        "b.csv",
        layout_csv(&[row("Loja B", "")]),
        second_segment,
        &[],
    )
    .await;
    let contact = &contacts_of(&app)[0];
    assert_eq!(contact.tags, vec!["Loja A", "Loja B"]);
    assert_eq!(contact.segments, vec!["Primeiro", "Segundo"]);
    assert_eq!(contact.name.as_deref(), Some("Maria"));
    // With both options, only this import's tag and segment remain.
    let (_, html) = app
        .import_bytes(
            "c.csv",
            layout_csv(&[row("Loja C", "Maria Silva")]),
            second_segment,
            &["manter_segmento", "limpar_tag"],
        )
        .await;
    assert_eq!(count(&html, "count-updated"), 1);
    let contacts = contacts_of(&app);
    assert_eq!(contacts.len(), 1, "the same contact all along");
    assert_eq!(contacts[0].tags, vec!["Loja C"]);
    assert_eq!(contacts[0].segments, vec!["Segundo"]);
    assert_eq!(contacts[0].name.as_deref(), Some("Maria Silva"));
}

async fn nao_perturbe_and_duplicates_are_skipped_and_counted(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("DND");
    diesel::insert_into(dnd_entries::table)
        .values((
            dnd_entries::kind.eq("TELEFONE"),
            dnd_entries::value.eq("+5511911112222"),
            dnd_entries::created_at.eq(1),
        ))
        .execute(&mut app.db())
        .unwrap();
    let rows = [
        [
            "TELEFONE",
            "11911112222",
            "",
            "Na lista",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "TELEFONE",
            "11933334444",
            "",
            "Livre",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "TELEFONE",
            "(11) 93333-4444",
            "",
            "Repetido",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "EMAIL",
            "livre@exemplo.com.br",
            "",
            "Livre",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ];
    let (_, html) = app
        .import_bytes("dnd.csv", layout_csv(&rows), segment, &["nao_perturbe"])
        .await;
    assert_eq!(count(&html, "count-rows"), 4);
    assert_eq!(count(&html, "count-imported"), 2);
    assert_eq!(count(&html, "count-dnd"), 1);
    assert_eq!(count(&html, "count-duplicates"), 1);
    let phones: Vec<String> = contact_channels::table
        .select(contact_channels::value)
        .load(&mut app.db())
        .unwrap();
    assert!(!phones.contains(&"+5511911112222".to_string()));
    assert_eq!(phones.iter().filter(|p| *p == "+5511933334444").count(), 1);
    // Without the option the listed phone is imported.
    let (_, html) = app
        .import_bytes("dnd.csv", layout_csv(&rows[..1]), segment, &[])
        .await;
    assert_eq!(count(&html, "count-imported"), 1);
}

async fn verify_keeps_only_phones_that_bring_news(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Verify");
    let known = [
        "TELEFONE",
        "11955556666",
        "",
        "Carla",
        "",
        "C-9",
        "",
        "",
        "",
        "",
        "",
        "",
        "ALTA",
    ];
    app.import_bytes("a.csv", layout_csv(&[known]), segment, &[])
        .await;
    for phone in ["+5511955556666", "+5511977778888"] {
        diesel::insert_into(interactions::table)
            .values((
                interactions::channel_kind.eq("TELEFONE"),
                interactions::channel_value.eq(phone),
                interactions::body.eq("Oi"),
                interactions::occurred_at.eq(1),
                interactions::created_at.eq(1),
            ))
            .execute(&mut app.db())
            .unwrap();
    }
    let same = known;
    let news = [
        "TELEFONE",
        "11955556666",
        "",
        "Carla Souza",
        "",
        "C-9",
        "",
        "",
        "",
        "",
        "",
        "",
        "ALTA",
    ];
    let talked_no_contact = [
        "TELEFONE",
        "11977778888",
        "",
        "Novo",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    let never_talked = [
        "TELEFONE",
        "11966667777",
        "",
        "Outro",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    let (_, html) = app
        .import_bytes(
            "v1.csv",
            layout_csv(&[same, never_talked]),
            segment,
            &["verify"],
        )
        .await;
    assert_eq!(
        count(&html, "count-verify"),
        1,
        "a known phone with nothing new is discarded"
    );
    assert_eq!(count(&html, "count-imported"), 1);
    let (_, html) = app
        .import_bytes(
            "v2.csv",
            layout_csv(&[news, talked_no_contact]),
            segment,
            &["verify"],
        )
        .await;
    assert_eq!(count(&html, "count-verify"), 0);
    assert_eq!(count(&html, "count-imported"), 2);
    assert_eq!(count(&html, "count-updated"), 1);
    let names: Vec<Option<String>> = contacts::table
        .order(contacts::id)
        .select(contacts::name)
        .load(&mut app.db())
        .unwrap();
    assert!(names.contains(&Some("Carla Souza".into())));
    assert!(names.contains(&Some("Novo".into())));
}

async fn rows_sharing_a_code_without_document_are_one_contact(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Códigos");
    let rows = [
        [
            "TELEFONE",
            "11912340000",
            "",
            "Pedro",
            "",
            "X-1",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "EMAIL",
            "pedro@exemplo.com.br",
            "",
            "",
            "",
            "X-1",
            "",
            "",
            "",
            "",
            "",
            "",
            "MEDIA",
        ],
        [
            "TELEFONE",
            "11912341111",
            "",
            "Paula",
            "",
            "X-2",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ];
    app.import_bytes("codes.csv", layout_csv(&rows), segment, &[])
        .await;
    let contacts = contacts_of(&app);
    assert_eq!(contacts.len(), 2);
    let pedro = contacts
        .iter()
        .find(|c| c.customer_code.as_deref() == Some("X-1"))
        .unwrap();
    assert_eq!(pedro.channels.len(), 2);
    assert_eq!(pedro.priority, "MEDIA");
    // A later file finds Pedro by his code.
    let later = [[
        "TELEFONE",
        "11912342222",
        "",
        "",
        "",
        "X-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]];
    app.import_bytes("later.csv", layout_csv(&later), segment, &[])
        .await;
    let contacts = contacts_of(&app);
    assert_eq!(contacts.len(), 2);
    assert_eq!(
        contacts
            .iter()
            .find(|c| c.customer_code.as_deref() == Some("X-1"))
            .unwrap()
            .channels
            .len(),
        3
    );
}

async fn two_imports_at_once_create_no_duplicates(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Concorrência").to_string();
    let rows: Vec<[String; 13]> = (0..300)
        .map(|i| {
            let mut row: [String; 13] = Default::default();
            row[0] = "TELEFONE".into();
            row[1] = format!("1199{:07}", i);
            row[3] = format!("Cliente {i}");
            row
        })
        .collect();
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record(engajar::layout::COLUMNS).unwrap();
    for r in &rows {
        w.write_record(r).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let fields = [
        ("descricao", "Paralelo"),
        ("segmento", segment.as_str()),
        ("autorizacao", "consentimento"),
        ("acao", "importar"),
    ];
    let (a, b) = tokio::join!(
        app.post_import("a.csv", bytes.clone(), &fields),
        app.post_import("b.csv", bytes.clone(), &fields)
    );
    let ids: Vec<i64> = [a, b]
        .iter()
        .map(|r| {
            location(r)
                .trim_start_matches("/engajar/publicos/")
                .parse()
                .unwrap()
        })
        .collect();
    for id in &ids {
        let html = app.wait_for_audience(*id).await;
        assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
        assert_eq!(count(&html, "count-imported"), 300);
    }
    let contacts: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
    let channels: i64 = contact_channels::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!((contacts, channels), (300, 300));
}

async fn uploads_over_the_limit_get_a_clear_page(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Grandes").to_string();
    // The test app's limit is 2 MB.
    let big = vec![b'x'; 3 * 1024 * 1024];
    let response = app
        .post_import(
            "grande.csv",
            big,
            &[
                ("descricao", "Grande"),
                ("segmento", &segment),
                ("autorizacao", "consentimento"),
                ("acao", "importar"),
            ],
        )
        .await;
    assert_eq!(response.status(), 413);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    assert!(texts(&html, ".field-error")[0].contains("passa do limite de 2 MB"));
    assert_eq!(app.uploads_kept(), 0);
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 0);
}

mod interrupted {
    use diesel::prelude::*;
    use engajar::models::Audience;
    use engajar::schema::{audience_members, audience_row_errors, audiences, contacts};

    use crate::helpers::*;

    /// A server died mid-import: its audience is still `processing`, with a leftover row
    /// that a half-done attempt could have left. The next start runs it again from scratch.
    async fn a_job_interrupted_mid_way_runs_again_and_leaves_one_result(backend: Backend) {
        let Some(app) = spawn_app_seeded(backend, |conn, spool| {
            let user = engajar::models::NewUser {
                email: "x@engajar.test",
                name: "X",
                role: "staff",
                password_hash: "-",
                disabled: 0,
                created_at: 1,
                updated_at: 1,
            }
            .insert(conn)
            .unwrap();
            let segment = engajar::models::NewSegment {
                name: "Retomada",
                name_key: "retomada",
                created_by: None,
                created_at: 1,
            }
            .insert_if_absent(conn)
            .unwrap()
            .0;
            let path = spool.join("upload-interrompido");
            std::fs::copy(fixture("excel_ptbr_windows1252.csv"), &path).unwrap();
            let import = engajar::domain::NewImport {
                description: "Interrompida".into(),
                segment_id: segment.id,
                segment_name: segment.name.clone(),
                legal_basis: engajar::domain::LegalBasis::Consentimento,
                file_name: "excel_ptbr_windows1252.csv".into(),
                options: Default::default(),
                created_by: Some(user.id),
            };
            let (audience, created) =
                Audience::queue(conn, &import, path.to_str().unwrap(), None, None).unwrap();
            assert!(created);
            // A worker claimed it, then its server died (its connection and lock with it).
            assert_eq!(Audience::claim_next(conn).unwrap(), Some(audience.id));
            Audience::release(conn, audience.id);
            diesel::insert_into(audience_row_errors::table)
                .values((
                    audience_row_errors::audience_id.eq(audience.id),
                    audience_row_errors::level.eq("row"),
                    audience_row_errors::code.eq("invalid_phone"),
                    audience_row_errors::message.eq("sobra de uma tentativa"),
                ))
                .execute(conn)
                .unwrap();
        })
        .await
        else {
            return;
        };
        app.login_staff().await;
        let id: i64 = audiences::table
            .select(audiences::id)
            .first(&mut app.db())
            .unwrap();
        let html = app.wait_for_audience(id).await;
        assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
        let members: i64 = audience_members::table
            .count()
            .get_result(&mut app.db())
            .unwrap();
        let leftovers: i64 = audience_row_errors::table
            .count()
            .get_result(&mut app.db())
            .unwrap();
        let contacts: i64 = contacts::table.count().get_result(&mut app.db()).unwrap();
        assert_eq!((members, leftovers, contacts), (4, 0, 3));
        let spool_path: Option<String> = audiences::table
            .select(audiences::spool_path)
            .first(&mut app.db())
            .unwrap();
        assert_eq!(spool_path, None, "the upload is cleaned up once imported");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        a_job_interrupted_mid_way_runs_again_and_leaves_one_result(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        a_job_interrupted_mid_way_runs_again_and_leaves_one_result(Backend::Postgres).await;
    }
}

async fn the_rejected_rows_file_imports_again_with_its_error_column_and_same_values(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Ida e volta");
    let rows = [[
        "TELEFONE",
        "1198",
        "-2-3",
        "+55 (11) 9",
        "",
        "",
        "@loja",
        "-1-1",
        "+1",
        "@ana",
        "",
        "",
        "",
    ]];
    let (id, _) = app
        .import_bytes("ruim.csv", layout_csv(&rows), segment, &[])
        .await;
    let bytes = app
        .get(&format!("/engajar/publicos/{id}/rejeitadas.csv"))
        .await
        .bytes()
        .await
        .unwrap();
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    // Every cell a spreadsheet would compute goes out neutralised.
    for cell in ["'-2-3", "'+55 (11) 9", "'@loja", "'-1-1", "'+1", "'@ana"] {
        assert!(text.contains(&format!(";{cell};")), "{cell} in {text}");
    }
    // The user fixes the phone in the downloaded file and sends it back as it is,
    // ERRO column and all.
    let fixed = text.replacen(";1198;", ";11987654321;", 1);
    let (_, html) = app
        .import_bytes("corrigido.csv", fixed.into_bytes(), segment, &[])
        .await;
    assert_eq!(texts(&html, "#status"), vec!["Concluída"]);
    assert_eq!(count(&html, "count-imported"), 1);
    let contact = &contacts_of(&app)[0];
    assert_eq!(contact.name.as_deref(), Some("+55 (11) 9"));
    assert_eq!(contact.tags, vec!["@loja"]);
    use engajar::schema::audience_members as m;
    let (message, c1, c2, c3): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = m::table
        .select((m::message, m::coringa1, m::coringa2, m::coringa3))
        .first(&mut app.db())
        .unwrap();
    assert_eq!(
        (
            message.as_deref(),
            c1.as_deref(),
            c2.as_deref(),
            c3.as_deref()
        ),
        (Some("-2-3"), Some("-1-1"), Some("+1"), Some("@ana"))
    );
}

async fn a_second_post_of_the_same_form_leads_to_the_first_audience(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Duplo clique").to_string();
    let html = app.get_html("/engajar/publicos/importar").await;
    let form_token = field_value(&html, "input[name=form_token]").expect("a form token");
    let bytes = layout_csv(&[person("TELEFONE", "11987654321", "Ana", "", "", "", "")]);
    let fields = [
        ("descricao", "Clique duplo"),
        ("segmento", segment.as_str()),
        ("autorizacao", "consentimento"),
        ("acao", "importar"),
        ("form_token", form_token.as_str()),
    ];
    let first = location(&app.post_import("a.csv", bytes.clone(), &fields).await);
    let second = location(&app.post_import("a.csv", bytes.clone(), &fields).await);
    assert_eq!(first, second);
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 1);
    // A new form is a new import.
    let html = app.get_html("/engajar/publicos/importar").await;
    let other_token = field_value(&html, "input[name=form_token]").unwrap();
    assert_ne!(other_token, form_token);
    let mut fields = fields.to_vec();
    fields[4] = ("form_token", other_token.as_str());
    let third = location(&app.post_import("a.csv", bytes, &fields).await);
    assert_ne!(third, first);
    app.wait_for_audience(1).await;
    // Only the spool files of imports still waiting may remain.
    let audiences: i64 = audiences::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(audiences, 2);
}

async fn a_new_tag_or_segment_counts_as_an_update(app: TestApp) {
    app.login_staff().await;
    let first = app.add_segment("Primeiro");
    let second = app.add_segment("Segundo");
    let file = |tag: &'static str| {
        layout_csv(&[person("TELEFONE", "11987654321", "Ana", "", "", tag, "")])
    };
    let updated = |html: &scraper::Html| count(html, "count-updated");
    let (_, html) = app.import_bytes("a.csv", file("Centro"), first, &[]).await;
    assert_eq!(count(&html, "count-imported"), 1);
    // The same row again: nothing changes.
    let (_, html) = app.import_bytes("a.csv", file("Centro"), first, &[]).await;
    assert_eq!(updated(&html), 0);
    // A new tag is a change.
    let (_, html) = app
        .import_bytes("a.csv", file("Zona Sul"), first, &[])
        .await;
    assert_eq!(updated(&html), 1);
    // Joining another segment is a change.
    let (_, html) = app
        .import_bytes("a.csv", file("Zona Sul"), second, &[])
        .await;
    assert_eq!(updated(&html), 1);
    // Leaving the others (Manter apenas neste segmento) is a change; doing it again is not.
    let (_, html) = app
        .import_bytes("a.csv", file("Zona Sul"), second, &["manter_segmento"])
        .await;
    assert_eq!(updated(&html), 1);
    let (_, html) = app
        .import_bytes("a.csv", file("Zona Sul"), second, &["manter_segmento"])
        .await;
    assert_eq!(updated(&html), 0);
    // Clearing the tags removes Centro: a change. Clearing them and giving the same one
    // back is none; another one is.
    let (_, html) = app
        .import_bytes("a.csv", file("Zona Sul"), second, &["limpar_tag"])
        .await;
    assert_eq!(updated(&html), 1);
    let (_, html) = app
        .import_bytes("a.csv", file("Zona Sul"), second, &["limpar_tag"])
        .await;
    assert_eq!(updated(&html), 0);
    let (id, html) = app
        .import_bytes("a.csv", file("Norte"), second, &["limpar_tag"])
        .await;
    assert_eq!(updated(&html), 1);
    let contact = &contacts_of(&app)[0];
    assert_eq!(contact.tags, vec!["Norte"]);
    assert_eq!(contact.segments, vec!["Segundo"]);
    let html = app.get_html(&format!("/engajar/publicos/{id}")).await;
    assert!(!html.html().contains("Sem alteração"));
}
