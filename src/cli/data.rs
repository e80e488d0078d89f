//! The command line's data commands: `import` (with its JSON report, an interface
//! scripts depend on), `contacts export` and `dnd import`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::db::{DatabaseUrl, DbConnection};
use crate::domain::{ImportInput, ImportOptions, LegalBasis, NewImport, SegmentName};
use crate::import::{self, Counts, Outcome};
use crate::layout::{FileError, Report};
use crate::models::{ContactProfile, NewDndEntry, Segment};
use crate::time;

/// Exit status when the file itself was refused.
const EXIT_REJECTED: u8 = 3;

pub struct ImportCommand {
    pub file: PathBuf,
    pub description: String,
    pub segment: String,
    pub basis: String,
    pub options: ImportOptions,
    pub dry_run: bool,
    pub json: bool,
}

#[derive(Serialize)]
struct ErrorJson {
    line: Option<u64>,
    column: Option<&'static str>,
    code: &'static str,
    message: String,
    value: Option<String>,
}

impl From<&FileError> for ErrorJson {
    fn from(e: &FileError) -> Self {
        ErrorJson {
            line: e.line,
            column: e.column,
            code: e.code.as_str(),
            message: e.message.clone(),
            value: e.value.clone(),
        }
    }
}

#[derive(Serialize)]
struct ReportJson {
    status: &'static str,
    audience_id: Option<i64>,
    counts: Counts,
    errors: Vec<ErrorJson>,
    rejected_rows: Vec<ErrorJson>,
}

impl ReportJson {
    fn new(
        status: &'static str,
        audience_id: Option<i64>,
        counts: Counts,
        report: &Report,
    ) -> Self {
        ReportJson {
            status,
            audience_id,
            counts,
            errors: report.file_errors.iter().map(ErrorJson::from).collect(),
            rejected_rows: report
                .rejected
                .iter()
                .map(|r| ErrorJson {
                    line: Some(r.line),
                    column: Some(r.errors[0].column),
                    code: r.code().as_str(),
                    message: r.message(),
                    value: Some(r.errors[0].value.clone()),
                })
                .collect(),
        }
    }
}

pub fn import(url: &DatabaseUrl, cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    if LegalBasis::parse(&cmd.basis).is_none() {
        bail!(
            "unknown --basis {:?}: use one of {}",
            cmd.basis,
            LegalBasis::ALL.map(|b| b.code()).join(", ")
        );
    }
    if !cmd.file.is_file() {
        bail!("{} is not a file", cmd.file.display());
    }
    let file_name = cmd
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut conn = crate::db::open(url)?;
    let segment_name = SegmentName::parse(&cmd.segment).map_err(anyhow::Error::msg)?;
    let segment = Segment::find_by_name(&mut conn, &segment_name)?.with_context(|| {
        format!(
            "segment {:?} does not exist: create it with `engajar segment add`",
            cmd.segment
        )
    })?;
    let import = NewImport::try_from(ImportInput {
        description: cmd.description.clone(),
        segment: Some((segment.id, segment.name.clone())),
        legal_basis: cmd.basis.clone(),
        file_name,
        options: cmd.options,
        created_by: None,
    })
    .map_err(|errors| anyhow::anyhow!("--description: {}", errors.messages().join(" ")))?;
    let config = crate::config::Config::from_env(url.clone(), String::new())?;
    if cmd.options.verify && !crate::models::Settings::load(&mut conn, &config)?.verify_enabled {
        bail!(
            "--verify: the Verify add-on is off; an admin turns it on in Configurações \
             (or start with ENGAJAR_VERIFY=1 before it was ever saved)"
        );
    }
    let limits = config.limits();
    let (json, code) = if cmd.dry_run {
        match import::dry_run(&mut conn, &import, &cmd.file, &limits)? {
            Outcome::Imported { counts, report } => (
                ReportJson::new("validated", None, counts, &report),
                ExitCode::SUCCESS,
            ),
            Outcome::Rejected { report } => {
                (rejected_json(None, &report), ExitCode::from(EXIT_REJECTED))
            }
        }
    } else {
        match import::import_now(&mut conn, &import, &cmd.file, &limits)? {
            (id, Outcome::Imported { counts, report }) => (
                ReportJson::new("imported", Some(id), counts, &report),
                ExitCode::SUCCESS,
            ),
            (id, Outcome::Rejected { report }) => (
                rejected_json(Some(id), &report),
                ExitCode::from(EXIT_REJECTED),
            ),
        }
    };
    let mut out = std::io::stdout().lock();
    if cmd.json {
        serde_json::to_writer(&mut out, &json)?;
        writeln!(out)?;
    } else {
        print_human(&mut out, &json)?;
    }
    Ok(code)
}

