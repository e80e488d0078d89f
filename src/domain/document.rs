//! CPF and CNPJ (including the alphanumeric CNPJ), with their check digits.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Cpf,
    Cnpj,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentError {
    Characters,
    Length,
    CheckDigits,
    RepeatedDigits,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DocumentError::Characters => "o CPF/CNPJ contém caracteres inválidos",
            DocumentError::Length => "o CPF deve ter 11 dígitos e o CNPJ 14 caracteres",
            DocumentError::CheckDigits => "dígitos verificadores do CPF/CNPJ não conferem",
            DocumentError::RepeatedDigits => "CPF/CNPJ com todos os dígitos iguais não é válido",
        })
    }
}

/// A CPF (11 digits) or CNPJ (14 characters), stored without punctuation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Document {
    kind: DocumentKind,
    value: String,
}

impl Document {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let mut value = String::with_capacity(14);
        for c in raw.trim().chars() {
            match c {
                '0'..='9' => value.push(c),
                'a'..='z' | 'A'..='Z' => value.push(c.to_ascii_uppercase()),
                '.' | '-' | '/' | ' ' | '\u{a0}' => {}
                _ => return Err(DocumentError::Characters),
            }
        }
        let all_digits = value.bytes().all(|b| b.is_ascii_digit());
        let kind = match value.len() {
            // Excel drops leading zeros of documents typed as numbers.
            9 | 10 if all_digits => {
                value = format!("{value:0>11}");
                DocumentKind::Cpf
            }
            11 if all_digits => DocumentKind::Cpf,
            12 | 13 if all_digits => {
                value = format!("{value:0>14}");
                DocumentKind::Cnpj
            }
            14 => DocumentKind::Cnpj,
            _ => return Err(DocumentError::Length),
        };
        let bytes = value.as_bytes();
        if bytes.iter().all(|b| *b == bytes[0]) {
            return Err(DocumentError::RepeatedDigits);
        }
        let valid = match kind {
            DocumentKind::Cpf => cpf_check_digits_match(bytes),
            DocumentKind::Cnpj => cnpj_check_digits_match(bytes),
        };
        if valid {
            Ok(Document { kind, value })
        } else {
            Err(DocumentError::CheckDigits)
        }
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn into_inner(self) -> String {
        self.value
    }
}

fn mod11_digit(sum: u32) -> u32 {
    match sum % 11 {
        0 | 1 => 0,
        r => 11 - r,
    }
}

fn cpf_check_digits_match(d: &[u8]) -> bool {
    let digit = |i: usize| u32::from(d[i] - b'0');
    let first: u32 = (0..9).map(|i| digit(i) * (10 - i as u32)).sum();
    let second: u32 = (0..10).map(|i| digit(i) * (11 - i as u32)).sum();
    mod11_digit(first) == digit(9) && mod11_digit(second) == digit(10)
}

/// The alphanumeric CNPJ (from July 2026) values each character as its ASCII code − 48,
/// which leaves digits as they were; check digits stay numeric.
pub fn cnpj_check_digits(base: &[u8]) -> (u32, u32) {
    const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |b: u8| u32::from(b) - 48;
    let first = mod11_digit(base[..12].iter().zip(W1).map(|(b, w)| value(*b) * w).sum());
    let second_sum: u32 = base[..12]
        .iter()
        .zip(W2)
        .map(|(b, w)| value(*b) * w)
        .sum::<u32>()
        + first * W2[12];
    (first, mod11_digit(second_sum))
}

fn cnpj_check_digits_match(d: &[u8]) -> bool {
    if !d[12].is_ascii_digit() || !d[13].is_ascii_digit() {
        return false;
    }
    let (first, second) = cnpj_check_digits(d);
    first == u32::from(d[12] - b'0') && second == u32::from(d[13] - b'0')
}

/// The two CPF check digits for nine base digits.
pub fn cpf_check_digits(base: &[u8]) -> (u32, u32) {
    let digit = |i: usize| u32::from(base[i] - b'0');
    let first = mod11_digit((0..9).map(|i| digit(i) * (10 - i as u32)).sum());
    let second = mod11_digit((0..9).map(|i| digit(i) * (11 - i as u32)).sum::<u32>() + first * 2);
    (first, second)
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_cpfs_and_cnpjs_with_or_without_punctuation() {
        let cases = [
            ("111.444.777-35", "11144477735", DocumentKind::Cpf),
            ("11144477735", "11144477735", DocumentKind::Cpf),
            ("529.982.247-25", "52998224725", DocumentKind::Cpf),
            ("11.222.333/0001-81", "11222333000181", DocumentKind::Cnpj),
            ("11222333000181", "11222333000181", DocumentKind::Cnpj),
            // The alphanumeric CNPJ example published by the Receita Federal.
            ("12.ABC.345/01DE-35", "12ABC34501DE35", DocumentKind::Cnpj),
            ("12abc34501de35", "12ABC34501DE35", DocumentKind::Cnpj),
        ];
        for (raw, stored, kind) in cases {
            let doc = Document::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(doc.as_str(), stored);
            assert_eq!(doc.kind(), kind);
        }
    }

    #[test]
    fn pads_leading_zeros_excel_dropped() {
        // CPF 012.345.678-90 typed as a number loses its zero.
        assert_eq!(
            Document::parse("12345678909").map(|d| d.kind()),
            Ok(DocumentKind::Cpf)
        );
        let (a, b) = cpf_check_digits(b"001234567");
        let full = format!("001234567{a}{b}");
        let typed = full.trim_start_matches('0');
        assert_eq!(typed.len(), 9);
        assert_eq!(Document::parse(typed).unwrap().as_str(), full);
        // CNPJ 04.252.011/0001-10 typed as a number: 13 digits.
        assert_eq!(
            Document::parse("4252011000110").unwrap().as_str(),
            "04252011000110"
        );
    }

    #[test]
    fn refuses_bad_check_digits_lengths_and_repeated_digits() {
        assert_eq!(
            Document::parse("111.444.777-00"),
            Err(DocumentError::CheckDigits)
        );
        assert_eq!(
            Document::parse("11222333000182"),
            Err(DocumentError::CheckDigits)
        );
        assert_eq!(
            Document::parse("12ABC34501DE36"),
            Err(DocumentError::CheckDigits)
        );
        assert_eq!(
            Document::parse("111.111.111-11"),
            Err(DocumentError::RepeatedDigits)
        );
        assert_eq!(
            Document::parse("00000000000000"),
            Err(DocumentError::RepeatedDigits)
        );
        assert_eq!(Document::parse("12345678"), Err(DocumentError::Length));
        assert_eq!(
            Document::parse("123456789012345"),
            Err(DocumentError::Length)
        );
        assert_eq!(Document::parse("ABC"), Err(DocumentError::Length));
        assert_eq!(
            Document::parse("12ABC34501DEX5"),
            Err(DocumentError::CheckDigits)
        );
        assert_eq!(Document::parse("111#444"), Err(DocumentError::Characters));
        assert_eq!(
            Document::parse("1,11445E+10"),
            Err(DocumentError::Characters)
        );
    }
}
