//! A 20,000-recipient run against the real binary — e-mail to a real SMTP server, and
//! WhatsApp to a local server speaking the Cloud API: killed with SIGKILL mid-run and
//! restarted, and shared by two servers on one PostgreSQL. No address may ever be
//! received twice.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use engajar::schema::campaign_messages;

use crate::campaigns::SmtpServer;
use crate::helpers::*;
use crate::providers::FakeProviders;

/// Where a run's messages go.
enum Sink {
    Smtp(SmtpServer),
    WhatsApp(FakeProviders),
}

impl Sink {
    async fn start(whatsapp: bool) -> Sink {
        if whatsapp {
            Sink::WhatsApp(FakeProviders::start().await)
        } else {
            Sink::Smtp(SmtpServer::start_recipient_log())
        }
    }

    /// How many recipients a run to this sink has.
    fn size(&self) -> usize {
        match self {
            Sink::Smtp(_) => RECIPIENTS,
            Sink::WhatsApp(_) => WHATSAPP_RECIPIENTS,
        }
    }

    /// Every address received, as the ledger writes it.
    fn recipients(&self) -> Vec<String> {
        match self {
            Sink::Smtp(smtp) => smtp.recipients(),
            Sink::WhatsApp(fake) => fake
                .accepted()
                .into_iter()
                .map(|a| format!("+{}", a.to))
                .collect(),
        }
    }

    /// The server's environment for this sink.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Sink::Smtp(smtp) => vec![("ENGAJAR_SMTP_URL", smtp.url())],
            Sink::WhatsApp(_) => Vec::new(),
        }
    }
}

const RECIPIENTS: usize = 20_000;
/// On WhatsApp each message is an HTTP exchange with the local Cloud API in this very
/// process: fewer, so the suite's other tests keep their share of the two cores.
const WHATSAPP_RECIPIENTS: usize = 5_000;
/// SMTP connections per server (the most messages one server may leave uncertain).
const CONNECTIONS: i64 = 16;

fn engajar(url: &str, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_engajar"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "engajar {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A database holding an audience of `n` recipients (e-mail, or phones for WhatsApp),
/// sending as fast as the sink takes them; returns the campaign's id once its run has
/// started.
fn campaign_of(url: &str, n: usize, sink: &Sink) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lote.csv");
    let mut csv = engajar::layout::COLUMNS.join(";");
    csv.push_str("\r\n");
    for i in 0..n {
        csv.push_str(&match sink {
            Sink::Smtp(_) => {
                format!("EMAIL;cliente{i}@exemplo.com.br;;CLIENTE NUMERO {i};;;Loja;;;;;;\r\n")
            }
            Sink::WhatsApp(_) => {
                format!("TELEFONE;1198{i:07};;CLIENTE NUMERO {i};;;Loja;;;;;;\r\n")
            }
        });
    }
    std::fs::write(&file, csv).unwrap();
    engajar(url, &["segment", "add", "Lote"]);
    engajar(
        url,
        &[
            "import",
            file.to_str().unwrap(),
            "--description",
            "Lote",
            "--segment",
            "Lote",
            "--basis",
            "consentimento",
        ],
    );
    let mut conn = engajar::db::DatabaseUrl::parse(url)
        .unwrap()
        .establish()
        .unwrap();
    engajar::models::channel_settings::CampaignSettings {
        email_per_second: 10_000,
        email_connections: CONNECTIONS,
        ..Default::default()
    }
    .save(&mut conn, 1)
    .unwrap();
    let channel: &[&str] = match sink {
        Sink::Smtp(_) => &[
            "--channel",
            "email",
            "--subject",
            "Oi @PrimeiroNome",
            "--body",
            "Olá, @PrimeiroNome!",
        ],
        Sink::WhatsApp(fake) => {
            engajar::models::provider_settings::WhatsAppSettings {
                base_url: fake.whatsapp_base(),
                phone_number_id: crate::providers::PHONE_NUMBER_ID.into(),
                waba_id: crate::providers::WABA_ID.into(),
                token: crate::providers::WA_TOKEN.into(),
                app_secret: crate::providers::APP_SECRET.into(),
                verify_token: crate::providers::VERIFY_TOKEN.into(),
                per_second: 1_000,
            }
            .save(&mut conn, 1)
            .unwrap();
            fake.approve("lote", 1);
            engajar(
                url,
                &[
                    "whatsapp",
                    "template",
                    "add",
                    "--name",
                    "lote",
                    "--body",
                    "Olá {{1}}!",
                ],
            );
            &[
                "--channel",
                "whatsapp",
                "--template",
                "lote",
                "--param",
                "1=@PrimeiroNome",
            ]
        }
    };
    let mut args = vec![
        "campaign",
        "create",
        "--name",
        "Lote",
        "--audience",
        "1",
        "--json",
    ];
    args.extend_from_slice(channel);
    let out = engajar(url, &args);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "sending", "{answer}");
    answer["id"].as_i64().unwrap()
}

