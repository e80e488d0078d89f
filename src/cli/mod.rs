//! The command line: `serve` (the default), and the admin commands scripts rely on.

mod campaign;
mod data;
mod whatsapp;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use crate::credentials::hash_password;
use crate::db::{DatabaseUrl, DbConnection};
use crate::domain::{Email, NewPassword, Role, SegmentName};
use crate::models::{NewAuditEntry, NewSegment, NewUser, User};
use crate::time;

#[derive(Parser)]
#[command(
    name = "engajar",
    version,
    about = "Engajar: audience import and contact base for customer-engagement teams",
    long_about = "Engajar serves the pt-BR web app where staff import audiences (públicos) \
                  and admins manage segments and users. Without a command it serves."
)]
pub struct Cli {
    /// Where the data lives: sqlite://PATH (bundled SQLite) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (what `engajar` does with no command).
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "ENGAJAR_BIND", default_value = DEFAULT_BIND)]
        bind: String,
    },
    /// Manage the people who log in.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage segments, the groups every import adds contacts to.
    Segment {
        #[command(subcommand)]
        command: SegmentCommand,
    },
    /// Import a layout file as an audience, synchronously, with the web form's rules.
    /// Exits 0 when imported or validated (even with rejected rows), 3 when the file was
    /// rejected, 1 on any other failure.
    Import(ImportArgs),
    /// The contact base.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// API tokens for integrations.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The Não Perturbe (do-not-disturb) list.
    Dnd {
        #[command(subcommand)]
        command: DndCommand,
    },
    /// Campaigns: compose, preview, follow, pause, resume, cancel.
    Campaign {
        #[command(subcommand)]
        command: campaign::CampaignCommand,
    },
    /// WhatsApp: the approved message templates campaigns use.
    Whatsapp {
        #[command(subcommand)]
        command: whatsapp::WhatsAppCommand,
    },
    /// A data subject's data (LGPD): everything stored about them, or its elimination.
    Titular {
        #[command(subcommand)]
        command: TitularCommand,
    },
    /// Retention: remove what the per-legal-basis periods say expired.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Audiences (imports).
    Audience {
        #[command(subcommand)]
        command: AudienceCommand,
    },
    /// The database itself.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

/// Who the titular is: any of a CPF/CNPJ, a phone or an e-mail, in any format the import
/// accepts.
#[derive(clap::Args)]
struct TitularKeys {
    #[arg(long)]
    document: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    email: Option<String>,
}

