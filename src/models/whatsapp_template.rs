//! WhatsApp message templates (Modelos do WhatsApp): the only code that writes
//! `whatsapp_templates`. A business-initiated WhatsApp message must use a template
//! Meta approved; its body holds the parameters `{{1}}…{{n}}`, which a campaign maps to
//! variables or fixed text. Templates are registered by hand (as approved in the
//! WhatsApp Manager) or synchronised from the Cloud API (approved ones only).

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::whatsapp_templates;

pub const NAME_MAX_CHARS: usize = 512;
pub const BODY_MAX_CHARS: usize = 1_024;
/// Parameters a template may have here (the composer offers as many fields).
pub const MAX_PARAMETERS: usize = 10;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = whatsapp_templates)]
pub struct WhatsAppTemplate {
    pub id: i64,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    pub parameters: i32,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a template came to be here.
pub const STATUS_MANUAL: &str = "manual";
pub const STATUS_APPROVED: &str = "approved";

impl WhatsAppTemplate {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            STATUS_APPROVED => "Aprovado (sincronizado)",
            _ => "Cadastrado aqui",
        }
    }

    /// The body with each `{{n}}` replaced by the n-th value.
    pub fn fill(&self, values: &[String]) -> String {
        fill(&self.body, values)
    }
}

/// A body's parameters: how many, when they are exactly `{{1}}…{{n}}` (each at least
/// once, none missing); otherwise the pt-BR problem.
pub fn count_parameters(body: &str) -> Result<usize, String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(crate::messages::whatsapp::PARAMETER_UNCLOSED.into());
        };
        let inside = after[..end].trim();
        match inside.parse::<usize>() {
            Ok(n) if (1..=MAX_PARAMETERS).contains(&n) => {
                seen.insert(n);
            }
            _ => return Err(crate::messages::whatsapp::parameter_invalid(inside)),
        }
        rest = &after[end + 2..];
    }
    let n = seen.len();
    if seen.iter().copied().eq(1..=n) {
        Ok(n)
    } else {
        Err(crate::messages::whatsapp::PARAMETERS_NOT_SEQUENTIAL.into())
    }
}

/// `body` with each `{{n}}` replaced by the n-th value (left as is when there is none).
pub fn fill(body: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match after[..end]
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| values.get(n.wrapping_sub(1)))
        {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A template as typed or as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
}

/// The problems of a template, per field (every one found).
pub fn validate(input: &TemplateInput) -> Result<usize, Vec<(&'static str, String)>> {
    use crate::messages::whatsapp as m;
    let mut errors = Vec::new();
    let name = input.name.trim();
    // Meta's rule: lower-case letters, digits and underscores.
    if name.is_empty()
        || name.chars().count() > NAME_MAX_CHARS
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        errors.push(("name", m::NAME_INVALID.to_string()));
    }
    let language = input.language.trim();
    let language_ok = {
        let mut parts = language.split('_');
        let lang = parts.next().unwrap_or_default();
        let region = parts.next();
        (2..=3).contains(&lang.len())
            && lang.chars().all(|c| c.is_ascii_lowercase())
            && region.is_none_or(|r| {
                (2..=3).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric())
            })
            && parts.next().is_none()
    };
    if !language_ok {
        errors.push(("language", m::LANGUAGE_INVALID.to_string()));
    }
    let body = input.body.trim();
    let mut parameters = 0;
    if body.is_empty() {
        errors.push(("body", m::BODY_REQUIRED.to_string()));
    } else if body.chars().count() > BODY_MAX_CHARS {
        errors.push(("body", m::body_too_long(BODY_MAX_CHARS)));
    } else if crate::domain::text::has_control_chars(body, true) {
        errors.push(("body", m::BODY_CONTROL.to_string()));
    } else {
        match count_parameters(body) {
            Ok(n) => parameters = n,
            Err(e) => errors.push(("body", e)),
        }
    }
    if errors.is_empty() {
        Ok(parameters)
    } else {
        Err(errors)
    }
}

