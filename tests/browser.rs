//! A person's whole path through the app in a real browser (Chromium, through WebDriver):
//! first-run setup, a segment, a staff user, the Layout download, an import with every
//! option through the form's file input, its progress to "Concluída com rejeições", the
//! rejected rows and their download, the contact in Contatos, and logging out.
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs). Without them the test says so and passes, except under CI, where
//! it fails. On failure it saves a screenshot under `target/` and names it.

#[allow(dead_code)]
#[path = "app/helpers.rs"]
mod helpers;

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
    expect_text(c, "dd.channels", "+5511987000005").await?;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_goes_the_whole_way_in_a_real_browser() {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install chromium and chromium-driver"
        );
        eprintln!("chromium/chromedriver not installed: browser test not run");
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.unwrap();
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
    let outcome = whole_path(&client, &app.address, downloads.path()).await;
    if let Err(problem) = outcome {
        let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-failure.png");
        let saved = match client.screenshot().await {
            Ok(png) => std::fs::write(&shot, png).map(|()| shot.display().to_string()),
            Err(e) => Ok(format!("(no screenshot: {e})")),
        };
        let _ = client.close().await;
        drop(driver);
        panic!(
            "{problem}; screenshot: {}",
            saved.unwrap_or_else(|e| e.to_string())
        );
    }
    client.close().await.expect("close the browser");
    drop(driver);
}
