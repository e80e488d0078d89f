//! `POST /engajar/campanhas/{id}/{agendar|pausar|retomar|cancelar|reenviar-incertas}`:
//! the campaign's status decides whether the action is allowed; each is audited.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::campaigns::actions::{self, Action, Actor};
use crate::models::campaign::Campaign;
use crate::models::form_submission::{self, Once};
use crate::web::csrf::{CsrfForm, OnceFields};
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

pub async fn campaign_action(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<OnceFields>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let action = match name.as_str() {
        "agendar" => Action::Schedule,
        "pausar" => Action::Pause,
        "retomar" => Action::Resume,
        "cancelar" => Action::Cancel,
        "reenviar-incertas" => Action::ResendUncertain,
        _ => return Err(AppError::NotFound),
    };
    let actor = Actor {
        user: Some(ctx.user.id),
        ip: client_ip(&req),
    };
    let now = state.config.clock.now();
    let purpose = format!("/engajar/campanhas/{id}/{name}");
    let done = state
        .db(move |conn| {
            Campaign::find(conn, id)?.ok_or(AppError::NotFound)?;
            // Enviar and Reenviar incertas posted twice act once.
            form_submission::once(conn, Some(&form.form_token), &purpose, now, |conn| {
                actions::act(conn, id, action, &actor, now)?
                    .map_err(|r| AppError::Conflict(r.message()))?;
                Ok::<_, AppError>(((), Some(format!("/engajar/campanhas/{id}"))))
            })
        })
        .await?;
    Ok(match done {
        Once::Done(()) => see_other(&format!("/engajar/campanhas/{id}")),
        Once::Before(location) => see_other(&location),
        Once::OtherForm => {
            return Err(AppError::Conflict(
                crate::messages::campaign::FORM_TOKEN_OTHER_FORM.into(),
            ));
        }
    })
}
