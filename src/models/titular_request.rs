//! The register of titulars' requests (LGPD art. 18), each due 15 days after it was
//! received (art. 19). The only writer of `titular_requests`.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::titular_requests;

/// The rights of art. 18 a request may ask for: (code, pt-BR name).
pub const KINDS: [(&str, &str); 9] = [
    ("confirmacao", "Confirmação da existência de tratamento"),
    ("acesso", "Acesso aos dados"),
    ("correcao", "Correção de dados"),
    (
        "anonimizacao",
        "Anonimização, bloqueio ou eliminação de dados desnecessários",
    ),
    ("portabilidade", "Portabilidade"),
    (
        "eliminacao",
        "Eliminação de dados tratados com consentimento",
    ),
    ("compartilhamento", "Informação sobre compartilhamento"),
    ("revogacao", "Revogação do consentimento"),
    ("oposicao", "Oposição ao tratamento"),
];

/// Days to answer in full (art. 19, II).
pub const DUE_DAYS: i64 = 15;

const OPEN: &str = "aberto";
const ANSWERED: &str = "respondido";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = titular_requests)]
pub struct TitularRequest {
    pub id: i64,
    pub kind: String,
    pub requester: String,
    pub subject_key: String,
    pub received_at: i64,
    pub due_at: i64,
    pub status: String,
    pub answered_at: Option<i64>,
    pub note: String,
}

impl TitularRequest {
    pub fn kind_label(&self) -> &'static str {
        KINDS
            .iter()
            .find(|(code, _)| *code == self.kind)
            .map_or("Outro pedido", |(_, label)| label)
    }

    pub fn is_open(&self) -> bool {
        self.status == OPEN
    }

    /// Still open past its due date.
    pub fn is_overdue(&self, now: i64) -> bool {
        self.is_open() && now > self.due_at
    }

    pub fn status_label(&self) -> &'static str {
        if self.is_open() {
            "Em aberto"
        } else {
            "Respondido"
        }
    }

    /// Registers a request received at `received_at` (due `DUE_DAYS` later).
    pub fn create(
        conn: &mut DbConnection,
        kind: &str,
        requester: &str,
        subject_key: &str,
        received_at: i64,
        by: i64,
        now: i64,
    ) -> QueryResult<i64> {
        crate::on_backend!(
            conn,
            diesel::insert_into(titular_requests::table)
                .values((
                    titular_requests::kind.eq(kind),
                    titular_requests::requester.eq(requester),
                    titular_requests::subject_key.eq(subject_key),
                    titular_requests::received_at.eq(received_at),
                    titular_requests::due_at.eq(received_at + DUE_DAYS * 86_400),
                    titular_requests::status.eq(OPEN),
                    titular_requests::created_by.eq(Some(by)),
                    titular_requests::created_at.eq(now),
                ))
                .returning(titular_requests::id)
        )
    }

    /// Records the answer of an open request; false when it was not open.
    pub fn answer(conn: &mut DbConnection, id: i64, note: &str, now: i64) -> QueryResult<bool> {
        diesel::update(
            titular_requests::table
                .find(id)
                .filter(titular_requests::status.eq(OPEN)),
        )
        .set((
            titular_requests::status.eq(ANSWERED),
            titular_requests::answered_at.eq(Some(now)),
            titular_requests::note.eq(note),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Open ones first, the most urgent on top; then the answered, newest first.
    pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<TitularRequest>> {
        let mut open: Vec<TitularRequest> = titular_requests::table
            .filter(titular_requests::status.eq(OPEN))
            .order(titular_requests::due_at)
            .select(TitularRequest::as_select())
            .load(conn)?;
        open.extend(
            titular_requests::table
                .filter(titular_requests::status.ne(OPEN))
                .order(titular_requests::answered_at.desc())
                .select(TitularRequest::as_select())
                .load::<TitularRequest>(conn)?,
        );
        Ok(open)
    }

    /// An eliminated person's values leave the register too: the request stays, as a
    /// record that it was answered, without them. A key or a requester that is one of
    /// their values as a whole (typed any way: `MARIA@EXEMPLO.COM.BR`, `11 98765-4321`, the
    /// name in other case) goes whole; their names go from the texts of their own
    /// requests. Returns the rows changed.
    pub fn scrub(
        conn: &mut DbConnection,
        values: &crate::domain::PersonValues,
        erased: &str,
    ) -> QueryResult<i64> {
        // The register holds one row per request a person made: few enough to read whole.
        let rows: Vec<(i64, String, String, String)> = titular_requests::table
            .select((
                titular_requests::id,
                titular_requests::requester,
                titular_requests::subject_key,
                titular_requests::note,
            ))
            .load(conn)?;
        let mut changed = 0;
        for (id, requester, key, note) in rows {
            let theirs = values.is_value(&key) || values.is_value(&requester);
            let clean = |text: &str| {
                if values.is_value(text) {
                    Some(erased.to_string())
                } else {
                    values.redact(text, erased, theirs)
                }
            };
            let (new_requester, new_key, new_note) = (clean(&requester), clean(&key), clean(&note));
            if new_requester.is_none() && new_key.is_none() && new_note.is_none() {
                continue;
            }
            changed += diesel::update(titular_requests::table.find(id))
                .set((
                    titular_requests::requester.eq(new_requester.unwrap_or(requester)),
                    titular_requests::subject_key.eq(new_key.unwrap_or(key)),
                    titular_requests::note.eq(new_note.unwrap_or(note)),
                ))
                .execute(conn)? as i64;
        }
        Ok(changed)
    }
}
