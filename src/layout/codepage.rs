//! Which 8-bit code page a file without a BOM that is not UTF-8 was written in. Excel's
//! Save As offers three: "CSV (separado por vírgulas)" writes Windows-1252, "CSV
//! (MS-DOS)" code page 850, "CSV (Macintosh)" Mac Roman. All three agree on ASCII and
//! differ on every accented letter, so the bytes above 127 tell them apart: Portuguese
//! text decodes to Portuguese letters (of the same case as the letters around them) in
//! the right code page, and to symbols, box drawing or letters of the wrong case in the
//! others. When no code page reads clearly, the file is refused rather than guessed.

use encoding_rs::{Encoding, MACINTOSH, WINDOWS_1252};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodePage {
    Windows1252,
    Cp850,
    MacRoman,
}

impl CodePage {
    #[cfg(test)]
    const ALL: [CodePage; 3] = [CodePage::Windows1252, CodePage::Cp850, CodePage::MacRoman];

    /// The characters of bytes 0x80–0xFF (`None`: undefined in this code page).
    pub fn high_half(self) -> [Option<char>; 128] {
        match self {
            CodePage::Windows1252 => table_of(WINDOWS_1252),
            CodePage::MacRoman => table_of(MACINTOSH),
            CodePage::Cp850 => oem_cp::code_table::DECODING_TABLE_CP850.map(Some),
        }
    }
}

fn table_of(encoding: &'static Encoding) -> [Option<char>; 128] {
    std::array::from_fn(|i| {
        let byte = [0x80 + i as u8];
        let (text, had_errors) = encoding.decode_without_bom_handling(&byte);
        let c = text.chars().next()?;
        // encoding_rs maps Windows-1252's five holes to C1 controls.
        (!had_errors && !c.is_control()).then_some(c)
    })
}

/// The accented letters Portuguese is written with (and the ordinal indicators).
fn is_portuguese(c: char) -> bool {
    "áàâãéêíóôõúüçÁÀÂÃÉÊÍÓÔÕÚÜÇºª".contains(c)
}

/// Punctuation a text may carry in any of the code pages (quotes a word processor
/// curled, dashes, the euro, degrees): neither evidence for nor against one.
fn is_common_punctuation(c: char) -> bool {
    "“”‘’–—…•€°§«»¡¿·©®¹²³½¼¾ ".contains(c)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Around {
    /// ASCII letters on both sides, all upper case.
    Upper,
    /// ASCII letters on both sides, all lower case.
    Lower,
    Other,
}

fn around(left: Option<u8>, right: Option<u8>) -> Around {
    match (left, right) {
        (Some(l), Some(r)) if l.is_ascii_uppercase() && r.is_ascii_uppercase() => Around::Upper,
        (Some(l), Some(r)) if l.is_ascii_lowercase() && r.is_ascii_lowercase() => Around::Lower,
        _ => Around::Other,
    }
}

/// The letters that may follow `c` in a Portuguese word (`None`: any). A cedilla comes
/// before a, o, u; a tilde's vowel before o, e or a final s.
fn may_be_followed_by(c: char) -> Option<&'static [u8]> {
    match c {
        'ç' | 'Ç' => Some(b"aou"),
        'ã' | 'Ã' => Some(b"oes"),
        'õ' | 'Õ' => Some(b"es"),
        _ => None,
    }
}

/// Buckets of the byte after a high byte: 0–25 an ASCII letter (either case), 26 other.
const NEXT_BUCKETS: usize = 27;

fn next_bucket(next: Option<u8>) -> usize {
    match next {
        Some(b) if b.is_ascii_alphabetic() => usize::from(b.to_ascii_lowercase() - b'a'),
        _ => NEXT_BUCKETS - 1,
    }
}

/// How often each byte above 127 occurs, by the case of the letters around it and the
/// letter after it. Fed the file in chunks of any size.
#[derive(Debug, Clone)]
pub(crate) struct HighBytes {
    /// By byte, by `Around`, by `next_bucket`.
    counts: Vec<[[u64; NEXT_BUCKETS]; 3]>,
    /// The last two bytes of the previous chunk (context across chunk boundaries).
    before: [Option<u8>; 2],
    total: u64,
}

impl Default for HighBytes {
    fn default() -> Self {
        HighBytes {
            counts: vec![[[0; NEXT_BUCKETS]; 3]; 128],
            before: [None, None],
            total: 0,
        }
    }
}

impl HighBytes {
    pub fn feed(&mut self, chunk: &[u8]) {
        // Each byte is judged when its right-hand neighbour is known: the byte before
        // last of the stream so far, with its neighbours.
        for &b in chunk {
            self.judge(Some(b));
            self.before = [self.before[1], Some(b)];
        }
    }

    /// The stream ended: judge its last byte.
    pub fn finish(&mut self) {
        self.judge(None);
        self.before = [self.before[1], None];
    }

    fn judge(&mut self, right: Option<u8>) {
        let Some(middle) = self.before[1] else { return };
        if middle < 0x80 {
            return;
        }
        let next = next_bucket(right);
        let left = self.before[0].filter(u8::is_ascii_alphabetic);
        let right = right.filter(u8::is_ascii_alphabetic);
        let slot = match around(left, right) {
            Around::Upper => 0,
            Around::Lower => 1,
            Around::Other => 2,
        };
        self.counts[usize::from(middle - 0x80)][slot][next] += 1;
        self.total += 1;
    }

