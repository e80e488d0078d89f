//! Titulares (LGPD), admins only: find a person by CPF/CNPJ, phone or e-mail; the
//! Relatório do titular (printable page and JSON download, both recorded against the
//! contacts); and Eliminar dados do titular, after a confirmation page.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::messages;
use crate::models::audit;
use crate::models::titular::{self, Keys, Report};
use crate::web::csrf::CsrfForm;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Deserialize)]
pub struct TitularQuery {
    q: Option<String>,
    eliminado: Option<String>,
    revogado: Option<String>,
    /// Set when the reason of an elimination quoted the person's values.
    motivo: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "lgpd.html")]
pub struct TitularPage {
    ctx: PageCtx,
    q: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    report: Option<Report>,
}

impl TitularPage {
    fn when(at: &str) -> String {
        chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| crate::time::format_br(t.timestamp()))
            .unwrap_or_else(|_| at.to_string())
    }

    fn coringas(row: &titular::AudienceRow) -> String {
        row.coringas
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| format!("@Coringa{}: {c}", i + 1)))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn basis(code: &str) -> String {
        crate::domain::LegalBasis::label_for(code)
    }

    fn message_status(code: &str) -> &'static str {
        crate::campaigns::status::MessageStatus::from_code(code).map_or("—", |s| s.label())
    }

    fn action(code: &str) -> &str {
        crate::routes::admin::auditoria::action_label(code)
    }

    fn former_kind(kind: &str) -> &'static str {
        match kind {
            "NOME" => "Nome",
            "DOCUMENTO" => "CPF/CNPJ",
            "EMAIL" => "E-mail",
            _ => "Telefone",
        }
    }

    fn q_encoded(&self) -> String {
        urlencoding::encode(&self.q).into_owned()
    }
}

/// Records that `action` showed these contacts' data, off the request path.
fn record_access(
    state: &AppState,
    ctx: &PageCtx,
    req: &HttpRequest,
    action: &'static str,
    report: &Report,
) {
    for contact in &report.contacts {
        state.audit.record_view(
            req,
            ctx.user.id,
            action,
            messages::titular_access(action, contact.id),
            Some(contact.id),
        );
    }
}

async fn lookup(
    state: &AppState,
    q: &str,
) -> Result<Result<(Keys, Report), &'static str>, AppError> {
    let Some(keys) = Keys::parse_any(q) else {
        return Ok(Err(messages::TITULAR_KEY_INVALID));
    };
    let again = keys.clone();
    let report = state
        .db(move |conn| Ok(titular::report(conn, &again)?))
        .await?;
    Ok(Ok((keys, report)))
}

/// `GET /lgpd?q=…`.
pub async fn titular(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<TitularQuery>,
) -> Result<TitularPage, AppError> {
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let notice = if query.revogado.is_some() {
        Some(messages::TITULAR_REVOKED)
    } else {
        query.eliminado.as_ref().map(|_| {
            if query.motivo.as_deref() == Some("limpo") {
                messages::TITULAR_ERASED_REASON_REDACTED
            } else {
                messages::TITULAR_ERASED
            }
        })
    };
    if q.is_empty() {
        return Ok(TitularPage {
            ctx,
            q,
            error: None,
            notice,
            report: None,
        });
    }
    let (error, report) = match lookup(&state, &q).await? {
        Err(message) => (Some(message), None),
        Ok((_, report)) => {
            record_access(&state, &ctx, &req, "titular_report", &report);
            (None, Some(report))
        }
    };
    Ok(TitularPage {
        ctx,
        q,
        error,
        notice,
        report,
    })
}

/// `GET /lgpd/relatorio.json?q=…`: the same report as a file (portability).
pub async fn titular_json(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<TitularQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.clone().unwrap_or_default();
    let (_, report) = lookup(&state, &q)
        .await?
        .map_err(|m| AppError::BadRequest(m.to_string()))?;
    record_access(&state, &ctx, &req, "titular_export", &report);
    let body = serde_json::to_string_pretty(&report)
        .map_err(|e| AppError::Internal(format!("report json: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("titular.json".into())],
        })
        .body(body))
}

#[derive(Template, WebTemplate)]
#[template(path = "lgpd_eliminar.html")]
pub struct ErasePage {
    ctx: PageCtx,
    q: String,
    report: Report,
    motivo: String,
    suppress: bool,
    error: Option<&'static str>,
}

