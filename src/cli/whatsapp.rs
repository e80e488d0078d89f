//! `engajar whatsapp template add|sync|list`: the WhatsApp templates campaigns use,
//! through the same model as Configurações → Modelos do WhatsApp.

use std::process::ExitCode;

use serde_json::json;

use crate::db::DatabaseUrl;
use crate::models::audit;
use crate::models::provider_settings::WhatsAppSettings;
use crate::models::whatsapp_template::{self, STATUS_MANUAL, TemplateInput, WhatsAppTemplate};

#[derive(clap::Subcommand)]
pub enum WhatsAppCommand {
    /// WhatsApp message templates.
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
}

#[derive(clap::Subcommand)]
pub enum TemplateCommand {
    /// Register a template as approved in the WhatsApp Manager (the same name and
    /// language replaces it). Refused fields exit 3.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "pt_BR")]
        language: String,
        /// MARKETING, UTILITY or AUTHENTICATION.
        #[arg(long, default_value = "MARKETING")]
        category: String,
        /// The body text with {{1}}…{{n}}.
        #[arg(long)]
        body: String,
        #[arg(long)]
        json: bool,
    },
    /// Bring the approved templates from the Cloud API (GET {base}/{WABA_ID}/message_templates).
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// The registered templates (one JSON object per line with --json).
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(url: &DatabaseUrl, command: WhatsAppCommand) -> anyhow::Result<ExitCode> {
    let WhatsAppCommand::Template { command } = command;
    let mut conn = crate::db::open(url)?;
    let now = crate::time::now();
    match command {
        TemplateCommand::Add {
            name,
            language,
            category,
            body,
            json,
        } => {
            let input = TemplateInput {
                name,
                language,
                category,
                body,
            };
            let n = match whatsapp_template::validate(&input) {
                Ok(n) => n,
                Err(errors) => {
                    if json {
                        let list: Vec<_> = errors
                            .iter()
                            .map(|(f, m)| json!({"field": f, "message": m}))
                            .collect();
                        println!("{}", json!({ "errors": list }));
                    } else {
                        for (f, m) in &errors {
                            eprintln!("{f}: {m}");
                        }
                    }
                    return Ok(ExitCode::from(3));
                }
            };
            let (id, new) = crate::db::write_transaction(&mut conn, |conn| {
                let saved = WhatsAppTemplate::upsert(conn, &input, n, STATUS_MANUAL, now)?;
                audit(
                    conn,
                    None,
                    "whatsapp_template",
                    &format!(
                        "{} ({}), {n} parâmetro(s), pela linha de comando",
                        input.name.trim(),
                        input.language.trim()
                    ),
                    None,
                )?;
                Ok::<_, diesel::result::Error>(saved)
            })?;
            if json {
                println!("{}", json!({"id": id, "parameters": n, "created": new}));
            } else {
                println!(
                    "{}",
                    crate::messages::whatsapp::template_saved(&input.name, &input.language, new)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TemplateCommand::Sync { json } => {
            let settings = WhatsAppSettings::load(&mut conn, &WhatsAppSettings::from_env())?;
            let fetched = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(async {
                    let channel = crate::channels::whatsapp::WhatsAppChannel::new(
                        &settings,
                        crate::channels::net::NetPolicy {
                            allow_private: crate::config::env_flag(
                                "ENGAJAR_ALLOW_PRIVATE_PROVIDERS",
                            ),
                        },
                    )?;
                    channel.approved_templates().await
                });
            let (list, not_approved) = match fetched {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("engajar: {}", crate::messages::whatsapp::api_failed(&e));
                    return Ok(ExitCode::from(1));
                }
            };
            let (saved, invalid) = crate::db::write_transaction(&mut conn, |conn| {
                let r = whatsapp_template::save_synced(conn, &list, now)?;
                audit(
                    conn,
                    None,
                    "whatsapp_template_sync",
                    &crate::messages::whatsapp::synced(r.0, not_approved + r.1),
                    None,
                )?;
                Ok::<_, diesel::result::Error>(r)
            })?;
            if json {
                println!(
                    "{}",
                    json!({"saved": saved, "ignored": not_approved + invalid})
                );
            } else {
                println!(
                    "{}",
                    crate::messages::whatsapp::synced(saved, not_approved + invalid)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TemplateCommand::List { json } => {
            for t in WhatsAppTemplate::all(&mut conn)? {
                if json {
                    println!("{}", serde_json::to_string(&t)?);
                } else {
                    println!(
                        "#{}\t{}\t{}\t{} parâmetro(s)\t{}",
                        t.id, t.name, t.language, t.parameters, t.status
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
