//! The rejected rows as a layout file plus an `ERRO` column, to be fixed and imported
//! again; and the rule every CSV the app writes follows against formula injection.

use crate::layout::COLUMNS;

/// A cell a spreadsheet would run as a formula gets a leading `'`, which Excel shows as
/// text. Phones written `+55…` survive: a `+` followed by digits and phone punctuation
/// only is a number, not a formula.
pub fn neutralise(cell: &str) -> String {
    let risky = match cell.chars().next() {
        Some('=') | Some('@') | Some('\t') | Some('\r') => true,
        Some('+') | Some('-') => !cell[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-.".contains(c)),
        _ => false,
    };
    if risky {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// Writes the header and each `(cells, error)` row as Excel pt-BR reads it.
pub fn write<W: std::io::Write>(
    out: W,
    rows: impl IntoIterator<Item = (Vec<String>, String)>,
) -> csv::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let mut header: Vec<&str> = COLUMNS.to_vec();
    header.push("ERRO");
    writer.write_record(&header)?;
    for (mut cells, error) in rows {
        cells.resize(COLUMNS.len(), String::new());
        cells.push(error);
        writer.write_record(cells.iter().map(|c| neutralise(c)))?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_phones_are_not() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("+55 (11) 98765-4321"), "+55 (11) 98765-4321");
        assert_eq!(neutralise("Maria"), "Maria");
        assert_eq!(neutralise(""), "");
    }
}
