//! How values are written on screen, in one place: phones as Brazilians write them, CPF
//! and CNPJ with their punctuation, counts with `.` between thousands, durations in
//! minutes and seconds, priorities by name. Stored values, CSV, JSON and the command
//! line keep their exact form; only pages go through here (as askama filters, see
//! `filters`).

use crate::domain::Priority;

/// A stored phone (`+5585991234567`) as a Brazilian reads it: `(85) 99123-4567`,
/// `(11) 3456-7890`. Others stay in international format; anything else as it came.
pub fn phone(stored: &str) -> String {
    let Some(national) = stored.strip_prefix("+55") else {
        return stored.to_string();
    };
    if !national.bytes().all(|b| b.is_ascii_digit()) {
        return stored.to_string();
    }
    match national.len() {
        11 => format!(
            "({}) {}-{}",
            &national[..2],
            &national[2..7],
            &national[7..]
        ),
        10 => format!(
            "({}) {}-{}",
            &national[..2],
            &national[2..6],
            &national[6..]
        ),
        _ => stored.to_string(),
    }
}

/// A stored CPF (11 digits) or CNPJ (14 characters, alphanumeric too) with its
/// punctuation: `111.444.777-35`, `11.222.333/0001-81`.
pub fn document(stored: &str) -> String {
    let plain = stored.bytes().all(|b| b.is_ascii_alphanumeric());
    match stored.len() {
        11 if plain => format!(
            "{}.{}.{}-{}",
            &stored[..3],
            &stored[3..6],
            &stored[6..9],
            &stored[9..]
        ),
        14 if plain => format!(
            "{}.{}.{}/{}-{}",
            &stored[..2],
            &stored[2..5],
            &stored[5..8],
            &stored[8..12],
            &stored[12..]
        ),
        _ => stored.to_string(),
    }
}

/// A channel's stored value as shown: phones formatted, e-mails as they are.
pub fn channel(stored: &str) -> String {
    if stored.starts_with('+') {
        phone(stored)
    } else {
        stored.to_string()
    }
}

/// A whole number with `.` between thousands: `1.000.000`, `-12.345`.
pub fn count(number: &str) -> String {
    let (sign, digits) = match number.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", number),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return number.to_string();
    }
    let mut out = String::with_capacity(number.len() + digits.len() / 3);
    out.push_str(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// Seconds as a person says them: `45 s`, `2 min 13 s`, `1 h 05 min`.
pub fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3_599 => match seconds % 60 {
            0 => format!("{} min", seconds / 60),
            s => format!("{} min {s} s", seconds / 60),
        },
        _ => format!("{} h {:02} min", seconds / 3_600, (seconds % 3_600) / 60),
    }
}

/// A stored priority (`ALTA`, `MEDIA`, `BAIXA`) by its name: `Alta`, `Média`, `Baixa`.
pub fn priority(stored: &str) -> String {
    Priority::parse(stored)
        .map(|p| p.label().to_string())
        .unwrap_or_else(|_| stored.to_string())
}

/// A channel kind as stored (`TELEFONE`, `EMAIL`) by its name.
pub fn kind(stored: &str) -> String {
    match stored {
        "TELEFONE" | "phone" => "Telefone".to_string(),
        "EMAIL" | "email" => "E-mail".to_string(),
        other => other.to_string(),
    }
}

/// The same, as askama filters: `{{ n|count }}`, `{{ phone|phone }}`… A template's module
/// brings them in with `use crate::web::display::filters;`.
pub mod filters {
    use std::fmt::Display;

    #[askama::filter_fn]
    pub fn phone(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::phone(&value.to_string()))
    }

    #[askama::filter_fn]
    pub fn document(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::document(&value.to_string()))
    }

    #[askama::filter_fn]
    pub fn channel(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::channel(&value.to_string()))
    }

    #[askama::filter_fn]
    pub fn count(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::count(&value.to_string()))
    }

    #[askama::filter_fn]
    pub fn kind(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::kind(&value.to_string()))
    }

    /// A stored file or row problem code by its pt-BR name.
    #[askama::filter_fn]
    pub fn problem(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(crate::layout::code_label(&value.to_string()).to_string())
    }

    #[askama::filter_fn]
    pub fn priority(value: impl Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::priority(&value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_as_brazilians_write_them() {
        assert_eq!(phone("+5585991234567"), "(85) 99123-4567");
        assert_eq!(phone("+551134567890"), "(11) 3456-7890");
        assert_eq!(phone("+14155550100"), "+14155550100");
        assert_eq!(phone("+55119"), "+55119");
        assert_eq!(channel("ana@x.com.br"), "ana@x.com.br");
        assert_eq!(channel("+5511987654321"), "(11) 98765-4321");
    }

    #[test]
    fn documents_with_their_punctuation() {
        assert_eq!(document("11144477735"), "111.444.777-35");
        assert_eq!(document("11222333000181"), "11.222.333/0001-81");
        assert_eq!(document("12ABC34501DE35"), "12.ABC.345/01DE-35");
        assert_eq!(document("123"), "123");
    }

    #[test]
    fn counts_durations_and_priorities() {
        assert_eq!(count("0"), "0");
        assert_eq!(count("999"), "999");
        assert_eq!(count("1000"), "1.000");
        assert_eq!(count("60000"), "60.000");
        assert_eq!(count("1000000"), "1.000.000");
        assert_eq!(count("-12345"), "-12.345");
        assert_eq!(count("1,5"), "1,5");
        assert_eq!(duration(9), "9 s");
        assert_eq!(duration(133), "2 min 13 s");
        assert_eq!(duration(120), "2 min");
        assert_eq!(duration(3_900), "1 h 05 min");
        assert_eq!(priority("MEDIA"), "Média");
        assert_eq!(priority("ALTA"), "Alta");
        assert_eq!(priority("baixa"), "Baixa");
    }
}
