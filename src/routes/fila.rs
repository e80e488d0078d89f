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
}

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
        notice: query.ok.as_ref().map(|_| messages::QUEUE_ATTENDED),
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
                    &format!("interação #{id}"),
                    ip.as_deref(),
                )?;
            }
            Ok(attended)
        })
        .await?;
    if !attended {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/fila?ok=1"))
}
