//! Configurações → Retenção: per legal basis, how many days an import's rows, rejected
//! rows and uploaded file are kept; and what the next run would remove.

use std::collections::HashMap;

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::domain::LegalBasis;
use crate::messages;
use crate::models::audit;
use crate::models::retention::{self, KINDS, MAX_DAYS, Policy, Removed};
use crate::web::csrf::CsrfForm;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "admin/retencao.html")]
pub struct RetentionPage {
    ctx: PageCtx,
    form: HashMap<String, String>,
    errors: Vec<(String, String)>,
    next: Removed,
    notice: Option<&'static str>,
}

impl RetentionPage {
    fn bases(&self) -> [LegalBasis; 10] {
        LegalBasis::ALL
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &KINDS
    }

    fn field(basis: &LegalBasis, kind: &str) -> String {
        format!("{}__{kind}", basis.code())
    }

    fn value(&self, basis: &LegalBasis, kind: &str) -> String {
        self.form
            .get(&Self::field(basis, kind))
            .cloned()
            .unwrap_or_default()
    }

    fn invalid(&self, basis: &LegalBasis, kind: &str) -> bool {
        let field = Self::field(basis, kind);
        self.errors.iter().any(|(f, _)| *f == field)
    }
}

fn form_of(policy: &Policy) -> HashMap<String, String> {
    policy
        .days
        .iter()
        .filter_map(|((basis, kind), days)| {
            days.map(|d| (RetentionPage::field(basis, kind), d.to_string()))
        })
        .collect()
}

async fn page(
    ctx: PageCtx,
    state: &AppState,
    form: Option<HashMap<String, String>>,
    errors: Vec<(String, String)>,
    notice: Option<&'static str>,
) -> Result<RetentionPage, AppError> {
    let (policy, next) = state
        .db(|conn| {
            Ok((
                Policy::load(conn)?,
                retention::run(conn, crate::time::now(), true)?,
            ))
        })
        .await?;
    Ok(RetentionPage {
        ctx,
        form: form.unwrap_or_else(|| form_of(&policy)),
        errors,
        next,
        notice,
    })
}

#[derive(serde::Deserialize)]
pub struct RetentionQuery {
    ok: Option<String>,
}

/// `GET /admin/configuracoes/retencao`.
pub async fn retention_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<RetentionQuery>,
) -> Result<RetentionPage, AppError> {
    let notice = query.ok.as_ref().map(|_| messages::RETENTION_SAVED);
    page(ctx, &state, None, Vec::new(), notice).await
}

/// `POST /admin/configuracoes/retencao`.
pub async fn save_retention(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Either<RetentionPage, HttpResponse>, AppError> {
    let mut policy = Policy::default();
    let mut errors = Vec::new();
    for basis in LegalBasis::ALL {
        for (kind, _) in KINDS {
            let field = RetentionPage::field(&basis, kind);
            let text = form.get(&field).map(|v| v.trim()).unwrap_or_default();
            let days = if text.is_empty() {
                None
            } else {
                match text.parse::<i64>() {
                    Ok(d) if (1..=MAX_DAYS).contains(&d) => Some(d),
                    _ => {
                        errors.push((field, messages::RETENTION_DAYS.to_string()));
                        None
                    }
                }
            };
            policy.days.push(((basis, kind), days));
        }
    }
    if !errors.is_empty() {
        return Ok(Either::Left(
            page(ctx, &state, Some(form), errors, None).await?,
        ));
    }
    let user = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                policy.save(conn, crate::time::now())?;
                let set: Vec<String> = policy
                    .days
                    .iter()
                    .filter_map(|((basis, kind), days)| {
                        days.map(|d| format!("{} / {kind}: {d} dia(s)", basis.label()))
                    })
                    .collect();
                audit(
                    conn,
                    Some(user),
                    "retention_settings",
                    &if set.is_empty() {
                        "Definiu guardar tudo sem prazo.".to_string()
                    } else {
                        format!("Definiu os prazos de retenção: {}.", set.join("; "))
                    },
                    ip.as_deref(),
                )
            })?)
        })
        .await?;
    Ok(Either::Right(see_other(
        "/admin/configuracoes/retencao?ok=1",
    )))
}
