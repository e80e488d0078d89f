//! A phone number, normalised to E.164 under Brazil's numbering rules.

use std::fmt;

/// The area codes (DDD) Anatel assigns.
const DDDS: [u8; 67] = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77,
    79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneError {
    Empty,
    /// Letters or symbols other than the usual formatting.
    Characters,
    /// Not 10 or 11 digits once prefixes are removed.
    Length,
    /// An area code Anatel does not assign.
    Ddd,
    /// A mobile number must start with 9, a landline with 2–5.
    Subscriber,
    /// `+` with another country code, but not 8–15 digits.
    International,
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PhoneError::Empty => "telefone vazio",
            PhoneError::Characters => "o telefone contém caracteres que não são dígitos",
            PhoneError::Length => {
                "o telefone deve ter DDD + número: 10 dígitos (fixo) ou 11 dígitos (celular)"
            }
            PhoneError::Ddd => "DDD inexistente",
            PhoneError::Subscriber => {
                "número inválido: celular tem 9 dígitos começando com 9; fixo tem 8 dígitos começando com 2 a 5"
            }
            PhoneError::International => "número internacional deve ter de 8 a 15 dígitos",
        })
    }
}

/// A phone in E.164 (`+5511987654321`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, body) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(body.len());
        for c in body.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\u{a0}' | '(' | ')' | '-' | '.' => {}
                _ => return Err(PhoneError::Characters),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        let international = plus || digits.starts_with("00");
        if international {
            let digits = digits.strip_prefix("00").unwrap_or(&digits);
            return match digits.strip_prefix("55") {
                // `+55 011 98765-4321`: the trunk 0 typed after the country code.
                Some(national)
                    if national.starts_with('0') && matches!(national.len(), 11 | 12) =>
                {
                    national_to_e164(&national[1..])
                }
                Some(national) => national_to_e164(national),
                None if (8..=15).contains(&digits.len()) && !digits.starts_with('0') => {
                    Ok(Phone(format!("+{digits}")))
                }
                None => Err(PhoneError::International),
            };
        }
        let mut national: &str = &digits;
        if let Some(rest) = national.strip_prefix('0') {
            // Trunk prefix 0, possibly followed by a two-digit carrier code (0 15 11 …).
            national = if rest.len() == 12 || rest.len() == 13 {
                &rest[2..]
            } else {
                rest
            };
        } else if (national.len() == 12 || national.len() == 13) && national.starts_with("55") {
            national = &national[2..];
        }
        national_to_e164(national)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn national_to_e164(national: &str) -> Result<Phone, PhoneError> {
    if national.len() != 10 && national.len() != 11 {
        return Err(PhoneError::Length);
    }
    let ddd: u8 = national[..2].parse().map_err(|_| PhoneError::Characters)?;
    if !DDDS.contains(&ddd) {
        return Err(PhoneError::Ddd);
    }
    let subscriber = &national[2..];
    let first = subscriber.as_bytes()[0];
    let valid = match subscriber.len() {
        9 => first == b'9',
        8 => (b'2'..=b'5').contains(&first),
        _ => false,
    };
    if !valid {
        return Err(PhoneError::Subscriber);
    }
    Ok(Phone(format!("+55{national}")))
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trunk_zero_after_the_country_code_is_dropped() {
        assert_eq!(
            Phone::parse("+55 011 98765-4321").unwrap().as_str(),
            "+5511987654321"
        );
        assert_eq!(
            Phone::parse("+55 (021) 3456-7890").unwrap().as_str(),
            "+552134567890"
        );
        assert!(Phone::parse("+55 0 98765-4321").is_err());
    }

    #[test]
    fn normalises_every_way_people_write_a_number() {
        let cases = [
            ("11987654321", "+5511987654321"),
            ("(11) 98765-4321", "+5511987654321"),
            ("11 9 8765 4321", "+5511987654321"),
            ("11.98765.4321", "+5511987654321"),
            ("+55 11 98765-4321", "+5511987654321"),
            ("+5511987654321", "+5511987654321"),
            ("5511987654321", "+5511987654321"),
            ("011987654321", "+5511987654321"),
            ("0 15 11 98765-4321", "+5511987654321"),
            ("005511987654321", "+5511987654321"),
            ("(85) 3234-5678", "+558532345678"),
            ("8532345678", "+558532345678"),
            ("558532345678", "+558532345678"),
            // DDD 55 itself (Rio Grande do Sul) is not a country prefix.
            ("55991234567", "+5555991234567"),
            ("5555991234567", "+5555991234567"),
            (" 48 98877-6655 ", "+5548988776655"),
            ("+1 212 555 0100", "+12125550100"),
            ("+351 912 345 678", "+351912345678"),
        ];
        for (raw, e164) in cases {
            assert_eq!(
                Phone::parse(raw).map(Phone::into_inner),
                Ok(e164.into()),
                "{raw}"
            );
        }
    }

    #[test]
    fn refuses_what_cannot_be_a_brazilian_number() {
        let cases = [
            ("", PhoneError::Empty),
            ("  ", PhoneError::Empty),
            ("()-", PhoneError::Empty),
            ("11 98765-432a", PhoneError::Characters),
            ("1,19871E+10", PhoneError::Characters),
            ("987654321", PhoneError::Length),
            ("119876543210", PhoneError::Length),
            ("30987000008", PhoneError::Ddd),
            ("20987654321", PhoneError::Ddd),
            ("1187654321", PhoneError::Subscriber),
            ("11887654321", PhoneError::Subscriber),
            ("1112345678", PhoneError::Subscriber),
            ("1162345678", PhoneError::Subscriber),
            ("+1234567", PhoneError::International),
            ("+1234567890123456", PhoneError::International),
            ("+55 11 8765-4321", PhoneError::Subscriber),
        ];
        for (raw, error) in cases {
            assert_eq!(Phone::parse(raw), Err(error), "{raw}");
        }
    }

    #[test]
    fn every_anatel_ddd_is_accepted_and_no_other() {
        for ddd in 10..100u8 {
            let mobile = format!("{ddd}987654321");
            assert_eq!(Phone::parse(&mobile).is_ok(), DDDS.contains(&ddd), "{ddd}");
        }
        assert_eq!(DDDS.len(), 67);
    }
}
