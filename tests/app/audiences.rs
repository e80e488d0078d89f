use diesel::prelude::*;
use engajar::schema::{audiences, segments};

use crate::helpers::*;

crate::on_both_backends!(
    the_audience_list_starts_empty_with_import_and_layout_buttons,
    the_audience_list_shows_audiences_newest_first_and_paginates,
    the_layout_downloads_as_excel_pt_br_expects,
    the_layout_help_page_shows_the_13_columns_with_an_example,
    a_running_import_shows_its_phase_and_rows_so_far,
    a_finished_import_shows_where_its_rows_went,
);

async fn the_audience_list_starts_empty_with_import_and_layout_buttons(app: TestApp) {
    app.login_staff().await;
    let html = app.get_html("/engajar/publicos").await;
    assert_eq!(texts(&html, "h1"), vec!["Importação de Público"]);
    assert!(texts(&html, ".empty-state")[0].contains("Nenhum público importado ainda."));
    let headers = texts(&html, "table.audiences th");
    assert_eq!(
        &headers[..7],
        &[
            "Descrição",
            "Segmento",
            "Arquivo",
            "Autorização",
            "Enviado por",
            "Data",
            "Situação"
        ]
    );
    let import = scraper::Selector::parse("a.button.primary").unwrap();
    let import = html.select(&import).next().unwrap();
    assert_eq!(import.text().collect::<String>(), "Importar Público");
    assert_eq!(
        import.value().attr("href"),
        Some("/engajar/publicos/importar")
    );
    let layout = scraper::Selector::parse(".list-foot a.layout-button").unwrap();
    let layout = html
        .select(&layout)
        .next()
        .expect("Layout button in the footer");
    assert_eq!(layout.text().collect::<String>(), "Layout");
    assert_eq!(
        layout.value().attr("href"),
        Some("/engajar/publicos/layout.csv")
    );
}

fn insert_audience(app: &TestApp, segment_id: i64, user_id: i64, n: i64) {
    diesel::insert_into(audiences::table)
        .values((
            audiences::description.eq(format!("Campanha <b>{n}</b>")),
            audiences::segment_id.eq(segment_id),
            audiences::file_name.eq(format!("clientes_{n}.csv")),
            audiences::legal_basis.eq("legitimo_interesse"),
            audiences::status.eq(if n % 2 == 0 {
                "done"
            } else {
                "done_with_rejections"
            }),
            audiences::imported.eq(n * 10),
            audiences::rejected.eq(n % 2),
            audiences::created_by.eq(user_id),
            // 1_795_791_600 is 27/11/2026 12:00 in Brasília.
            audiences::created_at.eq(1_795_791_600 + n * 60),
        ))
        .execute(&mut app.db())
        .unwrap();
}

async fn the_audience_list_shows_audiences_newest_first_and_paginates(app: TestApp) {
    let staff = app.add_staff();
    let segment: i64 = diesel::insert_into(segments::table)
        .values((
            segments::name.eq("Clientes VIP"),
            segments::name_key.eq("clientes vip"),
            segments::created_at.eq(1),
        ))
        .execute(&mut app.db())
        .map(|_| {
            segments::table
                .select(segments::id)
                .first::<i64>(&mut app.db())
                .unwrap()
        })
        .unwrap();
    for n in 1..=30 {
        insert_audience(&app, segment, staff, n);
    }
    let response = app.login(STAFF_EMAIL, STAFF_PASSWORD).await;
    assert_eq!(location(&response), "/engajar");

    let html = app.get_html("/engajar/publicos").await;
    let rows = texts(&html, "table.audiences tbody tr");
    assert_eq!(rows.len(), 25);
    let first = texts(&html, "table.audiences tbody tr:first-child td");
    assert_eq!(first[0], "Campanha <b>30</b>", "escaped, newest first");
    assert_eq!(first[1], "Clientes VIP");
    assert_eq!(first[2], "clientes_30.csv");
    assert_eq!(first[3], "Legítimo interesse");
    assert_eq!(first[4], "Caio da Equipe");
    assert_eq!(first[5], "27/11/2026 12:30");
    assert_eq!(first[6], "Concluída");
    assert_eq!(first[7], "300");
    assert!(texts(&html, ".empty-state").is_empty());
    assert!(
        texts(&html, ".pagination")
            .join(" ")
            .contains("Página 1 de 2")
    );

    let html = app.get_html("/engajar/publicos?page=2").await;
    let rows = texts(&html, "table.audiences tbody tr td:first-child");
    assert_eq!(
        rows,
        vec![
            "Campanha <b>5</b>",
            "Campanha <b>4</b>",
            "Campanha <b>3</b>",
            "Campanha <b>2</b>",
            "Campanha <b>1</b>",
        ]
    );
    let second = texts(&html, "table.audiences tbody tr:first-child td");
    assert_eq!(second[6], "Concluída com rejeições");
    // Out-of-range and malformed pages do not break the list.
    assert_eq!(app.get("/engajar/publicos?page=99").await.status(), 200);
    assert_eq!(app.get("/engajar/publicos?page=abc").await.status(), 400);
}

