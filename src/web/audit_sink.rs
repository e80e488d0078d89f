//! Audit entries written off the request path. A login must not wait for SQLite's write
//! lock, which a large import holds until it commits; its audit entry is queued here and
//! written by one thread as soon as the database takes it.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use crate::db::Pool;
use crate::models::NewAuditEntry;

#[derive(Debug, Clone)]
pub struct QueuedAudit {
    pub user_id: Option<i64>,
    pub action: &'static str,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: i64,
    /// The contact looked at, for the titular's records.
    pub contact_id: Option<i64>,
}

pub struct AuditSink {
    sender: Sender<QueuedAudit>,
}

impl AuditSink {
    pub fn start(pool: Pool) -> AuditSink {
        let (sender, receiver) = channel();
        std::thread::Builder::new()
            .name("engajar-audit".into())
            .spawn(move || write_all(pool, receiver))
            .expect("start the audit writer thread");
        AuditSink { sender }
    }

    /// Records that `user` looked at or exported personal data (LGPD art. 37), about
    /// `contact` when it is one person's: off the request path, now, from the request's
    /// address.
    pub fn record_view(
        &self,
        req: &actix_web::HttpRequest,
        user: i64,
        action: &'static str,
        detail: String,
        contact: Option<i64>,
    ) {
        self.record(QueuedAudit {
            user_id: Some(user),
            action,
            detail,
            ip: crate::web::client_ip(req),
            created_at: crate::time::now(),
            contact_id: contact,
        });
    }

    pub fn record(&self, entry: QueuedAudit) {
        if let Err(e) = self.sender.send(entry) {
            tracing::error!(entry = ?e.0, "audit writer gone; entry lost");
        }
    }
}

fn write_all(pool: Pool, receiver: Receiver<QueuedAudit>) {
    for entry in receiver {
        let mut delay = Duration::from_millis(200);
        loop {
            let written = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                NewAuditEntry {
                    user_id: entry.user_id,
                    action: entry.action,
                    detail: &entry.detail,
                    ip: entry.ip.as_deref(),
                    created_at: entry.created_at,
                    contact_id: entry.contact_id,
                }
                .insert(&mut conn)
                .map_err(|e| e.to_string())
            });
            match written {
                Ok(()) => break,
                Err(e) => {
                    // The database is down or busy: keep the entry and try again.
                    tracing::warn!(error = %e, action = entry.action, "audit entry not written yet");
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
