//! What an SMS costs: its encoding (GSM-7 when every character is in the GSM 03.38 basic
//! set or its extension table, otherwise UCS-2) and how many parts it is sent in (GSM-7:
//! 160 septets in one part, 153 per part when split, extension characters count two;
//! UCS-2: 70 UTF-16 units, 67 per part). And "Remover acentos": the text mapped to GSM-7
//! so that Portuguese text costs fewer parts. Groundwork for the SMS channel (issue 13).

use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

/// The GSM 03.38 basic character set (ESC excluded). Lower-case `ç` is not in it: the
/// table's 0x09 is upper-case `Ç`, and handsets disagree, so `ç` forces UCS-2.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters reached through the escape: two septets each.
const EXTENSION: &str = "\u{0C}^{}\\[~]|€";

fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding, units (septets or UTF-16 units) and parts of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsCost {
    pub encoding: Encoding,
    pub units: usize,
    pub parts: usize,
}

pub fn cost(text: &str) -> SmsCost {
    let gsm: Option<usize> = text.chars().map(septets).sum();
    let (encoding, units, single, each) = match gsm {
        Some(n) => (Encoding::Gsm7, n, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let parts = match units {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(each),
    };
    SmsCost {
        encoding,
        units,
        parts,
    }
}

/// Maps a text to GSM-7: accents a GSM handset cannot show are dropped (ã→a, ç→c, Ó→O),
/// typographic quotes and dashes become plain ones, and anything still outside the set
/// becomes `?`.
pub fn strip_accents(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if septets(c).is_some() {
            out.push(c);
            continue;
        }
        let plain = match c {
            '“' | '”' | '„' | '«' | '»' => "\"",
            '‘' | '’' | '‚' | '´' | '`' => "'",
            '–' | '—' | '‐' => "-",
            '…' => "...",
            'º' | '°' => "o",
            'ª' => "a",
            '\u{a0}' | '\t' => " ",
            _ => "",
        };
        if !plain.is_empty() {
            out.push_str(plain);
            continue;
        }
        let base: String = c.nfd().filter(|d| septets(*d).is_some()).take(1).collect();
        out.push_str(if base.is_empty() { "?" } else { &base });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_gsm7_and_splits_at_153() {
        assert_eq!(cost("Olá").encoding, Encoding::Ucs2);
        let c = cost("Ola, Maria! Promocao especial hoje.");
        assert_eq!((c.encoding, c.parts), (Encoding::Gsm7, 1));
        assert_eq!(cost(&"a".repeat(160)).parts, 1);
        assert_eq!(cost(&"a".repeat(161)).parts, 2);
        assert_eq!(cost(&"a".repeat(306)).parts, 2);
        assert_eq!(cost(&"a".repeat(307)).parts, 3);
        assert_eq!(cost("").parts, 0);
    }

    #[test]
    fn extension_characters_count_twice() {
        let c = cost(&format!("{}€", "a".repeat(158)));
        assert_eq!((c.encoding, c.units, c.parts), (Encoding::Gsm7, 160, 1));
        assert_eq!(cost(&format!("{}[", "a".repeat(159))).parts, 2);
    }

    #[test]
    fn portuguese_accents_force_ucs2_except_the_gsm_ones() {
        for gsm in ["é", "É", "à", "Ç", "ü", "ñ", "ö", "ä"] {
            assert_eq!(cost(gsm).encoding, Encoding::Gsm7, "{gsm}");
        }
        for ucs in ["á", "â", "ã", "ê", "í", "ó", "ô", "õ", "ú", "À", "ç"] {
            assert_eq!(cost(ucs).encoding, Encoding::Ucs2, "{ucs}");
        }
        assert_eq!(cost(&"ã".repeat(70)).parts, 1);
        assert_eq!(cost(&"ã".repeat(71)).parts, 2);
        assert_eq!(cost(&"ã".repeat(135)).parts, 3);
        // Outside the basic plane a character is two UTF-16 units.
        assert_eq!(cost("🙂").units, 2);
    }

    #[test]
    fn real_portuguese_messages_cost_what_the_operators_charge() {
        use Encoding::{Gsm7, Ucs2};
        let table = [
            ("Sua fatura vence amanhã. Evite juros!", Ucs2, 37, 1),
            ("Café entregue à portaria às 14h.", Gsm7, 32, 1),
            (
                "Você ganhou 10% de desconto na próxima compra.",
                Ucs2,
                46,
                1,
            ),
            ("Cupom {VERAO}: 10€ de desconto", Gsm7, 33, 1),
            ("Ação válida só hoje", Ucs2, 19, 1),
            (
                "Prezado cliente, informamos que a sua solicitação de portabilidade foi concluída com sucesso. Em caso de dúvidas, ligue 0800 123 4567.",
                Ucs2,
                134,
                2,
            ),
            (
                "Prezado cliente, informamos que a sua solicitacao de portabilidade foi concluida com sucesso. Em caso de duvidas, ligue para a central 0800 123 4567 ou responda SAIR.",
                Gsm7,
                166,
                2,
            ),
            (
                "Promoção de verão na Loja Centro: até 50% de desconto em toda a linha de eletrônicos, eletrodomésticos e móveis!",
                Ucs2,
                112,
                2,
            ),
        ];
        for (text, encoding, units, parts) in table {
            assert_eq!(
                cost(text),
                SmsCost {
                    encoding,
                    units,
                    parts
                },
                "{text}"
            );
            // Without accents every one of them is GSM-7 in a single part.
            let plain = cost(&strip_accents(text));
            assert_eq!(plain.encoding, Gsm7, "{text}");
            assert_eq!(plain.parts, if units > 160 { 2 } else { 1 }, "{text}");
        }
    }

    #[test]
    fn removing_accents_brings_portuguese_back_to_gsm7() {
        let text = "Olá, João! Promoção “especial” — só hoje, às 10h… Até já, Ângela.";
        let plain = strip_accents(text);
        assert_eq!(
            plain,
            "Ola, Joao! Promocao \"especial\" - so hoje, às 10h... Até ja, Angela."
        );
        assert_eq!(cost(&plain).encoding, Encoding::Gsm7);
        assert_eq!(strip_accents("Açaí 🙂"), "Acai ?");
    }
}
