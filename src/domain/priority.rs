//! Queue priority of a contact.

use std::fmt;

use crate::domain::text::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Baixa,
    Media,
    Alta,
}

impl Priority {
    /// Case- and accent-insensitive: `média`, `Media` and `MEDIA` are one priority.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match fold(raw).as_str() {
            "BAIXA" => Ok(Priority::Baixa),
            "MEDIA" => Ok(Priority::Media),
            "ALTA" => Ok(Priority::Alta),
            _ => Err(format!(
                "prioridade {:?} não existe: use BAIXA, MEDIA ou ALTA",
                raw.trim()
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Baixa => "BAIXA",
            Priority::Media => "MEDIA",
            Priority::Alta => "ALTA",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::Baixa => "Baixa",
            Priority::Media => "Média",
            Priority::Alta => "Alta",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_case_accents_and_spaces() {
        for (raw, p) in [
            ("BAIXA", Priority::Baixa),
            ("baixa", Priority::Baixa),
            ("média", Priority::Media),
            (" MÉDIA ", Priority::Media),
            ("Media", Priority::Media),
            ("ALTA", Priority::Alta),
        ] {
            assert_eq!(Priority::parse(raw), Ok(p), "{raw}");
        }
        for bad in ["MAXIMA", "", "AL TA", "1"] {
            assert!(Priority::parse(bad).is_err(), "{bad}");
        }
    }
}
