//! A person's values as erasure looks for them: every phone, e-mail, CPF/CNPJ and name
//! they ever had here, normalised by the same parsers the import uses, so a value is
//! found however it was typed (`MARIA@EXEMPLO.COM.BR`, `11 98765-4321`, `111.444.777-35`)
//! and a name only as a whole value or whole words — never as part of another name.

use std::collections::BTreeSet;

use super::text::{collapse_spaces, search_key};
use super::{Document, Email, Phone};

/// What replaces an eliminated value.
pub const ERASED: &str = "[eliminado]";

/// Whether a stored value is what an elimination left in place of one.
pub fn is_erased(value: &str) -> bool {
    value.starts_with(ERASED)
}

/// The values of one person, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonValues {
    pub phones: BTreeSet<String>,
    pub emails: BTreeSet<String>,
    pub documents: BTreeSet<String>,
    /// As `search_key` writes them (lower case, no accents, single spaces).
    names: BTreeSet<String>,
    /// As stored, for the net a database's LIKE can cast (it knows no accents).
    raw_names: BTreeSet<String>,
}

/// Characters a typed phone or document may be written with.
fn numeric_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.' | '/' | ' ' | '\u{a0}')
}

fn email_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c)
}

impl PersonValues {
    /// Adds a channel value (phone or e-mail) in any spelling; false when it is neither.
    pub fn add_channel(&mut self, value: &str) -> bool {
        if let Ok(email) = Email::parse(value) {
            self.emails.insert(email.into_inner());
            true
        } else if let Ok(phone) = Phone::parse(value) {
            self.phones.insert(phone.into_inner());
            true
        } else {
            false
        }
    }

    pub fn add_document(&mut self, value: &str) {
        match Document::parse(value) {
            Ok(d) => self.documents.insert(d.into_inner()),
            Err(_) => self.documents.insert(value.trim().to_uppercase()),
        };
    }

    pub fn add_name(&mut self, name: &str) {
        let key = name_key(name);
        if !key.is_empty() {
            self.names.insert(key);
            self.raw_names.insert(collapse_spaces(name));
        }
    }

    /// Leaves out a value (normalised) that turned out to be someone else's now.
    pub fn forget(&mut self, value: &str) {
        self.phones.remove(value);
        self.emails.remove(value);
        self.documents.remove(value);
    }

    /// Every channel value, normalised as stored.
    pub fn channels(&self) -> impl Iterator<Item = &String> {
        self.phones.iter().chain(self.emails.iter())
    }

    /// For each name, its longest word without accents, in plain lower-case ASCII letters
    /// and digits ("José Silva" gives "silva"; "José" alone, "jose"): a spelling of the
    /// name contains it, give or take the accents (the caller's net must allow for them).
    pub fn name_stems(&self) -> BTreeSet<String> {
        self.names
            .iter()
            .filter_map(|name| {
                name.split(|c: char| !c.is_ascii_alphanumeric())
                    .max_by_key(|w| w.len())
                    .filter(|w| !w.is_empty())
                    .map(str::to_ascii_lowercase)
            })
            .collect()
    }

    /// Whether a whole value (a cell, a typed key) is one of the person's phones, e-mails
    /// or documents.
    pub fn is_key(&self, value: &str) -> bool {
        let value = value.trim();
        if value.is_empty() {
            return false;
        }
        if value.contains('@') {
            return Email::parse(value).is_ok_and(|e| self.emails.contains(e.as_str()));
        }
        Phone::parse(value).is_ok_and(|p| self.phones.contains(p.as_str()))
            || Document::parse(value).is_ok_and(|d| self.documents.contains(d.as_str()))
    }

    /// Whether a whole value is one of the person's values, a name included (compared
    /// without case, accents or extra spaces; never as part of a longer name).
    pub fn is_value(&self, value: &str) -> bool {
        self.is_key(value) || self.names.contains(&name_key(value))
    }