async fn the_layout_downloads_as_excel_pt_br_expects(app: TestApp) {
    app.login_staff().await;
    let response = app.get("/engajar/publicos/layout.csv").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("layout_publico.csv"), "{disposition}");
    let bytes = response.bytes().await.unwrap();
    let header = b"\xEF\xBB\xBFTIPO_DE_REGISTRO;VALOR_DO_REGISTRO;MENSAGEM;NOME_CLIENTE;CPFCNPJ;CODCLIENTE;TAG;CORINGA1;CORINGA2;CORINGA3;CORINGA4;CORINGA5;PRIORIDADE\r\n";
    assert_eq!(&bytes[..header.len()], header);

    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.ends_with("\r\n"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.len() >= 3);
    assert!(rows.iter().all(|r| r.len() == 13));
    // One contact with a TELEFONE row and an EMAIL row, sharing the CPF.
    let phone = rows.iter().find(|r| &r[0] == "TELEFONE").unwrap();
    let email = rows.iter().find(|r| &r[0] == "EMAIL").unwrap();
    assert_eq!(&phone[4], &email[4]);
    assert!(!phone[4].is_empty());
    // Every priority is shown, and the coringas are filled somewhere.
    for priority in ["BAIXA", "MEDIA", "ALTA"] {
        assert!(rows.iter().any(|r| &r[12] == priority), "{priority}");
    }
    assert!(rows.iter().any(|r| !r[7].is_empty() && !r[8].is_empty()));
    // Accents survive.
    assert!(text.contains("Conceição"));
}

async fn the_layout_help_page_shows_the_13_columns_with_an_example(app: TestApp) {
    app.login_staff().await;
    let list = app.get_html("/engajar/publicos").await;
    assert_eq!(
        attrs(&list, "#layout-help", "href"),
        vec!["/engajar/publicos/layout"]
    );
    let html = app.get_html("/engajar/publicos/layout").await;
    let columns = texts(&html, "table.layout-columns td[data-label=Coluna]");
    assert_eq!(columns, engajar::layout::COLUMNS.to_vec());
    let examples = texts(&html, "table.layout-columns td[data-label=Exemplo]");
    assert_eq!(examples[0], "TELEFONE");
    assert_eq!(examples[1], "11987654321");
    assert_eq!(examples[12], "ALTA");
    let required = texts(&html, "table.layout-columns td[data-label=Obrigatória]");
    assert_eq!(&required[..3], &["Sim", "Sim", "Não"]);
    assert_eq!(
        attrs(&html, "a.button.primary", "href"),
        vec!["/engajar/publicos/layout.csv"]
    );
    assert_eq!(texts(&html, "ol.layout-example > li").len(), 4);
}

/// While the file is validated the total is not known: the page says so with the rows
/// read so far; then it writes, with rows written of the total (progress as the worker
/// records it for other servers).
async fn a_running_import_shows_its_phase_and_rows_so_far(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Fases");
    let (id, html) = app
        .import_fixture("row_level_errors.csv", segment, &[])
        .await;
    assert!(
        texts(&html, "#phase").is_empty(),
        "a finished import has no phase"
    );
    let set = |status: &str, done: i64, total: i64| {
        diesel::update(audiences::table.find(id))
            .set((
                audiences::status.eq(status),
                audiences::rows_done.eq(done),
                audiences::rows_total.eq(total),
            ))
            .execute(&mut app.db())
            .unwrap();
    };
    let (done, total, status) = audiences::table
        .find(id)
        .select((
            audiences::rows_done,
            audiences::rows_total,
            audiences::status,
        ))
        .first::<(i64, i64, String)>(&mut app.db())
        .unwrap();
    let holder = app.hold_import_lock(id);
    set("processing", 12_345, 0);
    let html = app.get_html(&format!("/engajar/publicos/{id}")).await;
    assert_eq!(texts(&html, "#phase"), vec!["Validando o arquivo"]);
    assert_eq!(texts(&html, "#rows-read"), vec!["12.345"]);
    assert_eq!(
        attrs(&html, "meta[http-equiv=refresh]", "content"),
        vec!["2"]
    );
    set("processing", 20_000, 60_000);
    let html = app.get_html(&format!("/engajar/publicos/{id}")).await;
    assert_eq!(texts(&html, "#phase"), vec!["Gravando contatos"]);
    assert_eq!(texts(&html, "#rows-written"), vec!["20.000"]);
    assert!(texts(&html, "#progress")[0].contains("de 60.000 linhas (33%)"));
    set(&status, done, total);
    drop(holder);
}

async fn a_finished_import_shows_where_its_rows_went(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Destino");
    let (id, html) = app
        .import_fixture("row_level_errors.csv", segment, &[])
        .await;
    let legend = texts(&html, "#split .split-legend li");
    assert_eq!(
        legend,
        vec![
            "Importadas: 1 (16,7%)",
            "Rejeitadas: 5 (83,3%)",
            "Não Perturbe: 0 (0,0%)",
            "Descartadas pelo Verify: 0 (0,0%)",
            "Duplicadas no arquivo: 0 (0,0%)"
        ]
    );
    // The bar: a part per non-empty share, its width the share, its name in words.
    let widths = attrs(&html, "#split svg rect[class^=split-]", "width");
    assert_eq!(widths.len(), 2);
    let width: f64 = widths[1].parse().unwrap();
    assert!((width - 833.33).abs() < 0.1, "{widths:?}");
    let label = attrs(&html, "#split svg", "aria-label")[0].clone();
    assert!(label.contains("Rejeitadas: 5"), "{label}");
    // Large counts are written with dots.
    diesel::update(audiences::table.find(id))
        .set(audiences::rows_total.eq(1_000_000i64))
        .execute(&mut app.db())
        .unwrap();
    let html = app.get_html(&format!("/engajar/publicos/{id}")).await;
    assert_eq!(texts(&html, "#count-rows"), vec!["1.000.000"]);
    diesel::update(audiences::table.find(id))
        .set(audiences::rows_total.eq(6i64))
        .execute(&mut app.db())
        .unwrap();
}
