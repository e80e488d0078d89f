//! A phone or an e-mail typed anywhere outside the layout (a search box, the API, a Não
//! Perturbe list), told apart and normalised exactly as the import normalises them.

use super::{Email, Phone, RecordType};

/// `Some((kind, normalised value))` when the text is a phone or an e-mail the import
/// would accept; an `@` makes it an e-mail, anything else must be a phone.
pub fn parse_channel(raw: &str) -> Option<(RecordType, String)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if raw.contains('@') {
        Email::parse(raw)
            .ok()
            .map(|e| (RecordType::Email, e.into_inner()))
    } else {
        Phone::parse(raw)
            .ok()
            .map(|p| (RecordType::Telefone, p.into_inner()))
    }
}

/// What a list file held: the values it listed, and how many lines were neither.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChannelList {
    pub values: Vec<(RecordType, String)>,
    pub invalid: usize,
}

/// Reads a list of phones and e-mails: one per line, or the first column of a CSV
/// (`;`, `,` or tab). UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252.
/// Blank lines are skipped; a first line that is not a value is taken as a header.
pub fn read_channel_list(bytes: &[u8]) -> ChannelList {
    let text = decode(bytes);
    let mut list = ChannelList::default();
    // CR, LF and CRLF all end a line, as in the layout reader: "CSV (Macintosh)" and old
    // Mac tools write CR alone. Blank pieces (the LF of a CRLF) are skipped below.
    for (i, line) in text
        .split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        let first = line
            .split([';', ',', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .trim();
        if first.is_empty() {
            continue;
        }
        match parse_channel(first) {
            Some(value) => list.values.push(value),
            None if i == 0 => {}
            None => list.invalid += 1,
        }
    }
    list
}

fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_phones_from_emails_and_normalises_both() {
        assert_eq!(
            parse_channel(" (11) 98765-4321 "),
            Some((RecordType::Telefone, "+5511987654321".into()))
        );
        assert_eq!(
            parse_channel("Fulano@Exemplo.COM.br"),
            Some((RecordType::Email, "fulano@exemplo.com.br".into()))
        );
        assert_eq!(parse_channel("nada"), None);
        assert_eq!(parse_channel("  "), None);
    }

    #[test]
    fn reads_lists_as_text_or_first_csv_column_in_any_encoding() {
        let csv = "valor;obs\r\n11987654321;cliente\r\n\r\nana@x.com.br,1\r\nlixo\r\n";
        let list = read_channel_list(csv.as_bytes());
        assert_eq!(
            list.values,
            vec![
                (RecordType::Telefone, "+5511987654321".into()),
                (RecordType::Email, "ana@x.com.br".into())
            ]
        );
        assert_eq!(list.invalid, 1);

        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "21 3456-7890\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        assert_eq!(
            read_channel_list(&utf16).values,
            vec![(RecordType::Telefone, "+552134567890".into())]
        );
        // Windows-1252 bytes (an accented header) do not stop the list being read.
        let latin = b"Telef\xF4ne\n11987654321\n";
        assert_eq!(read_channel_list(latin).values.len(), 1);
        // Lines ended by CR alone, header included.
        let mac = b"valor\r11987654321\rana@x.com.br\r\r21 3456-7890";
        assert_eq!(read_channel_list(mac).values.len(), 3);
    }
}