    /// The text with every phone, e-mail and document of the person replaced by
    /// `placeholder` — and, with `names`, every name written as whole words. `None` when
    /// nothing was found.
    pub fn redact(&self, text: &str, placeholder: &str, names: bool) -> Option<String> {
        let mut spans = self.key_spans(text);
        if names {
            spans.extend(self.name_spans(text));
        }
        if spans.is_empty() {
            return None;
        }
        spans.sort();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            if start < at {
                at = at.max(end);
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(placeholder);
            at = end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// Byte spans of the person's e-mails, phones and documents in `text`.
    fn key_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
        // E-mails: around each `@`, as far as an address may reach.
        for (i, (_, c)) in chars.iter().enumerate() {
            if *c != '@' {
                continue;
            }
            let mut start = i;
            while start > 0 && email_char(chars[start - 1].1) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len()
                && (chars[end].1.is_alphanumeric() || "-.".contains(chars[end].1))
            {
                end += 1;
            }
            while end > i + 1 && chars[end - 1].1 == '.' {
                end -= 1;
            }
            let candidate = &text[end_of(start)..end_of(end)];
            if Email::parse(candidate).is_ok_and(|e| self.emails.contains(e.as_str())) {
                spans.push((end_of(start), end_of(end)));
            }
        }
        if self.phones.is_empty() && self.documents.is_empty() {
            return spans;
        }
        // Phones and documents: runs of digits and the signs they are written with, tried
        // piece by piece (a run may hold two values side by side).
        let mut i = 0;
        while i < chars.len() {
            if !numeric_char(chars[i].1) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < chars.len() && numeric_char(chars[j].1) {
                j += 1;
            }
            // Pieces: maximal stretches without spaces, as (first char, past last char).
            let mut pieces: Vec<(usize, usize)> = Vec::new();
            let mut k = i;
            while k < j {
                if matches!(chars[k].1, ' ' | '\u{a0}') {
                    k += 1;
                    continue;
                }
                let mut s = k;
                while k < j && !matches!(chars[k].1, ' ' | '\u{a0}') {
                    k += 1;
                }
                // Punctuation around a value is the sentence's, not the value's; so is a
                // parenthesis the piece does not close or open itself ("(CPF 111…)").
                let mut e = k;
                loop {
                    let piece = &chars[s..e];
                    let opens = piece.iter().any(|(_, c)| *c == '(');
                    let closes = piece.iter().any(|(_, c)| *c == ')');
                    if s < e
                        && (matches!(chars[s].1, '.' | '-' | '/' | ')')
                            || (chars[s].1 == '(' && !closes))
                    {
                        s += 1;
                    } else if e > s
                        && (matches!(chars[e - 1].1, '.' | '-' | '/' | '(' | '+')
                            || (chars[e - 1].1 == ')' && !opens))
                    {
                        e -= 1;
                    } else {
                        break;
                    }
                }
                if s < e {
                    pieces.push((s, e));
                }
            }
            let mut p = 0;
            while p < pieces.len() {
                let mut matched = None;
                for q in (p..pieces.len().min(p + 5)).rev() {
                    let (s, e) = (pieces[p].0, pieces[q].1);
                    let candidate = &text[end_of(s)..end_of(e)];
                    let found = Phone::parse(candidate)
                        .is_ok_and(|v| self.phones.contains(v.as_str()))
                        || Document::parse(candidate)
                            .is_ok_and(|v| self.documents.contains(v.as_str()));
                    if found {
                        matched = Some(q);
                        spans.push((end_of(s), end_of(e)));
                        break;
                    }
                }
                p = matched.map_or(p + 1, |q| q + 1);
            }
            i = j;
        }
        spans
    }

    /// Byte spans of the person's names written as whole words, in any case or accents.
    fn name_spans(&self, text: &str) -> Vec<(usize, usize)> {
        if self.names.is_empty() {
            return Vec::new();
        }
        // The text as name keys, each key char remembering the source bytes it came from.
        let mut keyed: Vec<(char, usize, usize)> = Vec::new();
        for (b, c) in text.char_indices() {
            let end = b + c.len_utf8();
            if c.is_whitespace() {
                if keyed.last().is_some_and(|(k, _, _)| *k == ' ') {
                    if let Some(last) = keyed.last_mut() {
                        last.2 = end;
                    }
                } else {
                    keyed.push((' ', b, end));
                }
                continue;
            }
            for k in search_key(c.encode_utf8(&mut [0; 4])).chars() {
                keyed.push((k, b, end));
            }
        }
        let mut spans = Vec::new();
        for name in &self.names {
            let needle: Vec<char> = name.chars().collect();
            if needle.is_empty() || needle.len() > keyed.len() {
                continue;
            }
            for start in 0..=keyed.len() - needle.len() {
                let end = start + needle.len();
                if !keyed[start..end]
                    .iter()
                    .zip(&needle)
                    .all(|((k, _, _), n)| k == n)
                {
                    continue;
                }
                let before = start == 0 || !keyed[start - 1].0.is_alphanumeric();
                let after = end == keyed.len() || !keyed[end].0.is_alphanumeric();
                if before && after {
                    spans.push((keyed[start].1, keyed[end - 1].2));
                }
            }
        }
        spans
    }
}

/// A name as compared: no case, accents or extra spaces.
fn name_key(name: &str) -> String {
    search_key(&collapse_spaces(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maria() -> PersonValues {
        let mut v = PersonValues::default();
        v.add_channel("maria.secreta@exemplo.com.br");
        v.add_channel("+5511987654321");
        v.add_document("11144477735");
        v.add_name("Maria Secreta");
        v.add_name("Ana");
        v
    }

    #[test]
    fn values_are_found_however_they_were_typed() {
        let v = maria();
        for typed in [
            "MARIA.SECRETA@EXEMPLO.COM.BR",
            "11 98765-4321",
            "(11) 98765-4321",
            "+55 11 98765 4321",
            "111.444.777-35",
            "maria  SECRETA",
            "ana",
        ] {
            assert!(v.is_value(typed), "{typed}");
        }
        assert!(!v.is_value("Juliana Souza"));
        assert!(!v.is_value("Maria"));
        assert!(v.is_value("MARÍA SÉCRETA"));
    }

    #[test]
    fn name_stems_carry_no_accents() {
        let mut v = PersonValues::default();
        v.add_name("Paulo Réis");
        v.add_name("João");
        assert_eq!(
            v.name_stems().into_iter().collect::<Vec<_>>(),
            vec!["joao".to_string(), "paulo".to_string()]
        );
    }

    #[test]
    fn text_loses_the_values_and_keeps_the_rest() {
        let v = maria();
        let text = "Pedido de MARIA.SECRETA@EXEMPLO.COM.BR, tel. 11 98765-4321 e CPF \
                    111.444.777-35; falou Maria Secreta com a Juliana.";
        let out = v.redact(text, "[x]", true).unwrap();
        assert_eq!(
            out,
            "Pedido de [x], tel. [x] e CPF [x]; falou [x] com a Juliana."
        );
        assert_eq!(v.redact("Juliana Souza, 11 91234-5678", "[x]", true), None);
        // A value in parentheses the sentence opened: the parentheses stay.
        assert_eq!(
            v.redact("A (CPF 11144477735) C (tel 11987654321) D", "[x]", false)
                .unwrap(),
            "A (CPF [x]) C (tel [x]) D"
        );
        assert_eq!(
            v.redact("ligar (11) 98765-4321.", "[x]", false).unwrap(),
            "ligar [x]."
        );
        assert_eq!(v.redact("Ana Souza", "[x]", false), None);
        assert_eq!(
            v.redact("pedido 12 11 98765-4321", "[x]", false).unwrap(),
            "pedido 12 [x]"
        );
        assert!(is_erased(&format!("{ERASED} #3")));
    }
}
