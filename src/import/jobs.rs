//! The import queue: audiences waiting as `queued` rows, one worker thread per server
//! that claims and imports them. On PostgreSQL a job is claimed with `FOR UPDATE SKIP
//! LOCKED` and held with a session advisory lock, so several servers never take the same
//! one and a job whose server died is seen as abandoned and run again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Outcome, import_audience};
use crate::db::{Backend, DbConnection, Pool};
use crate::layout::Limits;
use crate::messages;
use crate::models::Audience;
use crate::models::upload::{self, UploadRef};

const IDLE_WAIT: Duration = Duration::from_secs(2);
const RECOVERY_EVERY: Duration = Duration::from_secs(30);

/// Rows done and total of the imports running on this server.
pub type ProgressMap = HashMap<i64, (u64, u64)>;

pub struct Jobs {
    pool: Pool,
    limits: Limits,
    /// This server's own folder, for the working copy of an upload kept in the database.
    work_dir: PathBuf,
    wake: (Mutex<bool>, Condvar),
    progress: Mutex<ProgressMap>,
}

impl Jobs {
    /// Requeues what a dead server left half-done, then starts the worker thread.
    pub fn start(pool: Pool, limits: Limits, work_dir: PathBuf) -> Arc<Jobs> {
        let jobs = Arc::new(Jobs {
            pool,
            limits,
            work_dir,
            wake: (Mutex::new(false), Condvar::new()),
            progress: Mutex::new(HashMap::new()),
        });
        let worker = Arc::clone(&jobs);
        std::thread::Builder::new()
            .name("engajar-import".into())
            .spawn(move || worker.run())
            .expect("spawn the import worker");
        jobs
    }

    /// Tells the worker a job was queued, so it does not wait for its next look.
    pub fn wake(&self) {
        let (flag, signal) = &self.wake;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        signal.notify_one();
    }

