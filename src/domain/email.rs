//! An e-mail address: trimmed, lower-cased, with a sane syntax.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_lowercase();
        if value.len() > 254 {
            return Err(format!("{raw:?} is too long for an e-mail address"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(format!("{raw:?} has no @"));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic));
        if local_ok && domain_ok {
            Ok(Email(value))
        } else {
            Err(format!("{raw:?} is not a valid e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spaces() {
        assert_eq!(
            Email::parse("  Maria.Silva@Exemplo.COM.br ")
                .unwrap()
                .as_str(),
            "maria.silva@exemplo.com.br"
        );
    }

    #[test]
    fn accepts_common_addresses() {
        for ok in [
            "a@b.co",
            "joao+promo@empresa.com.br",
            "francisca.goncalves@exemplo.com.br",
            "conceição@exemplo.com.br",
            "x_y-z@sub.dominio-x.org",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "maria",
            "maria@",
            "@exemplo.com",
            "maria@exemplo",
            "maria@@exemplo.com",
            "maria silva@exemplo.com",
            "maria@exemplo..com",
            ".maria@exemplo.com",
            "maria.@exemplo.com",
            "maria@-exemplo.com",
            "maria@exemplo.c",
            "maria@exemplo.123",
            "maria@exem_plo.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
