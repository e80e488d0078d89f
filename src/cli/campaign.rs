//! `engajar campaign …`: create, preview, show, list, pause, resume and cancel campaigns
//! from scripts, through the same service as the pages. With `--json` each prints
//! exactly the JSON its help describes.

use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::json;

use crate::campaigns::actions::{self, Action, Actor};
use crate::campaigns::schedule::ScheduleInput;
use crate::campaigns::{CampaignInput, TargetInput, ledger, preview};
use crate::db::{DatabaseUrl, DbConnection};
use crate::models::campaign::Campaign;
use crate::time;

#[derive(clap::Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign. Without --at or --draft its run starts now (a running server's
    /// dispatcher sends it). Refused fields exit 3 with {"errors":[{"field","code","message"}]}.
    Create(Box<CreateArgs>),
    /// What a run started now would send: {"recipients","skipped","empty","sample"}.
    Preview {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// A campaign and its runs with their counts.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every campaign, newest first (one JSON object per line with --json).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop sending; nothing new starts until resumed.
    Pause { id: i64 },
    /// Continue with the pending messages only; the schedule goes on.
    Resume { id: i64 },
    /// Stop for good.
    Cancel { id: i64 },
}

#[derive(clap::Args)]
pub struct CreateArgs {
    #[arg(long)]
    name: String,
    /// email, whatsapp or sms.
    #[arg(long)]
    channel: String,
    /// Send to this audience's accepted rows.
    #[arg(long, conflicts_with = "segment")]
    audience: Option<String>,
    /// Send to this segment's contacts (its name, ignoring case).
    #[arg(long)]
    segment: Option<String>,
    #[arg(long, default_value = "")]
    subject: String,
    /// The message (e-mail, SMS); with --per-row-message, the text for rows without one.
    #[arg(long, default_value = "")]
    body: String,
    /// WhatsApp: the template, by name (name:language when several languages share it)
    /// or id.
    #[arg(long)]
    template: Option<String>,
    /// WhatsApp: N=TEXT, what {{N}} of the template takes (a variable or fixed text).
    #[arg(long = "param", value_name = "N=TEXT")]
    params: Vec<String>,
    /// WhatsApp: skip phones known to lack WhatsApp.
    #[arg(long)]
    exclude_no_whatsapp: bool,
    /// SMS: send each row's MENSAGEM (--body is then the text for rows without one).
    #[arg(long)]
    per_row_message: bool,
    /// SMS: Remover acentos — map the text to GSM-7 so it costs fewer parts.
    #[arg(long)]
    strip_accents: bool,
    /// VAR=TEXT: used when the variable is empty (e.g. PrimeiroNome=cliente).
    #[arg(long = "fallback", value_name = "VAR=TEXT")]
    fallbacks: Vec<String>,
    /// Send once at this Brasília time, "AAAA-MM-DD HH:MM".
    #[arg(long)]
    at: Option<String>,
    /// Save without scheduling.
    #[arg(long)]
    draft: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(url: &DatabaseUrl, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    let mut conn = crate::db::open(url)?;
    let cli = Actor {
        user: None,
        ip: None,
    };
    match command {
        CampaignCommand::Create(args) => create(&mut conn, *args, &cli),
        CampaignCommand::Preview { id, json } => {
            let campaign = find(&mut conn, id)?;
            let p = preview::preview(&mut conn, &campaign)?;
            let mut value = json!({
                "recipients": p.recipients,
                "skipped": p.skipped.iter().filter(|(r, _)| r.applies_to(campaign.channel)).map(|(r, n)| (r.code().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "empty": p.empty.iter().map(|(v, n)| (v.name().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "sample": p.sample.iter().map(|s| {
                    let mut one = json!({"to": s.to, "subject": s.subject, "body": s.body});
                    if let Some(c) = s.sms {
                        one["encoding"] = json!(c.encoding.label());
                        one["parts"] = json!(c.parts);
                    }
                    one
                }).collect::<Vec<_>>(),
            });
            if let Some(sms) = p.sms {
                value["sms"] = json!({
                    "encoding": sms.encoding.label(),
                    "parts_total": sms.parts_total,
                    "parts_max": sms.parts_max,
                });
            }
            if campaign.channel == crate::campaigns::CampaignChannel::Whatsapp {
                value["known_without_whatsapp"] = json!(p.known_without_whatsapp);
            }
            if json {
                println!("{value}");
            } else {
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        CampaignCommand::Show { id, json } => {
            let campaign = find(&mut conn, id)?;
            let mut runs = Vec::new();
            for run in Campaign::runs(&mut conn, id)? {
                let counts = ledger::counts(&mut conn, run.id)?;
                runs.push(json!({"id": run.id, "status": run.status().code(), "counts": counts}));
            }
            let mut value = summary(&campaign);
            value["runs"] = json!(runs);
            print(json, &value)
        }
        CampaignCommand::List { json } => {
            let (all, _) = Campaign::page(&mut conn, None, 0, i64::MAX)?;
            for c in all {
                if json {
                    println!("{}", summary(&c));
                } else {
                    println!(
                        "#{}\t{}\t{}\t{}",
                        c.id,
                        c.status.code(),
                        c.channel.code(),
                        c.name
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CampaignCommand::Pause { id } => act(&mut conn, id, Action::Pause, &cli),
        CampaignCommand::Resume { id } => act(&mut conn, id, Action::Resume, &cli),
        CampaignCommand::Cancel { id } => act(&mut conn, id, Action::Cancel, &cli),
    }
}

fn find(conn: &mut DbConnection, id: i64) -> anyhow::Result<Campaign> {
    Campaign::find(conn, id)?.with_context(|| format!("campaign #{id} not found"))
}

fn summary(c: &Campaign) -> serde_json::Value {
    json!({"id": c.id, "name": c.name, "channel": c.channel.code(), "status": c.status.code()})
}

fn print(json: bool, value: &serde_json::Value) -> anyhow::Result<ExitCode> {
    if json {
        println!("{value}");
    } else {
        println!("{}", serde_json::to_string_pretty(value)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn create(conn: &mut DbConnection, args: CreateArgs, cli: &Actor) -> anyhow::Result<ExitCode> {
    let mut fallbacks = Vec::new();
    for f in &args.fallbacks {
        let Some((var, text)) = f.split_once('=') else {
            bail!("--fallback must be VAR=TEXT, not {f:?}");
        };
        fallbacks.push((var.to_string(), text.to_string()));
    }
    let target = match (args.audience, args.segment) {
        (Some(a), _) => TargetInput::Audience(a),
        (None, Some(s)) => TargetInput::SegmentName(s),
        (None, None) => TargetInput::None,
    };
    let schedule = match &args.at {
        Some(at) => ScheduleInput {
            kind: "once".into(),
            at: at.clone(),
            ..Default::default()
        },
        None => ScheduleInput {
            kind: "now".into(),
            ..Default::default()
        },
    };
    let mut params: Vec<String> = Vec::new();
    for p in &args.params {
        let parsed = p
            .split_once('=')
            .and_then(|(n, text)| Some((n.trim().parse::<usize>().ok()?, text)));
        let Some((n, text)) = parsed.filter(|(n, _)| (1..=50).contains(n)) else {
            bail!("--param must be N=TEXT with N from 1, not {p:?}");
        };
        if params.len() < n {
            params.resize(n, String::new());
        }
        params[n - 1] = text.to_string();
    }
    let input = CampaignInput {
        name: args.name,
        channel: args.channel,
        target,
        subject: args.subject,
        body: args.body,
        fallbacks,
        schedule,
        template: args.template.unwrap_or_default(),
        params,
        per_row_message: args.per_row_message,
        options: crate::models::campaign::CampaignOptions {
            strip_accents: args.strip_accents,
            exclude_no_whatsapp: args.exclude_no_whatsapp,
        },
    };
    let now = time::now();
    let campaign = match actions::create(conn, &input, args.draft, cli, now)? {
        Ok(c) => c,
        Err(errors) => {
            if args.json {
                println!("{}", json!({ "errors": errors }));
            } else {
                for e in &errors {
                    eprintln!("{}: {}", e.field, e.message);
                }
            }
            return Ok(ExitCode::from(3));
        }
    };
    // "Now": the run starts here, so the answer can say it is sending.
    let campaign = if campaign.next_run_at.is_some_and(|t| t <= now) {
        let settings = crate::models::channel_settings::CampaignSettings::load(conn)?;
        crate::campaigns::start_due(conn, campaign.id, now, settings.grace_minutes * 60)?;
        find(conn, campaign.id)?
    } else {
        campaign
    };
    let value = json!({"id": campaign.id, "status": campaign.status.code()});
    if args.json {
        println!("{value}");
    } else {
        println!("campaign #{}: {}", campaign.id, campaign.status.label());
    }
    Ok(ExitCode::SUCCESS)
}

fn act(conn: &mut DbConnection, id: i64, action: Action, cli: &Actor) -> anyhow::Result<ExitCode> {
    find(conn, id)?;
    match actions::act(conn, id, action, cli, time::now())? {
        Ok(_) => {
            let c = find(conn, id)?;
            println!("campaign #{id}: {}", c.status.code());
            Ok(ExitCode::SUCCESS)
        }
        Err(actions::Refusal::NotAllowed(status)) => {
            eprintln!(
                "engajar: campaign #{id} is {}: {}",
                status.code(),
                crate::messages::campaign::NOT_ALLOWED
            );
            Ok(ExitCode::from(3))
        }
        Err(refusal) => {
            eprintln!("engajar: campaign #{id}: {}", refusal.message());
            Ok(ExitCode::from(3))
        }
    }
}
