//! `GET /engajar/campanhas/{id}/envios.csv?execucao=RUN`: a run's ledger as CSV the way
//! Excel pt-BR opens it (UTF-8 with BOM, `;`, CRLF, pt-BR headers, like the rejected rows'
//! file), every cell neutralised so a spreadsheet computes nothing from it.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::campaigns::ledger;
use crate::import::rejected_csv::neutralise;
use crate::models::audit;
use crate::models::campaign::Campaign;
use crate::time;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip};

#[derive(Deserialize)]
pub struct ExportQuery {
    execucao: Option<i64>,
}

pub async fn export_csv(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let chosen = query.execucao;
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let (run, body) = state
        .db(move |conn| {
            Campaign::find(conn, id)?.ok_or(AppError::NotFound)?;
            let runs = Campaign::runs(conn, id)?;
            let run = match chosen {
                Some(r) => runs.into_iter().find(|x| x.id == r),
                None => runs.into_iter().next(),
            }
            .ok_or(AppError::NotFound)?;
            let cancelled = run.status() == crate::campaigns::status::RunStatus::Cancelled;
            let mut out = csv::WriterBuilder::new()
                .delimiter(b';')
                .terminator(csv::Terminator::CRLF)
                .from_writer(b"\xEF\xBB\xBF".to_vec());
            let header = [
                "Mensagem",
                "Execução",
                "Contato",
                "Destinatário",
                "Situação",
                "Motivo",
                "Assunto",
                "Texto",
                "Id no provedor",
                "Erro",
                "Tentativas",
                "Atualizada em",
            ];
            out.write_record(header)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let mut failure = None;
            ledger::each_batch(conn, run.id, |rows| {
                for m in rows {
                    let cells = [
                        m.id.to_string(),
                        m.run_id.to_string(),
                        m.contact_id.map(|c| c.to_string()).unwrap_or_default(),
                        m.channel_value.clone(),
                        m.status_label_in(cancelled).to_string(),
                        m.reason_label().to_string(),
                        m.subject.clone(),
                        m.body.clone(),
                        m.provider_id.clone().unwrap_or_default(),
                        m.error.clone().unwrap_or_default(),
                        m.attempts.to_string(),
                        time::format_br(m.updated_at),
                    ];
                    if let Err(e) = out.write_record(cells.iter().map(|c| neutralise(c))) {
                        failure = Some(e.to_string());
                    }
                }
                Ok(())
            })?;
            if let Some(e) = failure {
                return Err(AppError::Internal(e));
            }
            audit(
                conn,
                Some(by),
                "campaign_export",
                &format!("campanha #{id}, execução #{}", run.id),
                ip.as_deref(),
            )?;
            let body = out
                .into_inner()
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok((run.id, body))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "campanha_{id}_execucao_{run}.csv"
            ))],
        })
        .body(body))
}
