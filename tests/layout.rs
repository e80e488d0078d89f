//! The file contract on real files: every fixture ends exactly as PRODUCT.md says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engajar::domain::Priority;
use engajar::layout::{
    self, FileErrorCode, Format, LayoutRow, Limits, RejectedRow, Report, RowOutcome,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Read {
    report: Report,
    valid: Vec<LayoutRow>,
    rejected: Vec<RejectedRow>,
}

fn read(name: &str) -> Read {
    read_with(name, &Limits::default())
}

fn read_with(name: &str, limits: &Limits) -> Read {
    let mut valid = Vec::new();
    let mut rejected = Vec::new();
    let report = layout::scan::<_, ()>(&fixture(name), name, limits, |row| {
        match row {
            RowOutcome::Valid(r) => valid.push(r),
            RowOutcome::Rejected(r) => rejected.push(r),
        }
        Ok(())
    })
    .unwrap();
    Read {
        report,
        valid,
        rejected,
    }
}

fn file_errors(report: &Report) -> Vec<(Option<u64>, Option<&str>, &str)> {
    report
        .file_errors
        .iter()
        .map(|e| (e.line, e.column, e.code.as_str()))
        .collect()
}

#[test]
fn file_level_errors_are_all_reported_with_line_column_and_code() {
    type Expected = &'static [(Option<u64>, Option<&'static str>, &'static str)];
    let cases: &[(&str, Expected)] = &[
        (
            "file_level_errors.csv",
            &[
                (Some(3), Some("TIPO_DE_REGISTRO"), "key_missing"),
                (Some(4), Some("VALOR_DO_REGISTRO"), "key_missing"),
                (Some(5), Some("TIPO_DE_REGISTRO"), "record_type"),
                (Some(6), Some("NOME_CLIENTE"), "formula"),
                (Some(7), None, "extra_content"),
            ],
        ),
        ("extra_column.csv", &[(Some(1), None, "column_count")]),
        ("missing_column.csv", &[(Some(1), None, "column_count")]),
        (
            "swapped_columns.csv",
            &[
                (Some(1), Some("NOME_CLIENTE"), "header"),
                (Some(1), Some("CPFCNPJ"), "header"),
            ],
        ),
        ("header_only.csv", &[(None, None, "empty")]),
        ("empty.csv", &[(None, None, "empty")]),
        ("blank_lines_only.csv", &[(None, None, "empty")]),
        ("unclosed_quote.csv", &[(Some(3), None, "unreadable")]),
        ("image_renamed.csv", &[(None, None, "unreadable")]),
        ("binary_junk.csv", &[(Some(2), None, "unreadable")]),
        ("text_named_xlsx.xlsx", &[(None, None, "unreadable")]),
        (
            "workbook_two_sheets.xlsx",
            &[(None, None, "multiple_sheets")],
        ),
        (
            "formula.xlsx",
            &[(Some(3), Some("NOME_CLIENTE"), "formula")],
        ),
        ("extra_content.xlsx", &[(Some(2), None, "extra_content")]),
    ];
    for (name, expected) in cases {
        let read = read(name);
        assert_eq!(file_errors(&read.report), expected.to_vec(), "{name}");
        assert_eq!(
            read.report.file_error_total,
            expected.len() as u64,
            "{name}"
        );
        assert!(!read.report.is_importable(), "{name}");
        for e in &read.report.file_errors {
            assert!(!e.message.is_empty(), "{name}: every error explains itself");
        }
    }
}

#[test]
fn error_messages_are_pt_br_and_quote_the_value() {
    let read = read("file_level_errors.csv");
    let formula = &read.report.file_errors[3];
    assert_eq!(formula.value.as_deref(), Some("=HYPERLINK(\"http://x\")"));
    assert!(formula.message.contains("fórmula"), "{}", formula.message);
    let record_type = &read.report.file_errors[2];
    assert!(
        record_type.message.contains("\"FAX\""),
        "{}",
        record_type.message
    );
    let unclosed = read_unclosed();
    assert!(unclosed.contains("aspas"), "{unclosed}");
    let png = &self::read("image_renamed.csv").report.file_errors[0].message;
    assert!(png.contains("imagem PNG"), "{png}");
}

fn read_unclosed() -> String {
    read("unclosed_quote.csv").report.file_errors[0]
        .message
        .clone()
}

#[test]
fn row_level_errors_reject_only_their_row() {
    type Rejections = &'static [(u64, &'static str)];
    let cases: &[(&str, Rejections, usize)] = &[
        (
            "row_level_errors.csv",
            &[
                (3, "scientific_notation"),
                (4, "invalid_email"),
                (5, "invalid_document"),
                (6, "invalid_priority"),
                (7, "invalid_phone"),
            ],
            1,
        ),
        (
            "row_errors_all_kinds.csv",
            &[
                (2, "scientific_notation"),
                (3, "scientific_notation"),
                (4, "invalid_phone"),
                (5, "invalid_email"),
                (6, "invalid_document"),
                (7, "invalid_document"),
                (8, "invalid_priority"),
            ],
            1,
        ),
    ];
    for (name, expected, valid) in cases {
        let read = read(name);
        assert!(
            read.report.is_importable(),
            "{name}: {:?}",
            read.report.file_errors
        );
        let got: Vec<(u64, &str)> = read
            .rejected
            .iter()
            .map(|r| (r.line, r.code().as_str()))
            .collect();
        assert_eq!(got, expected.to_vec(), "{name}");
        assert_eq!(read.valid.len(), *valid, "{name}");
        assert_eq!(read.report.rejected_rows, expected.len() as u64);
        assert_eq!(read.report.data_rows, (expected.len() + valid) as u64);
    }
    let read = read("row_errors_all_kinds.csv");
    let scientific = &read.rejected[0];
    assert!(
        scientific.message().contains("notação científica"),
        "{}",
        scientific.message()
    );
    assert_eq!(
        scientific.cells.len(),
        13,
        "the row as it was, for the ERRO file"
    );
    assert_eq!(scientific.cells[1], "5,51199E+12");
    assert_eq!(read.rejected[1].errors[0].column, "CPFCNPJ");
    // The alphanumeric CNPJ and a lower-case priority are fine.
    let good = &read.valid[0];
    assert_eq!(good.document.as_ref().unwrap().as_str(), "12ABC34501DE35");
    assert_eq!(good.priority, Some(Priority::Alta));
}

