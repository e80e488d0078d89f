//! The file contract: reads a layout file as users really send it (CSV/TXT in any of
//! Excel's encodings and separators, or a spreadsheet), checks it against the layout and
//! yields typed, normalised rows or located errors. Pure code: no database, no HTTP.

mod cells;
mod codepage;
pub mod error;
mod header;
mod sheet;
mod template;
mod text;
mod validate;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

pub use error::{FileError, FileErrorCode, RowError, RowErrorCode, code_label};
pub use template::{COLUMN_HELP, COLUMNS, example_rows, template_csv};
pub use validate::{Channel, LayoutRow, RejectedRow, RowOutcome};

use crate::layout::validate::Validator;

/// What a file is read as, from its name and its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Xls,
    Ods,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "CSV/TXT",
            Format::Xlsx => "Excel (.xlsx)",
            Format::Xls => "Excel 97-2003 (.xls)",
            Format::Ods => "OpenDocument (.ods)",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Spreadsheets are read whole; past this many cells they are refused (`too_large`).
    pub max_sheet_cells: u64,
    /// Errors and rejected rows listed in a report; the totals count them all.
    pub max_listed: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sheet_cells: 2_000_000,
            max_listed: 1_000,
        }
    }
}

/// The outcome of reading a whole file.
#[derive(Debug, Clone)]
pub struct Report {
    pub format: Option<Format>,
    /// Non-blank rows below the header.
    pub data_rows: u64,
    pub valid_rows: u64,
    pub rejected_rows: u64,
    /// The first rejected rows (up to `Limits::max_listed`).
    pub rejected: Vec<RejectedRow>,
    /// The first file-level errors (up to `Limits::max_listed`), in file order.
    pub file_errors: Vec<FileError>,
    pub file_error_total: u64,
}

impl Report {
    fn new(limits: &Limits) -> Self {
        Report {
            format: None,
            data_rows: 0,
            valid_rows: 0,
            rejected_rows: 0,
            rejected: Vec::new(),
            file_errors: Vec::with_capacity(limits.max_listed.min(64)),
            file_error_total: 0,
        }
    }

    /// True when no file-level error was found: the import may go ahead.
    pub fn is_importable(&self) -> bool {
        self.file_error_total == 0
    }

    pub fn has_code(&self, code: FileErrorCode) -> bool {
        self.file_errors.iter().any(|e| e.code == code)
    }

    fn push_file_error(&mut self, error: FileError, limits: &Limits) {
        self.file_error_total += 1;
        if self.file_errors.len() < limits.max_listed {
            self.file_errors.push(error);
        }
    }
}

/// A physical record read from a file before validation: its line (1-based, where the
/// record starts; the sheet row for spreadsheets) and its cells as text.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRecord {
    pub line: u64,
    pub cells: Vec<String>,
    /// Columns (0-based) whose cell holds a spreadsheet formula.
    pub formulas: Vec<usize>,
}

/// Reads and checks the whole file, collecting every error, without yielding rows.
pub fn validate(path: &Path, original_name: &str, limits: &Limits) -> Report {
    scan::<_, std::convert::Infallible>(path, original_name, limits, |_| Ok(()))
        .unwrap_or_else(|never| match never {})
}

/// Reads the file, handing each data row without file-level errors to `on_row` (valid or
/// rejected) as it streams, and returns the report. Stops early if `on_row` fails.
pub fn scan<F, E>(path: &Path, original_name: &str, limits: &Limits, on_row: F) -> Result<Report, E>
where
    F: FnMut(RowOutcome) -> Result<(), E>,
{
    let mut validator = Validator::new(limits, on_row);
    match detect_format(path, original_name) {
        Ok(format) => {
            validator.report.format = Some(format);
            let read = match format {
                Format::Csv => text::read(path, &mut |record| validator.record(record)),
                _ => sheet::read(path, format, limits, &mut |event| {
                    validator.sheet_event(event)
                }),
            };
            if let Err(error) = read {
                validator.file_error(error);
            }
        }
        Err(error) => validator.file_error(error),
    }
    validator.finish()
}

/// Decides how to read the file: the magic bytes first (a renamed spreadsheet is still a
/// spreadsheet), then the original name's extension.
fn detect_format(path: &Path, original_name: &str) -> Result<Format, FileError> {
    let mut head = [0u8; 128];
    let n = File::open(path)
        .and_then(|f| {
            let mut reader = BufReader::new(f);
            let mut total = 0;
            loop {
                let read = reader.read(&mut head[total..])?;
                if read == 0 || total + read == head.len() {
                    return Ok(total + read);
                }
                total += read;
            }
        })
        .map_err(|e| FileError::unreadable(format!("não foi possível abrir o arquivo ({e})")))?;
    let head = &head[..n];
    let extension = Path::new(original_name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if head.starts_with(b"PK\x03\x04") {
        let is_ods = extension == "ods"
            || head
                .windows(b"opendocument.spreadsheet".len())
                .any(|w| w == b"opendocument.spreadsheet");
        return Ok(if is_ods { Format::Ods } else { Format::Xlsx });
    }
    if head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Ok(Format::Xls);
    }
    if let Some(kind) = binary_kind(head) {
        return Err(FileError::unreadable(format!(
            "o arquivo é {kind}, não um CSV ou uma planilha"
        )));
    }
    match extension.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => Err(FileError::unreadable(format!(
            "o arquivo tem extensão .{extension}, mas não é uma planilha válida"
        ))),
        _ => Ok(Format::Csv),
    }
}

fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 8] = [
        (b"\x89PNG", "uma imagem PNG"),
        (b"\xFF\xD8\xFF", "uma imagem JPEG"),
        (b"GIF8", "uma imagem GIF"),
        (b"%PDF", "um PDF"),
        (b"\x1F\x8B", "um arquivo compactado (gzip)"),
        (b"Rar!", "um arquivo compactado (RAR)"),
        (b"7z\xBC\xAF", "um arquivo compactado (7z)"),
        (b"\x7FELF", "um programa executável"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, kind)| *kind)
}
