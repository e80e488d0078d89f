//! Campaigns end to end: composed on the pages from an imported audience, previewed,
//! sent by the dispatcher to a real SMTP server on loopback (aiosmtpd writing a maildir)
//! and read there; schedules on an injected clock; failures, retries and auto-pause;
//! Não Perturbe at send time; the opt-out link.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use engajar::models::channel_settings::CampaignSettings;
use engajar::schema::{campaign_messages, dnd_entries};

use crate::helpers::*;

/// A real SMTP server (Debian's python3-aiosmtpd) writing every message it accepts into
/// a maildir; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
    /// Recipients only, one per line (the fast handler), instead of a maildir.
    log_only: bool,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        Self::start_with(false)
    }

    /// A server that only notes each recipient (for runs of thousands).
    pub fn start_recipient_log() -> SmtpServer {
        Self::start_with(true)
    }

    fn start_with(log_only: bool) -> SmtpServer {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut command = std::process::Command::new("/usr/bin/python3");
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"));
        if log_only {
            command
                .env("PYTHONPATH", fixture("smtp"))
                .args(["-c", "recipient_log.RecipientLog"])
                .arg(dir.path().join("recipients.txt"));
        } else {
            command
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(dir.path().join("mail"));
        }
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is installed (.ci/run installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "SMTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            port,
            dir,
            child,
            log_only,
        }
    }

    /// The recipients received so far, one entry per message (either handler).
    pub fn recipients(&self) -> Vec<String> {
        if self.log_only {
            std::fs::read_to_string(self.dir.path().join("recipients.txt"))
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect()
        } else {
            self.messages().into_iter().map(|m| m.to).collect()
        }
    }

    pub fn url(&self) -> String {
        format!(
            "smtp://127.0.0.1:{}?tls=none&from=Loja%20Centro%20%3Cofertas@loja.com.br%3E",
            self.port
        )
    }

    pub fn messages(&self) -> Vec<Mail> {
        let new = self.dir.path().join("mail").join("new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .map(|raw| {
                let parsed = mailparse::parse_mail(&raw).unwrap();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.get_key(), h.get_value()))
                    .collect();
                let get = |k: &str| {
                    headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                Mail {
                    to: get("To"),
                    subject: get("Subject"),
                    body: parsed.get_body().unwrap().replace("\r\n", "\n"),
                    headers,
                }
            })
            .collect()
    }

    /// Waits until `n` messages have arrived (or panics after a minute).
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let started = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "only {} of {n} messages arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

const LAYOUT_HEADER: &str = "TIPO_DE_REGISTRO;VALOR_DO_REGISTRO;MENSAGEM;NOME_CLIENTE;CPFCNPJ;CODCLIENTE;TAG;CORINGA1;CORINGA2;CORINGA3;CORINGA4;CORINGA5;PRIORIDADE";

/// A layout file with these rows: (e-mail, name, coringa1).
fn layout(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut out = format!("{LAYOUT_HEADER}\r\n");
    for (email, name, c1) in rows {
        out.push_str(&format!(
            "EMAIL;{email};;{name};;;Loja Centro;{c1};;;;;\r\n"
        ));
    }
    out.into_bytes()
}

pub async fn app_with_smtp(backend: Backend, smtp: &SmtpServer) -> Option<TestApp> {
    app_sending_to(backend, smtp.url(), CampaignSettings::default()).await
}

/// An app whose e-mail goes to `smtp_url`, with these dispatcher settings saved.
async fn app_sending_to(
    backend: Backend,
    smtp_url: String,
    settings: CampaignSettings,
) -> Option<TestApp> {
    spawn_app_configured(
        backend,
        move |conn, _| settings.save(conn, 1).unwrap(),
        move |c| {
            c.smtp = Some(
                engajar::models::channel_settings::EmailSettings::from_url(&smtp_url).unwrap(),
            );
        },
    )
    .await
}

/// Imports the rows as an audience and returns its id.
pub async fn import_rows(app: &TestApp, rows: &[(&str, &str, &str)]) -> i64 {
    let segment = app.add_segment("Clientes");
    app.import_bytes("publico.csv", layout(rows), segment, &[])
        .await
        .0
}