impl WhatsAppTemplate {
    pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<WhatsAppTemplate>> {
        whatsapp_templates::table
            .order((whatsapp_templates::name, whatsapp_templates::language))
            .select(WhatsAppTemplate::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<WhatsAppTemplate>> {
        whatsapp_templates::table
            .find(id)
            .select(WhatsAppTemplate::as_select())
            .first(conn)
            .optional()
    }

    /// By name, and language when given; with no language, the name must be unique.
    pub fn find_by_name(
        conn: &mut DbConnection,
        name: &str,
        language: Option<&str>,
    ) -> QueryResult<Option<WhatsAppTemplate>> {
        let mut q = whatsapp_templates::table
            .filter(whatsapp_templates::name.eq(name.trim()))
            .into_boxed();
        if let Some(l) = language {
            q = q.filter(whatsapp_templates::language.eq(l.trim()));
        }
        let found: Vec<WhatsAppTemplate> = q
            .select(WhatsAppTemplate::as_select())
            .limit(2)
            .load(conn)?;
        Ok(if found.len() == 1 {
            found.into_iter().next()
        } else {
            None
        })
    }

    /// Saves a validated template: a new one, or the same name and language replaced.
    /// Returns its id and whether it was new.
    pub fn upsert(
        conn: &mut DbConnection,
        input: &TemplateInput,
        parameters: usize,
        status: &str,
        now: i64,
    ) -> QueryResult<(i64, bool)> {
        crate::db::write_transaction(conn, |conn| {
            let existing: Option<i64> = whatsapp_templates::table
                .filter(whatsapp_templates::name.eq(input.name.trim()))
                .filter(whatsapp_templates::language.eq(input.language.trim()))
                .select(whatsapp_templates::id)
                .first(conn)
                .optional()?;
            let values = (
                whatsapp_templates::category.eq(input.category.trim()),
                whatsapp_templates::body.eq(input.body.trim()),
                whatsapp_templates::parameters.eq(parameters as i32),
                whatsapp_templates::status.eq(status),
                whatsapp_templates::updated_at.eq(now),
            );
            match existing {
                Some(id) => {
                    diesel::update(whatsapp_templates::table.find(id))
                        .set(values)
                        .execute(conn)?;
                    Ok((id, false))
                }
                None => {
                    let id = crate::on_backend!(
                        conn,
                        diesel::insert_into(whatsapp_templates::table)
                            .values((
                                whatsapp_templates::name.eq(input.name.trim()),
                                whatsapp_templates::language.eq(input.language.trim()),
                                values,
                                whatsapp_templates::created_at.eq(now),
                            ))
                            .returning(whatsapp_templates::id)
                    )?;
                    Ok((id, true))
                }
            }
        })
    }
}

/// Saves what Sincronizar brought (approved templates): each valid one added or
/// replaced. Returns (saved, passed over because their body does not follow `{{n}}`).
pub fn save_synced(
    conn: &mut DbConnection,
    list: &[TemplateInput],
    now: i64,
) -> QueryResult<(usize, usize)> {
    let mut saved = 0;
    let mut invalid = 0;
    for t in list {
        match validate(t) {
            Ok(n) => {
                WhatsAppTemplate::upsert(conn, t, n, STATUS_APPROVED, now)?;
                saved += 1;
            }
            Err(_) => invalid += 1,
        }
    }
    Ok((saved, invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_must_run_from_one_without_gaps() {
        assert_eq!(
            count_parameters("Olá {{1}}, seu pedido {{2}} chegou"),
            Ok(2)
        );
        assert_eq!(count_parameters("Sem parâmetros"), Ok(0));
        assert_eq!(count_parameters("{{1}} e {{1}} de novo"), Ok(1));
        assert!(count_parameters("Olá {{2}}").is_err());
        assert!(count_parameters("Olá {{nome}}").is_err());
        assert!(count_parameters("Olá {{1}").is_err());
    }

    #[test]
    fn fill_puts_each_value_in_its_place() {
        let v = vec!["Ana".to_string(), "Rua A".to_string()];
        assert_eq!(
            fill("Olá {{1}}, loja na {{2}}.", &v),
            "Olá Ana, loja na Rua A."
        );
        assert_eq!(fill("{{3}} fica", &v), "{{3}} fica");
    }

    #[test]
    fn names_and_languages_follow_metas_rules() {
        let ok = TemplateInput {
            name: "promo_loja_2".into(),
            language: "pt_BR".into(),
            category: "MARKETING".into(),
            body: "Olá {{1}}".into(),
        };
        assert_eq!(validate(&ok), Ok(1));
        let bad = TemplateInput {
            name: "Promo Loja".into(),
            language: "portugues".into(),
            category: String::new(),
            body: "Olá {{2}}".into(),
        };
        let fields: Vec<&str> = validate(&bad).unwrap_err().iter().map(|e| e.0).collect();
        assert_eq!(fields, ["name", "language", "body"]);
    }
}
