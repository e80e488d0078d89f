//! Reading the multipart form: text fields into memory (small), the file streamed as it
//! arrives to where uploads wait (`UploadStore`): the database on PostgreSQL, in 1 MiB
//! pieces, so several app servers share no folder; the spool folder on SQLite, under a
//! name of our own, never the one the browser sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::db::Pool;
use crate::models::upload::{self, UploadRef};
use crate::web::AppError;

/// Text fields are short; anything longer is not from our form.
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;
/// Our forms have a dozen fields; a body with many more is not from them.
const MAX_TEXT_FIELDS: usize = 64;
/// Past the limit the rest of the body is read and dropped (so the browser gets our
/// answer instead of a reset connection), up to this much more.
const MAX_DRAIN_BYTES: u64 = 64 * 1024 * 1024;

/// Uploads one person may send at once.
pub const MAX_UPLOADS_PER_USER: usize = 2;
/// Uploads one server receives at once.
pub const MAX_UPLOADS: usize = 8;

/// Who is uploading now, so one person (or a stalled script) cannot fill the disk with
/// parallel uploads, and how full the spool folder may get.
#[derive(Default)]
pub struct UploadGate {
    per_user: std::sync::Mutex<HashMap<i64, usize>>,
    /// A dry run holds the write lock for the whole file: one at a time per server.
    dry_run: std::sync::atomic::AtomicBool,
}

/// A place among the uploads under way; given back when dropped.
pub struct UploadSlot {
    gate: std::sync::Arc<UploadGate>,
    user: i64,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut per_user = self.gate.per_user.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                per_user.remove(&self.user);
            }
        }
    }
}

/// The dry run under way on this server; another may start once it is dropped.
pub struct DryRunSlot(std::sync::Arc<UploadGate>);

impl Drop for DryRunSlot {
    fn drop(&mut self) {
        self.0
            .dry_run
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

impl UploadGate {
    /// A place for `user`'s upload, unless they (or the server) have too many under way
    /// or the uploads waiting already hold `cap` bytes (`used`, from `UploadStore`).
    pub fn enter(
        self: &std::sync::Arc<Self>,
        user: i64,
        used: u64,
        cap: u64,
    ) -> Result<UploadSlot, AppError> {
        if used >= cap {
            return Err(AppError::Busy(crate::messages::SPOOL_FULL));
        }
        let mut per_user = self.per_user.lock().unwrap_or_else(|e| e.into_inner());
        if per_user.values().sum::<usize>() >= MAX_UPLOADS {
            return Err(AppError::Busy(crate::messages::UPLOADS_BUSY));
        }
        let mine = per_user.entry(user).or_default();
        if *mine >= MAX_UPLOADS_PER_USER {
            return Err(AppError::Busy(crate::messages::UPLOADS_PER_USER));
        }
        *mine += 1;
        Ok(UploadSlot {
            gate: self.clone(),
            user,
        })
    }

    /// The right to run a dry run now, if no other is running on this server.
    pub fn dry_run(self: &std::sync::Arc<Self>) -> Result<DryRunSlot, AppError> {
        use std::sync::atomic::Ordering;
        self.dry_run
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| DryRunSlot(self.clone()))
            .map_err(|_| AppError::Busy(crate::messages::DRY_RUN_BUSY))
    }
}

/// Where uploads are written as they arrive.
#[derive(Clone)]
pub enum UploadStore {
    /// A folder of this server's (SQLite; and lists read at once).
    Folder(PathBuf),
    /// The database (PostgreSQL), shared by every app server; `work_dir` is this
    /// server's own folder for the copies a dry run reads.
    Database { pool: Pool, work_dir: PathBuf },
}

impl UploadStore {
    /// Bytes of the uploads waiting now.
    pub async fn used_bytes(&self) -> Result<u64, AppError> {
        match self {
            UploadStore::Folder(dir) => Ok(folder_bytes(dir)),
            UploadStore::Database { pool, .. } => {
                let pool = pool.clone();
                blocking(move || {
                    let mut conn = pool.get()?;
                    Ok(upload::stored_bytes(&mut conn)?)
                })
                .await
            }
        }
    }
}

pub fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("upload task: {e}")))?
}

pub struct Upload {
    pub fields: HashMap<String, String>,
    /// The file as stored, its original name (for display only) and size.
    pub file: Option<SpooledFile>,
    pub too_large: bool,
}

