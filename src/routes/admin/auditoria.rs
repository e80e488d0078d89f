//! Auditoria: who did what, when and from where; filterable by user and action.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::models::{AuditFilter, AuditView, User};
use crate::time;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::paging::{PAGE_SIZE, Pager};
use crate::web::{AppError, AppState};

/// Every action the app records, with its pt-BR name.
pub use crate::messages::AUDIT_ACTIONS as ACTIONS;

pub fn action_label(code: &str) -> &str {
    ACTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/auditoria.html")]
pub struct AuditPage {
    ctx: PageCtx,
    entries: Vec<AuditView>,
    users: Vec<User>,
    user: Option<i64>,
    action: String,
    pager: Pager,
}

impl AuditPage {
    fn label(code: &str) -> &str {
        action_label(code)
    }

    fn when(ts: &i64) -> String {
        time::format_br(*ts)
    }

    fn is_user(&self, id: &i64) -> bool {
        self.user == Some(*id)
    }

    fn actions(&self) -> &'static [(&'static str, &'static str)] {
        ACTIONS
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    usuario: Option<String>,
    acao: Option<String>,
    page: Option<i64>,
}

/// `GET /admin/auditoria?usuario=ID&acao=CODE&page=N`.
pub async fn audit_log(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<AuditPage, AppError> {
    let user = query.usuario.as_deref().and_then(|u| u.trim().parse().ok());
    let action = query
        .acao
        .as_deref()
        .filter(|a| ACTIONS.iter().any(|(c, _)| c == a))
        .map(str::to_string);
    let filter = AuditFilter {
        user_id: user,
        action: action.clone(),
    };
    let requested = query.page;
    let (entries, users, pager) = state
        .db(move |conn| {
            let total = AuditView::count(conn, &filter)?;
            let pager = Pager::counted(
                requested,
                total,
                "/admin/auditoria",
                &[
                    (
                        "usuario",
                        filter.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    ),
                    ("acao", filter.action.clone().unwrap_or_default()),
                ],
            );
            let entries = AuditView::page(conn, &filter, pager.offset(), PAGE_SIZE)?;
            Ok((entries, User::list(conn)?, pager))
        })
        .await?;
    Ok(AuditPage {
        ctx,
        entries,
        users,
        user,
        action: action.unwrap_or_default(),
        pager,
    })
}
