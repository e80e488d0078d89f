//! A segment's name, and the key that makes names unique regardless of case and spacing.

use crate::messages;

pub const MAX_SEGMENT_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentName {
    display: String,
    key: String,
}

impl SegmentName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let display = crate::domain::text::collapse_spaces(raw);
        if display.is_empty() {
            return Err(messages::SEGMENT_NAME_REQUIRED);
        }
        if display.chars().count() > MAX_SEGMENT_NAME_CHARS {
            return Err(messages::SEGMENT_NAME_TOO_LONG);
        }
        if display.chars().any(char::is_control) {
            return Err(messages::SEGMENT_NAME_INVALID);
        }
        let key = display.to_lowercase();
        Ok(SegmentName { display, key })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// Lower-cased, single-spaced: "Clientes  VIP" and "clientes vip" are one segment.
    pub fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_spacing_and_case_into_the_key() {
        let a = SegmentName::parse("  Clientes   VIP ").unwrap();
        let b = SegmentName::parse("clientes vip").unwrap();
        assert_eq!(a.as_str(), "Clientes VIP");
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn refuses_empty_long_and_control_names() {
        assert!(SegmentName::parse("   ").is_err());
        assert!(SegmentName::parse(&"a".repeat(101)).is_err());
        assert!(SegmentName::parse("a\u{0}b").is_err());
        assert!(SegmentName::parse("Ação Nordeste").is_ok());
    }
}
