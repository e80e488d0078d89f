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

/// Entries written before details became sentences name legal bases, import options and
/// roles by their codes (`base legal: protecao_credito; opções: nao_perturbe`, `(staff)`):
/// shown by their pt-BR names. Newer entries hold no code and pass unchanged.
pub fn readable_detail(text: &str) -> String {
    use crate::domain::{ImportOptions, LegalBasis, Role};
    let mut out = text.to_string();
    if let Some(at) = out.find("base legal: ") {
        let (head, tail) = out.split_at(at);
        let mut tail = tail.to_string();
        for basis in LegalBasis::ALL {
            tail = tail.replace(
                &format!("base legal: {}", basis.code()),
                &format!("base legal: {}", basis.label()),
            );
        }
        if let Some(options) = tail.find("opções: ") {
            let (before, list) = tail.split_at(options);
            let mut list = list.to_string();
            for option in [
                ImportOptions::VERIFY,
                ImportOptions::DND,
                ImportOptions::ONLY_SEGMENT,
                ImportOptions::CLEAR_TAGS,
            ] {
                list = list.replace(option.code, option.label);
            }
            tail = format!("{before}{list}");
        }
        out = format!("{head}{tail}");
    }
    for role in [Role::Staff, Role::Admin] {
        out = out.replace(
            &format!("({})", role.as_str()),
            &format!("({})", role.label()),
        );
        out = out.replace(
            &format!("papel: {}", role.as_str()),
            &format!("papel: {}", role.label()),
        );
    }
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/auditoria.html")]
pub struct AuditPage {
    ctx: PageCtx,
    entries: Vec<AuditView>,
    users: Vec<User>,
    user: Option<i64>,
    action: String,
    contact: String,
    pager: Pager,
}

impl AuditPage {
    fn label(code: &str) -> &str {
        action_label(code)
    }

    fn detail(text: &str) -> String {
        readable_detail(text)
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
    contato: Option<String>,
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
    let contact: Option<i64> = query
        .contato
        .as_deref()
        .and_then(|c| c.trim().trim_start_matches('#').parse().ok());
    let filter = AuditFilter {
        user_id: user,
        action: action.clone(),
        contact_id: contact,
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
                    (
                        "contato",
                        filter.contact_id.map(|c| c.to_string()).unwrap_or_default(),
                    ),
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
        contact: contact.map(|c| c.to_string()).unwrap_or_default(),
        pager,
    })
}

#[cfg(test)]
mod tests {
    use super::readable_detail;

    #[test]
    fn old_details_read_in_portuguese() {
        assert_eq!(
            readable_detail(
                "público #3 \"Março\" (arquivo a.csv) no segmento S; base legal: \
                 protecao_credito; opções: nao_perturbe, limpar_tag"
            ),
            "público #3 \"Março\" (arquivo a.csv) no segmento S; base legal: Proteção do \
             crédito; opções: Verificar site Não Perturbe, Limpar tag de localização"
        );
        assert_eq!(
            readable_detail("usuário #2 caio@x.com.br (staff)"),
            "usuário #2 caio@x.com.br (Equipe)"
        );
        assert_eq!(
            readable_detail("usuário #2 caio@x.com.br: papel: admin"),
            "usuário #2 caio@x.com.br: papel: Administrador"
        );
        let sentence = "Importou o público #4 \"verify_me\" (arquivo b.csv).";
        assert_eq!(readable_detail(sentence), sentence);
    }
}