/// `GET /lgpd/eliminar?q=…`: exactly what would go.
pub async fn confirm_erase(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<TitularQuery>,
) -> Result<ErasePage, AppError> {
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let (_, report) = lookup(&state, &q)
        .await?
        .map_err(|m| AppError::BadRequest(m.to_string()))?;
    Ok(ErasePage {
        ctx,
        q,
        report,
        motivo: String::new(),
        suppress: false,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    motivo: String,
    impedir_reimportacao: Option<String>,
}

/// `POST /lgpd/eliminar`.
pub async fn erase(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<EraseForm>,
) -> Result<HttpResponse, AppError> {
    let q = form.q.trim().to_string();
    let (keys, report) = lookup(&state, &q)
        .await?
        .map_err(|m| AppError::BadRequest(m.to_string()))?;
    let reason = crate::domain::text::collapse_spaces(&form.motivo);
    let suppress = form.impedir_reimportacao.is_some();
    if reason.is_empty() || reason.chars().count() > 500 {
        let page = ErasePage {
            ctx,
            q,
            report,
            motivo: form.motivo,
            suppress,
            error: Some(messages::TITULAR_REASON_REQUIRED),
        };
        return Ok(HttpResponse::UnprocessableEntity()
            .content_type("text/html; charset=utf-8")
            .body(page.render()?));
    }
    let user = ctx.user.id;
    let ip = client_ip(&req);
    let done = state
        .db(move |conn| {
            let done = crate::db::write_transaction(conn, |conn| {
                let done = titular::erase(conn, &keys, suppress, &reason, crate::time::now())?;
                audit(
                    conn,
                    Some(user),
                    "titular_erase",
                    &messages::titular_erased(&done, &done.reason),
                    ip.as_deref(),
                )?;
                Ok::<_, diesel::result::Error>(done)
            })?;
            crate::db::forget_erased(conn)?;
            Ok(done)
        })
        .await?;
    Ok(see_other(if done.reason_redacted {
        "/lgpd?eliminado=1&motivo=limpo"
    } else {
        "/lgpd?eliminado=1"
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "lgpd_pedidos.html")]
pub struct RequestsPage {
    ctx: PageCtx,
    requests: Vec<crate::models::titular_request::TitularRequest>,
    now: i64,
    form: RequestForm,
    errors: Vec<(&'static str, String)>,
    notice: Option<&'static str>,
}

impl RequestsPage {
    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &crate::models::titular_request::KINDS
    }

    fn date(ts: &i64) -> String {
        crate::time::format_br_date(*ts)
    }

    fn when(ts: &i64) -> String {
        crate::time::format_br(*ts)
    }

    fn encoded(text: &str) -> String {
        urlencoding::encode(text).into_owned()
    }

    fn overdue(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| r.is_overdue(self.now))
            .count()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    solicitante: String,
    #[serde(default)]
    titular: String,
    #[serde(default)]
    recebido_em: String,
}

#[derive(Deserialize)]
pub struct RequestsQuery {
    ok: Option<String>,
}

async fn requests_page(
    ctx: PageCtx,
    state: &AppState,
    form: RequestForm,
    errors: Vec<(&'static str, String)>,
    notice: Option<&'static str>,
) -> Result<RequestsPage, AppError> {
    let requests = state
        .db(|conn| Ok(crate::models::titular_request::TitularRequest::all(conn)?))
        .await?;
    Ok(RequestsPage {
        ctx,
        requests,
        now: crate::time::now(),
        form,
        errors,
        notice,
    })
}

/// `GET /lgpd/pedidos`: the register, overdue requests highlighted.
pub async fn requests(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<RequestsQuery>,
) -> Result<RequestsPage, AppError> {
    let form = RequestForm {
        recebido_em: crate::time::format_iso_date(crate::time::now()),
        ..RequestForm::default()
    };
    let notice = query.ok.as_deref().map(|ok| match ok {
        "respondido" => messages::TITULAR_REQUEST_ANSWERED,
        _ => messages::TITULAR_REQUEST_SAVED,
    });
    requests_page(ctx, &state, form, Vec::new(), notice).await
}

/// `POST /lgpd/pedidos`: registers a request.
pub async fn add_request(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<actix_web::Either<RequestsPage, HttpResponse>, AppError> {
    use crate::models::titular_request::KINDS;
    let mut errors = Vec::new();
    let kind = form.tipo.trim().to_string();
    if !KINDS.iter().any(|(code, _)| *code == kind) {
        errors.push(("tipo", messages::TITULAR_REQUEST_KIND.to_string()));
    }
    let requester = crate::domain::text::collapse_spaces(&form.solicitante);
    if requester.is_empty() || requester.chars().count() > 200 {
        errors.push((
            "solicitante",
            messages::TITULAR_REQUEST_REQUESTER.to_string(),
        ));
    }
    let subject = crate::domain::text::collapse_spaces(&form.titular);
    if Keys::parse_any(&subject).is_none() {
        errors.push(("titular", messages::TITULAR_KEY_INVALID.to_string()));
    }
    let now = crate::time::now();
    let received = crate::time::parse_iso_date(form.recebido_em.trim());
    match received {
        Some(at) if at <= now => {}
        _ => errors.push(("recebido_em", messages::TITULAR_REQUEST_DATE.to_string())),
    }
    if !errors.is_empty() {
        return Ok(actix_web::Either::Left(
            requests_page(ctx, &state, form, errors, None).await?,
        ));
    }
    let received = received.unwrap_or(now);
    let user = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let id = crate::models::titular_request::TitularRequest::create(
                    conn, &kind, &requester, &subject, received, user, now,
                )?;
                audit(
                    conn,
                    Some(user),
                    "titular_request",
                    &format!("Registrou o pedido de titular #{id}."),
                    ip.as_deref(),
                )?;
                Ok::<_, diesel::result::Error>(id)
            })?)
        })
        .await?;
    Ok(actix_web::Either::Right(see_other(
        "/lgpd/pedidos?ok=registrado",
    )))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    nota: String,
}

/// `POST /lgpd/pedidos/{id}/responder`: the answer given, with a note.
pub async fn answer_request(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let note = crate::domain::text::collapse_spaces(&form.nota);
    if note.chars().count() > 1000 {
        return Err(AppError::BadRequest("note too long".into()));
    }
    let user = ctx.user.id;
    let ip = client_ip(&req);
    let answered = state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let answered = crate::models::titular_request::TitularRequest::answer(
                    conn,
                    id,
                    &note,
                    crate::time::now(),
                )?;
                if answered {
                    audit(
                        conn,
                        Some(user),
                        "titular_request_answer",
                        &format!("Respondeu o pedido de titular #{id}."),
                        ip.as_deref(),
                    )?;
                }
                Ok::<_, diesel::result::Error>(answered)
            })?)
        })
        .await?;
    if !answered {
        return Err(AppError::Conflict(
            messages::TITULAR_REQUEST_NOT_OPEN.to_string(),
        ));
    }
    Ok(see_other("/lgpd/pedidos?ok=respondido"))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    q: String,
}

