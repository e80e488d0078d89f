//! Matching a file's header to the layout, forgiving what Excel users change by accident.

use super::COLUMNS;
use super::error::FileError;
use crate::domain::text::fold;

/// Case, accents, spaces, underscores and punctuation do not matter:
/// `Tipo de Registro`, `CORINGA 1`, `CpfCnpj` and `CPF/CNPJ` all match.
fn key(name: &str) -> String {
    fold(name).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The column the rejected-rows file adds after the layout's; ignored when read back.
pub const ERROR_COLUMN: &str = "ERRO";

/// The header's errors; empty when it matches the layout. A trailing `ERRO` column (a
/// rejected-rows file sent back) is accepted: `with_error_column` tells.
pub(crate) fn check(line: u64, cells: &[String], with_error_column: &mut bool) -> Vec<FileError> {
    let used = cells
        .iter()
        .rposition(|c| !c.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut cells = &cells[..used];
    *with_error_column =
        cells.len() == COLUMNS.len() + 1 && key(&cells[COLUMNS.len()]) == ERROR_COLUMN;
    if *with_error_column {
        cells = &cells[..COLUMNS.len()];
    }
    if cells.len() != COLUMNS.len() {
        let shown: Vec<&str> = cells.iter().map(|c| c.trim()).collect();
        return vec![FileError::column_count(
            line,
            cells.len(),
            &shown.join(" | "),
        )];
    }
    cells
        .iter()
        .zip(COLUMNS)
        .enumerate()
        .filter(|(_, (found, expected))| key(found) != key(expected))
        .map(|(i, (found, expected))| FileError::header(line, i + 1, expected, found.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::FileErrorCode;

    fn cells(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn forgives_case_accents_spaces_and_underscores() {
        let header = cells(&[
            " Tipo de Registro ",
            "valor do registro",
            "Mensagem",
            "Nome Cliente",
            "CPF/CNPJ",
            "CÓD CLIENTE",
            "tag",
            "Coringa 1",
            "CORINGA_2",
            "coringa3",
            "Coringa 4",
            "CORINGA5",
            "Prioridade",
            "",
            "  ",
        ]);
        assert_eq!(check(1, &header, &mut false), vec![]);
    }

    #[test]
    fn counts_columns_before_names() {
        let mut header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        header.push("OBSERVACAO".into());
        let errors = check(1, &header, &mut false);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, FileErrorCode::ColumnCount);
        header.truncate(12);
        assert_eq!(
            check(1, &header, &mut false)[0].code,
            FileErrorCode::ColumnCount
        );
    }

    #[test]
    fn accepts_the_error_column_of_a_rejected_rows_file() {
        let mut header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        header.push("ERRO".into());
        let mut with_error_column = false;
        assert_eq!(check(1, &header, &mut with_error_column), vec![]);
        assert!(with_error_column);
        header[13] = "OBSERVACAO".into();
        assert_eq!(
            check(1, &header, &mut with_error_column)[0].code,
            FileErrorCode::ColumnCount
        );
    }

    #[test]
    fn names_each_column_out_of_place() {
        let mut header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        header.swap(3, 4);
        let errors = check(2, &header, &mut false);
        assert_eq!(errors.len(), 2);
        assert!(
            errors
                .iter()
                .all(|e| e.code == FileErrorCode::Header && e.line == Some(2))
        );
        assert_eq!(errors[0].column, Some("NOME_CLIENTE"));
        assert_eq!(errors[0].value.as_deref(), Some("CPFCNPJ"));
    }
}
