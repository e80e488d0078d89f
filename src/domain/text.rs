//! Text folding for comparisons that ignore case and accents.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Trimmed, accents removed, upper-cased: `" Média "` → `"MEDIA"`.
pub fn fold(text: &str) -> String {
    text.trim()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect()
}

/// How text is compared in searches: accents removed, lower case (`"Cobrança"` and
/// `"COBRANCA"` both give `"cobranca"`).
pub fn search_key(text: &str) -> String {
    fold(text).to_lowercase()
}

/// Longest name a person (a user of the platform) may have.
pub const MAX_PERSON_NAME_CHARS: usize = 100;

/// A user's name as typed: spaces collapsed, present and not too long; the error is the
/// pt-BR message for the field.
pub fn person_name(raw: &str) -> Result<String, &'static str> {
    let name = collapse_spaces(raw);
    if name.is_empty() {
        Err(crate::messages::NAME_REQUIRED)
    } else if name.chars().count() > MAX_PERSON_NAME_CHARS {
        Err(crate::messages::NAME_TOO_LONG)
    } else {
        Ok(name)
    }
}

/// Trimmed, with every run of white space (line breaks included) made one space.
pub fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether text holds a control character nobody types: NUL, ESC and the rest of C0,
/// DEL and C1. PostgreSQL refuses NUL outright and the others garble pages and files.
/// Tab and line breaks pass where a field allows several lines (a message).
pub fn has_control_chars(text: &str, multi_line: bool) -> bool {
    text.chars().any(|c| {
        let allowed = multi_line && matches!(c, '\t' | '\n' | '\r');
        !allowed && (c.is_control())
    })
}

/// At most `max` characters of a text, with `…` when cut: long messages stay readable
/// in a list.
pub fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Characters that are invisible and mean nothing in a value: the byte-order mark and the
/// zero-width ones a copy from a web page or a PDF brings along.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}'
    )
}

/// The text without [`is_invisible`] characters.
pub fn strip_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_invisible) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !is_invisible(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_told_apart_from_line_breaks() {
        assert!(has_control_chars("a\0b", true));
        assert!(has_control_chars("\u{1b}[31m", true));
        assert!(has_control_chars("x\u{7f}", false));
        assert!(has_control_chars("x\u{85}", false));
        assert!(!has_control_chars("linha 1\r\nlinha 2\tfim", true));
        assert!(has_control_chars("linha 1\nlinha 2", false));
        assert!(!has_control_chars("João — ação ✓", false));
    }

    #[test]
    fn excerpts_cut_long_texts_only() {
        assert_eq!(excerpt("olá", 5), "olá");
        assert_eq!(excerpt("ação rápida", 4), "ação…");
    }

    #[test]
    fn invisible_characters_are_stripped() {
        assert_eq!(strip_invisible("\u{feff}TELEFONE"), "TELEFONE");
        assert_eq!(strip_invisible("Ana\u{200b} Lima"), "Ana Lima");
        assert_eq!(strip_invisible("Ana"), "Ana");
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold(" Média "), "MEDIA");
        assert_eq!(fold("Conceição"), "CONCEICAO");
        assert_eq!(fold("ÂNGELA"), "ANGELA");
    }

    #[test]
    fn collapses_spaces() {
        assert_eq!(collapse_spaces("  Ana \t\n Lima "), "Ana Lima");
        assert_eq!(collapse_spaces("   "), "");
    }
}
