//! Settings admins change on `/admin/configuracoes`. The environment gives the first
//! values; once an admin saves, the database is the source of truth.

use diesel::prelude::*;

use crate::config::Config;
use crate::db::DbConnection;
use crate::schema::settings;

const VERIFY: &str = "verify_enabled";
const MAX_UPLOAD_MB: &str = "max_upload_mb";

/// Bounds for the upload limit an admin may set, in MB.
pub const MAX_UPLOAD_MB_RANGE: std::ops::RangeInclusive<u64> = 1..=2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub verify_enabled: bool,
    pub max_upload_mb: u64,
}

impl Settings {
    pub fn defaults(config: &Config) -> Settings {
        Settings {
            verify_enabled: config.verify_enabled,
            max_upload_mb: config.max_upload_bytes.div_ceil(1024 * 1024).max(1),
        }
    }

    pub fn load(conn: &mut DbConnection, config: &Config) -> QueryResult<Settings> {
        let mut current = Settings::defaults(config);
        for (key, value) in all(conn)? {
            match key.as_str() {
                VERIFY => current.verify_enabled = value == "1",
                MAX_UPLOAD_MB => {
                    if let Ok(mb) = value.parse::<u64>() {
                        current.max_upload_mb = mb;
                    }
                }
                _ => {}
            }
        }
        Ok(current)
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb * 1024 * 1024
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        let verify = if self.verify_enabled { "1" } else { "0" };
        let mb = self.max_upload_mb.to_string();
        store(
            conn,
            &[(VERIFY, verify.to_string()), (MAX_UPLOAD_MB, mb)],
            now,
        )
    }
}

/// Every stored setting as (key, value), secrets opened (they are stored sealed with the
/// server's key, see `models::secret`).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    let stored: Vec<(String, String)> = settings::table
        .select((settings::key, settings::value))
        .load(conn)?;
    stored
        .into_iter()
        .map(|(key, value)| {
            let value = super::secret::open_setting(conn, &key, &value)?;
            Ok((key, value))
        })
        .collect()
}

/// Writes settings (key, value), all or none, replacing what each key held.
pub fn store(conn: &mut DbConnection, pairs: &[(&str, String)], now: i64) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        for (key, value) in pairs {
            let value = super::secret::seal_setting(conn, key, value)?;
            diesel::delete(settings::table.find(*key)).execute(conn)?;
            diesel::insert_into(settings::table)
                .values((
                    settings::key.eq(*key),
                    settings::value.eq(&value),
                    settings::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
