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

/// Trimmed, with every run of white space (line breaks included) made one space.
pub fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