#[test]
fn every_encoding_and_separator_reads_the_same_rows_with_accents_intact() {
    let reference = read("excel_ptbr_windows1252.csv");
    assert_eq!(reference.report.format, Some(Format::Csv));
    assert_eq!(reference.valid.len(), 4);
    assert_eq!(
        reference.valid[0].name.as_deref(),
        Some("FRANCISCA GONÇALVES")
    );
    assert_eq!(reference.valid[2].name.as_deref(), Some("SEBASTIÃO LIMA"));
    assert_eq!(
        reference.valid[2].message.as_deref(),
        Some("Sua fatura vence amanhã")
    );
    for name in [
        "excel_utf8_bom_comma.csv",
        "excel_unicode_text.txt",
        "utf16be_tab.txt",
        "utf8_tab_lf.txt",
    ] {
        let other = read(name);
        assert!(
            other.report.is_importable(),
            "{name}: {:?}",
            other.report.file_errors
        );
        let strip = |rows: &[LayoutRow]| {
            rows.iter()
                .map(|r| LayoutRow {
                    line: 0,
                    ..r.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&other.valid), strip(&reference.valid), "{name}");
    }
}

#[test]
fn excel_ms_dos_and_macintosh_csv_keep_every_accent() {
    let reference = read("accents_utf8.csv");
    assert!(reference.report.is_importable());
    assert_eq!(reference.valid.len(), 5);
    assert_eq!(
        reference.valid[0].name.as_deref(),
        Some("JOÃO DA CONCEIÇÃO")
    );
    for name in ["accents_cp850_msdos.csv", "accents_macroman.csv"] {
        let other = read(name);
        assert!(
            other.report.is_importable(),
            "{name}: {:?}",
            other.report.file_errors
        );
        assert_eq!(other.report.data_rows, 5, "{name}");
        for (got, want) in other.valid.iter().zip(&reference.valid) {
            assert_eq!(
                got.line, want.line,
                "{name}: line numbers (bare CR lines too)"
            );
            assert_eq!(got.name, want.name, "{name}");
            assert_eq!(got.message, want.message, "{name}");
            assert_eq!(got.tag, want.tag, "{name}");
            assert_eq!(got.coringas, want.coringas, "{name}");
        }
    }
}

#[test]
fn text_in_no_code_page_that_reads_clearly_is_refused_naming_the_fix() {
    let read = read("unknown_encoding.csv");
    assert!(!read.report.is_importable());
    let error = &read.report.file_errors[0];
    assert_eq!(error.code.as_str(), "encoding");
    assert!(error.message.contains("CSV UTF-8"), "{}", error.message);
    assert!(read.valid.is_empty() && read.rejected.is_empty());
}

#[test]
fn headers_as_people_retype_them_still_match() {
    let read = read("header_variants.csv");
    assert!(read.report.is_importable(), "{:?}", read.report.file_errors);
    assert_eq!(
        read.report.data_rows, 2,
        "blank and separator-only lines are not rows"
    );
    let first = &read.valid[0];
    assert_eq!(first.line, 3);
    assert_eq!(
        first.message.as_deref(),
        Some("Olá, \"Maria\"!\r\nSua fatura vence amanhã.")
    );
    assert_eq!(first.priority, Some(Priority::Media));
    assert_eq!(first.coringas[1].as_deref(), Some("R$ 150,00"));
    let second = &read.valid[1];
    assert_eq!(
        second.line, 7,
        "the physical line, after a quoted line break and blank lines"
    );
    assert_eq!(second.channel.value(), "maria.conceicao@exemplo.com.br");
}

#[test]
fn spreadsheets_give_cells_as_people_typed_them() {
    let read = read("numeric_cells.xlsx");
    assert_eq!(read.report.format, Some(Format::Xlsx));
    assert!(read.report.is_importable(), "{:?}", read.report.file_errors);
    let first = &read.valid[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.channel.value(), "+5511987654321");
    assert_eq!(first.document.as_ref().unwrap().as_str(), "04252011000110");
    assert_eq!(first.customer_code.as_deref(), Some("10"));
    assert_eq!(first.coringas[0].as_deref(), Some("28/11/2026"));
    assert_eq!(first.coringas[1].as_deref(), Some("VERDADEIRO"));
    assert_eq!(first.coringas[2].as_deref(), Some("150,5"));
    let second = &read.valid[1];
    assert_eq!(second.channel.value(), "+558532345678");
    assert_eq!(second.document.as_ref().unwrap().as_str(), "00123456797");
    assert_eq!(second.coringas[0], None, "empty cells are empty");
}

#[test]
fn a_renamed_spreadsheet_is_read_by_its_content_not_its_name() {
    let path = fixture("spreadsheet_libreoffice.xlsx");
    let report = layout::validate(&path, "publico.csv", &Limits::default());
    assert_eq!(report.format, Some(Format::Xlsx));
    assert!(report.is_importable());
    assert_eq!(report.valid_rows, 3);
    let ods = layout::validate(
        &fixture("spreadsheet_libreoffice.ods"),
        "upload",
        &Limits::default(),
    );
    assert_eq!(ods.format, Some(Format::Ods));
    let xls = layout::validate(
        &fixture("spreadsheet_libreoffice.xls"),
        "x.txt",
        &Limits::default(),
    );
    assert_eq!(xls.format, Some(Format::Xls));
}

#[test]
fn spreadsheets_over_the_cell_limit_are_too_large() {
    let limits = Limits {
        max_sheet_cells: 20,
        ..Limits::default()
    };
    for name in [
        "spreadsheet_libreoffice.xlsx",
        "spreadsheet_libreoffice.xls",
        "spreadsheet_libreoffice.ods",
    ] {
        let read = read_with(name, &limits);
        assert!(
            read.report.has_code(FileErrorCode::TooLarge),
            "{name}: {:?}",
            read.report.file_errors
        );
        assert!(!read.report.is_importable());
    }
}

#[test]
fn at_most_the_first_errors_are_listed_but_all_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muitos.csv");
    let mut text = layout::COLUMNS.join(";") + "\r\n";
    for i in 0..1_500 {
        text += &format!(";1198700{i:04};;;;;;;;;;;\r\n");
    }
    text += "TELEFONE;30987000000;;;;;;;;;;;\r\n";
    std::fs::write(&path, text).unwrap();
    let limits = Limits::default();
    let mut rejected = 0;
    let report = layout::scan::<_, ()>(&path, "muitos.csv", &limits, |row| {
        if let RowOutcome::Rejected(_) = row {
            rejected += 1;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(report.file_errors.len(), 1_000);
    assert_eq!(report.file_error_total, 1_500);
    assert_eq!(report.file_errors[999].line, Some(1_001));
    assert_eq!(report.data_rows, 1_501);
    assert_eq!(rejected, 1, "rows without file errors are still checked");
}

#[test]
fn scanning_stops_when_the_consumer_fails() {
    let mut seen = 0;
    let result = layout::scan(
        &fixture("excel_ptbr_windows1252.csv"),
        "a.csv",
        &Limits::default(),
        |_| {
            seen += 1;
            if seen == 2 {
                Err("banco indisponível")
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(result.unwrap_err(), "banco indisponível");
    assert_eq!(seen, 2);
}

/// `expected.json` beside the shared samples says what each must produce; the contacts
/// part is checked here row by row (merging into contacts is the import's job).
#[test]
fn the_shared_samples_end_as_expected_json_says() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("samples_expected.json")).unwrap())
            .unwrap();
    let expected = expected.as_object().unwrap();
    let resolve = |name: &str| -> &serde_json::Value {
        match &expected[name] {
            serde_json::Value::String(s) => {
                &expected[s.trim_start_matches("same outcome as ").trim()]
            }
            other => other,
        }
    };
    for name in expected.keys() {
        let want = resolve(name);
        let read = read(name);
        match want["status"].as_str().unwrap() {
            "rejected" => {
                assert!(!read.report.is_importable(), "{name}");
                let errors = want["errors"].as_array().unwrap();
                assert_eq!(read.report.file_errors.len(), errors.len(), "{name}");
                for (got, want) in read.report.file_errors.iter().zip(errors) {
                    assert_eq!(got.code.as_str(), want["code"].as_str().unwrap(), "{name}");
                    if let Some(line) = want.get("line") {
                        assert_eq!(got.line, line.as_u64(), "{name}");
                    }
                    if let Some(column) = want.get("column") {
                        assert_eq!(got.column, column.as_str(), "{name}");
                    }
                }
            }
            "imported" => {
                assert!(
                    read.report.is_importable(),
                    "{name}: {:?}",
                    read.report.file_errors
                );
                let counts = &want["counts"];
                assert_eq!(
                    read.report.data_rows,
                    counts["rows"].as_u64().unwrap(),
                    "{name}"
                );
                assert_eq!(
                    read.report.valid_rows,
                    counts["imported"].as_u64().unwrap(),
                    "{name}"
                );
                assert_eq!(
                    read.report.rejected_rows,
                    counts["rejected"].as_u64().unwrap(),
                    "{name}"
                );
                if let Some(rows) = want.get("rejected_rows") {
                    let got: Vec<(u64, &str)> = read
                        .rejected
                        .iter()
                        .map(|r| (r.line, r.code().as_str()))
                        .collect();
                    let want: Vec<(u64, &str)> = rows
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| (r["line"].as_u64().unwrap(), r["code"].as_str().unwrap()))
                        .collect();
                    assert_eq!(got, want, "{name}");
                }
                if let Some(contacts) = want.get("contacts") {
                    check_contacts(name, &read.valid, contacts.as_array().unwrap());
                }
            }
            other => panic!("unknown status {other}"),
        }
    }
}

/// Each expected contact's channels are rows whose values, merged in file order (later
/// non-empty cells win; no priority means BAIXA), are the contact's.
fn check_contacts(name: &str, rows: &[LayoutRow], contacts: &[serde_json::Value]) {
    let by_channel: BTreeMap<&str, &LayoutRow> =
        rows.iter().map(|r| (r.channel.value(), r)).collect();
    let all_channels: usize = contacts
        .iter()
        .map(|c| c["channels"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        all_channels,
        rows.len(),
        "{name}: every valid row is one expected channel"
    );
    for contact in contacts {
        let mine: Vec<&LayoutRow> = contact["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let c = c.as_str().unwrap();
                *by_channel
                    .get(c)
                    .unwrap_or_else(|| panic!("{name}: no row for channel {c}"))
            })
            .collect();
        let merged =
            |f: &dyn Fn(&LayoutRow) -> Option<String>| mine.iter().filter_map(|r| f(r)).last();
        if let Some(v) = contact.get("name") {
            assert_eq!(merged(&|r| r.name.clone()).as_deref(), v.as_str(), "{name}");
        }
        if let Some(v) = contact.get("document") {
            assert_eq!(
                merged(&|r| r.document.as_ref().map(|d| d.as_str().to_string())).as_deref(),
                v.as_str(),
                "{name}"
            );
        }
        if let Some(v) = contact.get("customer_code") {
            assert_eq!(
                merged(&|r| r.customer_code.clone()).as_deref(),
                v.as_str(),
                "{name}"
            );
        }
        if let Some(v) = contact.get("priority") {
            let priority = merged(&|r| r.priority.map(|p| p.as_str().to_string()))
                .unwrap_or_else(|| "BAIXA".into());
            assert_eq!(Some(priority.as_str()), v.as_str(), "{name}");
        }
        if let Some(tags) = contact.get("tags") {
            let got: Vec<String> = mine
                .iter()
                .filter_map(|r| r.tag.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let want: Vec<String> = tags
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }
}

#[test]
fn the_downloadable_layout_imports_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout.csv");
    std::fs::write(&path, layout::template_csv()).unwrap();
    let mut rows = Vec::new();
    let report = layout::scan::<_, ()>(&path, "layout.csv", &Limits::default(), |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    assert!(report.is_importable(), "{:?}", report.file_errors);
    assert_eq!(report.rejected_rows, 0, "{:?}", report.rejected);
    assert!(report.valid_rows >= 3);
    assert!(rows.iter().all(|r| matches!(r, RowOutcome::Valid(_))));
}

/// Inputs the fuzzer (`fuzz/`) found that once took the reader down (a panic, gigabytes
/// allocated): each must now end, at once, as a report refusing the file.
#[test]
fn fuzzer_findings_are_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let report = layout::validate(&path, &name, &Limits::default());
        assert!(
            report.has_code(FileErrorCode::Unreadable) || report.has_code(FileErrorCode::TooLarge),
            "{name}: {:?}",
            report.file_errors
        );
        assert!(!report.is_importable(), "{name}");
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn merged_cells_fail_the_file_with_their_range() {
    let read = read("merged_cells.xlsx");
    assert_eq!(
        file_errors(&read.report),
        vec![(Some(2), None, "merged_cells")]
    );
    assert_eq!(read.report.file_errors[0].value.as_deref(), Some("C2:C3"));
    assert!(!read.report.is_importable());
}

#[test]
fn excel_error_cells_reject_their_row() {
    let read = read("error_cells.xlsx");
    assert!(read.report.is_importable());
    let codes: Vec<(u64, &str, &str)> = read
        .rejected
        .iter()
        .map(|r| (r.line, r.code().as_str(), r.errors[0].column))
        .collect();
    assert_eq!(
        codes,
        vec![
            (2, "cell_error", "NOME_CLIENTE"),
            (3, "cell_error", "CODCLIENTE")
        ]
    );
    assert_eq!(read.valid.len(), 1);
    assert_eq!(read.valid[0].name.as_deref(), Some("Caio"));
}

#[test]
fn excel_errors_exported_to_csv_reject_their_row_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("erros.csv");
    std::fs::write(
        &path,
        "TIPO_DE_REGISTRO;VALOR_DO_REGISTRO;MENSAGEM;NOME_CLIENTE;CPFCNPJ;CODCLIENTE;TAG;CORINGA1;CORINGA2;CORINGA3;CORINGA4;CORINGA5;PRIORIDADE\r\n\
         TELEFONE;11987654321;;#DIV/0!;;;;;;;;;\r\n\
         TELEFONE;11987654322;;Bia;;;;#VALOR!;;;;;\r\n\
         TELEFONE;11987654323;;#hashtag;;;;;;;;;\r\n",
    )
    .unwrap();
    let mut codes = Vec::new();
    layout::scan::<_, ()>(&path, "erros.csv", &Limits::default(), |row| {
        if let RowOutcome::Rejected(r) = row {
            codes.push((r.line, r.code().as_str()));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(codes, vec![(2, "cell_error"), (3, "cell_error")]);
}
