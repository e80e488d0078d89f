//! The server's secret key, kept outside the database (`ENGAJAR_SECRET_KEY` or a key
//! file), and the keys derived from it: the suppression key that hashes eliminated
//! people's channels and documents, the key that signs opt-out links, and the key that
//! seals provider secrets in the settings table. The database keeps only the key's
//! fingerprint, so a copy of the database alone can neither match a suppressed CPF or
//! phone, nor read a provider's token, nor forge an opt-out link; and a server started
//! with another key refuses to start instead of silently failing to match.
//!
//! Databases from before the key existed held the signing and hashing secret in the
//! settings table (`unsubscribe_secret`). The first start with a key migrates them once:
//! every suppressed hash `h` becomes `HMAC(suppression key, h)` (the values themselves
//! are not known, only their hashes), the old secret is sealed with the key — it is still
//! needed to compute `h` for values imported later, and to honour opt-out links already
//! sent — and its plaintext is deleted; provider secrets stored in plaintext are sealed.

use std::collections::HashMap;
use std::sync::Mutex;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::DbConnection;
use crate::schema::{settings, suppressed_keys};

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// The setting holding the key's fingerprint.
const FINGERPRINT: &str = "server_key_fingerprint";
/// Where databases from before the key kept the signing and hashing secret in plaintext.
const LEGACY_PLAIN: &str = "unsubscribe_secret";
/// The same secret once sealed with the key.
const LEGACY_SEALED: &str = "legacy_unsubscribe_secret";
/// Settings whose values are sealed: provider tokens, passwords and webhook secrets.
pub const SEALED_SETTINGS: [&str; 8] = [
    "wa_token",
    "wa_app_secret",
    "wa_verify_token",
    "sms_zenvia_token",
    "sms_twilio_auth_token",
    "sms_webhook_secret",
    "smtp_password",
    LEGACY_SEALED,
];
/// How a sealed value starts: version, then base64 of nonce and ciphertext.
const SEALED_PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 12;

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length")
}

/// The server's secret key.
#[derive(Clone)]
pub struct ServerKey(Vec<u8>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKey({})", self.fingerprint())
    }
}

