//! Excluir campanha: `GET /engajar/campanhas/{id}/excluir` asks first (or says why it
//! cannot: a campaign that sent anything keeps its history), `POST` deletes, audited.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::campaigns::actions::{self, Actor};
use crate::models::campaign::Campaign;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

#[derive(Template, WebTemplate)]
#[template(path = "engajar/campanhas/excluir.html")]
pub struct DeleteCampaignPage {
    ctx: PageCtx,
    campaign: Campaign,
    /// Why it cannot be deleted, if it cannot.
    refused: Option<&'static str>,
}

/// `GET /engajar/campanhas/{id}/excluir`.
pub async fn confirm_delete(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<DeleteCampaignPage, AppError> {
    let id = id.into_inner();
    let (campaign, refusal) = state
        .db(move |conn| {
            let campaign = Campaign::find(conn, id)?.ok_or(AppError::NotFound)?;
            let refusal = campaign.delete_refusal(conn)?;
            Ok((campaign, refusal))
        })
        .await?;
    Ok(DeleteCampaignPage {
        ctx,
        campaign,
        refused: refusal.map(crate::messages::campaign_delete_refused),
    })
}

/// `POST /engajar/campanhas/{id}/excluir`.
pub async fn delete_campaign(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Either<DeleteCampaignPage, HttpResponse>, AppError> {
    let id = id.into_inner();
    let actor = Actor {
        user: Some(ctx.user.id),
        ip: client_ip(&req),
    };
    let deleted = state
        .db(move |conn| Ok(actions::delete(conn, id, &actor)?))
        .await?;
    match deleted {
        None => Err(AppError::NotFound),
        Some(Ok(_)) => Ok(Either::Right(see_other("/engajar/campanhas?excluida=1"))),
        Some(Err(refusal)) => Err(AppError::Conflict(
            crate::messages::campaign_delete_refused(refusal).into(),
        )),
    }
}
