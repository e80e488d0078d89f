//! Message templates of campaigns: text with variables written as in the product's own
//! example, "Olá, @PrimeiroNome, … perto de você: @Coringa1".
//!
//! - A variable is `@` then a word (letters, then digits), matched ignoring case:
//!   `@PrimeiroNome`, `@Nome`, `@CodCliente`, `@Tag`, `@Coringa1`…`@Coringa5`, `@Mensagem`.
//! - An `@` right after a letter, a digit or one of `. _ % + -` is part of an e-mail address
//!   (`contato@empresa.com.br`), not a variable; `@@` writes one `@`; an `@` not followed by
//!   a letter is text. Any other `@Word` is an error, named with its position.
//! - Names are written as a person would: words typed all in capitals or all in small
//!   letters get a capital first letter ("JOÃO DA SILVA" → "João da Silva", the particles
//!   da/de/do/dos/das/e in small letters), words typed in mixed case stay as typed
//!   ("McAllister"), Roman numerals stay in capitals ("Paulo II"). `@PrimeiroNome` is the
//!   first word.
//! - A variable whose value is empty takes its fallback, if one was given; otherwise the
//!   message cannot be written ("Olá, ," is never sent) and rendering says which variable.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variable {
    PrimeiroNome,
    Nome,
    CodCliente,
    Tag,
    /// 1 to 5.
    Coringa(u8),
    Mensagem,
}

impl Variable {
    pub const ALL: [Variable; 10] = [
        Variable::PrimeiroNome,
        Variable::Nome,
        Variable::CodCliente,
        Variable::Tag,
        Variable::Coringa(1),
        Variable::Coringa(2),
        Variable::Coringa(3),
        Variable::Coringa(4),
        Variable::Coringa(5),
        Variable::Mensagem,
    ];

    /// The variable a word names (without its `@`), ignoring case.
    pub fn parse(word: &str) -> Option<Variable> {
        Self::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(word))
    }

    /// As written in templates, without the `@`.
    pub fn name(self) -> &'static str {
        match self {
            Variable::PrimeiroNome => "PrimeiroNome",
            Variable::Nome => "Nome",
            Variable::CodCliente => "CodCliente",
            Variable::Tag => "Tag",
            Variable::Coringa(1) => "Coringa1",
            Variable::Coringa(2) => "Coringa2",
            Variable::Coringa(3) => "Coringa3",
            Variable::Coringa(4) => "Coringa4",
            Variable::Coringa(_) => "Coringa5",
            Variable::Mensagem => "Mensagem",
        }
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Variable),
}

/// A template every variable of which is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// An `@Word` that names no variable: the word as typed and its character position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    pub word: String,
    pub position: usize,
}

impl UnknownVariable {
    /// The pt-BR message shown beside the field.
    pub fn message(&self) -> String {
        let known: Vec<String> = Variable::ALL.iter().map(Variable::to_string).collect();
        format!(
            "Variável desconhecida: @{}. Use {} (ou @@ para escrever um @).",
            self.word,
            known.join(", ")
        )
    }
}

/// Characters that may stand right before the `@` of an e-mail address.
fn ends_address_part(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

impl Template {
    /// Reads a template; every unknown `@Word` is reported.
    pub fn parse(text: &str) -> Result<Template, Vec<UnknownVariable>> {
        let chars: Vec<char> = text.chars().collect();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut unknown = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c != '@' {
                literal.push(c);
                i += 1;
                continue;
            }
            if chars.get(i + 1) == Some(&'@') {
                literal.push('@');
                i += 2;
                continue;
            }
            let in_address = i > 0 && ends_address_part(chars[i - 1]);
            let mut end = i + 1;
            while end < chars.len() && chars[end].is_alphabetic() {
                end += 1;
            }
            if in_address || end == i + 1 {
                literal.push('@');
                i += 1;
                continue;
            }
            while end < chars.len() && chars[end].is_ascii_digit() {
                end += 1;
            }
            let word: String = chars[i + 1..end].iter().collect();
            match Variable::parse(&word) {
                Some(variable) => {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(variable));
                }
                None => {
                    unknown.push(UnknownVariable { word, position: i });
                    literal.extend(&chars[i..end]);
                }
            }
            i = end;
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if unknown.is_empty() {
            Ok(Template { parts })
        } else {
            Err(unknown)
        }
    }

    /// The variables the template uses, each once, in the order of `Variable::ALL`.
    pub fn variables(&self) -> Vec<Variable> {
        let mut used: Vec<Variable> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Var(v) => Some(*v),
                Part::Text(_) => None,
            })
            .collect();
        used.sort();
        used.dedup();
        used
    }

    /// The message for one recipient, or the first variable left empty (no value, no
    /// fallback).
    pub fn render(&self, values: &Values, fallbacks: &Fallbacks) -> Result<String, Variable> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(variable) => match values.get(*variable) {
                    Some(value) => out.push_str(&value),
                    None => match fallbacks.get(*variable) {
                        Some(fallback) => out.push_str(fallback),
                        None => return Err(*variable),
                    },
                },
            }
        }
        Ok(out)
    }
}

