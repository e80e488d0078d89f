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

/// `POST /fila/{id}/atender`.
pub async fn attend(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let user_id = ctx.user.id;
    let ip = client_ip(&req);
    let attended = state
        .db(move |conn| {
            let attended = InteractionView::attend(conn, id, user_id, time::now())?;
            if attended {
                audit(
                    conn,
                    Some(user_id),
                    "interaction_attend",
                    &format!("Atendeu a interação #{id}."),
                    ip.as_deref(),
                )?;
            }
            Ok(attended)
        })
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
    let user_id = ctx.user.id;
    let ip = client_ip(&req);
    let undone = state
        .db(move |conn| {
            let undone = InteractionView::unattend(conn, id, user_id, time::now() - UNDO_SECS)?;
            if undone {
                audit(
                    conn,
                    Some(user_id),
                    "interaction_unattend",
                    &format!("O atendimento da interação #{id} foi desfeito: ela voltou à fila."),
                    ip.as_deref(),
                )?;
            }
            Ok(undone)
        })
        .await?;
    if !undone {
        return Err(AppError::Conflict(messages::QUEUE_UNDO_REFUSED.to_string()));
    }
    Ok(see_other(&format!("/fila?desfeita={id}#interacao-{id}")))
}
