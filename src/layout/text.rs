//! CSV and TXT files: encoding (UTF-8 with or without BOM, UTF-16 with BOM, and the
//! 8-bit code pages Excel writes: Windows-1252, 850, Mac Roman), separator detection and RFC 4180 records, streamed row by row.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::rc::Rc;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::RawRecord;
use super::codepage::{CodePage, HighBytes};
use super::error::FileError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    Utf8 {
        bom: bool,
    },
    Utf16 {
        big_endian: bool,
    },
    /// An 8-bit code page, told from the bytes.
    Legacy(CodePage),
}

/// How a text file is to be read: its encoding, and whether its lines end in a bare CR
/// (what "CSV (Macintosh)" writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TextShape {
    encoding: TextEncoding,
    cr_lines: bool,
}

fn io_error(e: std::io::Error) -> FileError {
    FileError::unreadable(format!("erro ao ler o arquivo ({e})"))
}

/// Excel writes a BOM for UTF-8 and UTF-16. Without one, the file is UTF-8 when its
/// bytes are; otherwise one of the 8-bit code pages Excel's Save As writes (see
/// `codepage`), told from its accented letters, or refused when none reads clearly.
fn detect_encoding(path: &Path) -> Result<TextShape, FileError> {
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io_error)?);
    let head = file.fill_buf().map_err(io_error)?;
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        Some(TextEncoding::Utf8 { bom: true })
    } else if head.starts_with(b"\xFF\xFE") {
        Some(TextEncoding::Utf16 { big_endian: false })
    } else if head.starts_with(b"\xFE\xFF") {
        Some(TextEncoding::Utf16 { big_endian: true })
    } else {
        None
    };
    drop(file);
    let (mut lf, mut cr) = (false, false);
    let mut utf8 = true;
    // A multi-byte character may straddle two chunks: carry its start over.
    let mut carry: Vec<u8> = Vec::with_capacity(4);
    each_chunk(path, |data| {
        lf = lf || memchr(b'\n', data);
        cr = cr || memchr(b'\r', data);
        if bom.is_some() {
            return !lf;
        }
        let mut joined = std::mem::take(&mut carry);
        joined.extend_from_slice(data);
        match std::str::from_utf8(&joined) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => carry = joined[e.valid_up_to()..].to_vec(),
            Err(_) => utf8 = false,
        }
        utf8
    })?;
    let encoding = match bom {
        Some(encoding) => encoding,
        None if utf8 && carry.is_empty() => TextEncoding::Utf8 { bom: false },
        None => {
            // Not UTF-8: read again for what tells the code page (and the line ends).
            let mut high = HighBytes::default();
            let mut binary = false;
            each_chunk(path, |data| {
                lf = lf || memchr(b'\n', data);
                cr = cr || memchr(b'\r', data);
                binary = binary
                    || data
                        .iter()
                        .any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
                high.feed(data);
                true
            })?;
            high.finish();
            if binary {
                // Not text at all: read it as Windows-1252 so the reader names the line
                // holding binary bytes.
                TextEncoding::Legacy(CodePage::Windows1252)
            } else {
                TextEncoding::Legacy(high.code_page().ok_or_else(FileError::unknown_encoding)?)
            }
        }
    };
    // UTF-16 line ends are two bytes; a UTF-16 file holds zero bytes beside them anyway.
    let cr_lines = cr && !lf && !matches!(encoding, TextEncoding::Utf16 { .. });
    Ok(TextShape { encoding, cr_lines })
}

/// Reads the file in chunks while `each` answers `true`.
fn each_chunk(path: &Path, mut each: impl FnMut(&[u8]) -> bool) -> Result<(), FileError> {
    let mut file = File::open(path).map_err(io_error)?;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut chunk).map_err(io_error)?;
        if n == 0 || !each(&chunk[..n]) {
            return Ok(());
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> bool {
    haystack.contains(&needle)
}

/// Decodes an 8-bit code page to UTF-8, byte by byte through its table.
struct SingleByte<R> {
    inner: R,
    table: [Option<char>; 128],
    buf: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> Read for SingleByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.out.len() {
            self.buf.resize(1 << 15, 0);
            let n = self.inner.read(&mut self.buf)?;
            self.out.clear();
            self.pos = 0;
            for &b in &self.buf[..n] {
                if b < 0x80 {
                    self.out.push(b);
                } else {
                    let c = self.table[usize::from(b - 0x80)].unwrap_or('\u{FFFD}');
                    let mut utf8 = [0u8; 4];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Turns bare-CR line ends (the file has no LF at all) into LF.
struct CrToLf<R>(R);

impl<R: Read> Read for CrToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        for b in &mut buf[..n] {
            if *b == b'\r' {
                *b = b'\n';
            }
        }
        Ok(n)
    }
}

/// The decoded text of the file as UTF-8 bytes, without any BOM.
fn decoded_reader(path: &Path, shape: TextShape) -> Result<Box<dyn Read>, FileError> {
    let mut file = File::open(path).map_err(io_error)?;
    let transcode = |file: File, encoding: &'static Encoding| -> Box<dyn Read> {
        Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .build(file),
        )
    };
    let reader: Box<dyn Read> = match shape.encoding {
        TextEncoding::Utf8 { bom } => {
            if bom {
                file.seek(SeekFrom::Start(3)).map_err(io_error)?;
            }
            Box::new(file)
        }
        TextEncoding::Utf16 { big_endian } => {
            file.seek(SeekFrom::Start(2)).map_err(io_error)?;
            transcode(file, if big_endian { UTF_16BE } else { UTF_16LE })
        }
        TextEncoding::Legacy(page) => Box::new(SingleByte {
            inner: file,
            table: page.high_half(),
            buf: Vec::new(),
            out: Vec::new(),
            pos: 0,
        }),
    };
    Ok(if shape.cr_lines {
        Box::new(CrToLf(reader))
    } else {
        reader
    })
}

/// A line with nothing but spaces and separators.
fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b','))
}