/// What replaces a variable whose value is empty ("se vazio, usar: cliente").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fallbacks(BTreeMap<Variable, String>);

impl Fallbacks {
    /// Sets a fallback; an empty one is no fallback.
    pub fn set(&mut self, variable: Variable, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            self.0.remove(&variable);
        } else {
            self.0.insert(variable, text.to_string());
        }
    }

    pub fn get(&self, variable: Variable) -> Option<&str> {
        self.0.get(&variable).map(String::as_str)
    }
}

/// One recipient's values, as stored (the contact's name, its audience row's cells).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    pub name: Option<String>,
    pub customer_code: Option<String>,
    pub tag: Option<String>,
    pub coringas: [Option<String>; 5],
    pub message: Option<String>,
}

fn filled(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl Values {
    /// The value of a variable, `None` when empty.
    pub fn get(&self, variable: Variable) -> Option<String> {
        match variable {
            Variable::PrimeiroNome => filled(&self.name).and_then(|n| first_name(&n)),
            Variable::Nome => filled(&self.name).map(|n| full_name(&n)),
            Variable::CodCliente => filled(&self.customer_code),
            Variable::Tag => filled(&self.tag),
            Variable::Coringa(n) => self
                .coringas
                .get(usize::from(n.clamp(1, 5)) - 1)
                .and_then(filled),
            Variable::Mensagem => filled(&self.message),
        }
    }
}

/// Words written in small letters inside a name.
const PARTICLES: [&str; 6] = ["da", "de", "do", "dos", "das", "e"];

/// A regnal number as written after a name: II to XXXIX in their one correct spelling
/// ("II", "IV", "XIV"), so words such as "Vivi" or "Ivi" are never taken for numerals. A
/// single letter is an initial, not a numeral.
fn is_roman_numeral(word: &str) -> bool {
    let upper = word.to_uppercase();
    let tens = upper.len() - upper.trim_start_matches('X').len();
    let units = &upper[tens..];
    upper.len() >= 2
        && tens <= 3
        && matches!(
            units,
            "" | "I" | "II" | "III" | "IV" | "V" | "VI" | "VII" | "VIII" | "IX"
        )
}

/// A word as a person writes it in a name: capital first letter when it was typed all in
/// capitals or all in small letters (each part after `'` or `-` too: "D'Ávila",
/// "Ana-Maria"); as typed otherwise. A numeral after the first word is in capitals
/// ("joão paulo ii" → "João Paulo II"); a first word is always a name ("VIVI", "IVI").
fn name_word(word: &str, first: bool) -> String {
    let letters = || word.chars().filter(|c| c.is_alphabetic());
    let all_upper = letters().all(char::is_uppercase);
    let all_lower = letters().all(char::is_lowercase);
    if !(all_upper || all_lower) {
        return word.to_string();
    }
    if !first && is_roman_numeral(word) {
        return word.to_uppercase();
    }
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.extend(c.to_lowercase());
        }
        if matches!(c, '\'' | '’' | '-') {
            start = true;
        }
    }
    out
}