#[derive(Subcommand)]
enum TitularCommand {
    /// Print one JSON object with everything stored about the person:
    /// {"contacts":[…],"audience_rows":[…],"interactions":[…],"messages":[…],"dnd":[…],
    /// "access":[…]}. Exits 4 (printing the empty report) when no contact matches.
    Export {
        #[command(flatten)]
        keys: TitularKeys,
    },
    /// Eliminate the person: contacts deleted, rows holding their values anonymised.
    /// Prints {"erased_contacts":N,"anonymised_rows":N,…}; exits 4 when nothing matches.
    Erase {
        #[command(flatten)]
        keys: TitularKeys,
        /// Why (audited; no personal data in it).
        #[arg(long)]
        reason: String,
        /// Keep the channels and document as keyed hashes so later imports skip them.
        #[arg(long)]
        suppress: bool,
        /// Confirm: nothing is eliminated without it.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Remove (or with --dry-run only count) the audience rows, rejected rows and uploads
    /// past their period; prints {"audience_rows":N,"rejected_rows":N,"uploads":N,
    /// "dry_run":B}.
    Run {
        #[arg(long)]
        dry_run: bool,
        /// Print exactly one JSON object (the only output there is).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AudienceCommand {
    /// Undo an import: the audience, its rows and upload go; contacts it created that
    /// nothing else touched since are deleted; the others keep their current values.
    /// Prints {"deleted_members":N,"deleted_contacts":N,"kept_contacts":N,…}. Exits 3 when
    /// it is still importing or a campaign targets it, 4 when there is no such audience.
    Delete {
        id: i64,
        /// Confirm: nothing is deleted without it.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Report rows left pointing at nothing (a channel whose contact is gone, say): exits
    /// 0 when there are none, 1 with a count per table.
    Check,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The filled layout: CSV, TXT, XLSX, XLS or ODS.
    file: PathBuf,
    /// The audience's name (Descrição).
    #[arg(long)]
    description: String,
    /// An existing segment's name (case-insensitive); the imported contacts join it.
    #[arg(long)]
    segment: String,
    /// The LGPD legal basis: consentimento, obrigacao_legal, execucao_contrato,
    /// legitimo_interesse, protecao_credito, exercicio_direitos, tutela_saude,
    /// protecao_vida, politicas_publicas or estudos_pesquisa.
    #[arg(long)]
    basis: String,
    /// Verify: phones that already had interactions stay only if they bring news.
    #[arg(long)]
    verify: bool,
    /// Skip phones and e-mails on the Não Perturbe list.
    #[arg(long)]
    dnd: bool,
    /// Contacts leave every other segment (Manter apenas neste segmento).
    #[arg(long)]
    only_segment: bool,
    /// Contacts lose their earlier tags first (Limpar tag de localização).
    #[arg(long)]
    clear_tags: bool,
    /// Run the whole import and roll it back: report only, nothing written.
    #[arg(long)]
    dry_run: bool,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Print every contact: JSON (one object per line) or CSV.
    Export {
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Creates an API token for an integration and prints it, alone, on stdout. It is
    /// stored hashed: this is the only time it is shown.
    Create {
        /// Which integration uses it (shown on /admin/tokens).
        name: String,
        /// The token stops working this many days from now; without it, it lasts until
        /// revoked.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum DndCommand {
    /// Add phones and e-mails from a file (one per line, or a CSV's first column),
    /// normalised like the import; prints how many were added.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input, one line
    /// (at least 10 characters, not equal to the e-mail).
    Add {
        /// Login e-mail (stored lower-cased).
        #[arg(long)]
        email: String,
        /// Name shown in the app.
        #[arg(long)]
        name: String,
        /// admin manages the platform; staff imports and browses.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

#[derive(Subcommand)]
enum SegmentCommand {
    /// Create a segment. Adding a name that exists (ignoring case) succeeds and changes nothing.
    Add {
        /// The segment's name.
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Staff,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Staff => Role::Staff,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    crate::files::restrict_new_files();
    match run(cli) {
        Ok(code) => code,
        // The reader went away (`engajar contacts export | head`): nothing is wrong.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engajar: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|c| matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ENGAJAR_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let url = DatabaseUrl::parse(&cli.database_url)?;
    if !matches!(cli.command, None | Some(Command::Serve { .. })) {
        // Commands read provider secrets and suppressed hashes as the server does.
        let value = std::env::var("ENGAJAR_SECRET_KEY")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let key = crate::config::load_secret_key(value.as_deref(), &url)?;
        crate::models::secret::open_with(&mut crate::db::open(&url)?, &key, time::now())?;
    }
    match cli.command {
        None => {
            let bind = std::env::var("ENGAJAR_BIND").unwrap_or_else(|_| DEFAULT_BIND.to_string());
            serve(url, bind).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Serve { bind }) => serve(url, bind).map(|()| ExitCode::SUCCESS),
        Some(Command::Import(args)) => data::import(&url, args.into()),
        Some(Command::Campaign { command }) => campaign::run(&url, command),
        Some(Command::Whatsapp { command }) => whatsapp::run(&url, command),
        Some(Command::Contacts {
            command: ContactsCommand::Export { format },
        }) => {
            let mut conn = crate::db::open(&url)?;
            data::export_contacts(&mut conn, matches!(format, ExportFormat::Csv))?;
            // Recorded once the whole base went out (LGPD art. 37).
            crate::models::audit(
                &mut conn,
                None,
                "contacts_export",
                "Exportou todos os contatos (linha de comando).",
                None,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Titular { command }) => titular(&url, command),
        Some(Command::Retention {
            command: RetentionCommand::Run { dry_run, json: _ },
        }) => {
            let mut conn = crate::db::open(&url)?;
            let removed = crate::models::retention::run(&mut conn, crate::time::now(), dry_run)?;
            if !dry_run {
                crate::models::audit(
                    &mut conn,
                    None,
                    "retention_run",
                    &crate::messages::retention_ran(&removed, true),
                    None,
                )?;
            }
            println!("{}", serde_json::to_string(&removed)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Audience {
            command: AudienceCommand::Delete { id, yes },
        }) => {
            if !yes {
                bail!("deleting audience {id} needs --yes");
            }
            let mut conn = crate::db::open(&url)?;
            let undone = crate::db::write_transaction(&mut conn, |conn| {
                let undone = crate::models::erase::undo_import(conn, id, true)?;
                if let Some(Ok(undo)) = &undone {
                    crate::models::audit(
                        conn,
                        None,
                        "audience_delete",
                        &crate::messages::audience_deleted(id, undo, true),
                        None,
                    )?;
                }
                Ok::<_, diesel::result::Error>(undone)
            })?;
            match undone {
                None => {
                    eprintln!("no audience {id}");
                    Ok(ExitCode::from(4))
                }
                Some(Err(refusal)) => {
                    eprintln!("{}", crate::messages::undo_refused(&refusal));
                    Ok(ExitCode::from(3))
                }
                Some(Ok(undo)) => {
                    println!("{}", serde_json::to_string(&undo)?);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Some(Command::Db {
            command: DbCommand::Check,
        }) => {
            let mut conn = crate::db::open(&url)?;
            let orphans = crate::models::erase::orphans(&mut conn)?;
            if orphans.is_empty() {
                println!("ok: no orphan rows");
                return Ok(ExitCode::SUCCESS);
            }
            for (table, n) in &orphans {
                println!("{table}: {n} orphan row(s)");
            }
            Ok(ExitCode::FAILURE)
        }
        Some(Command::Dnd {
            command: DndCommand::Import { file },
        }) => {
            let mut conn = crate::db::open(&url)?;
            data::import_dnd(&mut conn, &file)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Token {
            command: TokenCommand::Create { name, expires_days },
        }) => {
            let name = crate::domain::text::collapse_spaces(&name);
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                bail!("NAME must be 1 to 100 characters, without control characters");
            }
            let mut conn = crate::db::open(&url)?;
            let now = time::now();
            let expires_at = expires_days.map(|days| now + i64::from(days) * 86_400);
            let (id, token) =
                crate::models::token::create(&mut conn, &name, None, expires_at, now)?;
            crate::models::audit(
                &mut conn,
                None,
                "token_create",
                &format!("token #{id}: {name} (linha de comando)"),
                None,
            )?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::User {
            command: UserCommand::Add { email, name, role },
        }) => {
            let password = read_password_line()?;
            let mut conn = crate::db::open(&url)?;
            let user = add_user(&mut conn, &email, &name, role.into(), &password)?;
            println!("created user #{} {} ({})", user.id, user.email, user.role);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Segment {
            command: SegmentCommand::Add { name },
        }) => {
            let name = SegmentName::parse(&name).map_err(anyhow::Error::msg)?;
            let mut conn = crate::db::open(&url)?;
            let (segment, created) = NewSegment {
                name: name.as_str(),
                name_key: name.key(),
                created_by: None,
                created_at: time::now(),
            }
            .insert_if_absent(&mut conn)?;
            if created {
                NewAuditEntry {
                    user_id: None,
                    action: "segment_create",
                    detail: &format!(
                        "segmento #{}: {} (linha de comando)",
                        segment.id, segment.name
                    ),
                    ip: None,
                    created_at: segment.created_at,
                    contact_id: None,
                }
                .insert(&mut conn)?;
                println!("created segment #{} {}", segment.id, segment.name);
            } else {
                println!("segment #{} {} already exists", segment.id, segment.name);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn serve(url: DatabaseUrl, bind: String) -> anyhow::Result<()> {
    let config = Config::from_env(url, bind)?;
    let shown_url = config.database_url.display();
    let bind_shown = config.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = crate::startup::build(config)?;
        tracing::info!(database = %shown_url, "Engajar is listening on http://{}", bind_shown);
        app.server.await.context("server stopped")
    })
}

impl From<ImportArgs> for data::ImportCommand {
    fn from(a: ImportArgs) -> Self {
        data::ImportCommand {
            file: a.file,
            description: a.description,
            segment: a.segment,
            basis: a.basis,
            options: crate::import::ImportOptions {
                verify: a.verify,
                dnd: a.dnd,
                only_segment: a.only_segment,
                clear_tags: a.clear_tags,
            },
            dry_run: a.dry_run,
            json: a.json,
        }
    }
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!(
            "no password on standard input: pipe it in, e.g. `echo \"$PASSWORD\" | engajar user add …`"
        );
    }
    Ok(password)
}

fn add_user(
    conn: &mut DbConnection,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<User> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("invalid --email: {e}"))?;
    let name = crate::domain::text::person_name(name)
        .map_err(|_| anyhow::anyhow!("--name must have 1 to 100 characters"))?;
    let password =
        NewPassword::parse(password, email.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = hash_password(&password);
    let now = time::now();
    let user = NewUser::active(email.as_str(), &name, role, &hash, now)
        .insert_if_email_free(conn)?
        .ok_or_else(|| anyhow::anyhow!("a user with e-mail {email} already exists"))?;
    NewAuditEntry {
        user_id: None,
        action: "user_create",
        detail: &format!(
            "Criou o usuário #{} {} como {} (linha de comando).",
            user.id,
            user.email,
            user.role().label()
        ),
        ip: None,
        created_at: now,
        contact_id: None,
    }
    .insert(conn)?;
    Ok(user)
}

fn titular(url: &DatabaseUrl, command: TitularCommand) -> anyhow::Result<ExitCode> {
    use crate::models::titular::{self, Keys};
    let flags = |k: &TitularKeys| {
        Keys::from_flags(
            k.document.as_deref(),
            k.phone.as_deref(),
            k.email.as_deref(),
        )
        .map_err(|m| anyhow::anyhow!(m))
    };
    let mut conn = crate::db::open(url)?;
    match command {
        TitularCommand::Export { keys } => {
            let keys = flags(&keys)?;
            let report = titular::report(&mut conn, &keys)?;
            for contact in &report.contacts {
                NewAuditEntry {
                    user_id: None,
                    action: "titular_export",
                    detail: &format!(
                        "{} (linha de comando)",
                        crate::messages::titular_access("titular_export", contact.id)
                    ),
                    ip: None,
                    created_at: crate::time::now(),
                    contact_id: Some(contact.id),
                }
                .insert(&mut conn)?;
            }
            println!("{}", serde_json::to_string(&report)?);
            Ok(if report.contacts.is_empty() {
                ExitCode::from(4)
            } else {
                ExitCode::SUCCESS
            })
        }
        TitularCommand::Erase {
            keys,
            reason,
            suppress,
            yes,
        } => {
            let keys = flags(&keys)?;
            let reason = crate::domain::text::collapse_spaces(&reason);
            if reason.is_empty() || reason.chars().count() > 500 {
                bail!("--reason must be 1 to 500 characters");
            }
            if !yes {
                bail!("eliminating a titular's data needs --yes");
            }
            let found = titular::report(&mut conn, &keys)?;
            if found.is_empty() {
                println!("{}", serde_json::to_string(&titular::Erasure::default())?);
                return Ok(ExitCode::from(4));
            }
            let done = crate::db::write_transaction(&mut conn, |conn| {
                let done = titular::erase(conn, &keys, suppress, &reason, crate::time::now())?;
                crate::models::audit(
                    conn,
                    None,
                    "titular_erase",
                    &format!(
                        "{} (linha de comando)",
                        crate::messages::titular_erased(&done, &done.reason)
                    ),
                    None,
                )?;
                Ok::<_, diesel::result::Error>(done)
            })?;
            crate::db::forget_erased(&mut conn)?;
            if done.reason_redacted {
                eprintln!(
                    "warning: --reason quoted the person's own values; they were stored as {}",
                    titular::REASON_PLACEHOLDER
                );
            }
            println!("{}", serde_json::to_string(&done)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
