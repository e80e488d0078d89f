//! Spreadsheets (.xlsx, .xls, .ods) through calamine: the first and only sheet, with
//! formula cells flagged. `.xlsx` is streamed cell by cell; the others are read whole,
//! both bounded by a cell count.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{Data, Ods, Range, Reader, Xls, Xlsx};

use super::cells::{data_ref_text, data_text};
use super::error::FileError;
use super::{Format, Limits, RawRecord};

pub(crate) enum SheetEvent<'a> {
    Record(&'a RawRecord),
    Error(FileError),
}

fn unreadable(format: Format, e: impl std::fmt::Display) -> FileError {
    FileError::unreadable(format!(
        "a planilha {} está danificada ou não é válida ({e})",
        format.label()
    ))
}

pub(crate) fn read(
    path: &Path,
    format: Format,
    limits: &Limits,
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) -> Result<(), FileError> {
    // A malformed workbook must not take the server down with it, should the library
    // that parses it panic: the file is reported as damaged instead.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_workbook(path, format, limits, on_event)
    }))
    .unwrap_or_else(|_| Err(unreadable(format, "conteúdo inesperado")))
}

fn read_workbook(
    path: &Path,
    format: Format,
    limits: &Limits,
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) -> Result<(), FileError> {
    match format {
        Format::Xlsx | Format::Ods => check_zip_parts(path, format, limits)?,
        Format::Xls => {
            if xls_extent(path).map_err(|e| unreadable(format, e))? > limits.max_sheet_cells {
                return Err(FileError::too_large(limits.max_sheet_cells));
            }
        }
        Format::Csv => {}
    }
    let file = File::open(path)
        .map_err(|e| FileError::unreadable(format!("não foi possível abrir o arquivo ({e})")))?;
    let reader = BufReader::new(file);
    match format {
        Format::Xlsx => {
            let mut book: Xlsx<_> = Xlsx::new(reader).map_err(|e| unreadable(format, e))?;
            let Some(first) = first_sheet(&book.sheet_names(), on_event) else {
                return Ok(());
            };
            let merged = book
                .merge_cells_by_sheet_name(&first)
                .map_err(|e| unreadable(format, e))?;
            report_merged(&merged, on_event);
            read_xlsx_streaming(&mut book, &first, limits, on_event)
        }
        Format::Xls => {
            let book = Xls::new(reader);
            if let Ok(book) = &book
                && let Some(first) = book.sheet_names().first()
            {
                report_merged(
                    &book.merge_cells_by_sheet_name(first).unwrap_or_default(),
                    on_event,
                );
            }
            read_whole(book, format, limits, on_event)
        }
        Format::Ods => read_whole(Ods::new(reader), format, limits, on_event),
        Format::Csv => unreachable!("CSV files are read as text"),
    }
}

/// Uncompressed XML allowed per cell of the limit: real sheets take 30–100 bytes a cell.
const XML_BYTES_PER_CELL: u64 = 128;

/// `.xlsx` and `.ods` are zip files whose XML calamine partly reads whole (shared strings,
/// ODS content). Each part is decompressed here first, into nothing, counting the bytes
/// it really holds (never trusting the sizes the zip declares) and stopping at the limit:
/// a zip bomb ends as `too_large` after reading at most the limit, in constant memory.
fn check_zip_parts(path: &Path, format: Format, limits: &Limits) -> Result<(), FileError> {
    use std::io::Read;
    let cap = limits.max_sheet_cells.saturating_mul(XML_BYTES_PER_CELL);
    let file = File::open(path)
        .map_err(|e| FileError::unreadable(format!("não foi possível abrir o arquivo ({e})")))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| unreadable(format, e))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| unreadable(format, e))?;
        let is_xml = entry
            .name()
            .map_err(|e| unreadable(format, e))?
            .ends_with(".xml");
        if !is_xml {
            continue;
        }
        let is_ods_content =
            format == Format::Ods && entry.name().is_ok_and(|n| n == "content.xml");
        let budget = cap.saturating_sub(total);
        let mut part = (&mut entry).take(budget + 1);
        if is_ods_content {
            let cells = ods_extent(BufReader::new(&mut part)).map_err(|e| unreadable(format, e))?;
            if cells > limits.max_sheet_cells {
                return Err(FileError::too_large(limits.max_sheet_cells));
            }
        }
        std::io::copy(&mut part, &mut std::io::sink()).map_err(|e| unreadable(format, e))?;
        let read = budget + 1 - part.limit();
        total += read;
        if read > budget {
            return Err(FileError::too_large(limits.max_sheet_cells));
        }
    }
    Ok(())
}