/// The whole name as a person writes it: "JOÃO DA SILVA" → "João da Silva".
pub fn full_name(name: &str) -> String {
    name.split_whitespace()
        .enumerate()
        .map(|(i, word)| {
            let lower = word.to_lowercase();
            if i > 0 && PARTICLES.contains(&lower.as_str()) {
                lower
            } else {
                name_word(word, i == 0)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first word of the name, as a person writes it ("JOÃO DA SILVA" → "João").
pub fn first_name(name: &str) -> Option<String> {
    name.split_whitespace().next().map(|w| name_word(w, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Values {
        Values {
            name: Some(name.to_string()),
            coringas: [Some("Rua das Flores, 10".into()), None, None, None, None],
            ..Values::default()
        }
    }

    #[test]
    fn the_products_example_renders_as_a_person_would_write_it() {
        let t = Template::parse(
            "Olá, @PrimeiroNome, teremos neste sábado uma promoção especial em um endereço \
             perto de você: @Coringa1",
        )
        .unwrap();
        assert_eq!(
            t.render(&values("JOÃO DA SILVA"), &Fallbacks::default()),
            Ok(
                "Olá, João, teremos neste sábado uma promoção especial em um endereço perto \
                de você: Rua das Flores, 10"
                    .to_string()
            )
        );
    }

    #[test]
    fn names_are_cased_as_typed_by_a_careful_person() {
        for (typed, first, full) in [
            ("JOÃO DA SILVA", "João", "João da Silva"),
            (
                "maria das dores e souza",
                "Maria",
                "Maria das Dores e Souza",
            ),
            ("ÂNGELA", "Ângela", "Ângela"),
            ("ÉRICA D'ÁVILA", "Érica", "Érica D'Ávila"),
            ("ANA-MARIA DOS SANTOS", "Ana-Maria", "Ana-Maria dos Santos"),
            ("João McAllister", "João", "João McAllister"),
            ("JOÃO PAULO II", "João", "João Paulo II"),
            ("joão paulo ii", "João", "João Paulo II"),
            ("VIVI GUEDES", "Vivi", "Vivi Guedes"),
            ("IVI SANTOS", "Ivi", "Ivi Santos"),
            ("XAVI XIV", "Xavi", "Xavi XIV"),
            ("ANA VIVI LIMA", "Ana", "Ana Vivi Lima"),
            ("LUÍS XVI", "Luís", "Luís XVI"),
            ("  CONCEIÇÃO   ", "Conceição", "Conceição"),
        ] {
            assert_eq!(first_name(typed).as_deref(), Some(first), "{typed}");
            assert_eq!(full_name(typed), full, "{typed}");
        }
    }

    #[test]
    fn variables_match_ignoring_case_and_addresses_are_text() {
        let t = Template::parse(
            "Oi @primeironome! Dúvidas: contato@empresa.com.br, a.b+c@x.io. @@loja @CORINGA1 @ 10h",
        )
        .unwrap();
        assert_eq!(
            t.variables(),
            vec![Variable::PrimeiroNome, Variable::Coringa(1)]
        );
        assert_eq!(
            t.render(&values("ana"), &Fallbacks::default()).unwrap(),
            "Oi Ana! Dúvidas: contato@empresa.com.br, a.b+c@x.io. @loja Rua das Flores, 10 @ 10h"
        );
    }

    #[test]
    fn unknown_variables_are_each_named() {
        let errors = Template::parse("Olá @Nomee, veja @Coringa6 e @Nome").unwrap_err();
        let words: Vec<(&str, usize)> = errors
            .iter()
            .map(|e| (e.word.as_str(), e.position))
            .collect();
        assert_eq!(words, vec![("Nomee", 4), ("Coringa6", 17)]);
        assert!(errors[0].message().contains("@PrimeiroNome"));
    }

    #[test]
    fn an_empty_variable_takes_its_fallback_or_stops_the_message() {
        let t = Template::parse("Olá, @PrimeiroNome, código @CodCliente").unwrap();
        let nobody = Values {
            name: Some("   ".into()),
            customer_code: Some("C-1".into()),
            ..Values::default()
        };
        assert_eq!(
            t.render(&nobody, &Fallbacks::default()),
            Err(Variable::PrimeiroNome)
        );
        let mut fallbacks = Fallbacks::default();
        fallbacks.set(Variable::PrimeiroNome, " cliente ");
        assert_eq!(
            t.render(&nobody, &fallbacks).unwrap(),
            "Olá, cliente, código C-1"
        );
        // A one-word name is a first name like any other.
        assert_eq!(
            t.render(&values("XUXA"), &fallbacks),
            Err(Variable::CodCliente)
        );
    }
}
