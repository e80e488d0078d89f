//! `/descadastrar/{token}`, public: the opt-out link of every campaign e-mail. A POST —
//! the mailbox provider's one-click request (RFC 8058) or the confirm button of the GET
//! page — puts the message's address on Não Perturbe, recorded with its source. A link
//! whose message an elimination anonymised names no one: it says so and offers
//! `/descadastrar`, where anyone types a phone or e-mail to put it on Não Perturbe.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::campaigns::unsubscribe;
use crate::models::audit;
use crate::web::csrf::CsrfForm;
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState, client_ip};

/// Opt-outs typed on the public page one network may make per hour: a person needs a
/// few; more is someone listing other people's addresses.
const TYPED_PER_HOUR: i64 = 10;

#[derive(Template, WebTemplate)]
#[template(path = "descadastrar_digitar.html")]
pub struct TypedPage {
    csrf_token: String,
    endereco: String,
    error: Option<&'static str>,
    done: bool,
    /// Arrived by a link whose message was eliminated.
    expired: bool,
}

fn typed_page(session: &TypedSession, expired: bool) -> TypedPage {
    TypedPage {
        csrf_token: session.csrf_token(),
        endereco: String::new(),
        error: None,
        done: false,
        expired,
    }
}

/// The honest answer to a link whose message was eliminated: it is gone (410), and the
/// typed page is offered instead. Nothing is written.
fn expired(session: &TypedSession) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Gone()
        .content_type("text/html; charset=utf-8")
        .body(typed_page(session, true).render()?))
}

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
    session: TypedSession,
    token: web::Path<String>,
) -> Result<Either<UnsubscribePage, HttpResponse>, AppError> {
    let (_, address) = message_of(&state, &token).await?;
    if crate::domain::is_erased(&address) {
        return expired(&session).map(Either::Right);
    }
    Ok(Either::Left(UnsubscribePage {
        token: token.into_inner(),
        address: masked(&address),
        done: false,
    }))
}

/// `POST /descadastrar/{token}`.
pub async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TypedSession,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<Either<UnsubscribePage, HttpResponse>, AppError> {
    let (id, address) = message_of(&state, &token).await?;
    if crate::domain::is_erased(&address) {
        return expired(&session).map(Either::Right);
    }
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
            // Eliminated meanwhile: `opt_out` lists nothing then.
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
    if crate::domain::is_erased(&address) {
        return expired(&session).map(Either::Right);
    }
    Ok(Either::Left(UnsubscribePage {
        token: token.into_inner(),
        address: masked(&address),
        done: true,
    }))
}

/// `GET /descadastrar`: a phone or e-mail, typed.
pub async fn typed_form(session: TypedSession) -> TypedPage {
    typed_page(&session, false)
}

#[derive(Deserialize)]
pub struct TypedForm {
    #[serde(default)]
    endereco: String,
}

/// `POST /descadastrar`: the typed phone or e-mail goes on Não Perturbe. The answer is
/// the same whether or not the address was known, so the page tells no one who is here.
pub async fn typed(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TypedSession,
    CsrfForm(form): CsrfForm<TypedForm>,
) -> Result<HttpResponse, AppError> {
    let refuse = |status: actix_web::http::StatusCode, error: &'static str| {
        let page = TypedPage {
            error: Some(error),
            endereco: form.endereco.chars().take(200).collect(),
            ..typed_page(&session, false)
        };
        Ok::<_, AppError>(
            HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(page.render()?),
        )
    };
    let Some((kind, value)) = crate::domain::parse_channel(form.endereco.trim()) else {
        return refuse(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            crate::messages::OPT_OUT_INVALID,
        );
    };
    let ip = client_ip(&req);
    let listed = state
        .db(move |conn| {
            let now = crate::time::now();
            Ok(crate::db::write_transaction(conn, |conn| {
                let recent = crate::models::audit::count_recent_from(
                    conn,
                    "unsubscribe_typed",
                    ip.as_deref(),
                    now - 3600,
                )?;
                if recent >= TYPED_PER_HOUR {
                    return Ok(false);
                }
                // An address eliminated with its reimport blocked is kept only as a keyed
                // hash, and nothing can be sent to it: writing it down again would undo
                // that. The answer is the same, so it says nothing about the address.
                if crate::models::titular::is_suppressed(conn, kind.as_str(), &value)? {
                    return Ok(true);
                }
                let source = "descadastro pela página pública";
                crate::models::dnd::opt_out(conn, kind, &value, source, now)?;
                audit(
                    conn,
                    None,
                    "unsubscribe_typed",
                    &format!("{value}: {source}"),
                    ip.as_deref(),
                )?;
                Ok::<_, diesel::result::Error>(true)
            })?)
        })
        .await?;
    if !listed {
        return refuse(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            crate::messages::OPT_OUT_TOO_MANY,
        );
    }
    let page = TypedPage {
        done: true,
        ..typed_page(&session, false)
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}
