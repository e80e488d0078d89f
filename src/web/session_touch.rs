//! Session visits recorded off the request path. A page view must never wait for a write:
//! on SQLite an import holds the write lock until it commits, and a view that had to note
//! the session's last use would wait behind it. Visits are queued here and written by one
//! thread, several at once, whenever the database takes them.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::Duration;

use crate::db::Pool;
use crate::models::UserSession;

pub struct SessionToucher {
    sender: Sender<(i64, i64)>,
}

impl SessionToucher {
    pub fn start(pool: Pool) -> SessionToucher {
        let (sender, receiver) = channel();
        std::thread::Builder::new()
            .name("engajar-sessions".into())
            .spawn(move || write_all(pool, receiver))
            .expect("start the session writer thread");
        SessionToucher { sender }
    }

    /// Session `id` was used at `at` (Unix seconds).
    pub fn touch(&self, id: i64, at: i64) {
        let _ = self.sender.send((id, at));
    }
}

fn write_all(pool: Pool, receiver: Receiver<(i64, i64)>) {
    let mut pending: HashMap<i64, i64> = HashMap::new();
    let mut delay = Duration::from_millis(200);
    loop {
        if pending.is_empty() {
            match receiver.recv() {
                Ok((id, at)) => {
                    pending.insert(id, at);
                }
                Err(_) => return,
            }
        }
        loop {
            match receiver.try_recv() {
                Ok((id, at)) => {
                    let latest = pending.entry(id).or_insert(at);
                    *latest = (*latest).max(at);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => break,
            }
        }
        let visits: Vec<(i64, i64)> = pending.iter().map(|(id, at)| (*id, *at)).collect();
        let written = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            UserSession::record_visits(&mut conn, &visits).map_err(|e| e.to_string())
        });
        match written {
            Ok(()) => {
                pending.clear();
                delay = Duration::from_millis(200);
            }
            Err(e) => {
                // The database is down or busy: keep the visits and try again.
                tracing::warn!(error = %e, "session visits not written yet");
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
