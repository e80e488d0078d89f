//! A person's whole path through the app in a real browser (Chromium, through WebDriver):
//! first-run setup, a segment, a staff user, the Layout download, an import with every
//! option through the form's file input, its progress to "Concluída com rejeições", the
//! rejected rows and their download, the contact in Contatos, and logging out. And a
//! WhatsApp template campaign and an SMS campaign composed, previewed and sent from the
//! pages to a local server speaking Meta's and Zenvia's formats, a signed read receipt
//! showing on the campaign's and the contact's pages.
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs). Without them the test says so and passes, except under CI, where
//! it fails. On failure it saves a screenshot under `target/` and names it.

#[allow(dead_code)]
#[path = "app/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "app/providers.rs"]
mod providers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use helpers::{Backend, fixture, spawn_app};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type Step = Result<(), String>;

fn fail(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// The element, once the page shows it (the browser may still be loading the page).
async fn find(c: &Client, css: &str) -> Result<fantoccini::elements::Element, String> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| fail(css, e))
}

async fn text_of(c: &Client, css: &str) -> Result<String, String> {
    find(c, css).await?.text().await.map_err(|e| fail(css, e))
}

/// Waits until the element's text is `wanted`.
async fn expect_text(c: &Client, css: &str, wanted: &str) -> Step {
    let started = Instant::now();
    loop {
        let text = text_of(c, css).await.unwrap_or_default();
        if text == wanted {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("{css} shows {text:?}, not {wanted:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(c: &Client, css: &str, value: &str) -> Step {
    let element = find(c, css).await?;
    element.clear().await.map_err(|e| fail(css, e))?;
    element.send_keys(value).await.map_err(|e| fail(css, e))
}

async fn click(c: &Client, css: &str) -> Step {
    let element = find(c, css).await?;
    element.click().await.map_err(|e| fail(css, e))
}

async fn click_link(c: &Client, text: &str) -> Step {
    let element = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::LinkText(text))
        .await
        .map_err(|e| fail(text, e))?;
    element.click().await.map_err(|e| fail(text, e))
}

async fn path_of(c: &Client) -> Result<String, String> {
    let url = c.current_url().await.map_err(|e| fail("url", e))?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

/// Waits (the browser may still be navigating) until the page's path is `wanted`.
async fn expect_path(c: &Client, wanted: impl Fn(&str) -> bool, what: &str) -> Step {
    let started = Instant::now();
    loop {
        let path = path_of(c).await?;
        if wanted(&path) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("{what}: at {path}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn expect(condition: bool, what: impl Into<String>) -> Step {
    if condition { Ok(()) } else { Err(what.into()) }
}

/// Waits for a file to finish downloading into `dir`, then returns its path.
async fn downloaded(dir: &Path, name_part: &str) -> Result<PathBuf, String> {
    let started = Instant::now();
    loop {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name.contains(name_part) && !name.ends_with(".crdownload") {
                    return Ok(entry.path());
                }
            }
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "no download containing {name_part:?} in {}",
                dir.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn whole_path(c: &Client, base: &str, downloads: &Path) -> Step {
    // First run: the site sends the first visitor to set up the admin.
    c.goto(base).await.map_err(|e| fail("open", e))?;
    expect_path(c, |p| p == "/setup", "the first visit leads to /setup").await?;
    fill(c, "#name", "Ana Administradora").await?;
    fill(c, "#email", "ana@empresa.com.br").await?;
    fill(c, "#password", "senha da ana 2026").await?;
    fill(c, "#password_confirm", "senha da ana 2026").await?;
    click(c, "form button[type=submit]").await?;
    expect_path(c, |p| p == "/engajar", "setup logs the admin in").await?;

    // A segment, and a staff user.
    click_link(c, "Segmentos").await?;
    fill(c, "#name", "Clientes do Navegador").await?;
    click(c, "form.inline-form button[type=submit]").await?;
    expect_text(c, "table.segments tbody td", "Clientes do Navegador").await?;
    click_link(c, "Usuários").await?;
    fill(c, "#name", "Caio da Equipe").await?;
    fill(c, "#email", "caio@empresa.com.br").await?;
    fill(c, "#password", "senha do caio 2026").await?;
    click(c, "form.new-user button[type=submit]").await?;
    expect_text(c, ".alert-ok", "Usuário criado.").await?;
    click(c, ".account button").await?;
    expect_path(c, |p| p.starts_with("/login"), "Sair leads to login").await?;

    // Staff logs in and goes Engajar → Importação de Público.
    fill(c, "#email", "caio@empresa.com.br").await?;
    fill(c, "#password", "senha do caio 2026").await?;
    click(c, "form button[type=submit]").await?;
    expect_path(c, |p| p == "/engajar", "staff lands on Engajar").await?;
    click(c, "a[href=\"/engajar/publicos\"]").await?;
    expect_path(c, |p| p == "/engajar/publicos", "the audience list").await?;

    // The Layout downloads as Excel pt-BR expects it.
    click_link(c, "Layout").await?;
    let layout = downloaded(downloads, "layout").await?;
    let bytes = std::fs::read(&layout).map_err(|e| fail("layout file", e))?;
    expect(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "the layout starts with a BOM",
    )?;
    let text = String::from_utf8_lossy(&bytes[3..]).to_string();
    expect(
        text.starts_with(&engajar::layout::COLUMNS.join(";")),
        format!("the layout's header: {:?}", &text[..80.min(text.len())]),
    )?;

    // The import form, every option ticked, the file through the file input.
    click_link(c, "Importar Público").await?;
    fill(c, "#descricao", "Campanha do navegador").await?;
    let segment = find(c, "#segmento").await?;
    segment
        .select_by_label("Clientes do Navegador")
        .await
        .map_err(|e| fail("segmento", e))?;
    let basis = find(c, "#autorizacao").await?;
    basis
        .select_by_value("consentimento")
        .await
        .map_err(|e| fail("autorizacao", e))?;
    let file = fixture("row_level_errors.csv");
    let input = find(c, "#arquivo").await?;
    input
        .send_keys(file.to_str().unwrap())
        .await
        .map_err(|e| fail("arquivo", e))?;
    for option in ["verify", "nao_perturbe", "manter_segmento", "limpar_tag"] {
        click(c, &format!("input[name={option}]")).await?;
    }
    click(c, "button[value=importar]").await?;
    expect_path(
        c,
        |p| p.starts_with("/engajar/publicos/") && !p.ends_with("importar"),
        "the form answers with the audience page",
    )
    .await?;

    // The page refreshes itself until the import is over.
    let started = Instant::now();
    loop {
        let status = text_of(c, "#status").await?;
        if status == "Concluída com rejeições" {
            break;
        }
        expect(
            matches!(status.as_str(), "Na fila" | "Processando"),
            format!("unexpected status {status:?}"),
        )?;
        expect(
            started.elapsed() < Duration::from_secs(60),
            "the import never ended",
        )?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let options = text_of(c, "dl.details").await?;
    expect(
        options.contains("Verify") && options.contains("Limpar tag"),
        format!("every option is shown: {options}"),
    )?;
    let rejected = c
        .find_all(Locator::Css("table.rejected tbody tr"))
        .await
        .map_err(|e| fail("rejected rows", e))?;
    expect(!rejected.is_empty(), "the rejected rows are listed")?;
    click(c, "#download-rejected").await?;
    let fixed = downloaded(downloads, "rejeitadas").await?;
    let text = std::fs::read_to_string(&fixed).map_err(|e| fail("rejected file", e))?;
    expect(
        text.contains("ERRO"),
        "the rejected rows come with an ERRO column",
    )?;

    // The imported contact is found in Contatos.
    click_link(c, "Contatos").await?;
    fill(c, "#q", "bom").await?;
    click(c, "form.search-form button[type=submit]").await?;
    expect_text(c, "td.name", "BOM").await?;
    click_link(c, "BOM").await?;
    expect_text(c, "dd.channels", "(11) 98700-0005").await?;

    // And out.
    click(c, ".account button").await?;
    expect_path(c, |p| p.starts_with("/login"), "logged out").await?;
    c.goto(&format!("{base}/contatos"))
        .await
        .map_err(|e| fail("after logout", e))?;
    expect(
        path_of(c).await?.starts_with("/login"),
        "pages need a login again",
    )
}

/// A headless Chromium driven through chromedriver; `None` (and a note) when they are
/// not installed, outside CI.
struct Browser {
    client: Client,
    driver: Driver,
    _profile: tempfile::TempDir,
    downloads: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var("CI").is_err(),
                "CI must install chromium and chromium-driver"
            );
            eprintln!("chromium/chromedriver not installed: browser test not run");
            return None;
        }
        let port = helpers::free_port();
        let driver = Driver(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        let driver_url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while reqwest::get(format!("{driver_url}/status")).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path().to_str().unwrap(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .expect("a WebDriver session");
        Some(Browser {
            client,
            driver,
            _profile: profile,
            downloads,
        })
    }

    /// Closes the browser; on failure first saves a screenshot named `shot`.
    async fn finish(self, outcome: Step, shot: &str) {
        if let Err(problem) = outcome {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/{shot}.png"));
            let saved = match self.client.screenshot().await {
                Ok(png) => std::fs::write(&path, png).map(|()| path.display().to_string()),
                Err(e) => Ok(format!("(no screenshot: {e})")),
            };
            let _ = self.client.close().await;
            drop(self.driver);
            panic!(
                "{problem}; screenshot: {}",
                saved.unwrap_or_else(|e| e.to_string())
            );
        }
        self.client.close().await.expect("close the browser");
        drop(self.driver);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_goes_the_whole_way_in_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let outcome = whole_path(&browser.client, &app.address, browser.downloads.path()).await;
    browser.finish(outcome, "browser-failure").await;
}

async fn choose(c: &Client, css: &str, value: &str) -> Step {
    find(c, css)
        .await?
        .select_by_value(value)
        .await
        .map_err(|e| fail(css, e))
}

/// Waits on a campaign's page (it refreshes itself) until it is Concluída.
async fn until_done(c: &Client) -> Step {
    let started = Instant::now();
    loop {
        let status = text_of(c, ".page-head span.status")
            .await
            .unwrap_or_default();
        if status == "Concluída" {
            return Ok(());
        }
        expect(
            started.elapsed() < Duration::from_secs(60),
            format!("the campaign never finished ({status:?})"),
        )?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.map_err(|e| fail("refresh", e))?;
    }
}

/// An admin registers a WhatsApp template and sends a template campaign and an SMS
/// campaign from the composer, to local servers speaking Meta's and Zenvia's formats; a
/// signed read receipt then shows on the contact's page.
async fn campaigns_path(
    c: &Client,
    app: &helpers::TestApp,
    fake: &providers::FakeProviders,
    audience: i64,
    axe: Option<&str>,
) -> Step {
    // These pages too pass axe at both widths, in the states only this path reaches.
    let judge_if = |what: &'static str| async move {
        match axe {
            Some(axe) => judge_here(c, axe, what).await,
            None => Ok(()),
        }
    };
    let base = &app.address;
    c.goto(&format!("{base}/login"))
        .await
        .map_err(|e| fail("open", e))?;
    fill(c, "#email", helpers::ADMIN_EMAIL).await?;
    fill(c, "#password", helpers::ADMIN_PASSWORD).await?;
    click(c, "form button[type=submit]").await?;
    expect_path(c, |p| p == "/engajar", "the admin logs in").await?;

    c.goto(&format!("{base}/admin/configuracoes/whatsapp/modelos"))
        .await
        .map_err(|e| fail("modelos", e))?;
    fill(c, "#name", "promo_sabado").await?;
    fill(c, "#body", "Olá {{1}}! A promoção de sábado é na {{2}}.").await?;
    click(c, "button[value=cadastrar]").await?;
    expect_text(c, "tr.template td.name", "promo_sabado").await?;
    fake.approve("promo_sabado", 2);
    judge_if("WhatsApp templates").await?;

    // WhatsApp: the template's parameters mapped to variables; the preview first.
    c.goto(&format!("{base}/engajar/campanhas/nova?publico={audience}"))
        .await
        .map_err(|e| fail("nova", e))?;
    fill(c, "#name", "Sábado no WhatsApp").await?;
    choose(c, "#channel", "whatsapp").await?;
    let template = find(c, "#template").await?;
    template
        .select_by_label("promo_sabado (pt_BR) · 2 parâmetro(s)")
        .await
        .map_err(|e| fail("template", e))?;
    fill(c, "#param_1", "@PrimeiroNome").await?;
    fill(c, "#param_2", "@Coringa1").await?;
    fill(c, "#fallback_Coringa1", "loja mais perto de você").await?;
    click(c, "button[value=rascunho]").await?;
    expect_path(c, |p| p.ends_with("/previa"), "the draft's preview").await?;
    expect_text(
        c,
        "article.sample pre.body",
        "Olá João! A promoção de sábado é na Av. Santos Dumont, 500.",
    )
    .await?;
    judge_if("a WhatsApp preview").await?;
    click(c, ".actions form button.primary").await?;
    until_done(c).await?;
    let joao = fake.to("5511987650001");
    expect(
        joao.len() == 1 && joao[0].texts == ["João", "Av. Santos Dumont, 500"],
        format!("João's WhatsApp: {joao:?}"),
    )?;
    // Meta reports it read; the contact's page says com WhatsApp.
    let body = providers::wa_statuses(&[(&joao[0].id, "read", 1_800_000_000, None)]);
    let status = reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp"))
        .header(
            "X-Hub-Signature-256",
            providers::meta_signature(providers::APP_SECRET, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| fail("webhook", e))?
        .status();
    expect(status == 200, format!("the receipt: {status}"))?;
    c.refresh().await.map_err(|e| fail("refresh", e))?;
    expect_text(c, "[data-count=read]", "1").await?;
    judge_if("a sent WhatsApp campaign").await?;
    c.goto(&format!("{base}/contatos?q=joao"))
        .await
        .map_err(|e| fail("contatos", e))?;
    click_link(c, "JOÃO DA SILVA").await?;
    let verdict = text_of(c, ".whatsapp-status").await?;
    expect(
        verdict.contains("com WhatsApp"),
        format!("the contact's phone: {verdict:?}"),
    )?;
    judge_if("a contact with campaign messages").await?;

    // SMS with accents removed: the preview shows GSM-7 and one part each.
    c.goto(&format!("{base}/engajar/campanhas/nova?publico={audience}"))
        .await
        .map_err(|e| fail("nova", e))?;
    fill(c, "#name", "Verão por SMS").await?;
    choose(c, "#channel", "sms").await?;
    fill(c, "#body", "Oi @PrimeiroNome, a promoção de verão começou!").await?;
    click(c, "input[name=strip_accents]").await?;
    click(c, "button[value=rascunho]").await?;
    expect_path(c, |p| p.ends_with("/previa"), "the SMS preview").await?;
    expect_text(c, "#sms-encoding", "GSM-7").await?;
    expect_text(c, "#sms-parts-total", "2").await?;
    judge_if("an SMS preview").await?;
    click(c, ".actions form button.primary").await?;
    until_done(c).await?;
    let sms: Vec<_> = fake
        .to("5511987650002")
        .into_iter()
        .filter(|a| a.provider == "zenvia")
        .collect();
    expect(
        sms.len() == 1 && sms[0].texts == ["Oi Maria, a promocao de verao comecou!"],
        format!("Maria's SMS: {sms:?}"),
    )?;
    expect(
        fake.violations().is_empty(),
        format!("{:?}", fake.violations()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_and_sms_campaigns_from_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let fake = providers::FakeProviders::start().await;
    let base = fake.address.clone();
    let app = helpers::spawn_app_configured(
        Backend::Sqlite,
        |_, _| {},
        move |c| {
            c.whatsapp = engajar::models::provider_settings::WhatsAppSettings {
                base_url: format!("{base}/v23.0"),
                phone_number_id: providers::PHONE_NUMBER_ID.into(),
                waba_id: providers::WABA_ID.into(),
                token: providers::WA_TOKEN.into(),
                app_secret: providers::APP_SECRET.into(),
                verify_token: providers::VERIFY_TOKEN.into(),
                per_second: 80,
            };
            c.sms = engajar::models::provider_settings::SmsSettings {
                provider: engajar::models::provider_settings::SmsProvider::Zenvia,
                base_url: base,
                from: providers::ZENVIA_FROM.into(),
                zenvia_token: providers::ZENVIA_TOKEN.into(),
                webhook_secret: providers::ZENVIA_SECRET.into(),
                per_second: 30,
                ..Default::default()
            };
        },
    )
    .await
    .unwrap();
    app.login_admin().await;
    let segment = app.add_segment("Clientes");
    let file = helpers::layout_csv(&[
        [
            "TELEFONE",
            "11987650001",
            "",
            "JOÃO DA SILVA",
            "",
            "",
            "Loja",
            "Av. Santos Dumont, 500",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "TELEFONE",
            "11987650002",
            "",
            "MARIA",
            "",
            "",
            "Loja",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]);
    let (audience, _) = app.import_bytes("publico.csv", file, segment, &[]).await;
    let axe = std::fs::read_to_string(AXE).ok();
    assert!(
        axe.is_some() || std::env::var("CI").is_err(),
        "CI must install axe-core: npm ci --prefix tests/browser"
    );
    let outcome = campaigns_path(&browser.client, &app, &fake, audience, axe.as_deref()).await;
    browser.finish(outcome, "browser-campaigns-failure").await;
}

/// axe-core as `npm ci --prefix tests/browser` installs it (`.ci/run` does).
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser/node_modules/axe-core/axe.min.js"
);

/// Widths every page is judged at: a laptop and a phone.
const DESKTOP: (u32, u32) = (1366, 900);
const PHONE: (u32, u32) = (390, 844);

/// Runs axe-core on the page as it is now: a violation of any impact fails.
async fn axe_clean(c: &Client, axe: &str, what: &str) -> Step {
    c.execute(axe, vec![])
        .await
        .map_err(|e| fail("inject axe", e))?;
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {resultTypes: ['violations']})
                 .then(r => done(r.violations.map(v =>
                    `${v.id} (${v.impact}): ${v.help} — ` +
                    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
                 .catch(e => done(['axe failed: ' + e]));"#,
            vec![],
        )
        .await
        .map_err(|e| fail("axe.run", e))?;
    let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
    expect(
        violations.is_empty(),
        format!("{what}: axe found {violations:#?}"),
    )
}

/// What the phone shows: no sideways scroll, and no code in place of pt-BR text.
async fn fits_and_speaks_portuguese(c: &Client, what: &str) -> Step {
    let facts = c
        .execute(
            r#"const codes = [];
               const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
               while (walker.nextNode()) {
                 const node = walker.currentNode;
                 const parent = node.parentElement;
                 // Identifiers (a WhatsApp template's name) are marked translate="no".
                 if (!parent || parent.closest('code, script, style, [hidden], [translate=no]')) continue;
                 if (!parent.checkVisibility()) continue;
                 for (const m of node.textContent.matchAll(/\b[a-z]+(?:_[a-z0-9]+)+\b(?!\.[a-z0-9]{2,4}\b)/g)) codes.push(m[0]);
               }
               return [document.documentElement.scrollWidth, window.innerWidth, codes];"#,
            vec![],
        )
        .await
        .map_err(|e| fail("measure", e))?;
    let scroll = facts[0].as_i64().unwrap_or(i64::MAX);
    let viewport = facts[1].as_i64().unwrap_or(0);
    expect(
        viewport <= i64::from(PHONE.0),
        format!("{what}: the viewport is {viewport} px, not a phone's"),
    )?;
    expect(
        scroll <= viewport,
        format!("{what}: {scroll} px wide in a {viewport} px viewport"),
    )?;
    let codes: Vec<String> = serde_json::from_value(facts[2].clone()).unwrap_or_default();
    expect(
        codes.is_empty(),
        format!("{what}: codes on screen {codes:?}"),
    )
}

/// With `ENGAJAR_SHOTS=DIR`, every judged page is also saved as a screenshot per width,
/// for a person to look at.
async fn shot(c: &Client, what: &str, width: u32) {
    let Ok(dir) = std::env::var("ENGAJAR_SHOTS") else {
        return;
    };
    let name: String = what
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect();
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(Path::new(&dir).join(format!("{name}-{width}.png")), png);
    }
}

/// The page as it is, judged at both widths (the browser is left at desktop width).
async fn judge_here(c: &Client, axe: &str, what: &str) -> Step {
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .map_err(|e| fail("phone width", e))?;
    fits_and_speaks_portuguese(c, what).await?;
    shot(c, what, PHONE.0).await;
    axe_clean(c, axe, &format!("{what} at {} px", PHONE.0)).await?;
    c.set_window_size(DESKTOP.0, DESKTOP.1)
        .await
        .map_err(|e| fail("desktop width", e))?;
    shot(c, what, DESKTOP.0).await;
    axe_clean(c, axe, &format!("{what} at {} px", DESKTOP.0)).await
}

async fn judge(c: &Client, axe: &str, base: &str, path: &str) -> Step {
    c.goto(&format!("{base}{path}"))
        .await
        .map_err(|e| fail(path, e))?;
    judge_here(c, axe, path).await
}

/// The import form's segment "Clientes", basis and a file with rejected rows.
async fn choose_segment_basis_and_file(c: &Client) -> Step {
    find(c, "#segmento")
        .await?
        .select_by_label("Clientes")
        .await
        .map_err(|e| fail("segmento", e))?;
    choose(c, "#autorizacao", "consentimento").await?;
    find(c, "#arquivo")
        .await?
        .send_keys(helpers::fixture("row_level_errors.csv").to_str().unwrap())
        .await
        .map_err(|e| fail("arquivo", e))
}

async fn log_in(c: &Client, base: &str, email: &str, password: &str) -> Step {
    c.goto(&format!("{base}/login"))
        .await
        .map_err(|e| fail("login", e))?;
    fill(c, "#email", email).await?;
    fill(c, "#password", password).await?;
    click(c, "form button[type=submit]").await?;
    expect_path(c, |p| p == "/engajar", "logged in").await
}

async fn log_out(c: &Client) -> Step {
    click(c, ".topbar > .account button").await?;
    expect_path(c, |p| p.starts_with("/login"), "logged out").await
}

/// Every page, anonymous, staff and admin, error states included, at 1366 and 390 px:
/// axe-core finds nothing, nothing scrolls sideways, no code is shown for pt-BR text; the
/// menu folds behind "Menu" on the phone; a validation is followed through to an import
/// without choosing the file twice.
async fn every_page(c: &Client, app: &helpers::TestApp, axe: &str) -> Step {
    let base = &app.address;
    // Anonymous: first-run setup (with a mistake), then login (with a mistake).
    judge(c, axe, base, "/setup").await?;
    fill(c, "#name", "Ana Administradora").await?;
    fill(c, "#email", helpers::ADMIN_EMAIL).await?;
    fill(c, "#password", helpers::ADMIN_PASSWORD).await?;
    fill(c, "#password_confirm", "outra senha qualquer").await?;
    click(c, "form button[type=submit]").await?;
    find(c, ".field-error").await?;
    judge_here(c, axe, "setup with an error").await?;
    fill(c, "#password", helpers::ADMIN_PASSWORD).await?;
    fill(c, "#password_confirm", helpers::ADMIN_PASSWORD).await?;
    click(c, "form button[type=submit]").await?;
    expect_path(c, |p| p == "/engajar", "setup logs the admin in").await?;
    log_out(c).await?;
    judge(c, axe, base, "/login").await?;
    fill(c, "#email", helpers::ADMIN_EMAIL).await?;
    fill(c, "#password", "senha errada demais").await?;
    click(c, "form button[type=submit]").await?;
    find(c, ".alert-error").await?;
    judge_here(c, axe, "login refused").await?;
    judge(c, axe, base, "/descadastrar").await?;
    judge(c, axe, base, "/descadastrar/nao-existe").await?;
    // The harness sees what it should: an image without a text alternative fails it.
    c.execute(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/engajar.css\">');",
        vec![],
    )
    .await
    .map_err(|e| fail("plant a violation", e))?;
    let planted = axe_clean(c, axe, "a planted violation").await;
    expect(
        planted.as_ref().is_err_and(|e| e.contains("image-alt")),
        format!("axe must see a missing alt: {planted:?}"),
    )?;

    // Data for every page: a segment, imports (one with rejections, one failed), a
    // contact with interactions, a draft campaign; made by staff through the app.
    app.login_staff().await;
    let segment = app.add_segment("Clientes");
    let (audience, _) = app
        .import_fixture("row_level_errors.csv", segment, &["nao_perturbe"])
        .await;
    let (failed, _) = app
        .import_fixture("file_level_errors.csv", segment, &[])
        .await;
    let file = helpers::layout_csv(&[[
        "TELEFONE",
        "85991234567",
        "",
        "JOSÉ DA SILVA",
        "11144477735",
        "C-1",
        "Loja Centro",
        "R$ 10,00",
        "",
        "",
        "",
        "",
        "MEDIA",
    ]]);
    let (clean, _) = app.import_bytes("jose.csv", file, segment, &[]).await;
    {
        let mut conn = app.db();
        for (value, body) in [
            ("+5585991234567", "Quero negociar"),
            ("+5511955550001", "Oi"),
        ] {
            engajar::models::NewInteraction {
                kind: engajar::domain::RecordType::Telefone,
                value,
                body,
                occurred_at: engajar::time::now(),
                external_id: None,
            }
            .insert(&mut conn, engajar::time::now())
            .unwrap();
        }
    }
    let audience_text = clean.to_string();
    let draft = app
        .submit(
            "/engajar/campanhas/nova",
            "/engajar/campanhas/nova",
            &[
                ("name", "Promoção de sábado"),
                ("channel", "email"),
                ("target", "audience"),
                ("audience_id", &audience_text),
                ("subject", "@PrimeiroNome, uma oferta"),
                ("body", "Olá @PrimeiroNome!"),
                ("schedule", "now"),
                ("acao", "rascunho"),
            ],
        )
        .await;
    let campaign = helpers::location(&draft)
        .trim_start_matches("/engajar/campanhas/")
        .split('/')
        .next()
        .unwrap()
        .to_string();

    // Staff.
    log_in(c, base, helpers::STAFF_EMAIL, helpers::STAFF_PASSWORD).await?;
    // On a phone the menu folds behind "Menu", which opens without JavaScript.
    c.set_window_size(PHONE.0, PHONE.1)
        .await
        .map_err(|e| fail("phone width", e))?;
    let bar = c
        .execute(
            "return [document.querySelector('.topbar').getBoundingClientRect().height, \
             document.querySelector('.topbar > nav.menu').checkVisibility()];",
            vec![],
        )
        .await
        .map_err(|e| fail("topbar", e))?;
    expect(
        bar[0].as_f64().unwrap_or(999.0) < 80.0 && bar[1] == false,
        format!("the folded menu on a phone: {bar:?}"),
    )?;
    click(c, "details.menu-small > summary").await?;
    let fila = find(c, "details.menu-small nav a[href=\"/fila\"]").await?;
    expect(
        fila.is_displayed().await.unwrap_or(false),
        "Menu opens on the phone",
    )?;
    fila.click().await.map_err(|e| fail("Fila", e))?;
    expect_path(c, |p| p == "/fila", "the phone's menu leads to Fila").await?;
    c.set_window_size(DESKTOP.0, DESKTOP.1)
        .await
        .map_err(|e| fail("desktop width", e))?;
    let shown = text_of(c, "table.queue tbody tr td.priority").await?;
    expect(shown == "Média", format!("priority on screen: {shown:?}"))?;
    judge_here(c, axe, "/fila").await?;
    click(c, "table.queue tbody tr button").await?;
    find(c, "#desfazer").await?;
    judge_here(c, axe, "/fila after Atender").await?;
    click(c, "#desfazer").await?;
    expect_path(c, |p| p.starts_with("/fila?desfeita="), "Desfazer").await?;
    for path in [
        "/engajar".to_string(),
        "/engajar/publicos".to_string(),
        "/engajar/publicos/layout".to_string(),
        format!("/engajar/publicos/{audience}"),
        format!("/engajar/publicos/{failed}"),
        format!("/engajar/publicos/{clean}"),
        "/engajar/campanhas".to_string(),
        "/engajar/campanhas/nova".to_string(),
        format!("/engajar/campanhas/{campaign}"),
        format!("/engajar/campanhas/{campaign}/previa"),
        "/contatos".to_string(),
        "/contatos?q=jose".to_string(),
        "/contatos/1/editar".to_string(),
        "/conta".to_string(),
        "/admin/usuarios".to_string(),
        "/engajar/nao-existe".to_string(),
    ] {
        judge(c, axe, base, &path).await?;
    }
    // Values as Brazilians write them, and the forbidden page keeps the menu.
    c.goto(&format!("{base}/contatos?q=(85)%2099123-4567"))
        .await
        .map_err(|e| fail("search", e))?;
    expect_text(c, "td.channels", "(85) 99123-4567").await?;
    c.goto(&format!("{base}/contatos?q=111.444.777-35"))
        .await
        .map_err(|e| fail("search by CPF", e))?;
    click_link(c, "JOSÉ DA SILVA").await?;
    expect_text(c, "dd.document", "111.444.777-35").await?;
    expect_text(c, "dd.priority", "Média").await?;
    judge_here(c, axe, "a contact").await?;
    c.goto(&format!("{base}/admin/usuarios"))
        .await
        .map_err(|e| fail("403", e))?;
    expect_text(c, "p.error-code", "Erro 403").await?;
    find(c, ".topbar nav.menu").await?;

    // The composer and the import form with their errors.
    c.goto(&format!("{base}/engajar/campanhas/nova"))
        .await
        .map_err(|e| fail("nova", e))?;
    fill(c, "#name", "Sem destino").await?;
    click(c, "button[value=rascunho]").await?;
    find(c, "#error-summary").await?;
    let focused = c
        .execute("return document.activeElement.id;", vec![])
        .await
        .map_err(|e| fail("focus", e))?;
    expect(
        focused == "error-summary",
        format!("the error summary takes the focus, not {focused}"),
    )?;
    judge_here(c, axe, "the composer with errors").await?;
    c.goto(&format!("{base}/engajar/publicos/importar"))
        .await
        .map_err(|e| fail("importar", e))?;
    // Blank to the server (the browser takes spaces for an answer).
    fill(c, "#descricao", "   ").await?;
    choose_segment_basis_and_file(c).await?;
    click(c, "button[value=importar]").await?;
    find(c, "#error-summary").await?;
    let invalid = find(c, "#descricao")
        .await?
        .attr("aria-describedby")
        .await
        .map_err(|e| fail("aria", e))?;
    expect(
        invalid.as_deref() == Some("descricao-error"),
        format!("the field names its error: {invalid:?}"),
    )?;
    judge_here(c, axe, "the import form with errors").await?;

    // Validar sem importar, then Importar este arquivo: the file is chosen once.
    fill(c, "#descricao", "Validada no navegador").await?;
    choose_segment_basis_and_file(c).await?;
    click(c, "input[name=limpar_tag]").await?;
    click(c, "button[value=validar]").await?;
    expect_path(
        c,
        |p| p.starts_with("/engajar/publicos/validacoes/"),
        "the validation's result page",
    )
    .await?;
    expect_text(c, "#verdict", "O arquivo pode ser importado.").await?;
    judge_here(c, axe, "a validation").await?;
    click(c, "#fix").await?;
    let kept = find(c, "#descricao")
        .await?
        .prop("value")
        .await
        .map_err(|e| fail("descricao", e))?;
    expect(
        kept.as_deref() == Some("Validada no navegador"),
        format!("Corrigir keeps the description: {kept:?}"),
    )?;
    c.back().await.map_err(|e| fail("back", e))?;
    click(c, "#import-validated").await?;
    expect_path(
        c,
        |p| p.starts_with("/engajar/publicos/") && !p.contains("valida"),
        "Importar este arquivo leads to the audience",
    )
    .await?;
    let started = Instant::now();
    while text_of(c, "#status").await? != "Concluída com rejeições" {
        expect(
            started.elapsed() < Duration::from_secs(60),
            "the validated import never ended",
        )?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.map_err(|e| fail("refresh", e))?;
    }
    let options = text_of(c, "dl.details").await?;
    expect(
        options.contains("Limpar tag de localização"),
        format!("the validated options: {options}"),
    )?;
    find(c, "#split svg").await?;
    judge_here(c, axe, "the validated audience").await?;
    log_out(c).await?;

    // Admin: every admin page, with an error state.
    log_in(c, base, helpers::ADMIN_EMAIL, helpers::ADMIN_PASSWORD).await?;
    for path in [
        "/admin/segmentos".to_string(),
        format!("/admin/segmentos/{segment}/excluir"),
        "/admin/usuarios".to_string(),
        "/admin/nao-perturbe".to_string(),
        "/admin/tokens".to_string(),
        "/admin/auditoria".to_string(),
        "/admin/configuracoes".to_string(),
        "/admin/configuracoes/canais".to_string(),
        "/admin/configuracoes/canais/whatsapp".to_string(),
        "/admin/configuracoes/canais/sms".to_string(),
        "/admin/configuracoes/whatsapp/modelos".to_string(),
        "/admin/configuracoes/retencao".to_string(),
        "/contatos/1/mesclar?com=2".to_string(),
        "/contatos/cpf-repetidos".to_string(),
        "/lgpd".to_string(),
        "/lgpd/pedidos".to_string(),
        "/lgpd?q=111.444.777-35".to_string(),
        "/lgpd?q=nao-e-chave".to_string(),
        "/lgpd/eliminar?q=111.444.777-35".to_string(),
        format!("/admin/publicos/{audience}/excluir"),
        format!("/admin/publicos/{clean}/excluir"),
    ] {
        judge(c, axe, base, &path).await?;
    }
    c.goto(&format!("{base}/admin/usuarios"))
        .await
        .map_err(|e| fail("usuarios", e))?;
    fill(c, "form.new-user #name", "Nova Pessoa").await?;
    fill(c, "form.new-user #email", helpers::STAFF_EMAIL).await?;
    fill(c, "form.new-user #password", "senha nova da pessoa").await?;
    click(c, "form.new-user button[type=submit]").await?;
    find(c, "#email-error").await?;
    judge_here(c, axe, "a new user with errors").await?;

    // A titular's request end to end: found by the phone as shown, reported, eliminated.
    c.goto(&format!("{base}/lgpd"))
        .await
        .map_err(|e| fail("lgpd", e))?;
    fill(c, "#q", "(85) 99123-4567").await?;
    click(c, "form.search-form button[type=submit]").await?;
    expect_text(c, ".titular-contact dd.name", "JOSÉ DA SILVA").await?;
    click(c, "#erase").await?;
    fill(c, "#motivo", "Pedido de eliminação do titular").await?;
    click(c, "input[name=impedir_reimportacao]").await?;
    click(c, "#confirm-erase").await?;
    expect_path(c, |p| p == "/lgpd?eliminado=1", "the elimination").await?;
    find(c, "#notice").await?;
    fill(c, "#q", "111.444.777-35").await?;
    click(c, "form.search-form button[type=submit]").await?;
    find(c, "#nothing").await?;
    judge_here(c, axe, "a titular eliminated").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_accessible_and_fits_a_phone() {
    let Ok(axe) = std::fs::read_to_string(AXE) else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install axe-core: npm ci --prefix tests/browser"
        );
        eprintln!("axe-core not installed (npm ci --prefix tests/browser): test not run");
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let outcome = every_page(&browser.client, &app, &axe).await;
    browser.finish(outcome, "browser-axe-failure").await;
}
