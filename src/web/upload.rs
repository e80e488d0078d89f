//! Reading the multipart form: text fields into memory (small), the file streamed to the
//! spool folder under a name of our own, never the one the browser sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

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
    /// or the spool folder already holds `spool_cap` bytes.
    pub fn enter(
        self: &std::sync::Arc<Self>,
        user: i64,
        spool_dir: &Path,
        spool_cap: u64,
    ) -> Result<UploadSlot, AppError> {
        let used: u64 = std::fs::read_dir(spool_dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if used >= spool_cap {
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

pub struct Upload {
    pub fields: HashMap<String, String>,
    /// The file as stored, its original name (for display only) and size.
    pub file: Option<SpooledFile>,
    pub too_large: bool,
}

pub struct SpooledFile {
    pub path: PathBuf,
    pub original_name: String,
    pub size: u64,
}

impl SpooledFile {
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Upload {
    pub fn discard(&self) {
        if let Some(file) = &self.file {
            file.discard();
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
    spool_dir: &Path,
    max_bytes: u64,
    csrf_ok: &dyn Fn(&str) -> bool,
) -> Result<Upload, AppError> {
    let mut upload = Upload {
        fields: HashMap::new(),
        file: None,
        too_large: false,
    };
    let result = read_fields(&mut payload, spool_dir, max_bytes, csrf_ok, &mut upload).await;
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
    spool_dir: &Path,
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
            let path = spool_path(spool_dir);
            let mut out = tokio::fs::File::create(&path)
                .await
                .map_err(|e| AppError::Internal(format!("spool {}: {e}", path.display())))?;
            let mut size: u64 = 0;
            upload.file = Some(SpooledFile {
                path: path.clone(),
                original_name: display_name(&filename),
                size: 0,
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
                out.write_all(&chunk)
                    .await
                    .map_err(|e| AppError::Internal(format!("spool write: {e}")))?;
            }
            out.flush()
                .await
                .map_err(|e| AppError::Internal(format!("spool flush: {e}")))?;
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
