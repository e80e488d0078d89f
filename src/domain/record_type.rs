//! The channel of a layout row: TELEFONE or EMAIL.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    Telefone,
    Email,
}

impl RecordType {
    /// Case-insensitive.
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim();
        if value.eq_ignore_ascii_case("TELEFONE") {
            Some(RecordType::Telefone)
        } else if value.eq_ignore_ascii_case("EMAIL") {
            Some(RecordType::Email)
        } else {
            None
        }
    }

    /// The kind of a stored (normalised) channel value: e-mails hold an `@`, phones never.
    pub fn of_stored(value: &str) -> Self {
        if value.contains('@') {
            RecordType::Email
        } else {
            RecordType::Telefone
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Telefone => "TELEFONE",
            RecordType::Email => "EMAIL",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_two_types_in_any_case() {
        assert_eq!(RecordType::parse("TELEFONE"), Some(RecordType::Telefone));
        assert_eq!(RecordType::parse(" telefone "), Some(RecordType::Telefone));
        assert_eq!(RecordType::parse("Email"), Some(RecordType::Email));
        assert_eq!(RecordType::parse("FAX"), None);
        assert_eq!(RecordType::parse("E-MAIL"), None);
        assert_eq!(RecordType::parse(""), None);
    }
}
