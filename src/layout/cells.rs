//! Spreadsheet cells as the person typed them: numbers without a trailing `.0` or an
//! exponent, dates and booleans as pt-BR text, empty cells empty.

use calamine::{Data, DataRef, ExcelDateTime};
use chrono::{NaiveDate, NaiveDateTime, Timelike};

/// Integers up to here are exact in an f64 and print as digits.
const EXACT_INTEGER_LIMIT: f64 = 1e15;

pub(crate) fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_INTEGER_LIMIT {
        format!("{f:.0}")
    } else {
        // pt-BR writes decimals with a comma.
        f.to_string().replace('.', ",")
    }
}

fn datetime_text(dt: NaiveDateTime) -> String {
    if dt.time().num_seconds_from_midnight() == 0 {
        dt.format("%d/%m/%Y").to_string()
    } else if dt.date() == NaiveDate::from_ymd_opt(1899, 12, 31).unwrap_or_default()
        || dt.date() == NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()
    {
        dt.format("%H:%M:%S").to_string()
    } else {
        dt.format("%d/%m/%Y %H:%M:%S").to_string()
    }
}

fn excel_datetime_text(dt: &ExcelDateTime) -> String {
    if dt.is_duration() {
        let seconds = (dt.as_f64() * 86_400.0).round() as i64;
        return format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            (seconds / 60) % 60,
            seconds % 60
        );
    }
    match dt.as_datetime() {
        Some(value) => datetime_text(value),
        None => float_text(dt.as_f64()),
    }
}

fn iso_text(iso: &str) -> String {
    if let Ok(dt) = NaiveDateTime::parse_from_str(iso, "%Y-%m-%dT%H:%M:%S") {
        return datetime_text(dt);
    }
    if let Ok(d) = NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        return d.format("%d/%m/%Y").to_string();
    }
    iso.to_string()
}

fn bool_text(b: bool) -> String {
    if b { "VERDADEIRO" } else { "FALSO" }.to_string()
}

pub(crate) fn data_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => bool_text(*b),
        Data::DateTime(dt) => excel_datetime_text(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => iso_text(s),
        Data::Error(e) => e.to_string(),
    }
}

pub(crate) fn data_ref_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => bool_text(*b),
        DataRef::DateTime(dt) => excel_datetime_text(dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => iso_text(s),
        DataRef::Error(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_out_as_typed() {
        assert_eq!(float_text(11987654321.0), "11987654321");
        assert_eq!(float_text(11222333000181.0), "11222333000181");
        assert_eq!(float_text(150.5), "150,5");
        assert_eq!(float_text(0.0), "0");
        assert_eq!(data_text(&Data::Int(10)), "10");
        assert_eq!(data_text(&Data::Bool(true)), "VERDADEIRO");
        assert_eq!(data_text(&Data::Empty), "");
        assert_eq!(
            data_text(&Data::DateTimeIso("2026-11-28".into())),
            "28/11/2026"
        );
    }
}
