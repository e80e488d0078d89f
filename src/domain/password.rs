//! A password a user chooses: the platform's rules, checked before anything is hashed.

use std::fmt;

use crate::messages;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// argon2 takes any length, but a megabyte "password" is only a way to burn CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
    SameAsEmail,
    Blank,
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PasswordError::TooShort => messages::PASSWORD_TOO_SHORT,
            PasswordError::TooLong => messages::PASSWORD_TOO_LONG,
            PasswordError::SameAsEmail => messages::PASSWORD_SAME_AS_EMAIL,
            PasswordError::Blank => messages::PASSWORD_BLANK,
        })
    }
}

/// A password that passed the rules; only ever hashed, never stored or shown.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(password: &str, email: &str) -> Result<Self, PasswordError> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        if password.trim().is_empty() {
            return Err(PasswordError::Blank);
        }
        if password.trim().eq_ignore_ascii_case(email.trim()) {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(NewPassword(password.to_string()))
    }

    /// A password typed twice: the rules, then the two must match. The error is the
    /// pt-BR message to show beside the field.
    pub fn parse_confirmed(password: &str, confirm: &str, email: &str) -> Result<Self, String> {
        let parsed = Self::parse(password, email).map_err(|e| e.to_string())?;
        if password != confirm {
            return Err(messages::PASSWORD_MISMATCH.to_string());
        }
        Ok(parsed)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length() {
        assert_eq!(
            NewPassword::parse("123456789", "a@b.co").err(),
            Some(PasswordError::TooShort)
        );
        assert!(NewPassword::parse("1234567890", "a@b.co").is_ok());
        // Counted in characters, not bytes.
        assert_eq!(
            NewPassword::parse("ççççççççç", "a@b.co").err(),
            Some(PasswordError::TooShort)
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(257), "a@b.co").err(),
            Some(PasswordError::TooLong)
        );
    }

    #[test]
    fn refuses_the_email_as_password() {
        assert_eq!(
            NewPassword::parse("Maria@Exemplo.com", "maria@exemplo.com").err(),
            Some(PasswordError::SameAsEmail)
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let p = NewPassword::parse("segredo-muito-bom", "a@b.co").unwrap();
        assert!(!format!("{p:?}").contains("segredo"));
    }
}
