//! Checks each record against the layout: file-level errors fail the import, row-level
//! errors reject the row, and everything else becomes a typed, normalised row.

use std::ops::ControlFlow;

use super::error::{FileError, RowError, RowErrorCode};
use super::sheet::SheetEvent;
use super::{COLUMNS, Format, Limits, RawRecord, Report, header};
use crate::domain::{Document, Email, Phone, Priority, RecordType};

const TYPE: usize = 0;
const VALUE: usize = 1;
const MESSAGE: usize = 2;
const NAME: usize = 3;
const DOCUMENT: usize = 4;
const CUSTOMER_CODE: usize = 5;
const TAG: usize = 6;
const CORINGA1: usize = 7;
const PRIORITY: usize = 12;

/// A row's channel, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    Telefone(Phone),
    Email(Email),
}

impl Channel {
    pub fn kind(&self) -> RecordType {
        match self {
            Channel::Telefone(_) => RecordType::Telefone,
            Channel::Email(_) => RecordType::Email,
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Channel::Telefone(p) => p.as_str(),
            Channel::Email(e) => e.as_str(),
        }
    }
}

/// A valid row: every value parsed; empty cells are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutRow {
    pub line: u64,
    pub channel: Channel,
    pub message: Option<String>,
    pub name: Option<String>,
    pub document: Option<Document>,
    pub customer_code: Option<String>,
    pub tag: Option<String>,
    pub coringas: [Option<String>; 5],
    pub priority: Option<Priority>,
}

impl LayoutRow {
    /// The row as layout cells again (values normalised), for a rejected-rows file.
    pub fn to_cells(&self) -> Vec<String> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut cells = vec![
            self.channel.kind().as_str().to_string(),
            self.channel.value().to_string(),
            text(&self.message),
            text(&self.name),
            self.document
                .as_ref()
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            text(&self.customer_code),
            text(&self.tag),
        ];
        cells.extend(self.coringas.iter().map(text));
        cells.push(
            self.priority
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        );
        cells
    }
}

/// A row that is rejected, with why and the cells as they were (to be fixed and sent
/// again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub line: u64,
    /// Never empty; the first one is the row's code.
    pub errors: Vec<RowError>,
    pub cells: Vec<String>,
}

impl RejectedRow {
    pub fn code(&self) -> RowErrorCode {
        self.errors[0].code
    }

    /// Every reason, for the ERRO column of the rejected-rows file.
    pub fn message(&self) -> String {
        self.errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

// Most rows are valid: boxing them would cost an allocation per row for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Valid(LayoutRow),
    Rejected(RejectedRow),
}

/// `5,51199E+12`, `1.23457E+13`: what Excel shows for a long number it took for a float.
fn is_scientific_notation(value: &str) -> bool {
    let v = value.trim().as_bytes();
    let Some(e) = v.iter().position(|b| *b == b'e' || *b == b'E') else {
        return false;
    };
    let (mantissa, exponent) = (&v[..e], &v[e + 1..]);
    let mantissa = mantissa
        .strip_prefix(b"-")
        .or(mantissa.strip_prefix(b"+"))
        .unwrap_or(mantissa);
    let exponent = exponent
        .strip_prefix(b"+")
        .or(exponent.strip_prefix(b"-"))
        .unwrap_or(exponent);
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let mantissa_ok = match mantissa.iter().position(|b| *b == b',' || *b == b'.') {
        Some(i) => digits(&mantissa[..i]) && digits(&mantissa[i + 1..]),
        None => digits(mantissa),
    };
    mantissa_ok && digits(exponent)
}

/// `#N/A`, `#REF!`, `#DIV/0!` and the rest of what Excel shows instead of a value.
fn is_excel_error(cell: &str) -> bool {
    const ERRORS: [&str; 9] = [
        "#N/A",
        "#REF!",
        "#DIV/0!",
        "#VALUE!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#GETTING_DATA",
        "#SPILL!",
    ];
    // pt-BR Excel shows some in Portuguese.
    const ERRORS_PT: [&str; 4] = ["#VALOR!", "#NOME?", "#NÚM!", "#NULO!"];
    let cell = cell.trim();
    ERRORS
        .iter()
        .chain(ERRORS_PT.iter())
        .any(|e| cell.eq_ignore_ascii_case(e))
}

/// A cell as its value: invisible characters (a byte-order mark, zero-width spaces) gone,
/// and the `'` the app puts before a cell starting with `= + - @` (so a spreadsheet shows
/// it as text) taken off again, so a rejected-rows file round-trips to the same values.
fn clean_cell(cell: &str) -> String {
    let cell = crate::domain::text::strip_invisible(cell);
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_string(),
        _ => cell.into_owned(),
    }
}