pub struct SpooledFile {
    pub stored: UploadRef,
    pub original_name: String,
    pub size: u64,
    store: UploadStore,
}

impl SpooledFile {
    /// Forgets the upload (a short delete when it is in the database).
    pub fn discard(&self) {
        match (&self.stored, &self.store) {
            (UploadRef::File(path), _) => {
                let _ = std::fs::remove_file(path);
            }
            (UploadRef::Database(id), UploadStore::Database { pool, .. }) => {
                if let Ok(mut conn) = pool.get() {
                    let _ = upload::delete(&mut conn, *id);
                }
            }
            (UploadRef::Database(_), UploadStore::Folder(_)) => {}
        }
    }

    /// A file on this server to read the upload from, removed when dropped if it is a
    /// copy of one kept in the database.
    pub async fn local_file(&self) -> Result<LocalFile, AppError> {
        match (&self.stored, &self.store) {
            (UploadRef::File(path), _) => Ok(LocalFile {
                path: path.clone(),
                copy: false,
            }),
            (UploadRef::Database(id), UploadStore::Database { pool, work_dir }) => {
                let (pool, id) = (pool.clone(), *id);
                let path = spool_path(work_dir);
                let local = LocalFile {
                    path: path.clone(),
                    copy: true,
                };
                blocking(move || {
                    let mut conn = pool.get()?;
                    upload::write_to_file(&mut conn, id, &path)
                        .map_err(|e| AppError::Internal(format!("upload copy: {e}")))
                })
                .await?;
                Ok(local)
            }
            (UploadRef::Database(_), UploadStore::Folder(_)) => Err(AppError::Internal(
                "an upload in the database without one".into(),
            )),
        }
    }
}

/// A file to read an upload from (see `SpooledFile::local_file`).
pub struct LocalFile {
    pub path: PathBuf,
    copy: bool,
}