/// Each address the sink received, with how many times.
fn received(sink: &Sink) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for to in sink.recipients() {
        *seen.entry(to.to_lowercase()).or_insert(0) += 1;
    }
    seen
}

fn ledger(url: &str) -> Vec<(String, String)> {
    let mut conn = engajar::db::DatabaseUrl::parse(url)
        .unwrap()
        .establish()
        .unwrap();
    campaign_messages::table
        .select((campaign_messages::channel_value, campaign_messages::status))
        .load(&mut conn)
        .unwrap()
}

/// Waits until the ledger holds `n` rows and none is pending, claimed or being sent.
async fn wait_settled(url: &str, n: usize, limit: Duration) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let rows = ledger(url);
        if rows.len() == n
            && rows
                .iter()
                .all(|(_, s)| !matches!(s.as_str(), "pending" | "queued" | "sending"))
        {
            return rows;
        }
        assert!(started.elapsed() < limit, "the run did not settle");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn assert_each_address_once(sink: &Sink, rows: &[(String, String)], uncertain_max: usize) {
    let got = received(sink);
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "received twice: {twice:?}");
    let sent = rows.iter().filter(|(_, s)| s == "sent").count();
    let uncertain: Vec<_> = rows.iter().filter(|(_, s)| s == "uncertain").collect();
    assert_eq!(
        sent + uncertain.len(),
        sink.size(),
        "every row is sent or uncertain"
    );
    assert!(
        uncertain.len() <= uncertain_max,
        "{} uncertain",
        uncertain.len()
    );
    // Every row recorded as sent reached the server, exactly once.
    for (to, status) in rows {
        if status == "sent" {
            assert_eq!(got.get(to), Some(&1), "{to} recorded sent");
        }
    }
}

async fn killed_mid_way(backend: Backend, whatsapp: bool) {
    let Some((url, _db)) = fresh_database(backend) else {
        return;
    };
    let sink = Sink::start(whatsapp).await;
    campaign_of(&url, sink.size(), &sink);
    let env = sink.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = start_binary(&url, free_port(), &env).await;
    let started = Instant::now();
    while sink.recipients().len() < sink.size() / 5 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "sending never got going"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    let at_kill = ledger(&url);
    let sending = at_kill.iter().filter(|(_, s)| s == "sending").count();
    assert!(
        sending <= CONNECTIONS as usize,
        "{sending} being handed over at once"
    );
    assert!(
        at_kill.iter().any(|(_, s)| s == "pending"),
        "killed mid-run"
    );
    // A new server finds the dead one's rows once its heartbeat is stale, and finishes.
    let _server = start_binary(&url, free_port(), &env).await;
    let rows = wait_settled(&url, sink.size(), Duration::from_secs(300)).await;
    assert_each_address_once(&sink, &rows, CONNECTIONS as usize);
}

async fn two_servers(whatsapp: bool) {
    let Some((url, _db)) = fresh_database(Backend::Postgres) else {
        return;
    };
    let sink = Sink::start(whatsapp).await;
    campaign_of(&url, sink.size(), &sink);
    let env = sink.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _a = start_binary(&url, free_port(), &env).await;
    let _b = start_binary(&url, free_port(), &env).await;
    let rows = wait_settled(&url, sink.size(), Duration::from_secs(300)).await;
    assert_each_address_once(&sink, &rows, 0);
    assert_eq!(received(&sink).len(), sink.size());
}

async fn a_run_killed_mid_way_resumes_without_sending_anyone_twice(backend: Backend) {
    killed_mid_way(backend, false).await;
}

/// The same on WhatsApp: at most the messages in flight at the kill (16 per server)
/// are left uncertain, and none is sent twice.
async fn a_whatsapp_run_killed_mid_way_resumes_without_sending_anyone_twice(backend: Backend) {
    killed_mid_way(backend, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgresql_send_each_address_exactly_once() {
    two_servers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgresql_send_each_whatsapp_exactly_once() {
    two_servers(true).await;
}

crate::for_both_backends!(
    a_run_killed_mid_way_resumes_without_sending_anyone_twice,
    a_whatsapp_run_killed_mid_way_resumes_without_sending_anyone_twice,
);
