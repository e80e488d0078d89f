//! `GET /engajar/publicos/{id}/rejeitadas.csv`: the rejected rows in the layout plus ERRO,
//! ready to be fixed and imported again.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};

use crate::import::rejected_csv;
use crate::models::{Audience, AudienceRowError};
use crate::web::{AppError, AppState};

pub async fn rejected_rows_csv(
    req: actix_web::HttpRequest,
    ctx: crate::web::page::PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    // Exporting personal data is recorded (LGPD art. 37), off the request path.
    state.audit.record_view(
        &req,
        ctx.user.id,
        "rejected_export",
        format!("Baixou as linhas rejeitadas do público #{id}."),
        None,
    );
    let rows = state
        .db(move |conn| {
            Audience::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok(AudienceRowError::list(conn, id, "row", None)?)
        })
        .await?;
    let mut body = b"\xEF\xBB\xBF".to_vec();
    rejected_csv::write(
        &mut body,
        rows.into_iter().map(|r| {
            let cells: Vec<String> = r
                .raw_row
                .as_deref()
                .and_then(|raw| serde_json::from_str(raw).ok())
                .unwrap_or_default();
            (cells, r.message)
        }),
    )
    .map_err(|e| AppError::Internal(format!("rejected rows csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "rejeitadas_publico_{id}.csv"
            ))],
        })
        .body(body))
}