impl Drop for LocalFile {
    fn drop(&mut self) {
        if self.copy {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Upload {
    pub fn discard(&self) {
        if let Some(file) = &self.file {
            file.discard();
        }
    }
}

/// Where a file part goes as it arrives.
enum Sink {
    File(tokio::fs::File),
    Database {
        pool: Pool,
        id: i64,
        seq: i32,
        piece: Vec<u8>,
    },
}

impl Sink {
    async fn open(store: &UploadStore) -> Result<(Sink, UploadRef), AppError> {
        match store {
            UploadStore::Folder(dir) => {
                let path = spool_path(dir);
                let file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| AppError::Internal(format!("spool {}: {e}", path.display())))?;
                Ok((Sink::File(file), UploadRef::File(path)))
            }
            UploadStore::Database { pool, .. } => {
                let pool = pool.clone();
                let id = {
                    let pool = pool.clone();
                    blocking(move || {
                        let mut conn = pool.get()?;
                        Ok(upload::begin(&mut conn, crate::time::now())?)
                    })
                    .await?
                };
                Ok((
                    Sink::Database {
                        pool,
                        id,
                        seq: 0,
                        piece: Vec::with_capacity(upload::CHUNK_BYTES),
                    },
                    UploadRef::Database(id),
                ))
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        match self {
            Sink::File(file) => file
                .write_all(bytes)
                .await
                .map_err(|e| AppError::Internal(format!("spool write: {e}"))),
            Sink::Database { piece, .. } => {
                piece.extend_from_slice(bytes);
                if piece.len() >= upload::CHUNK_BYTES {
                    self.store_piece().await?;
                }
                Ok(())
            }
        }
    }

    /// Sends the piece gathered so far to the database.
    async fn store_piece(&mut self) -> Result<(), AppError> {
        let Sink::Database {
            pool,
            id,
            seq,
            piece,
        } = self
        else {
            return Ok(());
        };
        if piece.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::replace(piece, Vec::with_capacity(upload::CHUNK_BYTES));
        let (pool, id, n) = (pool.clone(), *id, *seq);
        *seq += 1;
        blocking(move || {
            let mut conn = pool.get()?;
            Ok(upload::append(&mut conn, id, n, &bytes)?)
        })
        .await
    }

    async fn finish(&mut self) -> Result<(), AppError> {
        match self {
            Sink::File(file) => file
                .flush()
                .await
                .map_err(|e| AppError::Internal(format!("spool flush: {e}"))),
            Sink::Database { .. } => {
                self.store_piece().await?;
                let Sink::Database { pool, id, .. } = self else {
                    return Ok(());
                };
                let (pool, id) = (pool.clone(), *id);
                blocking(move || {
                    let mut conn = pool.get()?;
                    Ok(upload::complete(&mut conn, id)?)
                })
                .await
            }
        }
    }
}

/// The name shown to users: the last path component, without control characters.
fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "arquivo".to_string()
    } else {
        clean
    }
}

fn spool_path(dir: &Path) -> PathBuf {
    dir.join(format!("upload-{:032x}", rand::random::<u128>()))
}

/// A body that sends nothing for this long is dropped, with whatever it had spooled.
const IDLE_BODY: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads the form. `csrf_ok` judges the `csrf_token` field, which our forms send before
/// the file: a request without a valid one is refused before a byte of its file is
/// written.
pub async fn read(
    mut payload: Multipart,
    store: &UploadStore,
    max_bytes: u64,
    csrf_ok: &dyn Fn(&str) -> bool,
) -> Result<Upload, AppError> {
    let mut upload = Upload {
        fields: HashMap::new(),
        file: None,
        too_large: false,
    };
    let result = read_fields(&mut payload, store, max_bytes, csrf_ok, &mut upload).await;
    if result.is_err() {
        upload.discard();
    }
    result.map(|()| upload)
}

/// The next item of a stream, or an error when the client sends nothing for too long.
async fn next_or_stall<S: futures_util::Stream + Unpin>(
    stream: &mut S,
) -> Result<Option<S::Item>, AppError> {
    tokio::time::timeout(IDLE_BODY, stream.next())
        .await
        .map_err(|_| AppError::BadRequest("upload body stalled".into()))
}

async fn read_fields(
    payload: &mut Multipart,
    store: &UploadStore,
    max_bytes: u64,
    csrf_ok: &dyn Fn(&str) -> bool,
    upload: &mut Upload,
) -> Result<(), AppError> {
    let bad = |e: actix_multipart::MultipartError| AppError::BadRequest(format!("multipart: {e}"));
    let mut drained: u64 = 0;
    while let Some(field) = next_or_stall(payload).await? {
        let mut field = field.map_err(bad)?;
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        if name == "arquivo" && upload.file.is_none() {
            if !csrf_ok(upload.fields.get("csrf_token").map_or("", String::as_str)) {
                return Err(AppError::Csrf);
            }
            let Some(filename) = filename.filter(|f| !f.is_empty()) else {
                // No file chosen: browsers still send the part, empty.
                while let Some(chunk) = next_or_stall(&mut field).await? {
                    chunk.map_err(bad)?;
                }
                continue;
            };
            let (mut sink, stored) = Sink::open(store).await?;
            let mut size: u64 = 0;
            upload.file = Some(SpooledFile {
                stored,
                original_name: display_name(&filename),
                size: 0,
                store: store.clone(),
            });
            while let Some(chunk) = next_or_stall(&mut field).await? {
                let chunk = chunk.map_err(bad)?;
                size += chunk.len() as u64;
                if size > max_bytes {
                    upload.too_large = true;
                    drained += chunk.len() as u64;
                    if drained > MAX_DRAIN_BYTES {
                        break;
                    }
                    continue;
                }
                sink.write(&chunk).await?;
            }
            if !upload.too_large {
                sink.finish().await?;
            }
            if let Some(file) = upload.file.as_mut() {
                file.size = size;
            }
            if upload.too_large {
                upload.discard();
                return Ok(());
            }
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = next_or_stall(&mut field).await? {
                let chunk = chunk.map_err(bad)?;
                if value.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
                    return Err(AppError::TooLarge);
                }
                value.extend_from_slice(&chunk);
            }
            if upload.fields.len() >= MAX_TEXT_FIELDS {
                return Err(AppError::TooLarge);
            }
            let value = String::from_utf8_lossy(&value).into_owned();
            // No text field of our upload forms has several lines.
            if crate::domain::text::has_control_chars(&value, false) {
                return Err(AppError::InvalidText(name));
            }
            upload.fields.insert(name, value);
        }
    }
    if !csrf_ok(upload.fields.get("csrf_token").map_or("", String::as_str)) {
        return Err(AppError::Csrf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_name_component_is_kept() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(
            display_name("C:\\Users\\ana\\clientes.xlsx"),
            "clientes.xlsx"
        );
        assert_eq!(display_name("nov\u{0}o.csv"), "novo.csv");
        assert_eq!(display_name("/"), "arquivo");
    }
}