/// `POST /lgpd/revogar`: Revogar consentimento — the person's channels go on Não
/// Perturbe and the rows their consent brought in are marked revoked.
pub async fn revoke(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<HttpResponse, AppError> {
    let q = form.q.trim().to_string();
    let (keys, report) = lookup(&state, &q)
        .await?
        .map_err(|m| AppError::BadRequest(m.to_string()))?;
    if report.contacts.is_empty() {
        return Err(AppError::NotFound);
    }
    let user = ctx.user.id;
    let ip = client_ip(&req);
    let contacts: Vec<i64> = report.contacts.iter().map(|c| c.id).collect();
    state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let done = titular::revoke_consent(conn, &keys, crate::time::now())?;
                for contact in &contacts {
                    crate::models::NewAuditEntry {
                        user_id: Some(user),
                        action: "titular_revoke",
                        detail: &messages::titular_revoked(*contact, &done),
                        ip: ip.as_deref(),
                        created_at: crate::time::now(),
                        contact_id: Some(*contact),
                    }
                    .insert(conn)?;
                }
                Ok::<_, diesel::result::Error>(done)
            })?)
        })
        .await?;
    Ok(see_other(&format!(
        "/lgpd?q={}&revogado=1",
        urlencoding::encode(&q)
    )))
}