    /// How well `page` reads these bytes: Portuguese letters of the right case count
    /// for it, symbols, undefined bytes and letters of the wrong case against it.
    fn score(&self, page: CodePage) -> Score {
        let table = page.high_half();
        let mut score = Score::default();
        for (i, [upper, lower, other]) in self.counts.iter().enumerate() {
            let sum = |buckets: &[u64; NEXT_BUCKETS]| buckets.iter().sum::<u64>();
            let (upper_n, lower_n) = (sum(upper), sum(lower));
            let n = upper_n + lower_n + sum(other);
            if n == 0 {
                continue;
            }
            match table[i] {
                Some(c) if c.is_alphabetic() => {
                    let wrong_case = if c.is_uppercase() {
                        lower_n
                    } else if c.is_lowercase() {
                        upper_n
                    } else {
                        0
                    };
                    // Followed by a letter Portuguese never puts there.
                    let wrong_next: u64 = may_be_followed_by(c).map_or(0, |allowed| {
                        (0..26)
                            .filter(|l| !allowed.contains(&(b'a' + *l as u8)))
                            .map(|l| upper[l] + lower[l] + other[l])
                            .sum()
                    });
                    let wrong = (wrong_case + wrong_next).min(n);
                    score.against += wrong;
                    if is_portuguese(c) {
                        score.for_it += n - wrong;
                    }
                }
                Some(c) if is_common_punctuation(c) => {}
                _ => {
                    score.against += n;
                    score.garbage += n;
                }
            }
        }
        score
    }

    /// The code page these bytes were written in, or `None` when no code page reads
    /// them clearly. Windows-1252 (what Excel pt-BR writes by default) unless another
    /// reads them clearly better; refused when neither is so and Windows-1252 reads
    /// symbols or undefined bytes in more than 1 in 20 of them.
    pub fn code_page(&self) -> Option<CodePage> {
        if self.total == 0 {
            return Some(CodePage::Windows1252);
        }
        let windows = self.score(CodePage::Windows1252);
        let other = [CodePage::Cp850, CodePage::MacRoman]
            .into_iter()
            .map(|page| (page, self.score(page)))
            .filter(|(_, s)| s.clear() && s.net() > windows.net())
            .max_by_key(|(_, s)| s.net());
        if let Some((page, _)) = other {
            return Some(page);
        }
        let plausible = windows.garbage * 20 <= self.total && windows.net() >= 0;
        plausible.then_some(CodePage::Windows1252)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Score {
    /// Bytes read as Portuguese letters, where Portuguese puts them.
    for_it: u64,
    /// Bytes read as letters of the wrong case, or before a letter Portuguese never
    /// puts there, plus `garbage`.
    against: u64,
    /// Bytes read as undefined, control or symbols no text carries.
    garbage: u64,
}

impl Score {
    fn net(self) -> i64 {
        self.for_it as i64 - 2 * self.against as i64
    }

    /// Evidence for, and little against it (under 1 in 20).
    fn clear(self) -> bool {
        self.for_it > 0 && self.against * 20 <= self.for_it
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANGRAM: &str = "Conceição, João, Ângela, Estêvão, Inês, Úrsula, Sebastião, Lúcia, \
        Antônio, Açaí, pão, mãe, avó, avô, ação, você, Gonçalves, à, à-toa, Müller, \
        CONCEIÇÃO JOÃO ÂNGELA ESTÊVÃO INÊS ÚRSULA SEBASTIÃO LÚCIA ANTÔNIO AÇAÍ PÃO MÃE AVÓ \
        AVÔ AÇÃO VOCÊ GONÇALVES À MÜLLER ÉDEN ÍRIS ÓRION ÕES Õ 1º 2ª";

    fn encode(text: &str, page: CodePage) -> Vec<u8> {
        let table = page.high_half();
        text.chars()
            .map(|c| {
                if c.is_ascii() {
                    c as u8
                } else {
                    0x80 + table.iter().position(|t| *t == Some(c)).expect("encodable") as u8
                }
            })
            .collect()
    }

    fn detect(bytes: &[u8], chunk: usize) -> Option<CodePage> {
        let mut stats = HighBytes::default();
        for part in bytes.chunks(chunk) {
            stats.feed(part);
        }
        stats.finish();
        stats.code_page()
    }

    #[test]
    fn each_code_page_is_told_from_portuguese_text() {
        for page in CodePage::ALL {
            let bytes = encode(PANGRAM, page);
            for chunk in [1, 2, 7, 4096] {
                assert_eq!(
                    detect(&bytes, chunk),
                    Some(page),
                    "{page:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn a_single_name_in_capitals_or_in_lower_case_is_enough() {
        for text in [
            "JOÃO DA CONCEIÇÃO",
            "joão da conceição",
            "Sebastião",
            "GONÇALVES",
        ] {
            for page in CodePage::ALL {
                assert_eq!(
                    detect(&encode(text, page), 4096),
                    Some(page),
                    "{text} {page:?}"
                );
            }
        }
    }

    #[test]
    fn bytes_that_read_as_no_language_are_refused() {
        let junk: Vec<u8> = (0x80..=0xFFu8).collect();
        assert_eq!(detect(&junk, 4096), None);
        // Box drawing and symbols between letters, whichever the reading.
        assert_eq!(detect(b"PRE\xb1O \xb0\xb1\xb2 \xd7", 4096), None);
    }

    #[test]
    fn letters_of_other_languages_stay_windows_1252() {
        // "Müller", "Ärzte": letters, nothing against Windows-1252, no clear rival.
        assert_eq!(
            detect(
                &encode("M\u{fc}ller \u{c4}rzte", CodePage::Windows1252),
                4096
            ),
            Some(CodePage::Windows1252)
        );
    }

    #[test]
    fn ascii_is_windows_1252() {
        assert_eq!(
            detect(b"TELEFONE;11987654321", 4096),
            Some(CodePage::Windows1252)
        );
    }
}
