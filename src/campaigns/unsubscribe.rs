//! Opt-out links: each message carries a token naming it, signed with a key derived from
//! the server's secret key (`models::secret`), so it cannot be guessed or moved to another
//! message; following it puts that message's address on Não Perturbe. Links signed before
//! the server key existed are still honoured, with the old secret now sealed by the key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::DbConnection;
use crate::models::secret::LinkKeys;
use diesel::QueryResult;

const MAC_BYTES: usize = 16;

/// The keys that sign and verify opt-out links.
pub fn link_keys(conn: &mut DbConnection) -> QueryResult<LinkKeys> {
    crate::models::secret::link_keys(conn)
}

/// The message a token names, under the current key or the legacy secret.
pub fn verify_any(keys: &LinkKeys, token: &str) -> Option<i64> {
    verify(&keys.sign, token).or_else(|| keys.legacy.as_deref().and_then(|k| verify(k, token)))
}

fn mac(secret: &[u8], message: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"unsubscribe:");
    mac.update(&message.to_be_bytes());
    mac
}

/// The token for a message.
pub fn token(secret: &[u8], message: i64) -> String {
    let tag = mac(secret, message).finalize().into_bytes();
    let mut bytes = message.to_be_bytes().to_vec();
    bytes.extend_from_slice(&tag[..MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The message a token names, when its signature holds (compared in constant time).
pub fn verify(secret: &[u8], token: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if bytes.len() != 8 + MAC_BYTES || secret.is_empty() {
        return None;
    }
    let id = i64::from_be_bytes(bytes[..8].try_into().ok()?);
    mac(secret, id).verify_truncated_left(&bytes[8..]).ok()?;
    Some(id)
}

/// Puts a message's address on Não Perturbe, recording where the request came from.
/// Returns the address and whether it was newly listed.
pub fn opt_out(
    conn: &mut DbConnection,
    message: i64,
    source: &str,
    now: i64,
) -> QueryResult<Option<(String, bool)>> {
    let Some(m) = super::ledger::find(conn, message)? else {
        return Ok(None);
    };
    // An elimination anonymised it: the value stands for no one, nothing is listed.
    if crate::domain::is_erased(&m.channel_value) {
        return Ok(Some((m.channel_value, false)));
    }
    let kind = crate::domain::RecordType::of_stored(&m.channel_value);
    let added = crate::models::dnd::opt_out(conn, kind, &m.channel_value, source, now)?;
    Ok(Some((m.channel_value, added)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_message_and_nothing_else() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let t = token(secret, 42);
        assert_eq!(verify(secret, &t), Some(42));
        assert_eq!(verify(b"another secret", &t), None);
        // The same signature under another id is refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        bytes[7] = 43;
        assert_eq!(verify(secret, &URL_SAFE_NO_PAD.encode(bytes)), None);
        assert_eq!(verify(secret, "not-a-token"), None);
        assert_eq!(verify(secret, ""), None);
    }

    #[test]
    fn links_sent_under_the_old_secret_still_verify() {
        let keys = LinkKeys {
            sign: b"a key derived from the server key".to_vec(),
            legacy: Some(b"the secret the database once held".to_vec()),
        };
        let old = token(keys.legacy.as_deref().unwrap(), 7);
        assert_eq!(verify_any(&keys, &old), Some(7));
        assert_eq!(verify_any(&keys, &token(&keys.sign, 8)), Some(8));
        let fresh = LinkKeys {
            legacy: None,
            ..keys
        };
        assert_eq!(verify_any(&fresh, &old), None);
    }
}
