//! Properties of the file contract over generated input.

use std::io::Write;

use engajar::domain::Document;
use engajar::domain::document::{cnpj_check_digits, cpf_check_digits};
use engajar::layout::{self, COLUMNS, Limits, RowOutcome};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Failing cases found are kept beside the tests and tried first on every run.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/layout_props.txt",
        ))),
        ..ProptestConfig::default()
    }
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    file
}

proptest! {
    #![proptest_config(config(256))]

    /// Whatever arrives, under whatever name, the reader answers with a report.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        name in prop::sample::select(vec!["a.csv", "a.txt", "a.xlsx", "a.xls", "a.ods", "semnome"]),
    ) {
        let file = write_temp(&bytes);
        let report = layout::validate(file.path(), name, &Limits::default());
        prop_assert!(report.data_rows >= report.valid_rows + report.rejected_rows);
    }

    /// Text that starts like a layout file and then goes wrong anywhere.
    #[test]
    fn layout_like_text_never_panics(tail in prop::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = (COLUMNS.join(";") + "\r\nTELEFONE;11987654321;").into_bytes();
        bytes.extend_from_slice(&tail);
        let file = write_temp(&bytes);
        let report = layout::validate(file.path(), "a.csv", &Limits::default());
        prop_assert!(report.data_rows >= 1 || !report.is_importable());
    }
}

const DDDS: [&str; 8] = ["11", "21", "31", "48", "55", "61", "85", "99"];

/// Free text as users type it: accents, separators, quotes and line breaks included,
/// no surrounding spaces (cells are trimmed), never starting with `=`.
fn free_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[A-Za-zÀ-ÿ0-9][A-Za-zÀ-ÿ0-9 ;,\"'@#$%&*().\r\n-]{0,30}[A-Za-zÀ-ÿ0-9.!?]")
}

#[derive(Debug, Clone)]
struct GeneratedRow {
    phone: Option<(String, String)>,
    email: String,
    texts: Vec<Option<String>>,
    priority: Option<&'static str>,
}

fn generated_row() -> impl Strategy<Value = GeneratedRow> {
    (
        prop::option::of((prop::sample::select(DDDS.to_vec()), "9[0-9]{8}")),
        "[a-z][a-z0-9_]{0,6}(\\.[a-z0-9]{1,5})?@[a-z]{2,10}\\.com\\.br",
        prop::collection::vec(free_text(), 9),
        prop::option::of(prop::sample::select(vec!["BAIXA", "MEDIA", "ALTA"])),
    )
        .prop_map(|(phone, email, texts, priority)| GeneratedRow {
            phone: phone.map(|(ddd, number)| (ddd.to_string(), number)),
            email,
            texts,
            priority,
        })
}

impl GeneratedRow {
    fn cells(&self) -> Vec<String> {
        let (kind, value) = match &self.phone {
            Some((ddd, number)) => ("TELEFONE", format!("({ddd}) {number}")),
            None => ("EMAIL", self.email.to_uppercase()),
        };
        let text = |i: usize| self.texts[i].clone().unwrap_or_default();
        let mut cells = vec![
            kind.to_string(),
            value,
            text(0),
            text(1),
            String::new(),
            text(2),
            text(3),
        ];
        cells.extend((4..9).map(text));
        cells.push(self.priority.unwrap_or("").to_string());
        cells
    }
}

fn write_csv(rows: &[GeneratedRow], delimiter: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(COLUMNS).unwrap();
        for row in rows {
            w.write_record(row.cells()).unwrap();
        }
    }
    out
}

proptest! {
    #![proptest_config(config(96))]

    /// Any valid rows, written as Excel would (UTF-8 with BOM, Windows-1252 or UTF-16),
    /// come back with the same values, normalised.
    #[test]
    fn valid_rows_survive_write_then_read(
        rows in prop::collection::vec(generated_row(), 1..12),
        delimiter in prop::sample::select(vec![b';', b',', b'\t']),
        encoding in 0..3u8,
    ) {
        // An 8-bit code page is told from Portuguese text (`layout::codepage`): its
        // accented letters, where and in the case Portuguese puts them.
        let rows: Vec<GeneratedRow> = if encoding == 1 {
            rows.into_iter().map(portuguese).collect()
        } else {
            rows
        };
        let text = write_csv(&rows, delimiter);
        let bytes = match encoding {
            0 => [b"\xEF\xBB\xBF".as_slice(), &text].concat(),
            1 => {
                let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(std::str::from_utf8(&text).unwrap());
                prop_assume!(!unmappable);
                encoded.into_owned()
            }
            _ => {
                let mut utf16 = vec![0xFF, 0xFE];
                for unit in std::str::from_utf8(&text).unwrap().encode_utf16() {
                    utf16.extend_from_slice(&unit.to_le_bytes());
                }
                utf16
            }
        };
        let file = write_temp(&bytes);
        let mut read = Vec::new();
        let report = layout::scan::<_, ()>(file.path(), "gerado.csv", &Limits::default(), |r| {
            read.push(r);
            Ok(())
        }).unwrap();
        prop_assert!(report.is_importable(), "{:?}", report.file_errors);
        prop_assert_eq!(read.len(), rows.len());
        for (row, outcome) in rows.iter().zip(&read) {
            let RowOutcome::Valid(got) = outcome else {
                return Err(TestCaseError::fail(format!("rejected: {outcome:?}")));
            };
            let expected_channel = match &row.phone {
                Some((ddd, number)) => format!("+55{ddd}{number}"),
                None => row.email.clone(),
            };
            prop_assert_eq!(got.channel.value(), expected_channel.as_str());
            prop_assert_eq!(&got.message, &row.texts[0]);
            prop_assert_eq!(&got.name, &row.texts[1]);
            prop_assert_eq!(&got.customer_code, &row.texts[2]);
            prop_assert_eq!(&got.tag, &row.texts[3]);
            prop_assert_eq!(got.coringas.to_vec(), row.texts[4..9].to_vec());
            prop_assert_eq!(got.priority.map(|p| p.as_str()), row.priority);
        }
    }
}