impl ServerKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<ServerKey, String> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the secret key must hold at least {MIN_KEY_BYTES} bytes, it holds {}",
                bytes.len()
            ));
        }
        Ok(ServerKey(bytes.to_vec()))
    }

    /// A fresh random key.
    pub fn generate() -> ServerKey {
        let mut bytes = vec![0u8; MIN_KEY_BYTES];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        ServerKey(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A key for one purpose: HMAC-SHA256(secret, label), so no derived key tells
    /// anything of another or of the secret.
    fn derive(&self, label: &str) -> [u8; 32] {
        let mut mac = hmac(&self.0);
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn suppression(&self) -> [u8; 32] {
        self.derive("engajar suppression v1")
    }

    fn links(&self) -> [u8; 32] {
        self.derive("engajar links v1")
    }

    fn sealing(&self) -> [u8; 32] {
        self.derive("engajar sealed settings v1")
    }

    /// What the database keeps to recognise the key.
    pub fn fingerprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.derive("engajar key fingerprint v1")[..16])
    }

    /// `value` sealed (AES-256-GCM), bound to the setting it is stored under.
    fn seal(&self, name: &str, value: &str) -> String {
        let cipher = Aes256Gcm::new(&self.sealing().into());
        let mut nonce = [0u8; NONCE_BYTES];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: name.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn open(&self, name: &str, stored: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(stored.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let cipher = Aes256Gcm::new(&self.sealing().into());
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: name.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

/// The keys this process was started with, by fingerprint: each database names its own
/// by the fingerprint it keeps (a process may serve several databases, as tests do).
static KEYS: Mutex<Option<HashMap<String, ServerKey>>> = Mutex::new(None);

/// Makes a key available to this process for the databases that name it.
pub fn register(key: &ServerKey) {
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.get_or_insert_with(HashMap::new)
        .insert(key.fingerprint(), key.clone());
}

fn failure(message: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(message.to_string().into())
}

fn setting(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(name)
        .select(settings::value)
        .first::<String>(conn)
        .optional()
}

fn put(conn: &mut DbConnection, name: &str, value: &str, now: i64) -> QueryResult<()> {
    diesel::delete(settings::table.find(name)).execute(conn)?;
    diesel::insert_into(settings::table)
        .values((
            settings::key.eq(name),
            settings::value.eq(value),
            settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The key of the database `conn` is connected to.
fn key_of(conn: &mut DbConnection) -> QueryResult<ServerKey> {
    let Some(fingerprint) = setting(conn, FINGERPRINT)? else {
        return Err(failure(
            "the database has not been opened with the server's secret key yet",
        ));
    };
    let keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.as_ref()
        .and_then(|k| k.get(&fingerprint))
        .cloned()
        .ok_or_else(|| failure("this process was not started with the database's secret key"))
}

/// Checks the key against the database's fingerprint (taking the key as the database's
/// when it has none yet, and migrating what an older version stored in plaintext) and
/// makes it available to this process. A different key is refused with the reason.
pub fn open_with(conn: &mut DbConnection, key: &ServerKey, now: i64) -> anyhow::Result<()> {
    let fingerprint = key.fingerprint();
    crate::db::write_transaction(conn, |conn| {
        if setting(conn, FINGERPRINT)?.is_none() {
            // Two servers starting at once on a new database: the first one's key wins,
            // and the other compares against it below.
            crate::insert_ignoring_duplicates!(
                conn,
                settings::table,
                (
                    settings::key.eq(FINGERPRINT),
                    settings::value.eq(&fingerprint),
                    settings::updated_at.eq(now),
                ),
                settings::key
            )?;
        }
        if setting(conn, FINGERPRINT)?.as_deref() != Some(fingerprint.as_str()) {
            return Ok(Err(()));
        }
        migrate(conn, key, now)?;
        Ok::<_, diesel::result::Error>(Ok(()))
    })?
    .map_err(|()| {
        anyhow::anyhow!(
            "the secret key (ENGAJAR_SECRET_KEY or its key file) is not the one this database \
             was set up with: start the server with the database's own key. A new key cannot \
             read the provider secrets nor match the eliminated people the database holds."
        )
    })?;
    register(key);
    Ok(())
}

/// Re-keys what an older version left in plaintext; does nothing once done.
fn migrate(conn: &mut DbConnection, key: &ServerKey, now: i64) -> QueryResult<()> {
    if let Some(legacy) = setting(conn, LEGACY_PLAIN)? {
        if setting(conn, LEGACY_SEALED)?.is_some() {
            // Already migrated; an older server wrote a new plaintext secret since. Its
            // hashes (if any) cannot be told from migrated ones: keep the sealed secret.
            diesel::delete(settings::table.find(LEGACY_PLAIN)).execute(conn)?;
            return migrate_settings(conn, key, now);
        }
        let outer = key.suppression();
        let old: Vec<String> = suppressed_keys::table
            .select(suppressed_keys::key)
            .load(conn)?;
        for hash in old {
            diesel::update(suppressed_keys::table.find(&hash))
                .set(suppressed_keys::key.eq(chained(&outer, &hash)))
                .execute(conn)?;
        }
        put(conn, LEGACY_SEALED, &key.seal(LEGACY_SEALED, &legacy), now)?;
        diesel::delete(settings::table.find(LEGACY_PLAIN)).execute(conn)?;
        tracing::info!("suppressed hashes re-keyed with the server's secret key");
    }
    migrate_settings(conn, key, now)
}

/// Seals the secret settings an older version stored in plaintext.
fn migrate_settings(conn: &mut DbConnection, key: &ServerKey, now: i64) -> QueryResult<()> {
    for name in SEALED_SETTINGS {
        if let Some(value) = setting(conn, name)?
            && !value.starts_with(SEALED_PREFIX)
        {
            put(conn, name, &key.seal(name, &value), now)?;
        }
    }
    Ok(())
}

fn chained(outer: &[u8], inner: &str) -> String {
    let mut mac = hmac(outer);
    mac.update(b"supressao-v2\0");
    mac.update(inner.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The secret an older version kept in the settings table, if this database had one.
fn legacy(conn: &mut DbConnection, key: &ServerKey) -> QueryResult<Option<Vec<u8>>> {
    let Some(sealed) = setting(conn, LEGACY_SEALED)? else {
        return Ok(None);
    };
    let text = key
        .open(LEGACY_SEALED, &sealed)
        .ok_or_else(|| failure("the sealed legacy secret cannot be opened"))?;
    Ok(Some(URL_SAFE_NO_PAD.decode(text).unwrap_or_default()))
}

/// Length of the derived suppression key at the start of [`suppression_secret`].
pub const SUPPRESSION_KEY_BYTES: usize = 32;

/// What [`suppression_key`] hashes with: the derived suppression key, followed by the
/// legacy secret on databases that had one (their hashes are chained through it).
pub fn suppression_secret(conn: &mut DbConnection) -> QueryResult<Vec<u8>> {
    let key = key_of(conn)?;
    let mut secret = key.suppression().to_vec();
    if let Some(legacy) = legacy(conn, &key)? {
        secret.extend_from_slice(&legacy);
    }
    Ok(secret)
}

/// The keyed hash a value is suppressed by, under a [`suppression_secret`]:
/// HMAC(suppression key, HMAC(inner, kind, value)), the inner key being the legacy
/// secret where there is one (so migrated hashes keep matching) and the suppression key
/// otherwise.
pub fn suppression_key(secret: &[u8], kind: &str, value: &str) -> String {
    let (outer, legacy) = secret.split_at(secret.len().min(SUPPRESSION_KEY_BYTES));
    let inner_key = if legacy.is_empty() { outer } else { legacy };
    let mut mac = hmac(inner_key);
    mac.update(b"supressao\0");
    mac.update(kind.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    let inner = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    chained(outer, &inner)
}

/// The keys of opt-out links: `sign` for new links; `legacy`, on databases from before
/// the server key, verifies the links already sent.
pub struct LinkKeys {
    pub sign: Vec<u8>,
    pub legacy: Option<Vec<u8>>,
}

pub fn link_keys(conn: &mut DbConnection) -> QueryResult<LinkKeys> {
    let key = key_of(conn)?;
    Ok(LinkKeys {
        sign: key.links().to_vec(),
        legacy: legacy(conn, &key)?,
    })
}

/// A setting's value as stored: sealed when the setting is a secret.
pub fn seal_setting(conn: &mut DbConnection, name: &str, value: &str) -> QueryResult<String> {
    if !SEALED_SETTINGS.contains(&name) || value.is_empty() {
        return Ok(value.to_string());
    }
    Ok(key_of(conn)?.seal(name, value))
}

/// A stored setting's value, opened when sealed.
pub fn open_setting(conn: &mut DbConnection, name: &str, stored: &str) -> QueryResult<String> {
    if !stored.starts_with(SEALED_PREFIX) {
        return Ok(stored.to_string());
    }
    key_of(conn)?
        .open(name, stored)
        .ok_or_else(|| failure("a sealed setting cannot be opened with the server's key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_key_and_name() {
        let key = ServerKey::generate();
        let sealed = key.seal("wa_token", "EAAG-segredo");
        assert!(!sealed.contains("EAAG"));
        assert_eq!(
            key.open("wa_token", &sealed).as_deref(),
            Some("EAAG-segredo")
        );
        assert_eq!(key.open("sms_zenvia_token", &sealed), None);
        assert_eq!(ServerKey::generate().open("wa_token", &sealed), None);
    }

    #[test]
    fn a_suppression_hash_needs_the_derived_key() {
        let key = ServerKey::generate();
        let secret = key.suppression().to_vec();
        let a = suppression_key(&secret, "DOCUMENTO", "11144477735");
        assert_eq!(a, suppression_key(&secret, "DOCUMENTO", "11144477735"));
        assert_ne!(a, suppression_key(&secret, "DOCUMENTO", "52998224725"));
        let other = ServerKey::generate().suppression().to_vec();
        assert_ne!(a, suppression_key(&other, "DOCUMENTO", "11144477735"));
    }

    #[test]
    fn migrated_hashes_match_values_hashed_later() {
        let key = ServerKey::generate();
        let legacy = b"0123456789abcdef0123456789abcdef".to_vec();
        let mut mac = hmac(&legacy);
        mac.update(b"supressao\0TELEFONE\0+5511987654321");
        let old = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let migrated = chained(&key.suppression(), &old);
        let mut secret = key.suppression().to_vec();
        secret.extend_from_slice(&legacy);
        assert_eq!(
            suppression_key(&secret, "TELEFONE", "+5511987654321"),
            migrated
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(ServerKey::from_bytes(&[1u8; 16]).is_err());
        assert!(ServerKey::from_bytes(&[1u8; 32]).is_ok());
    }
}