fn optional(cells: &[String], i: usize) -> Option<String> {
    let value = cells.get(i).map_or("", |c| c.trim());
    (!value.is_empty()).then(|| value.to_string())
}

/// Turns a complete row (key columns present, type known) into a typed row or the list
/// of its problems.
fn build_row(line: u64, kind: RecordType, cells: &[String]) -> Result<LayoutRow, Vec<RowError>> {
    let cell = |i: usize| cells.get(i).map_or("", |c| c.as_str());
    let mut errors = Vec::new();
    // Excel's error values, as a sheet holds them or a CSV export writes them.
    if let Some(i) = (0..COLUMNS.len()).find(|i| is_excel_error(cell(*i))) {
        return Err(vec![RowError::new(
            RowErrorCode::CellError,
            COLUMNS[i],
            cell(i),
            "",
        )]);
    }
    // Line breaks and tabs are a cell's own (Alt+Enter in Excel); NUL, ESC and the like
    // are nobody's and PostgreSQL refuses NUL.
    if let Some(i) =
        (0..COLUMNS.len()).find(|i| crate::domain::text::has_control_chars(cell(*i), true))
    {
        return Err(vec![RowError::new(
            RowErrorCode::InvalidText,
            COLUMNS[i],
            cell(i),
            "",
        )]);
    }

    let raw_value = cell(VALUE);
    let channel = match kind {
        RecordType::Telefone if is_scientific_notation(raw_value) => {
            errors.push(RowError::new(
                RowErrorCode::ScientificNotation,
                COLUMNS[VALUE],
                raw_value,
                "",
            ));
            None
        }
        RecordType::Telefone => match Phone::parse(raw_value) {
            Ok(phone) => Some(Channel::Telefone(phone)),
            Err(e) => {
                errors.push(RowError::new(
                    RowErrorCode::InvalidPhone,
                    COLUMNS[VALUE],
                    raw_value,
                    &e.to_string(),
                ));
                None
            }
        },
        RecordType::Email => match Email::parse(raw_value) {
            Ok(email) => Some(Channel::Email(email)),
            Err(e) => {
                errors.push(RowError::new(
                    RowErrorCode::InvalidEmail,
                    COLUMNS[VALUE],
                    raw_value,
                    &e,
                ));
                None
            }
        },
    };

    let raw_document = cell(DOCUMENT);
    let document = if raw_document.trim().is_empty() {
        None
    } else if is_scientific_notation(raw_document) {
        errors.push(RowError::new(
            RowErrorCode::ScientificNotation,
            COLUMNS[DOCUMENT],
            raw_document,
            "",
        ));
        None
    } else {
        match Document::parse(raw_document) {
            Ok(document) => Some(document),
            Err(e) => {
                errors.push(RowError::new(
                    RowErrorCode::InvalidDocument,
                    COLUMNS[DOCUMENT],
                    raw_document,
                    &e.to_string(),
                ));
                None
            }
        }
    };

    let raw_priority = cell(PRIORITY);
    let priority = if raw_priority.trim().is_empty() {
        None
    } else {
        match Priority::parse(raw_priority) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(RowError::new(
                    RowErrorCode::InvalidPriority,
                    COLUMNS[PRIORITY],
                    raw_priority,
                    &e,
                ));
                None
            }
        }
    };

    match channel {
        Some(channel) if errors.is_empty() => Ok(LayoutRow {
            line,
            channel,
            message: optional(cells, MESSAGE),
            name: optional(cells, NAME),
            document,
            customer_code: optional(cells, CUSTOMER_CODE),
            tag: optional(cells, TAG),
            coringas: std::array::from_fn(|i| optional(cells, CORINGA1 + i)),
            priority,
        }),
        _ => Err(errors),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderState {
    Pending,
    Good,
    Bad,
}

pub(crate) struct Validator<'l, F, E> {
    limits: &'l Limits,
    on_row: F,
    failure: Option<E>,
    header: HeaderState,
    /// The file is a rejected-rows download sent back: its last column is `ERRO`.
    error_column: bool,
    pub report: Report,
}