/// The row's free text as Portuguese writes it: only its accented letters, each in the
/// case of the letter before it (upper case after a capital, lower after a small
/// letter), and no cedilla or tilde before a letter Portuguese never puts after them.
fn portuguese(mut row: GeneratedRow) -> GeneratedRow {
    const LETTERS: &str = "áàâãéêíóôõúüç";
    for text in row.texts.iter_mut().flatten() {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        for (i, &c) in chars.iter().enumerate() {
            if c.is_ascii() {
                out.push(c);
                continue;
            }
            let lower = c.to_lowercase().next().unwrap_or(c);
            let mut letter = if LETTERS.contains(lower) { lower } else { 'é' };
            let next = chars.get(i + 1).copied().filter(char::is_ascii_alphabetic);
            let allowed = match letter {
                'ç' => "aou",
                'ã' => "oes",
                'õ' => "es",
                _ => "abcdefghijklmnopqrstuvwxyz",
            };
            if next.is_some_and(|n| !allowed.contains(n.to_ascii_lowercase())) {
                letter = 'é';
            }
            let upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if upper {
                out.extend(letter.to_uppercase());
            } else {
                out.push(letter);
            }
        }
        *text = out;
    }
    row
}

/// A reference for the check digits, written apart from the product's: weights counted
/// from the right, 2 to 9 repeating for CNPJ and 2 upwards for CPF.
fn reference_valid(doc: &str) -> bool {
    let values: Vec<u32> = doc.bytes().map(|b| u32::from(b) - 48).collect();
    let digit = |body: &[u32], cnpj: bool| {
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, v)| {
                v * if cnpj {
                    2 + (i as u32 % 8)
                } else {
                    2 + i as u32
                }
            })
            .sum();
        if sum % 11 < 2 { 0 } else { 11 - sum % 11 }
    };
    let (n, cnpj) = match doc.len() {
        11 if doc.bytes().all(|b| b.is_ascii_digit()) => (9, false),
        14 if doc[12..].bytes().all(|b| b.is_ascii_digit()) => (12, true),
        _ => return false,
    };
    let first = digit(&values[..n], cnpj);
    let second = digit(&values[..n + 1], cnpj);
    first == values[n] && second == values[n + 1] && !doc.bytes().all(|b| b == doc.as_bytes()[0])
}

fn cpf() -> impl Strategy<Value = String> {
    "[0-9]{9}".prop_map(|base| {
        let (a, b) = cpf_check_digits(base.as_bytes());
        format!("{base}{a}{b}")
    })
}

fn cnpj() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9]{12}", "[0-9A-Z]{12}"].prop_map(|base| {
        let (a, b) = cnpj_check_digits(base.as_bytes());
        format!("{base}{a}{b}")
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn every_generated_document_is_accepted(doc in prop_oneof![cpf(), cnpj()]) {
        prop_assume!(!doc.bytes().all(|b| b == doc.as_bytes()[0]));
        prop_assert!(reference_valid(&doc));
        let parsed = Document::parse(&doc).map_err(|e| TestCaseError::fail(format!("{doc}: {e}")))?;
        prop_assert_eq!(parsed.as_str(), doc.as_str());
    }

    /// One changed character is caught — except where the mod-11 rule itself cannot
    /// tell (its remainders 0 and 1 both give digit 0), which the reference confirms.
    #[test]
    fn any_single_changed_character_is_rejected(
        doc in prop_oneof![cpf(), cnpj()],
        position in any::<prop::sample::Index>(),
        replacement in "[0-9A-Z]",
    ) {
        let i = position.index(doc.len());
        let mut changed = doc.clone().into_bytes();
        let new = replacement.as_bytes()[0];
        prop_assume!(changed[i] != new);
        changed[i] = new;
        let changed = String::from_utf8(changed).unwrap();
        prop_assume!(!reference_valid(&changed));
        prop_assert!(Document::parse(&changed).is_err(), "{} accepted (from {})", changed, doc);
    }
}
