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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold(" Média "), "MEDIA");
        assert_eq!(fold("Conceição"), "CONCEICAO");
        assert_eq!(fold("ÂNGELA"), "ANGELA");
    }
}