impl<'l, F, E> Validator<'l, F, E>
where
    F: FnMut(RowOutcome) -> Result<(), E>,
{
    pub fn new(limits: &'l Limits, on_row: F) -> Self {
        Validator {
            limits,
            on_row,
            failure: None,
            header: HeaderState::Pending,
            error_column: false,
            report: Report::new(limits),
        }
    }

    pub fn file_error(&mut self, error: FileError) {
        self.report.push_file_error(error, self.limits);
    }

    pub fn sheet_event(&mut self, event: SheetEvent<'_>) -> ControlFlow<()> {
        match event {
            SheetEvent::Error(error) => {
                self.file_error(error);
                ControlFlow::Continue(())
            }
            SheetEvent::Record(record) => self.record(record),
        }
    }

    fn emit(&mut self, outcome: RowOutcome) -> ControlFlow<()> {
        match (self.on_row)(outcome) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.failure = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    pub fn record(&mut self, record: &RawRecord) -> ControlFlow<()> {
        let raw = &record.cells;
        if record.formulas.is_empty() && raw.iter().all(|c| c.trim().is_empty()) {
            return ControlFlow::Continue(());
        }
        let mut cells: Vec<String> = raw.iter().map(|c| clean_cell(c)).collect();
        if self.error_column && cells.len() > COLUMNS.len() {
            // The ERRO column of a rejected-rows file: what was wrong, not data.
            cells[COLUMNS.len()].clear();
        }
        let cells = &cells;
        match self.header {
            HeaderState::Bad => return ControlFlow::Break(()),
            HeaderState::Pending => {
                let errors = header::check(record.line, cells, &mut self.error_column);
                if errors.is_empty() {
                    self.header = HeaderState::Good;
                    return ControlFlow::Continue(());
                }
                // Without the right columns the rows cannot be read.
                self.header = HeaderState::Bad;
                for e in errors {
                    self.file_error(e);
                }
                return ControlFlow::Break(());
            }
            HeaderState::Good => {}
        }
        self.report.data_rows += 1;
        let line = record.line;
        let before = self.report.file_error_total;

        if let Some((i, value)) = cells
            .iter()
            .enumerate()
            .skip(COLUMNS.len())
            .find(|(_, c)| !c.trim().is_empty())
        {
            self.file_error(FileError::extra_content(line, i + 1, value));
        }
        let is_csv = self.report.format == Some(Format::Csv);
        // The raw cell: `'=…` is text the app wrote, not a formula.
        for (i, value) in raw.iter().enumerate() {
            if self.error_column && i == COLUMNS.len() {
                continue;
            }
            let formula = if is_csv {
                value.trim_start().starts_with('=')
            } else {
                record.formulas.contains(&i)
            };
            if formula {
                self.file_error(FileError::formula(line, COLUMNS.get(i).copied(), value));
            }
        }
        let kind_cell = cells.get(TYPE).map_or("", |c| c.as_str());
        let kind = if kind_cell.trim().is_empty() {
            self.file_error(FileError::key_missing(line, COLUMNS[TYPE]));
            None
        } else {
            let kind = RecordType::parse(kind_cell);
            if kind.is_none() {
                self.file_error(FileError::record_type(line, kind_cell));
            }
            kind
        };
        if cells.get(VALUE).is_none_or(|c| c.trim().is_empty()) {
            self.file_error(FileError::key_missing(line, COLUMNS[VALUE]));
        }
        let Some(kind) = kind.filter(|_| self.report.file_error_total == before) else {
            return ControlFlow::Continue(());
        };

        match build_row(line, kind, cells) {
            Ok(row) => {
                self.report.valid_rows += 1;
                self.emit(RowOutcome::Valid(row))
            }
            Err(errors) => {
                // As typed, less what no one can type (to be fixed and sent again).
                let mut kept: Vec<String> = cells
                    .iter()
                    .take(COLUMNS.len())
                    .map(|c| {
                        c.chars()
                            .filter(|ch| !ch.is_control() || matches!(ch, '\t' | '\n' | '\r'))
                            .collect()
                    })
                    .collect();
                kept.resize(COLUMNS.len(), String::new());
                let rejected = RejectedRow {
                    line,
                    errors,
                    cells: kept,
                };
                self.report.rejected_rows += 1;
                if self.report.rejected.len() < self.limits.max_listed {
                    self.report.rejected.push(rejected.clone());
                }
                self.emit(RowOutcome::Rejected(rejected))
            }
        }
    }

    pub fn finish(mut self) -> Result<Report, E> {
        if let Some(e) = self.failure {
            return Err(e);
        }
        if self.report.file_error_total == 0 && self.report.data_rows == 0 {
            let has_header = self.header == HeaderState::Good;
            self.file_error(FileError::empty(has_header));
        }
        Ok(self.report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_what_excel_does_to_long_numbers() {
        for yes in [
            "5,51199E+12",
            "1.23457E+13",
            "1,19871E+10",
            "1E+10",
            " 5,5E+12 ",
            "1.2e10",
            "-1,5E-3",
        ] {
            assert!(is_scientific_notation(yes), "{yes}");
        }
        for no in [
            "11987654321",
            "E+12",
            "5,5E",
            "email@E+12.com",
            "1,2,3E+4",
            "5,5E+1a",
            "",
        ] {
            assert!(!is_scientific_notation(no), "{no}");
        }
    }

    #[test]
    fn control_characters_in_a_cell_reject_the_row_but_line_breaks_do_not() {
        let mut cells = row(&["TELEFONE", "11987654321"]);
        cells[NAME] = "Ana\u{0}Lima".into();
        let errors = build_row(4, RecordType::Telefone, &cells).unwrap_err();
        assert_eq!(errors[0].code, RowErrorCode::InvalidText);
        assert_eq!(errors[0].column, "NOME_CLIENTE");
        assert_eq!(errors[0].value, "AnaLima");
        cells[NAME] = "Ana".into();
        cells[MESSAGE] = "linha 1\r\nlinha 2".into();
        assert!(build_row(4, RecordType::Telefone, &cells).is_ok());
    }

    #[test]
    fn cells_lose_invisible_characters_and_the_apostrophe_the_app_added() {
        assert_eq!(clean_cell("\u{feff}TELEFONE"), "TELEFONE");
        assert_eq!(clean_cell("'=SOMA(A1)"), "=SOMA(A1)");
        assert_eq!(clean_cell("'-1-1"), "-1-1");
        assert_eq!(clean_cell("'+55 (11) 9"), "+55 (11) 9");
        assert_eq!(clean_cell("'@Ana"), "@Ana");
        assert_eq!(clean_cell("'Ana'"), "'Ana'");
        assert_eq!(clean_cell("D'Ávila"), "D'Ávila");
    }

    fn row(cells: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
        v.resize(13, String::new());
        v
    }

    #[test]
    fn a_full_row_is_typed_and_trimmed() {
        let cells = row(&[
            "telefone",
            "(11) 98765-4321",
            " Olá ",
            "Maria",
            "529.982.247-25",
            "C1",
            "Centro",
            "a",
            "",
            "c",
            "",
            "e",
            "média",
        ]);
        let r = build_row(7, RecordType::Telefone, &cells).unwrap();
        assert_eq!(r.line, 7);
        assert_eq!(r.channel.value(), "+5511987654321");
        assert_eq!(r.message.as_deref(), Some("Olá"));
        assert_eq!(r.document.unwrap().as_str(), "52998224725");
        assert_eq!(
            r.coringas,
            [
                Some("a".into()),
                None,
                Some("c".into()),
                None,
                Some("e".into())
            ]
        );
        assert_eq!(r.priority, Some(Priority::Media));
    }

    #[test]
    fn every_problem_of_a_row_is_reported_first_one_first() {
        let cells = row(&[
            "EMAIL",
            "sem-arroba",
            "",
            "",
            "1,11445E+10",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "MAXIMA",
        ]);
        let errors = build_row(3, RecordType::Email, &cells).unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                RowErrorCode::InvalidEmail,
                RowErrorCode::ScientificNotation,
                RowErrorCode::InvalidPriority
            ]
        );
        assert_eq!(errors[1].column, "CPFCNPJ");
    }
}
