//! The rejected rows as a layout file plus an `ERRO` column, to be fixed and imported
//! again; and the rule every CSV the app writes follows against formula injection.

use crate::layout::COLUMNS;

/// A cell a spreadsheet would compute gets a leading `'`: every cell starting with
/// `= + - @` (Excel computes `-1-1` and `+55 (11) 9` too), a tab or a carriage return.
/// The import takes that exact prefix off again, so a file round-trips to its values.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
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
    fn every_cell_a_spreadsheet_would_compute_is_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("-1-1"), "'-1-1");
        assert_eq!(neutralise("+55 (11) 9"), "'+55 (11) 9");
        assert_eq!(neutralise("+5511987654321"), "'+5511987654321");
        assert_eq!(neutralise("Maria"), "Maria");
        assert_eq!(neutralise(""), "");
    }
}