/// The separator is whichever of `;`, tab and `,` the header line uses most, outside
/// quotes; `;` wins ties, being what Excel pt-BR writes.
fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => counts[0] += 1,
            b'\t' if !quoted => counts[1] += 1,
            b',' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b';', b'\t', b','];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

fn has_control_bytes(field: &str) -> bool {
    field
        .bytes()
        .any(|b| b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r')
}

/// A quote opened and never closed swallows the following rows into one field: those
/// rows show up inside it, each on a line of its own starting with a record type.
fn swallowed_rows(field: &str, delimiter: u8) -> bool {
    if !field.contains('\n') {
        return false;
    }
    field.split('\n').skip(1).any(|line| {
        let line = line.trim_start().as_bytes();
        ["TELEFONE", "EMAIL"].iter().any(|kind| {
            line.len() > kind.len()
                && line[..kind.len()].eq_ignore_ascii_case(kind.as_bytes())
                && line[kind.len()] == delimiter
        })
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    RecordStart,
    FieldStart,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// Follows the bytes the CSV parser reads, with the same RFC 4180 rules (a quote opens a
/// field only at its start, `""` is a literal quote, CR, LF and CRLF end records, empty
/// lines are skipped), to know the physical line where each record starts and where a
/// quote was left open. The CSV parser's own positions do not count lines reliably.
#[derive(Debug)]
struct LineTracker {
    delimiter: u8,
    line: u64,
    after_cr: bool,
    state: ScanState,
    quote_opened_at: u64,
    record_starts: VecDeque<u64>,
}

impl LineTracker {
    fn new(delimiter: u8, first_line: u64) -> Self {
        LineTracker {
            delimiter,
            line: first_line,
            after_cr: false,
            state: ScanState::RecordStart,
            quote_opened_at: first_line,
            record_starts: VecDeque::new(),
        }
    }

    fn field_start(&mut self, b: u8) -> ScanState {
        match b {
            b'"' => {
                self.quote_opened_at = self.line;
                ScanState::InQuoted
            }
            b'\r' | b'\n' => ScanState::RecordStart,
            _ if b == self.delimiter => ScanState::FieldStart,
            _ => ScanState::InField,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b != b'\n' {
                    self.line += 1;
                }
            }
            self.state = match self.state {
                ScanState::RecordStart if b == b'\r' || b == b'\n' => ScanState::RecordStart,
                ScanState::RecordStart => {
                    self.record_starts.push_back(self.line);
                    self.field_start(b)
                }
                ScanState::FieldStart => self.field_start(b),
                ScanState::InField => match b {
                    b'\r' | b'\n' => ScanState::RecordStart,
                    _ if b == self.delimiter => ScanState::FieldStart,
                    _ => ScanState::InField,
                },
                ScanState::InQuoted if b == b'"' => ScanState::QuoteInQuoted,
                ScanState::InQuoted => ScanState::InQuoted,
                ScanState::QuoteInQuoted => match b {
                    b'"' => ScanState::InQuoted,
                    b'\r' | b'\n' => ScanState::RecordStart,
                    _ if b == self.delimiter => ScanState::FieldStart,
                    _ => ScanState::InField,
                },
            };
            match b {
                b'\n' => self.line += 1,
                b'\r' => self.after_cr = true,
                _ => {}
            }
        }
    }
}

/// Hands every byte the CSV parser reads to the [`LineTracker`].
struct Tracked<R> {
    inner: R,
    tracker: Rc<RefCell<LineTracker>>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tracker.borrow_mut().feed(&buf[..n]);
        Ok(n)
    }
}

pub(crate) fn read(
    path: &Path,
    on_record: &mut dyn FnMut(&RawRecord) -> ControlFlow<()>,
) -> Result<(), FileError> {
    let shape = detect_encoding(path)?;
    let mut reader = BufReader::with_capacity(1 << 16, decoded_reader(path, shape)?);

    let mut skipped = 0u64;
    let mut header = Vec::new();
    loop {
        header.clear();
        if reader.read_until(b'\n', &mut header).map_err(io_error)? == 0 {
            return Ok(());
        }
        if !is_blank(&header) {
            break;
        }
        skipped += 1;
    }
    let delimiter = detect_delimiter(&header);
    let tracker = Rc::new(RefCell::new(LineTracker::new(delimiter, skipped + 1)));
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(Tracked {
            inner: Cursor::new(header).chain(reader),
            tracker: Rc::clone(&tracker),
        });

    let mut record = csv::StringRecord::new();
    let mut raw = RawRecord::default();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => {
                let tracker = tracker.borrow();
                if tracker.state == ScanState::InQuoted {
                    return Err(FileError::unreadable_at(
                        Some(tracker.quote_opened_at),
                        "há aspas (\") abertas nesta linha que nunca foram fechadas: o restante do arquivo ficou dentro de um único campo",
                    ));
                }
                return Ok(());
            }
            Err(e) => {
                let line = tracker.borrow().record_starts.front().copied();
                return Err(match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => FileError::unreadable_at(
                        line,
                        "o texto não está numa codificação reconhecida (UTF-8, UTF-16, Windows-1252, MS-DOS 850 ou Macintosh)",
                    ),
                    _ => FileError::unreadable_at(line, format!("CSV malformado ({e})")),
                });
            }
        }
        let line = tracker
            .borrow_mut()
            .record_starts
            .pop_front()
            .unwrap_or(skipped + 1);
        if record.iter().any(has_control_bytes) {
            return Err(FileError::unreadable_at(
                Some(line),
                "o arquivo contém caracteres binários: não é um texto CSV",
            ));
        }
        if record.iter().any(|f| swallowed_rows(f, delimiter)) {
            return Err(FileError::unreadable_at(
                Some(line),
                "há aspas (\") abertas nesta linha que não foram fechadas: as linhas seguintes ficaram dentro de um único campo",
            ));
        }
        raw.line = line;
        raw.cells.truncate(record.len());
        for (i, field) in record.iter().enumerate() {
            match raw.cells.get_mut(i) {
                Some(cell) => {
                    cell.clear();
                    cell.push_str(field);
                }
                None => raw.cells.push(field.to_string()),
            }
        }
        if on_record(&raw).is_break() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_comes_from_the_header() {
        assert_eq!(detect_delimiter(b"A;B;C\r\n"), b';');
        assert_eq!(detect_delimiter(b"A,B,C\r\n"), b',');
        assert_eq!(detect_delimiter(b"A\tB\tC\r\n"), b'\t');
        assert_eq!(detect_delimiter(b"\"A,1\";\"B,2\";C\r\n"), b';');
        assert_eq!(detect_delimiter(b"A"), b';');
    }

    #[test]
    fn blank_lines_are_only_spaces_and_separators() {
        assert!(is_blank(b"\r\n"));
        assert!(is_blank(b";;;;;;\r\n"));
        assert!(!is_blank(b";;x;\r\n"));
    }

    fn starts(text: &[u8]) -> (Vec<u64>, ScanState) {
        let mut t = LineTracker::new(b';', 1);
        // Fed in small pieces, as reads arrive.
        for chunk in text.chunks(3) {
            t.feed(chunk);
        }
        (t.record_starts.into_iter().collect(), t.state)
    }

    #[test]
    fn tracks_physical_lines_of_records() {
        assert_eq!(starts(b"a;b\r\nc;d\r\n").0, vec![1, 2]);
        assert_eq!(starts(b"\r\n\r\na\r\n\r\nb\n").0, vec![3, 5]);
        assert_eq!(starts(b"a;\"x\r\ny\"\r\nb\r\n").0, vec![1, 3]);
        assert_eq!(starts(b"a;\"say \"\"hi\"\"\";c\nd\n").0, vec![1, 2]);
        // A quote inside an unquoted field is a literal, as the CSV parser reads it.
        assert_eq!(starts(b"a;5\" tv\nb\n").0, vec![1, 2]);
        assert_eq!(starts(b"a\rb\rc").0, vec![1, 2, 3]);
        let (lines, state) = starts(b"a;\"open\nb\nc\n");
        assert_eq!(lines, vec![1]);
        assert_eq!(state, ScanState::InQuoted);
    }

    #[test]
    fn swallowed_rows_are_spotted() {
        assert!(swallowed_rows("Olá\r\nTELEFONE;11987654321;;", b';'));
        assert!(!swallowed_rows("Olá\r\nTelefone de contato", b';'));
        assert!(!swallowed_rows("sem quebra", b';'));
    }
}