fn rejected_json(audience_id: Option<i64>, report: &Report) -> ReportJson {
    let counts = Counts {
        rows: report.data_rows,
        ..Counts::default()
    };
    ReportJson::new("rejected", audience_id, counts, report)
}

fn print_human(out: &mut impl Write, r: &ReportJson) -> std::io::Result<()> {
    let c = &r.counts;
    match r.audience_id {
        Some(id) => writeln!(out, "{} (audience #{id})", r.status)?,
        None => writeln!(out, "{}", r.status)?,
    }
    writeln!(
        out,
        "rows {}: imported {}, rejected {}, do-not-disturb {}, verify discarded {}, duplicates {}; contacts created {}, updated {}",
        c.rows,
        c.imported,
        c.rejected,
        c.dnd_skipped,
        c.verify_discarded,
        c.duplicate_rows,
        c.contacts_created,
        c.contacts_updated
    )?;
    for e in r.errors.iter().chain(&r.rejected_rows) {
        let line = e.line.map_or_else(|| "-".to_string(), |l| l.to_string());
        writeln!(
            out,
            "line {line} {} [{}]: {}",
            e.column.unwrap_or("-"),
            e.code,
            e.message
        )?;
    }
    Ok(())
}

pub fn export_contacts(conn: &mut DbConnection, csv: bool) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut table = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    if csv {
        table.write_record([
            "id",
            "nome",
            "cpfcnpj",
            "codcliente",
            "prioridade",
            "canais",
            "tags",
            "segmentos",
        ])?;
    }
    let mut after = 0;
    loop {
        let page = ContactProfile::page_after(conn, after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for contact in &page {
            if !csv {
                serde_json::to_writer(&mut out, contact)?;
                writeln!(out)?;
                continue;
            }
            let channels: Vec<&str> = contact.channels.iter().map(|c| c.value.as_str()).collect();
            let row = [
                contact.id.to_string(),
                contact.name.clone().unwrap_or_default(),
                contact.document.clone().unwrap_or_default(),
                contact.customer_code.clone().unwrap_or_default(),
                contact.priority.clone(),
                channels.join(" | "),
                contact.tags.join(" | "),
                contact.segments.join(" | "),
            ];
            table.write_record(row.iter().map(|c| import::rejected_csv::neutralise(c)))?;
        }
        if csv {
            // Hand each page on, so memory does not grow with the base.
            table.flush()?;
            let written = std::mem::replace(
                &mut table,
                csv::WriterBuilder::new()
                    .delimiter(b';')
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(Vec::new()),
            );
            out.write_all(&written.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
        }
    }
    table.flush()?;
    out.write_all(&table.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
    out.flush()?;
    Ok(())
}

/// One value per line, or the first column of a CSV; a header or blank line is skipped.
pub fn import_dnd(conn: &mut DbConnection, file: &PathBuf) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot open {}", file.display()))?;
    let list = crate::domain::read_channel_list(&bytes);
    let now = time::now();
    let invalid = list.invalid;
    let entries: Vec<NewDndEntry> = list
        .values
        .into_iter()
        .map(|(kind, value)| NewDndEntry::new(kind, value, None, now))
        .collect();
    let read = entries.len();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let added = NewDndEntry::insert_all(conn, &entries)?;
    crate::models::audit(
        conn,
        None,
        "dnd_upload",
        &format!(
            "arquivo {name}: {added} adicionado(s) de {read}{}",
            crate::models::audit::CLI_ACTOR_NOTE
        ),
        None,
    )?;
    println!(
        "added {added} ({} already listed, {invalid} not a phone or e-mail)",
        read - added
    );
    Ok(())
}
