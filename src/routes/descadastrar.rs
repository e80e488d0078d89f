//! `/descadastrar/{token}`, public: the opt-out link of every campaign e-mail. A POST —
//! the mailbox provider's one-click request (RFC 8058) or the confirm button of the GET
//! page — puts the message's address on Não Perturbe, recorded with its source.

use actix_web::{HttpRequest, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::campaigns::unsubscribe;
use crate::models::audit;
use crate::web::{AppError, AppState, client_ip};

#[derive(Template, WebTemplate)]
#[template(path = "descadastrar.html")]
pub struct UnsubscribePage {
    token: String,
    address: String,
    done: bool,
}

/// Hides most of an address on a page anyone holding the link can open.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(2).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let tail: String = address
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("***{tail}")
        }
    }
}

async fn message_of(state: &AppState, token: &str) -> Result<(i64, String), AppError> {
    let token = token.to_string();
    state
        .db(move |conn| {
            let keys = unsubscribe::link_keys(conn)?;
            let id = unsubscribe::verify_any(&keys, &token).ok_or(AppError::NotFound)?;
            let m = crate::campaigns::ledger::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((id, m.channel_value))
        })
        .await
}

/// `GET /descadastrar/{token}`: asks to confirm (a link scanner following it changes nothing).
pub async fn unsubscribe_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<UnsubscribePage, AppError> {
    let (_, address) = message_of(&state, &token).await?;
    Ok(UnsubscribePage {
        token: token.into_inner(),
        address: masked(&address),
        done: false,
    })
}

/// `POST /descadastrar/{token}`.
pub async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<UnsubscribePage, AppError> {
    let (id, _) = message_of(&state, &token).await?;
    let one_click = String::from_utf8_lossy(&body).contains("List-Unsubscribe=One-Click");
    let ip = client_ip(&req);
    let source = format!(
        "descadastro pelo e-mail (mensagem #{id}, {})",
        if one_click {
            "um clique"
        } else {
            "página de confirmação"
        }
    );
    let address = state
        .db(move |conn| {
            let now = crate::time::now();
            let (address, added) =
                unsubscribe::opt_out(conn, id, &source, now)?.ok_or(AppError::NotFound)?;
            if added {
                audit(
                    conn,
                    None,
                    "unsubscribe",
                    &format!("{address}: {source}"),
                    ip.as_deref(),
                )?;
            }
            Ok(address)
        })
        .await?;
    Ok(UnsubscribePage {
        token: token.into_inner(),
        address: masked(&address),
        done: true,
    })
}
