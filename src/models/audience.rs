//! Audiences (públicos): one per imported file, with its members and rejected rows.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{audience_members, audience_row_errors, audiences, segments, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audiences)]
pub struct Audience {
    pub id: i64,
    pub description: String,
    pub segment_id: i64,
    pub file_name: String,
    pub spool_path: Option<String>,
    pub legal_basis: String,
    pub opt_verify: i32,
    pub opt_nao_perturbe: i32,
    pub opt_manter_segmento: i32,
    pub opt_limpar_tag: i32,
    pub status: String,
    pub rows_total: i64,
    pub rows_done: i64,
    pub imported: i64,
    pub rejected: i64,
    pub dnd_skipped: i64,
    pub verify_discarded: i64,
    pub duplicate_rows: i64,
    pub contacts_created: i64,
    pub contacts_updated: i64,
    pub file_errors: i64,
    pub failure: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audiences)]
pub struct NewAudience<'a> {
    pub description: &'a str,
    pub segment_id: i64,
    pub file_name: &'a str,
    pub spool_path: Option<&'a str>,
    pub legal_basis: &'a str,
    pub opt_verify: i32,
    pub opt_nao_perturbe: i32,
    pub opt_manter_segmento: i32,
    pub opt_limpar_tag: i32,
    pub status: &'a str,
    pub form_token: Option<&'a str>,
    pub description_search: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl NewAudience<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Audience> {
        crate::on_backend!(
            conn,
            diesel::insert_into(audiences::table)
                .values(self)
                .returning(Audience::as_returning())
        )
    }
}

impl Audience {
    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Audience>> {
        audiences::table
            .find(id)
            .select(Audience::as_select())
            .first(conn)
            .optional()
    }

    /// The audience a form (by its one-time token) already created.
    pub fn find_by_form_token(
        conn: &mut DbConnection,
        token: &str,
    ) -> QueryResult<Option<Audience>> {
        audiences::table
            .filter(audiences::form_token.eq(token))
            .select(Audience::as_select())
            .first(conn)
            .optional()
    }

    /// Rows that left the audience without an error: Não Perturbe, Verify, duplicates.
    pub fn discarded(&self) -> i64 {
        self.dnd_skipped + self.verify_discarded + self.duplicate_rows
    }
}

/// One line of the audience list, with the names its ids point to.
#[derive(Debug, Clone, Queryable)]
pub struct AudienceListItem {
    pub id: i64,
    pub description: String,
    pub file_name: String,
    pub legal_basis: String,
    pub status: String,
    pub imported: i64,
    pub contacts_updated: i64,
    pub dnd_skipped: i64,
    pub verify_discarded: i64,
    pub duplicate_rows: i64,
    pub rejected: i64,
    pub created_at: i64,
    pub segment_name: String,
    pub created_by_name: Option<String>,
}

impl AudienceListItem {
    fn filtered(search: Option<&str>) -> audiences::BoxedQuery<'static, crate::db::MultiBackend> {
        let mut query = audiences::table.into_boxed();
        if let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) {
            let escaped = crate::domain::text::search_key(text)
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query = query.filter(
                audiences::description_search
                    .assume_not_null()
                    .like(format!("%{escaped}%"))
                    .escape('\\'),
            );
        }
        query
    }

    /// Newest first, optionally only descriptions containing `search`.
    pub fn page(
        conn: &mut DbConnection,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let ids: Vec<i64> = Self::filtered(search)
            .select(audiences::id)
            .order((audiences::created_at.desc(), audiences::id.desc()))
            .offset(offset)
            .limit(limit)
            .load(conn)?;
        audiences::table
            .inner_join(segments::table)
            .left_join(users::table)
            .filter(audiences::id.eq_any(&ids))
            .select((
                audiences::id,
                audiences::description,
                audiences::file_name,
                audiences::legal_basis,
                audiences::status,
                audiences::imported,
                audiences::contacts_updated,
                audiences::dnd_skipped,
                audiences::verify_discarded,
                audiences::duplicate_rows,
                audiences::rejected,
                audiences::created_at,
                segments::name,
                users::name.nullable(),
            ))
            .order((audiences::created_at.desc(), audiences::id.desc()))
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection, search: Option<&str>) -> QueryResult<i64> {
        Self::filtered(search).count().get_result(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audience_members)]
pub struct AudienceMember {
    pub id: i64,
    pub audience_id: i64,
    pub contact_id: i64,
    pub line: i64,
    pub outcome: String,
    pub channel_kind: String,
    pub channel_value: String,
    pub message: Option<String>,
    pub coringa1: Option<String>,
    pub coringa2: Option<String>,
    pub coringa3: Option<String>,
    pub coringa4: Option<String>,
    pub coringa5: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audience_members)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewAudienceMember {
    pub audience_id: i64,
    pub contact_id: i64,
    pub line: i64,
    pub outcome: &'static str,
    pub channel_kind: &'static str,
    pub channel_value: String,
    pub message: Option<String>,
    pub coringa1: Option<String>,
    pub coringa2: Option<String>,
    pub coringa3: Option<String>,
    pub coringa4: Option<String>,
    pub coringa5: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<&'static str>,
}

impl AudienceMember {
    /// The filled coringas with their numbers (1–5).
    pub fn coringas(&self) -> Vec<(usize, &str)> {
        [
            &self.coringa1,
            &self.coringa2,
            &self.coringa3,
            &self.coringa4,
            &self.coringa5,
        ]
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_deref().map(|c| (i + 1, c)))
        .collect()
    }

    pub fn page(
        conn: &mut DbConnection,
        audience_id: i64,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<AudienceMember>> {
        audience_members::table
            .filter(audience_members::audience_id.eq(audience_id))
            .order(audience_members::line.asc())
            .offset(offset)
            .limit(limit)
            .select(AudienceMember::as_select())
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection, audience_id: i64) -> QueryResult<i64> {
        audience_members::table
            .filter(audience_members::audience_id.eq(audience_id))
            .count()
            .get_result(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audience_row_errors)]
pub struct AudienceRowError {
    pub id: i64,
    pub audience_id: i64,
    pub level: String,
    pub line: Option<i64>,
    pub column_name: Option<String>,
    pub code: String,
    pub message: String,
    pub value: Option<String>,
    pub raw_row: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audience_row_errors)]
// NULL, not DEFAULT, for None: SQLite can then insert a whole batch in one statement.
#[diesel(treat_none_as_default_value = false)]
pub struct NewAudienceRowError {
    pub audience_id: i64,
    pub level: &'static str,
    pub line: Option<i64>,
    pub column_name: Option<&'static str>,
    pub code: &'static str,
    pub message: String,
    pub value: Option<String>,
    pub raw_row: Option<String>,
}

impl AudienceRowError {
    /// `level` is `file` or `row`; in file order.
    pub fn list(
        conn: &mut DbConnection,
        audience_id: i64,
        level: &str,
        limit: Option<i64>,
    ) -> QueryResult<Vec<AudienceRowError>> {
        let mut query = audience_row_errors::table
            .filter(audience_row_errors::audience_id.eq(audience_id))
            .filter(audience_row_errors::level.eq(level.to_string()))
            .order((
                audience_row_errors::line.asc(),
                audience_row_errors::id.asc(),
            ))
            .select(AudienceRowError::as_select())
            .into_boxed();
        if let Some(limit) = limit {
            query = query.limit(limit);
        }
        query.load(conn)
    }
}
