//! Retention (LGPD arts. 15 and 16): per legal basis, how many days an import's rows'
//! values (message, coringas, tag — the membership stays), its rejected rows and its
//! uploaded file are kept (none set: forever). A run removes what
//! expired and counts it; a dry run counts the same without removing anything. The only
//! writer of the `retention.*` settings.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::{AudienceStatus, LegalBasis};
use crate::models::settings;
use crate::schema::{audience_members, audience_row_errors, audiences};

/// What is kept for a while, each with its setting's name and its pt-BR label.
pub const KINDS: [(&str, &str); 3] = [
    ("linhas", "Linhas do público (mensagem, coringas, tag)"),
    ("rejeitadas", "Linhas rejeitadas"),
    ("arquivos", "Arquivos enviados"),
];

/// The longest period an admin may set, in days (100 years).
pub const MAX_DAYS: i64 = 36_500;

/// Days kept per (legal basis, kind); `None` keeps forever.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub days: Vec<((LegalBasis, &'static str), Option<i64>)>,
}

fn key(basis: LegalBasis, kind: &str) -> String {
    format!("retention.{}.{kind}", basis.code())
}

impl Policy {
    pub fn load(conn: &mut DbConnection) -> QueryResult<Policy> {
        let stored = settings::all(conn)?;
        let mut days = Vec::new();
        for basis in LegalBasis::ALL {
            for (kind, _) in KINDS {
                let k = key(basis, kind);
                let value = stored
                    .iter()
                    .find(|(key, _)| *key == k)
                    .and_then(|(_, v)| v.parse().ok());
                days.push(((basis, kind), value));
            }
        }
        Ok(Policy { days })
    }

    pub fn get(&self, basis: LegalBasis, kind: &str) -> Option<i64> {
        self.days
            .iter()
            .find(|((b, k), _)| *b == basis && *k == kind)
            .and_then(|(_, d)| *d)
    }

    pub fn save(&self, conn: &mut DbConnection, now: i64) -> QueryResult<()> {
        let pairs: Vec<(String, String)> = self
            .days
            .iter()
            .map(|((basis, kind), days)| {
                (
                    key(*basis, kind),
                    days.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        let refs: Vec<(&str, String)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        settings::store(conn, &refs, now)
    }
}

/// What a run removed (or, dry, would remove).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Removed {
    pub audience_rows: i64,
    pub rejected_rows: i64,
    pub uploads: i64,
    pub dry_run: bool,
}

/// Removes (or, with `dry_run`, counts) what expired by `now` under the policy.
pub fn run(conn: &mut DbConnection, now: i64, dry_run: bool) -> QueryResult<Removed> {
    let policy = Policy::load(conn)?;
    let work = |conn: &mut DbConnection| -> QueryResult<Removed> {
        let mut removed = Removed {
            dry_run,
            ..Removed::default()
        };
        for basis in LegalBasis::ALL {
            for (kind, _) in KINDS {
                let Some(days) = policy.get(basis, kind) else {
                    continue;
                };
                // Finished imports under this basis older than the period.
                let expired: Vec<(i64, Option<String>)> = audiences::table
                    .filter(audiences::legal_basis.eq(basis.code()))
                    .filter(audiences::created_at.lt(now - days * 86_400))
                    .filter(audiences::status.eq_any([
                        AudienceStatus::Done.code(),
                        AudienceStatus::DoneWithRejections.code(),
                        AudienceStatus::Failed.code(),
                    ]))
                    .select((audiences::id, audiences::spool_path))
                    .load(conn)?;
                let ids: Vec<i64> = expired.iter().map(|(id, _)| *id).collect();
                match kind {
                    // The row's values go; the membership stays: who was in the
                    // audience is what campaigns, its page and Excluir público rely on.
                    "linhas" => {
                        use audience_members as m;
                        let rows = m::table.filter(m::audience_id.eq_any(&ids)).filter(
                            m::message
                                .is_not_null()
                                .or(m::coringa1.is_not_null())
                                .or(m::coringa2.is_not_null())
                                .or(m::coringa3.is_not_null())
                                .or(m::coringa4.is_not_null())
                                .or(m::coringa5.is_not_null())
                                .or(m::tag.is_not_null()),
                        );
                        removed.audience_rows += if dry_run {
                            rows.count().get_result::<i64>(conn)?
                        } else {
                            diesel::update(rows)
                                .set((
                                    m::message.eq(None::<String>),
                                    m::coringa1.eq(None::<String>),
                                    m::coringa2.eq(None::<String>),
                                    m::coringa3.eq(None::<String>),
                                    m::coringa4.eq(None::<String>),
                                    m::coringa5.eq(None::<String>),
                                    m::tag.eq(None::<String>),
                                ))
                                .execute(conn)? as i64
                        };
                    }
                    "rejeitadas" => {
                        let rows = audience_row_errors::table
                            .filter(audience_row_errors::audience_id.eq_any(&ids))
                            .filter(audience_row_errors::level.eq("row"));
                        removed.rejected_rows += if dry_run {
                            rows.count().get_result::<i64>(conn)?
                        } else {
                            diesel::delete(rows).execute(conn)? as i64
                        };
                    }
                    _ => {
                        for (id, upload) in expired {
                            let Some(upload) = upload else { continue };
                            removed.uploads += 1;
                            if !dry_run {
                                if let crate::models::upload::UploadRef::File(path) =
                                    crate::models::upload::UploadRef::parse(&upload)
                                {
                                    let _ = std::fs::remove_file(path);
                                }
                                crate::models::Audience::forget_upload(conn, id)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(removed)
    };
    if dry_run {
        work(conn)
    } else {
        crate::db::write_transaction(conn, work)
    }
}