/// The cells an ODS sheet spans once its repeated rows and columns are expanded: calamine
/// allocates that whole rectangle, so a few bytes of `number-rows-repeated` on a filled
/// cell could ask for gigabytes. Only filled cells count (LibreOffice writes long runs of
/// repeated empty ones), from the top-left corner to the farthest filled one.
fn ods_extent(reader: impl std::io::BufRead) -> Result<u64, quick_xml::Error> {
    use quick_xml::events::{BytesStart, Event};
    fn repeat(e: &BytesStart<'_>, key: &str) -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == key)
            .and_then(|a| a.value.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .max(1)
    }
    fn has_value(e: &BytesStart<'_>) -> bool {
        e.attributes()
            .flatten()
            .any(|a| a.key.as_ref() == "office:value-type")
    }
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let (mut row, mut col) = (0u64, 0u64);
    let mut row_repeat = 1u64;
    let mut row_filled = false;
    let (mut rows, mut cols) = (0u64, 0u64);
    loop {
        let event = xml.read_event_into(&mut buf)?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table-row" => {
                    row_repeat = repeat(e, "table:number-rows-repeated");
                    col = 0;
                    row_filled = false;
                    if empty {
                        row = row.saturating_add(row_repeat);
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let n = repeat(e, "table:number-columns-repeated");
                    if !empty || has_value(e) {
                        cols = cols.max(col.saturating_add(n));
                        row_filled = true;
                    }
                    col = col.saturating_add(n);
                }
                _ => {}
            }
        }
        match &event {
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if row_filled {
                    rows = rows.max(row.saturating_add(row_repeat));
                }
                row = row.saturating_add(row_repeat);
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                // Only the first sheet is read.
                break;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(rows.saturating_mul(cols))
}

/// The rectangle an `.xls` workbook's cells span (from the top-left corner). calamine
/// builds each sheet's whole rectangle when it opens the file, so a few kilobytes with a
/// cell at a far row and column could ask for gigabytes, and it reserves room for what the
/// DIMENSIONS record claims (both found by fuzzing). Those records are read here first,
/// straight from the workbook stream: each cell record starts with its row and column.
fn xls_extent(path: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut book = cfb::open(path)?;
    let name = ["/Workbook", "/Book"].into_iter().find(|n| book.exists(n));
    let Some(name) = name else {
        return Ok(0);
    };
    let mut stream = BufReader::new(book.open_stream(name)?);
    let (mut rows, mut cols) = (0u64, 0u64);
    let mut data = Vec::new();
    loop {
        let mut head = [0u8; 4];
        match stream.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let kind = u16::from_le_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
        data.resize(len, 0);
        if stream.read_exact(&mut data).is_err() {
            break;
        }
        let at = |i: usize| u64::from(u16::from_le_bytes([data[i], data[i + 1]]));
        match kind {
            // NUMBER, LABELSST, RK, FORMULA, BOOLERR, LABEL, RSTRING: row, column, …
            0x0203 | 0x00FD | 0x027E | 0x0006 | 0x0205 | 0x0204 | 0x00D6 if len >= 4 => {
                rows = rows.max(at(0) + 1);
                cols = cols.max(at(2) + 1);
            }
            // MULRK: row, first column, values…, last column.
            0x00BD if len >= 6 => {
                rows = rows.max(at(0) + 1);
                cols = cols.max(at(len - 2) + 1).max(at(2) + 1);
            }
            // DIMENSIONS, which calamine reserves room for: BIFF8 has 32-bit rows.
            0x0200 if len >= 14 => {
                let row_end = u64::from(u32::from_le_bytes([data[4], data[5], data[6], data[7]]));
                rows = rows.max(row_end);
                cols = cols.max(at(10));
            }
            0x0200 if len >= 10 => {
                rows = rows.max(at(2));
                cols = cols.max(at(6));
            }
            _ => {}
        }
    }
    Ok(rows.saturating_mul(cols))
}

/// `.xls` and `.ods`: calamine reads the sheet whole, values and formulas apart.
fn read_whole<R, E>(
    opened: Result<R, E>,
    format: Format,
    limits: &Limits,
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) -> Result<(), FileError>
where
    R: Reader<BufReader<File>>,
    E: std::fmt::Display,
    R::Error: std::fmt::Display,
{
    let mut book = opened.map_err(|e| unreadable(format, e))?;
    let Some(first) = first_sheet(&book.sheet_names(), on_event) else {
        return Ok(());
    };
    let values = book
        .worksheet_range(&first)
        .map_err(|e| unreadable(format, e))?;
    let formulas = book.worksheet_formula(&first).ok();
    emit_range(&values, formulas.as_ref(), limits, on_event)
}

/// Each merged range is a file error: its value lands in its first row only.
fn report_merged(
    merged: &[calamine::Dimensions],
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) {
    for region in merged {
        let cell = |(row, col): (u32, u32)| format!("{}{}", column_letters(col), row + 1);
        let range = format!("{}:{}", cell(region.start), cell(region.end));
        let _ = on_event(SheetEvent::Error(FileError::merged_cells(
            u64::from(region.start.0) + 1,
            &range,
        )));
    }
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`, as spreadsheets name columns.
fn column_letters(mut col: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The sheet to read; a second sheet is an error, but the first is still checked so the
/// user learns everything at once.
fn first_sheet(
    names: &[String],
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) -> Option<String> {
    if names.len() > 1 {
        let _ = on_event(SheetEvent::Error(FileError::multiple_sheets(names)));
    }
    names.first().cloned()
}

fn read_xlsx_streaming(
    book: &mut Xlsx<BufReader<File>>,
    sheet: &str,
    limits: &Limits,
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) -> Result<(), FileError> {
    let mut cells = book
        .worksheet_cells_reader(sheet)
        .map_err(|e| unreadable(Format::Xlsx, e))?;
    let mut record = RawRecord::default();
    let mut current_row: Option<u32> = None;
    let mut seen: u64 = 0;
    while let Some(cell) = cells
        .next_cell_with_formula()
        .map_err(|e| unreadable(Format::Xlsx, e))?
    {
        seen += 1;
        if seen > limits.max_sheet_cells {
            return Err(FileError::too_large(limits.max_sheet_cells));
        }
        let (row, col) = cell.pos;
        if current_row != Some(row) {
            if current_row.is_some() && on_event(SheetEvent::Record(&record)).is_break() {
                return Ok(());
            }
            current_row = Some(row);
            record = RawRecord {
                line: u64::from(row) + 1,
                ..RawRecord::default()
            };
        }
        let col = col as usize;
        if record.cells.len() <= col {
            record.cells.resize(col + 1, String::new());
        }
        record.cells[col] = data_ref_text(&cell.value);
        if let Some(formula) = cell.formula.as_deref().filter(|f| !f.trim().is_empty()) {
            record.formulas.push(col);
            // Without a cached value, show the user the formula itself.
            if record.cells[col].is_empty() {
                record.cells[col] = format!("={formula}");
            }
        }
    }
    if current_row.is_some() {
        let _ = on_event(SheetEvent::Record(&record));
    }
    Ok(())
}

fn emit_range(
    values: &Range<Data>,
    formulas: Option<&Range<String>>,
    limits: &Limits,
    on_event: &mut dyn FnMut(SheetEvent<'_>) -> ControlFlow<()>,
) -> Result<(), FileError> {
    let (height, width) = values.get_size();
    if (height as u64).saturating_mul(width as u64) > limits.max_sheet_cells {
        return Err(FileError::too_large(limits.max_sheet_cells));
    }
    let Some((first_row, first_col)) = values.start() else {
        return Ok(());
    };
    let formula_at = |row: u32, col: u32| {
        formulas
            .and_then(|f| f.get_value((row, col)))
            .filter(|f| !f.trim().is_empty())
    };
    for (i, row) in values.rows().enumerate() {
        let absolute_row = first_row + i as u32;
        let mut record = RawRecord {
            line: u64::from(absolute_row) + 1,
            cells: vec![String::new(); first_col as usize],
            formulas: Vec::new(),
        };
        for (j, cell) in row.iter().enumerate() {
            let absolute_col = first_col + j as u32;
            let mut text = data_text(cell);
            if let Some(formula) = formula_at(absolute_row, absolute_col) {
                record.formulas.push(absolute_col as usize);
                if text.is_empty() {
                    text = format!("={formula}");
                }
            }
            record.cells.push(text);
        }
        if on_event(SheetEvent::Record(&record)).is_break() {
            return Ok(());
        }
    }
    Ok(())
}