fn compose_fields<'a>(
    audience: &'a str,
    body: &'a str,
    schedule: &'a str,
    acao: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Promoção de sábado"),
        ("channel", "email"),
        ("target", "audience"),
        ("audience_id", audience),
        ("subject", "@PrimeiroNome, uma oferta para você"),
        ("body", body),
        ("fallback_Coringa1", "a loja mais perto de você"),
        ("schedule", schedule),
        ("acao", acao),
    ]
}

/// Posts the composer's form as a browser does.
async fn submit_campaign(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.submit("/engajar/campanhas/nova", "/engajar/campanhas/nova", fields)
        .await
}

fn campaign_id(response: &reqwest::Response) -> i64 {
    let to = location(response);
    to.trim_start_matches("/engajar/campanhas/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("unexpected redirect {to}"))
}

const BODY: &str = "Olá, @PrimeiroNome!\nTeremos neste sábado uma promoção especial em um endereço perto de você: @Coringa1.\nDúvidas: contato@loja.com.br";

async fn a_composed_campaign_is_sent_once_per_address_as_a_person_would_write_it(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return;
    };
    app.login_staff().await;
    let audience = import_rows(
        &app,
        &[
            (
                "joao@exemplo.com.br",
                "JOÃO DA SILVA",
                "Av. Santos Dumont, 500",
            ),
            ("maria@exemplo.com.br", "MARIA", ""),
            (
                "ana@exemplo.com.br",
                "ANA DE SOUZA E SILVA",
                "Rua das Flores, 10",
            ),
            ("semnome@exemplo.com.br", "", "Rua A, 1"),
        ],
    )
    .await
    .to_string();
    let response = submit_campaign(&app, &compose_fields(&audience, BODY, "now", "agendar")).await;
    assert_eq!(response.status(), 303);
    let id = campaign_id(&response);
    let mail = smtp.wait_for(3).await;
    // Give a fourth message every chance to (wrongly) arrive.
    wait_until(&app, id, |c| c.contains("Concluída")).await;
    let mail_after = smtp.messages();
    assert_eq!(
        mail_after.len(),
        3,
        "the recipient without a name was skipped"
    );
    let by_to = |to: &str| {
        mail.iter()
            .find(|m| m.to.contains(to))
            .unwrap_or_else(|| panic!("no mail to {to}"))
    };
    let joao = by_to("joao@exemplo.com.br");
    assert!(joao.body.starts_with("Olá, João!\nTeremos neste sábado uma promoção especial em um endereço perto de você: Av. Santos Dumont, 500.\nDúvidas: contato@loja.com.br"), "{}", joao.body);
    assert_eq!(joao.subject, "João, uma oferta para você");
    assert!(by_to("maria@").body.starts_with("Olá, Maria!\nTeremos neste sábado uma promoção especial em um endereço perto de você: a loja mais perto de você."));
    assert!(by_to("ana@").body.starts_with("Olá, Ana!"));
    assert!(
        !mail
            .iter()
            .any(|m| m.body.contains("Olá, ,") || m.body.contains("Olá, !"))
    );
    // RFC 8058 headers and the visible link name the same URL.
    let header = joao.header("List-Unsubscribe").unwrap().to_string();
    assert_eq!(
        joao.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let url = header.trim_matches(|c| c == '<' || c == '>').to_string();
    assert!(
        url.starts_with("http://engajar.test/descadastrar/"),
        "{url}"
    );
    assert!(joao.body.contains(&url));
    let message_id = joao.header("Message-ID").unwrap().to_string();
    // The ledger records the Message-ID and one row per address.
    let mut conn = app.db();
    let recorded: Vec<(String, String, Option<String>)> = campaign_messages::table
        .select((
            campaign_messages::channel_value,
            campaign_messages::status,
            campaign_messages::provider_id,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(recorded.len(), 4);
    assert!(
        recorded
            .iter()
            .any(|(to, s, id)| to == "joao@exemplo.com.br"
                && s == "sent"
                && id.as_deref() == Some(message_id.as_str()))
    );
    assert!(
        recorded
            .iter()
            .any(|(to, s, _)| to == "semnome@exemplo.com.br" && s == "skipped")
    );
    // The contact's page lists what it received.
    let page = app.get_html(&format!("/engajar/campanhas/{id}")).await;
    assert_eq!(texts(&page, "[data-count=sent]"), vec!["3"]);
    assert_eq!(texts(&page, "[data-count=skipped]"), vec!["1"]);

    // One click from the mailbox provider, no session: the address is on Não Perturbe.
    let path = url.trim_start_matches("http://engajar.test");
    let anonymous = new_client();
    let r = anonymous
        .post(app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let listed: Vec<(String, Option<String>)> = dnd_entries::table
        .select((dnd_entries::value, dnd_entries::source))
        .load(&mut conn)
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, "joao@exemplo.com.br");
    assert!(listed[0].1.as_deref().unwrap().contains("um clique"));
    // A token changed by one character names nothing.
    let mut forged = path.to_string();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let r = anonymous.get(app.url(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

pub async fn wait_until(app: &TestApp, id: i64, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let html = app
            .get(&format!("/engajar/campanhas/{id}"))
            .await
            .text()
            .await
            .unwrap();
        if done(&html) {
            return html;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "campaign {id} never got there"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

crate::on_both_backends!(
    a_segment_target_takes_each_contacts_latest_row,
    the_command_line_speaks_the_documented_json,
    an_unknown_variable_is_refused_beside_its_field_and_nothing_is_saved,
    the_preview_counts_skips_and_empty_values_and_shows_any_recipient,
);

async fn an_unknown_variable_is_refused_beside_its_field_and_nothing_is_saved(app: TestApp) {
    app.login_staff().await;
    let audience = import_rows(&app, &[("a@exemplo.com.br", "ANA", "x")])
        .await
        .to_string();
    let response = submit_campaign(
        &app,
        &compose_fields(
            &audience,
            "Olá, @PrimeroNome! Escreva para sac@loja.com.br",
            "now",
            "agendar",
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    let html = scraper::Html::parse_document(&response.text().await.unwrap());
    let errors = texts(&html, ".field-error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("@PrimeroNome"), "{errors:?}");
    // The e-mail address was not taken for a variable.
    assert!(!errors[0].contains("@loja"));
    let saved: i64 = engajar::schema::campaigns::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(saved, 0);
}

async fn the_preview_counts_skips_and_empty_values_and_shows_any_recipient(app: TestApp) {
    app.login_staff().await;
    let audience = import_rows(
        &app,
        &[
            ("joao@exemplo.com.br", "JOÃO DA SILVA", "Rua 1"),
            ("maria@exemplo.com.br", "MARIA", ""),
            ("bloqueado@exemplo.com.br", "PEDRO", "Rua 3"),
            ("semnome@exemplo.com.br", "", "Rua 4"),
        ],
    )
    .await
    .to_string();
    app.db();
    diesel::insert_into(dnd_entries::table)
        .values((
            dnd_entries::kind.eq("EMAIL"),
            dnd_entries::value.eq("bloqueado@exemplo.com.br"),
            dnd_entries::created_at.eq(1i64),
        ))
        .execute(&mut app.db())
        .unwrap();
    let response = submit_campaign(&app, &compose_fields(&audience, BODY, "now", "rascunho")).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).ends_with("/previa"));
    let id = campaign_id(&response);
    let html = app
        .get_html(&format!("/engajar/campanhas/{id}/previa?q=maria"))
        .await;
    assert_eq!(texts(&html, "#recipients"), vec!["2"]);
    let cells = |css: &str| -> Vec<(String, String)> {
        texts(&html, css)
            .chunks(2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect()
    };
    let skipped = cells("table.skipped td");
    let empty = cells("table.empty td");
    let has = |rows: &[(String, String)], label: &str, n: &str| {
        rows.iter().any(|(l, v)| l == label && v == n)
    };
    assert!(
        has(&skipped, "Não Perturbe", "1"),
        "dnd counted: {skipped:?}"
    );
    assert!(
        has(&skipped, "Variável vazia", "1"),
        "empty name counted: {skipped:?}"
    );
    assert!(
        has(&empty, "@Coringa1", "1") || has(&skipped, "@Coringa1", "1"),
        "empty coringa counted: {empty:?}"
    );
    let found = texts(&html, ".found .body");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("Olá, Maria!"), "{found:?}");
    let samples = texts(&html, ".sample .to");
    assert_eq!(samples, vec!["joao@exemplo.com.br", "maria@exemplo.com.br"]);
    // A draft is not sent: nothing in the ledger.
    let rows: i64 = campaign_messages::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(rows, 0);
}

fn local(text: &str) -> i64 {
    engajar::campaigns::schedule::parse_local(text).unwrap()
}

async fn status_of(app: &TestApp, id: i64) -> String {
    let html = app.get_html(&format!("/engajar/campanhas/{id}")).await;
    texts(&html, ".page-head .status").join("")
}

async fn runs_of(app: &TestApp, id: i64) -> Vec<String> {
    let html = app.get_html(&format!("/engajar/campanhas/{id}")).await;
    texts(&html, ".runs tbody .status")
}

async fn schedules_follow_the_clock_and_a_late_run_is_recorded_as_missed(backend: Backend) {
    let smtp = SmtpServer::start();
    let url = smtp.url();
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
    let audience = import_rows(&app, &[("joao@exemplo.com.br", "JOÃO", "Rua 1")])
        .await
        .to_string();
    let mut fields = compose_fields(&audience, BODY, "daily", "agendar");
    fields.push(("time", "09:00"));
    fields.push(("until", "2026-12-03"));
    let response = submit_campaign(&app, &fields).await;
    assert_eq!(response.status(), 303);
    let id = campaign_id(&response);
    assert_eq!(status_of(&app, id).await, "Agendada");
    let page = app
        .get(&format!("/engajar/campanhas/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("01/12/2026 09:00"),
        "next run shown in Brasília time"
    );
    // Before its time nothing goes out, however long the dispatcher looks.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(smtp.messages().is_empty());
    assert!(runs_of(&app, id).await.is_empty());
    // 09:00 on the 1st: the first run.
    clock.set(local("2026-12-01 09:00") + 5);
    smtp.wait_for(1).await;
    // 09:00 on the 2nd: the second, with its own recipients.
    clock.set(local("2026-12-02 09:00") + 5);
    smtp.wait_for(2).await;
    wait_until(&app, id, |h| h.contains("03/12/2026 09:00")).await;
    // The server "was down" at 09:00 on the 3rd and comes back at 11:30, past the hour of
    // grace: that run is recorded as missed, never sent late, and the end date is reached.
    clock.set(local("2026-12-03 11:30"));
    let html = wait_until(&app, id, |h| h.contains("Perdida")).await;
    assert!(html.contains("prazo de tolerância"), "the reason is shown");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(status_of(&app, id).await, "Concluída");
    assert_eq!(
        runs_of(&app, id).await,
        vec!["Perdida", "Concluída", "Concluída"]
    );
}

async fn an_smtp_server_that_is_down_gets_retries_then_failures_then_a_pause(backend: Backend) {
    // Nothing listens on this port: every connection is refused (a temporary error).
    let dead = format!(
        "smtp://127.0.0.1:{}?tls=none&from=ofertas@loja.com.br",
        free_port()
    );
    // One connection: attempts happen one after another, so the count is exact.
    let settings = CampaignSettings {
        max_attempts: 2,
        pause_after_failures: 3,
        email_connections: 1,
        ..Default::default()
    };
    let Some(app) = app_sending_to(backend, dead, settings).await else {
        return;
    };
    app.login_staff().await;
    let audience = import_rows(
        &app,
        &[
            ("a@exemplo.com.br", "ANA", "x"),
            ("b@exemplo.com.br", "BIA", "y"),
        ],
    )
    .await
    .to_string();
    let response = submit_campaign(&app, &compose_fields(&audience, BODY, "now", "agendar")).await;
    let id = campaign_id(&response);
    let html = wait_until(&app, id, |h| h.contains("Pausada automaticamente")).await;
    // The reason is in pt-BR: the cause and what to do, not the transport's own words.
    let page = scraper::Html::parse_document(&html);
    let alert = texts(&page, ".alert-error").join(" ");
    assert!(alert.contains("não pôde ser alcançado"), "{alert}");
    assert!(alert.contains("Retomar"), "{alert}");
    assert!(!alert.to_lowercase().contains("refused"), "{alert}");
    assert_eq!(status_of(&app, id).await, "Pausada");
    let rows: Vec<(String, i32)> = campaign_messages::table
        .order(campaign_messages::id)
        .select((campaign_messages::status, campaign_messages::attempts))
        .load(&mut app.db())
        .unwrap();
    // Three failed attempts in a row: the first message twice (its limit), the second once.
    let attempts: i32 = rows.iter().map(|r| r.1).sum();
    assert_eq!(attempts, 3, "{rows:?}");
    assert!(
        rows.iter().any(|(s, a)| s == "failed" && *a == 2),
        "{rows:?}"
    );
    assert!(
        rows.iter().all(|(s, _)| s == "failed" || s == "pending"),
        "{rows:?}"
    );
    // Paused means paused: no further attempt happens.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later: i32 = campaign_messages::table
        .select(diesel::dsl::sum(campaign_messages::attempts))
        .first::<Option<i64>>(&mut app.db())
        .unwrap()
        .unwrap_or(0) as i32;
    assert_eq!(later, 3);
    // Pausing again is refused; resuming is allowed and audited.
    let page = format!("/engajar/campanhas/{id}");
    let r = app
        .submit(&page, &format!("/engajar/campanhas/{id}/pausar"), &[])
        .await;
    assert_eq!(r.status(), 409);
    let r = app
        .submit(&page, &format!("/engajar/campanhas/{id}/retomar"), &[])
        .await;
    assert_eq!(r.status(), 303);
    app.wait_for_audit("campaign_resume", 1).await;
}

async fn an_address_put_on_nao_perturbe_mid_run_gets_nothing_more(backend: Backend) {
    let smtp = SmtpServer::start();
    let settings = CampaignSettings {
        email_per_second: 2,
        email_connections: 1,
        ..Default::default()
    };
    let Some(app) = app_sending_to(backend, smtp.url(), settings).await else {
        return;
    };
    app.login_staff().await;
    let rows: Vec<(String, String)> = (0..8)
        .map(|i| (format!("pessoa{i}@exemplo.com.br"), format!("PESSOA {i}")))
        .collect();
    let rows: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(e, n)| (e.as_str(), n.as_str(), "x"))
        .collect();
    let audience = import_rows(&app, &rows).await.to_string();
    let response = submit_campaign(&app, &compose_fields(&audience, BODY, "now", "agendar")).await;
    let id = campaign_id(&response);
    smtp.wait_for(1).await;
    // Listed after the run started, before its turn came.
    diesel::insert_into(dnd_entries::table)
        .values((
            dnd_entries::kind.eq("EMAIL"),
            dnd_entries::value.eq("pessoa7@exemplo.com.br"),
            dnd_entries::created_at.eq(1i64),
        ))
        .execute(&mut app.db())
        .unwrap();
    wait_until(&app, id, |h| h.contains("Concluída")).await;
    let got: Vec<String> = smtp.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(got.len(), 7, "{got:?}");
    assert!(!got.iter().any(|t| t.contains("pessoa7@")));
    let reason: Option<String> = campaign_messages::table
        .filter(campaign_messages::channel_value.eq("pessoa7@exemplo.com.br"))
        .select(campaign_messages::skip_reason)
        .first(&mut app.db())
        .unwrap();
    assert_eq!(reason.as_deref(), Some("dnd"));
}

async fn the_opt_out_page_asks_first_and_lists_the_address_once_confirmed(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return;
    };
    app.login_staff().await;
    let audience = import_rows(&app, &[("ana.lima@exemplo.com.br", "ANA LIMA", "x")])
        .await
        .to_string();
    submit_campaign(&app, &compose_fields(&audience, BODY, "now", "agendar")).await;
    let mail = smtp.wait_for(1).await;
    let url = mail[0]
        .header("List-Unsubscribe")
        .unwrap()
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    let path = url.trim_start_matches("http://engajar.test").to_string();
    let visitor = new_client();
    let page = visitor.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    // The address is half hidden, and a visit alone (a link scanner) changes nothing.
    assert!(html.html().contains("an***@exemplo.com.br"));
    let count = |app: &TestApp| -> i64 {
        dnd_entries::table
            .count()
            .get_result(&mut app.db())
            .unwrap()
    };
    assert_eq!(count(&app), 0);
    let confirmed = visitor.post(app.url(&path)).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);
    assert!(
        confirmed
            .text()
            .await
            .unwrap()
            .contains("não receberá mais")
    );
    let source: Option<String> = dnd_entries::table
        .select(dnd_entries::source)
        .first(&mut app.db())
        .unwrap();
    assert!(source.unwrap().contains("página de confirmação"));
    // Again: still one entry.
    visitor.post(app.url(&path)).send().await.unwrap();
    assert_eq!(count(&app), 1);
}

async fn a_test_send_goes_to_the_typed_address_and_is_not_a_campaign_send(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return;
    };
    app.login_staff().await;
    let audience = import_rows(
        &app,
        &[
            ("joao@exemplo.com.br", "JOÃO DA SILVA", "Rua 1"),
            ("maria@exemplo.com.br", "MARIA DAS DORES", ""),
        ],
    )
    .await
    .to_string();
    let response = submit_campaign(&app, &compose_fields(&audience, BODY, "now", "rascunho")).await;
    let id = campaign_id(&response);
    let preview = format!("/engajar/campanhas/{id}/previa");
    let page = app
        .submit(
            &preview,
            &format!("/engajar/campanhas/{id}/teste"),
            &[("recipient", "maria"), ("to", "gerente@loja.com.br")],
        )
        .await;
    assert_eq!(page.status(), 200);
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    assert!(
        texts(&html, ".alert-ok")
            .concat()
            .contains("gerente@loja.com.br")
    );
    let mail = smtp.wait_for(1).await;
    assert_eq!(mail[0].to, "gerente@loja.com.br");
    assert_eq!(mail[0].subject, "[TESTE] Maria, uma oferta para você");
    assert!(mail[0].body.starts_with("Olá, Maria!"), "{}", mail[0].body);
    // Recorded, never counted: no run, no ledger row, the campaign still a draft.
    app.wait_for_audit("campaign_test_send", 1).await;
    let rows: i64 = campaign_messages::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(status_of(&app, id).await, "Rascunho");
    // A typo in the address is refused with a message, nothing sent.
    let page = app
        .submit(
            &preview,
            &format!("/engajar/campanhas/{id}/teste"),
            &[("recipient", ""), ("to", "gerente@")],
        )
        .await;
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    assert!(!texts(&html, ".alert-error").is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
    // Sending it for real, then the export: one line per message, cells neutralised.
    let r = app
        .submit(
            &format!("/engajar/campanhas/{id}"),
            &format!("/engajar/campanhas/{id}/agendar"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    smtp.wait_for(3).await;
    wait_until(&app, id, |h| h.contains("Concluída")).await;
    let csv = app
        .get(&format!("/engajar/campanhas/{id}/envios.csv"))
        .await;
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    // As Excel pt-BR opens it, like the rejected rows' file: BOM, `;`, pt-BR headers.
    let csv = csv
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("no BOM: {csv}"))
        .to_string();
    assert!(
        csv.starts_with("Mensagem;Execução;Contato;Destinatário;Situação;Motivo;"),
        "{csv}"
    );
    let records: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 2, "{csv}");
    assert!(
        records[0][7].starts_with("Olá, João!\n"),
        "the text keeps its lines"
    );
    assert!(csv.contains("maria@exemplo.com.br") && csv.contains("Enviada"));
    app.wait_for_audit("campaign_export", 1).await;
}

pub fn cli(app: &TestApp, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_engajar"))
        .arg("--database-url")
        .arg(&app.database_url)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

async fn the_command_line_speaks_the_documented_json(app: TestApp) {
    app.login_staff().await;
    let audience = import_rows(
        &app,
        &[
            ("joao@exemplo.com.br", "JOÃO DA SILVA", "Rua 1"),
            ("maria@exemplo.com.br", "MARIA", ""),
            ("semnome@exemplo.com.br", "", "Rua 3"),
        ],
    )
    .await
    .to_string();
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "campaign",
            "create",
            "--name",
            "Pela linha",
            "--channel",
            "email",
            "--audience",
            audience.as_str(),
            "--subject",
            "Oi @PrimeiroNome",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |args: Vec<String>| cli(&app, &args.iter().map(String::as_str).collect::<Vec<_>>());
    // Refused exactly as in the composer.
    let (code, out) = run(base(&["--body", "Olá, @Primeironome e @Fulano", "--json"]));
    assert_eq!(code, 3);
    let errors = json(&out)["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1, "{out}");
    assert_eq!(errors[0]["field"], "body");
    assert_eq!(errors[0]["code"], "unknown_variable");
    assert!(errors[0]["message"].as_str().unwrap().contains("@Fulano"));
    // A draft, then its preview.
    let (code, out) = run(base(&[
        "--body",
        "Olá, @PrimeiroNome! @Coringa1 (contato@loja.com.br)",
        "--fallback",
        "Coringa1=sem endereço",
        "--draft",
        "--json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(json(&out), serde_json::json!({"id": 1, "status": "draft"}));
    let (code, out) = cli(&app, &["campaign", "preview", "1", "--json"]);
    assert_eq!(code, 0);
    let p = json(&out);
    assert_eq!(p["recipients"], 2);
    assert_eq!(
        p["skipped"],
        serde_json::json!({"no_channel": 0, "dnd": 0, "empty_variable": 1, "invalid": 0, "duplicate": 0})
    );
    assert_eq!(p["empty"]["PrimeiroNome"], 1);
    assert_eq!(p["empty"]["Coringa1"], 1);
    assert_eq!(p["empty"].as_object().unwrap().len(), 10);
    assert_eq!(
        p["sample"][0],
        serde_json::json!({"to": "joao@exemplo.com.br", "subject": "Oi João", "body": "Olá, João! Rua 1 (contato@loja.com.br)"})
    );
    assert_eq!(
        p["sample"][1]["body"],
        "Olá, Maria! sem endereço (contato@loja.com.br)"
    );
    // Scheduled for later; its life from the command line.
    let (code, out) = run(base(&[
        "--body",
        "Olá",
        "--at",
        "2099-01-01 10:00",
        "--json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(
        json(&out),
        serde_json::json!({"id": 2, "status": "scheduled"})
    );
    let (_, out) = cli(&app, &["campaign", "list", "--json"]);
    let listed: Vec<serde_json::Value> = out.lines().map(json).collect();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0],
        serde_json::json!({"id": 2, "name": "Pela linha", "channel": "email", "status": "scheduled"})
    );
    assert_eq!(cli(&app, &["campaign", "pause", "2"]).0, 0);
    assert_eq!(
        json(&cli(&app, &["campaign", "show", "2", "--json"]).1)["status"],
        "paused"
    );
    assert_eq!(cli(&app, &["campaign", "resume", "2"]).0, 0);
    assert_eq!(cli(&app, &["campaign", "cancel", "2"]).0, 0);
    let shown = json(&cli(&app, &["campaign", "show", "2", "--json"]).1);
    assert_eq!(
        shown,
        serde_json::json!({"id": 2, "name": "Pela linha", "channel": "email", "status": "cancelled", "runs": []})
    );
    assert_eq!(
        cli(&app, &["campaign", "pause", "2"]).0,
        3,
        "a cancelled campaign cannot pause"
    );
    // Now: the command line starts the run itself.
    let (code, out) = run(base(&["--body", "Olá, @PrimeiroNome", "--json"]));
    assert_eq!(code, 0);
    assert_eq!(
        json(&out),
        serde_json::json!({"id": 3, "status": "sending"})
    );
    let shown = json(&cli(&app, &["campaign", "show", "3", "--json"]).1);
    let runs = shown["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let counts = &runs[0]["counts"];
    let total: i64 = [
        "pending",
        "sending",
        "sent",
        "failed",
        "skipped",
        "uncertain",
    ]
    .iter()
    .map(|k| counts[k].as_i64().unwrap())
    .sum();
    assert_eq!(total, 3);
    assert_eq!(counts["skipped"], 1);
}

crate::for_both_backends!(
    the_channels_page_saves_tests_and_never_shows_the_password,
    a_composed_campaign_is_sent_once_per_address_as_a_person_would_write_it,
    schedules_follow_the_clock_and_a_late_run_is_recorded_as_missed,
    an_smtp_server_that_is_down_gets_retries_then_failures_then_a_pause,
    an_address_put_on_nao_perturbe_mid_run_gets_nothing_more,
    the_opt_out_page_asks_first_and_lists_the_address_once_confirmed,
    a_test_send_goes_to_the_typed_address_and_is_not_a_campaign_send,
);

async fn the_channels_page_saves_tests_and_never_shows_the_password(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return;
    };
    app.login_admin().await;
    let page = "/admin/configuracoes/canais";
    // The environment's settings fill the page until an admin saves.
    let html = app.get_html(page).await;
    assert_eq!(field_value(&html, "#host").as_deref(), Some("127.0.0.1"));
    assert_eq!(field_value(&html, "#port"), Some(smtp.port.to_string()));
    let port = smtp.port.to_string();
    let mut fields = vec![
        ("host", "127.0.0.1"),
        ("port", port.as_str()),
        ("tls", "none"),
        ("user", ""),
        ("password", "segredo-muito-secreto"),
        ("from_name", "Loja Centro"),
        ("from_address", "ofertas@loja.com.br"),
        ("reply_to", ""),
        ("grace_minutes", "30"),
        ("email_per_second", "50"),
        ("email_connections", "2"),
        ("max_attempts", "3"),
        ("pause_after_failures", "10"),
        ("acao", "testar"),
    ];
    let tested = app.submit(page, page, &fields).await.text().await.unwrap();
    assert!(
        tested.contains("Conexão com o servidor SMTP bem-sucedida"),
        "{tested}"
    );
    fields[13] = ("acao", "salvar");
    let saved = app.submit(page, page, &fields).await.text().await.unwrap();
    assert!(saved.contains("Configurações de canais salvas"));
    for text in [
        saved,
        app.get(page).await.text().await.unwrap(),
        app.get("/admin/auditoria").await.text().await.unwrap(),
    ] {
        assert!(
            !text.contains("segredo-muito-secreto"),
            "the password is never shown"
        );
    }
    let limits = engajar::models::channel_settings::CampaignSettings::load(&mut app.db()).unwrap();
    assert_eq!(
        (
            limits.grace_minutes,
            limits.email_per_second,
            limits.email_connections
        ),
        (30, 50, 2)
    );
    // Saved again without a password: the stored one stays.
    fields[4] = ("password", "");
    fields[13] = ("acao", "salvar");
    app.submit(page, page, &fields).await;
    let config = engajar::config::Config::from_env(
        engajar::db::DatabaseUrl::parse(&app.database_url).unwrap(),
        "127.0.0.1:0".into(),
    )
    .unwrap();
    let stored =
        engajar::models::channel_settings::EmailSettings::load(&mut app.db(), &config).unwrap();
    assert_eq!(stored.password, "segredo-muito-secreto");
    // A port nobody listens on: the test says so (the saved password stays with the
    // port it was saved for, so it is typed again); an out-of-range limit is refused.
    let dead = free_port().to_string();
    fields[1] = ("port", dead.as_str());
    fields[13] = ("acao", "testar");
    let asked = app.submit(page, page, &fields).await.text().await.unwrap();
    assert!(asked.contains("digite as"), "{asked}");
    fields[4] = ("password", "segredo-muito-secreto");
    let failed = app.submit(page, page, &fields).await.text().await.unwrap();
    assert!(failed.contains("Não foi possível conectar"), "{failed}");
    fields[9] = ("email_per_second", "0");
    fields[13] = ("acao", "salvar");
    let refused = app.submit(page, page, &fields).await;
    let html = scraper::Html::parse_document(&refused.text().await.unwrap());
    assert_eq!(
        texts(&html, ".field-error"),
        vec!["Informe um número de 1 a 10000."]
    );
}

/// A segment's contacts as they are at the run, each with the variables of its most recent
/// row in an audience of that segment; contacts without an e-mail count as no channel.
async fn a_segment_target_takes_each_contacts_latest_row(app: TestApp) {
    app.login_staff().await;
    import_rows(
        &app,
        &[("joao@exemplo.com.br", "JOÃO DA SILVA", "Rua Velha")],
    )
    .await;
    let segment = app.add_segment("Clientes");
    let mut file = layout(&[("joao@exemplo.com.br", "JOÃO DA SILVA", "Rua Nova")]);
    file.extend_from_slice(b"TELEFONE;11987654321;;PEDRO;;;Loja Centro;x;;;;;\r\n");
    app.import_bytes("segundo.csv", file, segment, &[]).await;
    let (code, out) = cli(
        &app,
        &[
            "campaign",
            "create",
            "--name",
            "Segmento",
            "--channel",
            "email",
            "--segment",
            "clientes",
            "--subject",
            "Oi",
            "--body",
            "Olá, @PrimeiroNome: @Coringa1",
            "--draft",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let id = json(&out)["id"].as_i64().unwrap().to_string();
    let p = json(&cli(&app, &["campaign", "preview", &id, "--json"]).1);
    assert_eq!(p["recipients"], 1);
    assert_eq!(p["skipped"]["no_channel"], 1);
    assert_eq!(p["sample"][0]["body"], "Olá, João: Rua Nova");
    // An unknown segment is refused like any field.
    let (code, out) = cli(
        &app,
        &[
            "campaign",
            "create",
            "--name",
            "X",
            "--channel",
            "email",
            "--segment",
            "Nenhum",
            "--subject",
            "Oi",
            "--body",
            "Olá",
            "--json",
        ],
    );
    assert_eq!(code, 3);
    assert_eq!(json(&out)["errors"][0]["field"], "segment");
}
