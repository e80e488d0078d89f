//! Contatos: the search box over every key, its filters, and the contact's page.

use scraper::Html;

use crate::helpers::*;

crate::on_both_backends!(
    one_box_finds_contacts_by_every_key_and_format,
    filters_and_pages_narrow_the_list,
    the_contact_page_shows_origins_and_interactions,
    searches_ignore_case_and_accents_on_every_list,
    name_search_follows_renames_and_pages_through_many_matches,
);

/// The name index follows what imports write: a renamed contact is found by its new
/// name only; a word shared by many pages through them newest first; short words and
/// filters combine with the indexed ones.
async fn name_search_follows_renames_and_pages_through_many_matches(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    let phones: Vec<String> = (0..60).map(|i| format!("119876500{i:02}")).collect();
    let names_typed: Vec<String> = (0..60).map(|i| format!("Cliente Número {i:02}")).collect();
    let rows: Vec<[&str; 13]> = phones
        .iter()
        .zip(&names_typed)
        .map(|(phone, name)| person("TELEFONE", phone, name, "", "", "", ""))
        .chain([
            person("TELEFONE", "11912345678", "Ana Lima", "", "", "", "ALTA"),
            person(
                "TELEFONE",
                "11912345679",
                "Rui D'Ávila \\ Sá",
                "",
                "",
                "",
                "",
            ),
        ])
        .collect();
    app.import_bytes("muitos.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(names(&app, "q=lima").await, vec!["Ana Lima"]);
    // Quotes and backslashes are text like any other.
    assert_eq!(
        names(&app, "q=d%27avila%20%5C").await,
        vec!["Rui D'Ávila \\ Sá"]
    );
    let renamed = [person(
        "TELEFONE",
        "11912345678",
        "Ana Souza",
        "",
        "",
        "",
        "",
    )];
    app.import_bytes("renomeia.csv", layout_csv(&renamed), segment, &[])
        .await;
    assert!(
        names(&app, "q=lima").await.is_empty(),
        "the old name is gone"
    );
    assert_eq!(names(&app, "q=SOUZA%20ana").await, vec!["Ana Souza"]);
    assert_eq!(names(&app, "q=an%20souz").await, vec!["Ana Souza"]);
    let first = names(&app, "q=numero").await;
    assert_eq!(first.len(), 25);
    assert_eq!(first[0], "Cliente Número 59", "newest first");
    assert_eq!(names(&app, "q=numero&page=2").await[0], "Cliente Número 34");
    let last = names(&app, "q=numero&page=3").await;
    assert_eq!(last.len(), 10);
    assert_eq!(last[9], "Cliente Número 00");
    // A short word narrows an indexed one; a filter narrows the index's matches.
    assert_eq!(
        names(&app, "q=numero%2007").await,
        vec!["Cliente Número 07"]
    );
    assert_eq!(
        names(&app, "q=ana&prioridade=ALTA").await,
        vec!["Ana Souza"]
    );
    assert!(names(&app, "q=cliente&prioridade=ALTA").await.is_empty());
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let html = app.get_html(&format!("/contatos?{query}")).await;
    texts(&html, "td.name")
}

async fn one_box_finds_contacts_by_every_key_and_format(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    let rows = [
        person(
            "TELEFONE",
            "11987654321",
            "João da Silva Araújo",
            "529.982.247-25",
            "CLI-77",
            "Loja Centro",
            "ALTA",
        ),
        person(
            "EMAIL",
            "Maria.Souza@Exemplo.com.br",
            "Maria Souza",
            "11.222.333/0001-81",
            "M-1",
            "Loja Norte",
            "BAIXA",
        ),
        person(
            "TELEFONE",
            "21 3456-7890",
            "Pedro 100% Lima",
            "",
            "P_9",
            "",
            "",
        ),
    ];
    let (_, html) = app
        .import_bytes("base.csv", layout_csv(&rows), segment, &[])
        .await;
    assert_eq!(texts(&html, "#count-imported"), vec!["3"]);

    for (query, expected) in [
        // Name: partial, ignoring accents and case, words in any order.
        ("q=joao", vec!["João da Silva Araújo"]),
        ("q=ARAUJO%20silva", vec!["João da Silva Araújo"]),
        ("q=souza", vec!["Maria Souza"]),
        // Phones in any format the import accepts.
        ("q=(11)%2098765-4321", vec!["João da Silva Araújo"]),
        ("q=%2B55%2011%2098765%204321", vec!["João da Silva Araújo"]),
        ("q=011987654321", vec!["João da Silva Araújo"]),
        ("q=2134567890", vec!["Pedro 100% Lima"]),
        // E-mail, any case.
        ("q=MARIA.SOUZA%40exemplo.com.br", vec!["Maria Souza"]),
        // CPF/CNPJ with or without punctuation.
        ("q=52998224725", vec!["João da Silva Araújo"]),
        ("q=529.982.247-25", vec!["João da Silva Araújo"]),
        ("q=11222333000181", vec!["Maria Souza"]),
        ("q=11.222.333%2F0001-81", vec!["Maria Souza"]),
        // Customer code and tag.
        ("q=CLI-77", vec!["João da Silva Araújo"]),
        ("q=Loja%20Norte", vec!["Maria Souza"]),
        // LIKE's wildcards are literal characters.
        ("q=100%25", vec!["Pedro 100% Lima"]),
        ("q=P_9", vec!["Pedro 100% Lima"]),
        ("q=_", vec![]),
        ("q=ninguem", vec![]),
    ] {
        assert_eq!(names(&app, query).await, expected, "{query}");
    }
    let html = app.get_html("/contatos?q=ninguem").await;
    assert_eq!(
        texts(&html, ".empty-state"),
        vec!["Nenhum contato encontrado."]
    );
    // Hostile input is shown back escaped, never as markup.
    let body = app
        .get("/contatos?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("<script>alert(1)</script>"));
    let html = Html::parse_document(&body);
    assert_eq!(
        field_value(&html, "#q").as_deref(),
        Some("<script>alert(1)</script>")
    );
}

async fn filters_and_pages_narrow_the_list(app: TestApp) {
    app.login_staff().await;
    let a = app.add_segment("A");
    let b = app.add_segment("B");
    let phones: Vec<String> = (0..30)
        .map(|i| format!("119{:08}", 10_000_000 + i))
        .collect();
    let names: Vec<String> = (0..30).map(|i| format!("Cliente {i:02}")).collect();
    let rows: Vec<[&str; 13]> = (0..30)
        .map(|i| {
            person(
                "TELEFONE",
                &phones[i],
                &names[i],
                "",
                "",
                "",
                if i.is_multiple_of(3) { "ALTA" } else { "BAIXA" },
            )
        })
        .collect();
    app.import_bytes("a.csv", layout_csv(&rows[..20]), a, &[])
        .await;
    app.import_bytes("b.csv", layout_csv(&rows[20..]), b, &[])
        .await;

    let all = app.get_html("/contatos").await;
    assert_eq!(texts(&all, "td.name").len(), 25);
    assert_eq!(texts(&all, "td.name")[0], "Cliente 29", "newest first");
    let next = texts(&all, ".pagination a[rel=next]");
    assert_eq!(next, vec!["Próxima ›"]);
    let second = app.get_html("/contatos?page=2").await;
    assert_eq!(texts(&second, "td.name").len(), 5);
    assert!(texts(&second, ".pagination a[rel=next]").is_empty());

    let in_b = app.get_html(&format!("/contatos?segmento={b}")).await;
    assert_eq!(texts(&in_b, "td.name").len(), 10);
    assert!(texts(&in_b, "td.segments").iter().all(|s| s == "B"));
    let alta_in_a = app
        .get_html(&format!("/contatos?segmento={a}&prioridade=ALTA"))
        .await;
    assert_eq!(texts(&alta_in_a, "td.name").len(), 7);
    assert!(texts(&alta_in_a, "td.name").iter().all(|n| {
        let i: usize = n.trim_start_matches("Cliente ").parse().unwrap();
        i.is_multiple_of(3) && i < 20
    }));
    // Filters and search together, kept in the page links.
    let html = app
        .get_html(&format!(
            "/contatos?q=cliente&segmento={a}&prioridade=BAIXA"
        ))
        .await;
    assert_eq!(texts(&html, "td.name").len(), 13);
    assert_eq!(field_value(&html, "#q").as_deref(), Some("cliente"));
}

async fn the_contact_page_shows_origins_and_interactions(app: TestApp) {
    app.login_admin().await;
    let segment = app.add_segment("Cobrança");
    let mut row = person(
        "TELEFONE",
        "11987654321",
        "Ana <b>Lima</b>",
        "",
        "C-1",
        "Loja Sul",
        "MEDIA",
    );
    row[2] = "Sua fatura vence amanhã";
    row[7] = "R$ 120,00";
    row[8] = "<img src=x onerror=alert(1)>";
    let (audience, html) = app
        .import_bytes("ana.csv", layout_csv(&[row]), segment, &[])
        .await;
    assert_eq!(
        texts(&html, "#count-imported"),
        vec!["1"],
        "{:?}",
        texts(&html, "table")
    );
    let token = create_token(&app).await;
    let response = app
        .client
        .post(app.url("/api/v1/interactions"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"channel":"TELEFONE","value":"(11) 98765-4321","text":"Quero pagar"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["contact"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"));

    let html = app.get_html(&format!("/contatos/{id}")).await;
    assert_eq!(texts(&html, "h1.contact-name"), vec!["Ana <b>Lima</b>"]);
    // Shown as Brazilians write it; stored and answered by the API as E.164.
    assert_eq!(texts(&html, "dd.channels"), vec!["(11) 98765-4321"]);
    assert_eq!(texts(&html, "dd.priority"), vec!["Média"]);
    assert_eq!(texts(&html, "dd.tags"), vec!["Loja Sul"]);
    assert_eq!(texts(&html, "dd.segments"), vec!["Cobrança"]);
    assert_eq!(texts(&html, "td.outcome"), vec!["Criou o contato"]);
    assert_eq!(texts(&html, "td.message"), vec!["Sua fatura vence amanhã"]);
    assert_eq!(
        texts(&html, "span.coringa"),
        vec!["R$ 120,00", "<img src=x onerror=alert(1)>"]
    );
    assert_eq!(texts(&html, "td.body"), vec!["Quero pagar"]);
    let links: Vec<String> = html
        .select(&scraper::Selector::parse(".contact-audiences a").unwrap())
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    assert_eq!(links, vec![format!("/engajar/publicos/{audience}")]);
    assert_eq!(app.get("/contatos/999999").await.status(), 404);
    assert_eq!(app.get("/contatos/abc").await.status(), 404);
}

/// Creates an API token through the admin page and reads it off the answer.
pub async fn create_token(app: &TestApp) -> String {
    let response = app
        .submit("/admin/tokens", "/admin/tokens", &[("name", "Central")])
        .await;
    assert_eq!(response.status(), 200);
    let html = Html::parse_document(&response.text().await.unwrap());
    texts(&html, "#novo-token")
        .pop()
        .expect("the new token is shown")
}

async fn searches_ignore_case_and_accents_on_every_list(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    for (description, phone, tag, code) in [
        ("PROMOÇÃO DE NATAL", "11987654321", "VIP Zona Sul", "AB-1"),
        ("Cobrança novembro", "11987654322", "Centro", "cd-2"),
    ] {
        let bytes = layout_csv(&[person("TELEFONE", phone, "Cliente", "", code, tag, "")]);
        let segment = segment.to_string();
        let response = app
            .post_import(
                "a.csv",
                bytes,
                &[
                    ("descricao", description),
                    ("segmento", &segment),
                    ("autorizacao", "consentimento"),
                ],
            )
            .await;
        let id: i64 = location(&response)
            .trim_start_matches("/engajar/publicos/")
            .parse()
            .unwrap();
        app.wait_for_audience(id).await;
    }
    let listed = |q: &'static str| {
        let app = &app;
        async move {
            let html = app.get_html(&format!("/engajar/publicos?q={q}")).await;
            texts(&html, "table td:first-child a")
        }
    };
    assert_eq!(
        listed("promo%C3%A7%C3%A3o").await,
        vec!["PROMOÇÃO DE NATAL"]
    );
    assert_eq!(listed("PROMOCAO").await, vec!["PROMOÇÃO DE NATAL"]);
    assert_eq!(listed("cobranca").await, vec!["Cobrança novembro"]);
    assert_eq!(listed("COBRAN%C3%87A").await, vec!["Cobrança novembro"]);
    // Tags and customer codes ignore case.
    assert_eq!(names(&app, "q=vip+zona+sul").await.len(), 1);
    assert_eq!(names(&app, "q=ab-1").await.len(), 1);
    assert_eq!(names(&app, "q=CD-2").await.len(), 1);
}
