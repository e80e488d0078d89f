//! Words of contacts' names and audiences' descriptions, found on an index: any part of
//! a word, ignoring accents and case (the text is stored folded), every word required.
//! SQLite keeps FTS5 trigram tables (`contact_names`, `audience_descriptions`, rowid =
//! the contact's or audience's id) written here, in bulk by the import; PostgreSQL keeps
//! `pg_trgm` GIN indexes on the folded columns, which it maintains itself.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{Backend, DbConnection};

/// Trigram indexes cannot help with words shorter than this.
const MIN_INDEXED_CHARS: usize = 3;

/// Rows per statement when writing an index (within SQLite's bound-parameter limit).
const CHUNK: usize = 5_000;

/// Adds contacts' folded names to the index (new contacts).
pub fn add_names(conn: &mut DbConnection, names: &[(i64, &str)]) -> QueryResult<()> {
    add(conn, "contact_names", names)
}

/// Replaces contacts' names in the index (`None`: the contact has no name now).
pub fn replace_names(conn: &mut DbConnection, names: &[(i64, Option<&str>)]) -> QueryResult<()> {
    if conn.backend() == Backend::Postgres || names.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = names.iter().map(|(id, _)| *id).collect();
    forget_names(conn, &ids)?;
    let named: Vec<(i64, &str)> = names
        .iter()
        .filter_map(|(id, name)| name.map(|n| (*id, n)))
        .collect();
    add_names(conn, &named)
}

pub fn forget_names(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<()> {
    forget(conn, "contact_names", ids)
}

pub fn add_description(conn: &mut DbConnection, id: i64, folded: &str) -> QueryResult<()> {
    add(conn, "audience_descriptions", &[(id, folded)])
}

pub fn forget_description(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    forget(conn, "audience_descriptions", &[id])
}

fn add(conn: &mut DbConnection, table: &str, rows: &[(i64, &str)]) -> QueryResult<()> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Ok(());
    };
    for chunk in rows.chunks(CHUNK) {
        let mut sql = format!("INSERT INTO {table} (rowid, {}) VALUES ", column(table));
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(?, ?)" } else { ", (?, ?)" });
        }
        let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
        for (id, text) in chunk {
            query = query.bind::<BigInt, _>(*id).bind::<Text, _>(*text);
        }
        query.execute(sqlite)?;
    }
    Ok(())
}

fn forget(conn: &mut DbConnection, table: &str, ids: &[i64]) -> QueryResult<()> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Ok(());
    };
    for chunk in ids.chunks(CHUNK) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query(format!("DELETE FROM {table} WHERE rowid IN ({list})"))
            .execute(sqlite)?;
    }
    Ok(())
}

fn column(table: &str) -> &'static str {
    if table == "contact_names" {
        "name"
    } else {
        "description"
    }
}

/// The words a search keeps: folded, longest first, none inside a kept one, at most
/// `max`.
pub fn words(text: &str, max: usize) -> Vec<String> {
    let folded = crate::domain::text::search_key(text);
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    let mut kept: Vec<String> = Vec::new();
    for word in words {
        if !kept.iter().any(|longer| longer.contains(word)) {
            kept.push(word.to_string());
        }
    }
    kept.truncate(max);
    kept
}

pub fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 query requiring every word (each at least `MIN_INDEXED_CHARS` long) as a
/// substring; `None` when no word is long enough for the index.
pub fn fts_query(words: &[String]) -> Option<String> {
    let indexed: Vec<String> = words
        .iter()
        .filter(|w| is_indexed(w))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!indexed.is_empty()).then(|| indexed.join(" AND "))
}

/// Whether the index can answer this word (it is long enough to hold a trigram).
pub fn is_indexed(word: &str) -> bool {
    word.chars().count() >= MIN_INDEXED_CHARS
}

/// Whether every word can be answered by the index alone (no short word to check).
pub fn all_indexed(words: &[String]) -> bool {
    words.iter().all(|w| is_indexed(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_longest_first_without_repeats() {
        assert_eq!(
            words("  JOÃO da Conceição joão ", 6),
            vec!["conceicao", "joao", "da"]
        );
        assert_eq!(words("a b c d", 2).len(), 2);
    }

    #[test]
    fn the_fts_query_quotes_each_long_word() {
        let w = words("Ana \"x\"yz Lima", 6);
        assert_eq!(
            fts_query(&w).as_deref(),
            Some("\"\"\"x\"\"yz\" AND \"lima\" AND \"ana\"")
        );
        assert_eq!(fts_query(&words("da de", 6)), None);
        assert!(!all_indexed(&words("ana da", 6)));
    }
}
