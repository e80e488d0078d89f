//! Uploads waiting for the import worker, on PostgreSQL kept in the database itself
//! (`uploads`, `upload_chunks` of 1 MiB), so several app servers share nothing but
//! PostgreSQL. SQLite, one server, keeps them in its spool folder. An audience names its
//! upload as `db:<id>` or by the spool file's path (`UploadRef`).

use std::io::Write;
use std::path::{Path, PathBuf};

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{upload_chunks, uploads};

/// Bytes per stored piece.
pub const CHUNK_BYTES: usize = 1 << 20;

const DB_PREFIX: &str = "db:";

/// Where an upload waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadRef {
    /// A file in this server's spool folder (SQLite).
    File(PathBuf),
    /// Rows of `upload_chunks` (PostgreSQL).
    Database(i64),
}

impl UploadRef {
    pub fn parse(stored: &str) -> UploadRef {
        match stored
            .strip_prefix(DB_PREFIX)
            .and_then(|id| id.parse().ok())
        {
            Some(id) => UploadRef::Database(id),
            None => UploadRef::File(PathBuf::from(stored)),
        }
    }

    /// As the audience stores it.
    pub fn stored(&self) -> String {
        match self {
            UploadRef::File(path) => path.to_string_lossy().to_string(),
            UploadRef::Database(id) => format!("{DB_PREFIX}{id}"),
        }
    }
}

/// Starts a stored upload; its pieces follow with `append`.
pub fn begin(conn: &mut DbConnection, now: i64) -> QueryResult<i64> {
    crate::on_backend!(
        conn,
        diesel::insert_into(uploads::table)
            .values((uploads::size.eq(0), uploads::created_at.eq(now)))
            .returning(uploads::id)
    )
}

/// Stores piece `seq` (0, 1, 2…) of an upload.
pub fn append(conn: &mut DbConnection, id: i64, seq: i32, bytes: &[u8]) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(upload_chunks::table)
            .values((
                upload_chunks::upload_id.eq(id),
                upload_chunks::seq.eq(seq),
                upload_chunks::bytes.eq(bytes),
            ))
            .execute(conn)?;
        diesel::update(uploads::table.find(id))
            .set(uploads::size.eq(uploads::size + bytes.len() as i64))
            .execute(conn)
            .map(|_| ())
    })
}

/// Every piece arrived.
pub fn complete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::update(uploads::table.find(id))
        .set(uploads::complete.eq(1))
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::delete(upload_chunks::table.filter(upload_chunks::upload_id.eq(id))).execute(conn)?;
    diesel::delete(uploads::table.find(id))
        .execute(conn)
        .map(|_| ())
}

/// An upload still arriving after this long was cut off (its server died mid-upload);
/// a finished one no audience took (nor a validation keeps) after this long was left by
/// a failed request.
pub const STALE_AFTER_SECS: i64 = 3_600;

/// Deletes uploads left behind (see `STALE_AFTER_SECS`); returns how many.
pub fn purge_stale(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
    let stale: Vec<i64> = diesel::sql_query(format!(
        "SELECT u.id FROM uploads u WHERE u.created_at < {} AND NOT EXISTS \
         (SELECT 1 FROM audiences a WHERE a.spool_path = 'db:' || u.id) AND NOT EXISTS \
         (SELECT 1 FROM import_validations v WHERE v.upload = 'db:' || u.id)",
        now - STALE_AFTER_SECS
    ))
    .load::<Id>(conn)?
    .into_iter()
    .map(|r| r.id)
    .collect();
    for id in &stale {
        delete(conn, *id)?;
    }
    Ok(stale.len())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Bytes of the uploads stored now (finished or arriving).
pub fn stored_bytes(conn: &mut DbConnection) -> QueryResult<u64> {
    let total =
        diesel::sql_query("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM uploads")
            .get_result::<Total>(conn)?;
    Ok(total.n.max(0) as u64)
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whether a complete upload is stored under this id.
pub fn is_complete(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    Ok(uploads::table
        .find(id)
        .select(uploads::complete)
        .first::<i32>(conn)
        .optional()?
        == Some(1))
}

/// Writes a stored upload to `path`, piece by piece (one piece in memory at a time): the
/// import reads files, and a workbook needs to be read at random.
pub fn write_to_file(conn: &mut DbConnection, id: i64, path: &Path) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut seq = 0i32;
    while let Some(bytes) = upload_chunks::table
        .find((id, seq))
        .select(upload_chunks::bytes)
        .first::<Vec<u8>>(conn)
        .optional()?
    {
        out.write_all(&bytes)?;
        seq += 1;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        for r in [
            UploadRef::Database(42),
            UploadRef::File(PathBuf::from("/var/spool/upload-ab")),
        ] {
            assert_eq!(UploadRef::parse(&r.stored()), r);
        }
        assert_eq!(
            UploadRef::parse("db:x"),
            UploadRef::File(PathBuf::from("db:x"))
        );
    }
}
