//! The command line: `serve` (the default), and the admin commands scripts rely on.

use std::io::BufRead;
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engajar: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ENGAJAR_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&cli.database_url)?;
    match cli.command {
        None => {
            let bind = std::env::var("ENGAJAR_BIND").unwrap_or_else(|_| DEFAULT_BIND.to_string());
            serve(url, bind)
        }
        Some(Command::Serve { bind }) => serve(url, bind),
        Some(Command::User {
            command: UserCommand::Add { email, name, role },
        }) => {
            let password = read_password_line()?;
            let mut conn = open(&url)?;
            let user = add_user(&mut conn, &email, &name, role.into(), &password)?;
            println!("created user #{} {} ({})", user.id, user.email, user.role);
            Ok(())
        }
        Some(Command::Segment {
            command: SegmentCommand::Add { name },
        }) => {
            let name = SegmentName::parse(&name).map_err(anyhow::Error::msg)?;
            let mut conn = open(&url)?;
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
                }
                .insert(&mut conn)?;
                println!("created segment #{} {}", segment.id, segment.name);
            } else {
                println!("segment #{} {} already exists", segment.id, segment.name);
            }
            Ok(())
        }
    }
}

fn serve(url: DatabaseUrl, bind: String) -> anyhow::Result<()> {
    let config = Config::from_env(url, bind)?;
    let shown_url = config.database_url.display();
    let bind_shown = config.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = crate::web::build(config)?;
        tracing::info!(database = %shown_url, "Engajar is listening on http://{}", bind_shown);
        app.server.await.context("server stopped")
    })
}

fn open(url: &DatabaseUrl) -> anyhow::Result<DbConnection> {
    let mut conn = url.establish()?;
    crate::db::run_migrations(&mut conn)?;
    Ok(conn)
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
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    let password =
        NewPassword::parse(password, email.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
    if User::find_by_email(conn, email.as_str())?.is_some() {
        bail!("a user with e-mail {email} already exists");
    }
    let hash = hash_password(&password);
    let now = time::now();
    let user = NewUser {
        email: email.as_str(),
        name: &name,
        role: role.as_str(),
        password_hash: &hash,
        disabled: 0,
        created_at: now,
        updated_at: now,
    }
    .insert(conn)?;
    NewAuditEntry {
        user_id: None,
        action: "user_create",
        detail: &format!(
            "usuário #{} {} ({}) pela linha de comando",
            user.id, user.email, user.role
        ),
        ip: None,
        created_at: now,
    }
    .insert(conn)?;
    Ok(user)
}
