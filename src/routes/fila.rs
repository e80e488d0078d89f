//! Fila de atendimento: interactions waiting for someone, the contact's priority first.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::Priority;
use crate::messages;
use crate::models::{ContactProfile, InteractionView, QueueItem, audit};
use crate::time;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::paging::{PAGE_SIZE, Pager};
use crate::web::{AppError, AppState, client_ip, see_other};

pub struct QueueRow {
    pub item: QueueItem,
    pub profile: Option<ContactProfile>,
}

#[derive(Template, WebTemplate)]
#[template(path = "fila.html")]
pub struct QueuePage {
    ctx: PageCtx,
    rows: Vec<QueueRow>,
    pager: Pager,
    notice: Option<&'static str>,
    /// The interaction just attended, which "Desfazer" returns to the queue.
    undo: Option<i64>,
}

impl QueuePage {
    /// Messages as the queue shows them: the start of long ones.
    fn excerpt(text: &str) -> String {
        crate::domain::text::excerpt(text, 500)
    }

    fn when(ts: &i64) -> String {
        time::format_br(*ts)
    }

    fn priority_label(code: &Option<String>) -> &'static str {
        code.as_deref()
            .and_then(|c| Priority::parse(c).ok())
            .map_or("Sem cadastro", Priority::label)
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
    page: Option<i64>,
    ok: Option<String>,
    atendida: Option<String>,
    desfeita: Option<String>,
}

/// How long "Desfazer" is offered after Atender.
const UNDO_SECS: i64 = 15 * 60;

/// `GET /fila`.
pub async fn queue(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> Result<QueuePage, AppError> {
    let requested = query.page;
    let (rows, pager) = state
        .db(move |conn| {
            let total = InteractionView::pending_count(conn)?;
            let pager = Pager::counted(requested, total, "/fila", &[]);
            let items = InteractionView::queue(conn, pager.offset(), PAGE_SIZE)?;
            let mut profiles: HashMap<i64, ContactProfile> = HashMap::new();
            for id in items.iter().filter_map(|i| i.interaction.contact_id) {
                if !profiles.contains_key(&id)
                    && let Some(p) = ContactProfile::find(conn, id)?
                {
                    profiles.insert(id, p);
                }
            }
            let rows = items
                .into_iter()
                .map(|item| QueueRow {
                    profile: item
                        .interaction
                        .contact_id
                        .and_then(|id| profiles.get(&id).cloned()),
                    item,
                })
                .collect();
            Ok((rows, pager))
        })
        .await?;
    Ok(QueuePage {
        ctx,
        rows,
        pager,
        notice: if query.desfeita.is_some() {
            Some(messages::QUEUE_UNDONE)
        } else if query.ok.is_some() || query.atendida.is_some() {
            Some(messages::QUEUE_ATTENDED)
        } else {
            None
        },
        undo: query.atendida.as_deref().and_then(|a| a.parse().ok()),
    })
}

/// Marks interaction `id` for this user (`change` answers whether it applied) and, if it
/// did, audits `action` with `detail` in the same transaction.
async fn audited_change(
    req: &HttpRequest,
    ctx: &PageCtx,
    state: &AppState,
    id: i64,
    change: fn(&mut crate::db::DbConnection, i64, i64) -> diesel::QueryResult<bool>,
    action: &'static str,
    detail: String,
) -> Result<bool, AppError> {
    let user_id = ctx.user.id;
    let ip = client_ip(req);
    state
        .db(move |conn| {
            let changed = change(conn, id, user_id)?;
            if changed {
                audit(conn, Some(user_id), action, &detail, ip.as_deref())?;
            }
            Ok(changed)
        })
        .await
}

/// `POST /fila/{id}/atender`.
pub async fn attend(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let attended = audited_change(
        &req,
        &ctx,
        &state,
        id,
        |conn, id, user| InteractionView::attend(conn, id, user, time::now()),
        "interaction_attend",
        format!("Atendeu a interação #{id}."),
    )
    .await?;
    if !attended {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&format!("/fila?atendida={id}")))
}

/// `POST /fila/{id}/desfazer`: the interaction this user just attended goes back to
/// the queue, in its place.
pub async fn undo(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let undone = audited_change(
        &req,
        &ctx,
        &state,
        id,
        |conn, id, user| InteractionView::unattend(conn, id, user, time::now() - UNDO_SECS),
        "interaction_unattend",
        format!("Desfez o atendimento da interação #{id}: ela voltou à fila."),
    )
    .await?;
    if !undone {
        return Err(AppError::Conflict(messages::QUEUE_UNDO_REFUSED.to_string()));
    }
    Ok(see_other(&format!("/fila?desfeita={id}#interacao-{id}")))
}