    pub fn progress(&self, audience_id: i64) -> Option<(u64, u64)> {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&audience_id)
            .copied()
    }

    fn run(&self) {
        let mut last_recovery: Option<Instant> = None;
        let mut last_sweep: Option<Instant> = None;
        let mut last_retention: Option<Instant> = None;
        loop {
            let mut worked = false;
            match self.pool.get() {
                Ok(mut conn) => {
                    // SQLite has one server, so only its own start-up finds abandoned jobs
                    // (a command-line import may be running); PostgreSQL servers also
                    // watch for each other.
                    let due = match last_recovery {
                        None => true,
                        Some(t) => {
                            conn.backend() == Backend::Postgres && t.elapsed() > RECOVERY_EVERY
                        }
                    };
                    if due {
                        if let Err(e) = Audience::requeue_abandoned(&mut conn) {
                            tracing::warn!(error = %e, "could not check for abandoned imports");
                        }
                        if conn.backend() == Backend::Postgres {
                            match upload::purge_stale(&mut conn, crate::time::now()) {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(uploads = n, "stale uploads deleted"),
                                Err(e) => tracing::warn!(error = %e, "could not purge uploads"),
                            }
                        }
                        last_recovery = Some(Instant::now());
                    }
                    if last_retention.is_none_or(|t| t.elapsed() > RETENTION_EVERY) {
                        match crate::models::retention::run(&mut conn, crate::time::now(), false) {
                            Ok(removed) => {
                                tracing::info!(?removed, "retention run");
                                if removed.audience_rows + removed.rejected_rows + removed.uploads
                                    > 0
                                {
                                    let _ = crate::models::audit(
                                        &mut conn,
                                        None,
                                        "retention_run",
                                        &messages::retention_ran(&removed, false),
                                        None,
                                    );
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "retention run failed"),
                        }
                        last_retention = Some(Instant::now());
                    }
                    if last_sweep.is_none_or(|t| t.elapsed() > SWEEP_EVERY) {
                        sweep_validations(&mut conn);
                        last_sweep = Some(Instant::now());
                    }
                    match Audience::claim_next(&mut conn) {
                        Ok(Some(id)) => {
                            worked = true;
                            self.process(&mut conn, id);
                            Audience::release(&mut conn, id);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "could not claim an import"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "import worker has no database connection"),
            }
            if !worked {
                let (flag, signal) = &self.wake;
                let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
                let (mut guard, _) = signal
                    .wait_timeout_while(guard, IDLE_WAIT, |woken| !*woken)
                    .unwrap_or_else(|e| e.into_inner());
                *guard = false;
            }
        }
    }

    fn process(&self, conn: &mut DbConnection, id: i64) {
        let audience = match Audience::find(conn, id) {
            Ok(Some(a)) => a,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(audience = id, error = %e, "cannot load the audience to import");
                return;
            }
        };
        let Some(stored) = audience.upload.as_deref().map(UploadRef::parse) else {
            let _ = Audience::record_failure(conn, id, messages::IMPORT_UPLOAD_MISSING);
            return;
        };
        // The import reads a file: an upload kept in the database is copied, piece by
        // piece, to this server's own folder first.
        let (path, copy) = match &stored {
            UploadRef::File(path) => (path.clone(), false),
            UploadRef::Database(upload_id) => {
                match upload::is_complete(conn, *upload_id) {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = Audience::record_failure(conn, id, messages::IMPORT_UPLOAD_MISSING);
                        return;
                    }
                    Err(e) => {
                        tracing::error!(audience = id, error = %e, "cannot read the upload");
                        return;
                    }
                }
                let copy = self
                    .work_dir
                    .join(format!("import-{id}-{:016x}", rand::random::<u64>()));
                if let Err(e) = upload::write_to_file(conn, *upload_id, &copy) {
                    let _ = std::fs::remove_file(&copy);
                    tracing::error!(audience = id, error = %e, "cannot copy the upload");
                    return;
                }
                (copy, true)
            }
        };
        let path = path.as_path();
        if !path.exists() {
            let _ = Audience::record_failure(conn, id, messages::IMPORT_UPLOAD_NOT_HERE);
            return;
        }
        tracing::info!(audience = id, file = %audience.file_name, "import started");
        let started = Instant::now();
        let backend = conn.backend();
        let mut last_write = Instant::now();
        let mut progress = |done: u64, total: u64| {
            self.progress
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, (done, total));
            // Other servers read progress from the database; SQLite has only this server,
            // whose write lock the import holds anyway.
            if backend == Backend::Postgres && last_write.elapsed() > Duration::from_millis(500) {
                last_write = Instant::now();
                if let Ok(mut other) = self.pool.get() {
                    let _ = Audience::record_progress(&mut other, id, done, total);
                }
            }
        };
        let result = import_audience(conn, &audience, path, &self.limits, &mut progress);
        if copy {
            let _ = std::fs::remove_file(path);
        }
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        match result {
            Ok(Outcome::Imported { counts, .. }) => {
                tracing::info!(
                    audience = id,
                    rows = counts.rows,
                    imported = counts.imported,
                    seconds = started.elapsed().as_secs_f64(),
                    "import finished"
                );
                forget_file(conn, id, path);
            }
            Ok(Outcome::Rejected { report }) => {
                tracing::info!(
                    audience = id,
                    errors = report.file_error_total,
                    "import rejected"
                );
                forget_file(conn, id, path);
            }
            Err(e) => {
                tracing::error!(audience = id, error = %e, "import failed");
                // Once the failure is recorded nobody will run this upload again; while
                // it cannot be recorded, the file stays for the job to be retried.
                if Audience::record_failure(conn, id, messages::IMPORT_DATABASE_FAILED).is_ok() {
                    forget_file(conn, id, path);
                }
            }
        }
    }
}

/// The upload is no longer needed once its outcome is recorded.
fn forget_file(conn: &mut DbConnection, id: i64, path: &Path) {
    let _ = std::fs::remove_file(path);
    if let Err(e) = Audience::forget_upload(conn, id) {
        tracing::warn!(audience = id, error = %e, "could not forget the upload");
    }
}

/// How often retention removes what expired (and once at start-up).
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 3600);

/// How often expired validations (and the uploads they kept) are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Forgets the validations past their time, and the uploads no import took from them.
fn sweep_validations(conn: &mut DbConnection) {
    match crate::models::validation::Validation::sweep(conn, crate::time::now()) {
        Ok(files) => {
            for file in files {
                if let UploadRef::File(path) = file {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not forget expired validations"),
    }
}
