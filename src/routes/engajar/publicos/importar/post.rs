//! `POST /engajar/publicos/importar`: queues the import and answers at once with the
//! audience's page, or (button "Validar sem importar") runs it without writing anything.

use actix_multipart::Multipart;
use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;

use super::{ImportFormErrors, ImportFormPage, ImportFormValues};
use crate::domain::{ImportInput, ImportOptions, LegalBasis, NewImport};
use crate::import;
use crate::messages;
use crate::models::{Audience, Segment};
use crate::web::page::PageCtx;
use crate::web::session::TypedSession;
use crate::web::upload::{self, Upload};
use crate::web::{AppError, AppState, client_ip, see_other};

fn checked(upload: &Upload, name: &str) -> bool {
    upload.fields.get(name).is_some_and(|v| v == "on")
}

pub async fn import(
    req: HttpRequest,
    ctx: PageCtx,
    session: TypedSession,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<Either<ImportFormPage, HttpResponse>, AppError> {
    let config = &state.config;
    let settings = state.settings().await?;
    let store = state.upload_store();
    let _slot = state.uploads.enter(
        ctx.user.id,
        store.used_bytes().await?,
        config.spool_max_bytes,
    )?;
    let csrf_ok = |token: &str| session.csrf_matches(token);
    let upload = upload::read(payload, &store, settings.max_upload_bytes(), &csrf_ok).await?;
    let values = ImportFormValues {
        descricao: upload.fields.get("descricao").cloned().unwrap_or_default(),
        segmento: upload
            .fields
            .get("segmento")
            .and_then(|s| s.trim().parse().ok()),
        autorizacao: upload
            .fields
            .get("autorizacao")
            .cloned()
            .unwrap_or_default(),
        verify: settings.verify_enabled && checked(&upload, "verify"),
        nao_perturbe: checked(&upload, "nao_perturbe"),
        manter_segmento: checked(&upload, "manter_segmento"),
        limpar_tag: checked(&upload, "limpar_tag"),
        form_token: upload
            .fields
            .get("form_token")
            .map(|t| t.trim().chars().take(100).collect())
            .unwrap_or_default(),
    };
    let segments = state.db(|conn| Ok(Segment::list(conn)?)).await?;
    let checked_import = NewImport::try_from(ImportInput {
        description: values.descricao.clone(),
        segment: values
            .segmento
            .and_then(|id| segments.iter().find(|s| s.id == id))
            .map(|s| (s.id, s.name.clone())),
        legal_basis: values.autorizacao.clone(),
        file_name: upload
            .file
            .as_ref()
            .map(|f| f.original_name.clone())
            .unwrap_or_default(),
        options: ImportOptions {
            verify: values.verify,
            dnd: values.nao_perturbe,
            only_segment: values.manter_segmento,
            clear_tags: values.limpar_tag,
        },
        created_by: Some(ctx.user.id),
    });
    let max_mb = settings.max_upload_mb;
    let mut errors = ImportFormErrors::default();
    if let Err(wrong) = &checked_import {
        errors.descricao = wrong.description;
        errors.segmento = wrong.segment;
        errors.autorizacao = wrong.legal_basis;
    }
    if upload.too_large {
        errors.arquivo = Some(messages::upload_too_large(max_mb));
    } else if upload.file.as_ref().is_none_or(|f| f.size == 0) {
        errors.arquivo = Some(messages::IMPORT_FILE_REQUIRED.to_string());
    }
    if errors.any() {
        upload.discard();
        let too_large = upload.too_large;
        let page = ImportFormPage {
            ctx,
            segments,
            bases: LegalBasis::ALL,
            verify_enabled: settings.verify_enabled,
            max_upload_mb: max_mb,
            values,
            errors,
            notice: None,
        };
        if too_large {
            return Ok(Either::Right(
                HttpResponse::PayloadTooLarge()
                    .content_type("text/html; charset=utf-8")
                    .body(page.render()?),
            ));
        }
        return Ok(Either::Left(page));
    }
    let (Ok(new_import), Some(file)) = (checked_import, upload.file) else {
        return Err(AppError::Internal(
            "validated import form without its values".into(),
        ));
    };
    let only_validate = upload.fields.get("acao").is_some_and(|a| a == "validar");

    if only_validate {
        let _dry_run = match state.uploads.dry_run() {
            Ok(slot) => slot,
            Err(e) => {
                file.discard();
                return Err(e);
            }
        };
        let limits = config.limits();
        let local = match file.local_file().await {
            Ok(local) => local,
            Err(e) => {
                file.discard();
                return Err(e);
            }
        };
        let path = local.path.clone();
        let choices = crate::models::validation::Choices::of(&new_import);
        let result = state
            .db(move |conn| Ok(import::dry_run(conn, &new_import, &path, &limits)?))
            .await;
        drop(local);
        let findings = match result {
            Ok(outcome) => crate::models::validation::Findings::of(&outcome),
            Err(e) => {
                file.discard();
                return Err(e);
            }
        };
        // A file that can be imported is kept, to be imported from the result page
        // without choosing it again; one that cannot goes now.
        let kept = findings.importable.then(|| file.stored.stored());
        if kept.is_none() {
            file.discard();
        }
        let user = ctx.user.id;
        let kept_again = kept.clone();
        let saved = state
            .db(move |conn| {
                Ok(crate::models::validation::Validation::insert(
                    conn,
                    user,
                    kept_again.as_deref(),
                    &choices,
                    &findings,
                    crate::time::now(),
                )?)
            })
            .await;
        let validation = match saved {
            Ok(v) => v,
            Err(e) => {
                file.discard();
                return Err(e);
            }
        };
        return Ok(Either::Right(see_other(&format!(
            "/engajar/publicos/validacoes/{}",
            validation.id
        ))));
    }

    let ip = client_ip(&req);
    let stored = file.stored.stored();
    let form_token = Some(values.form_token).filter(|t| !t.is_empty());
    let token_again = form_token.clone();
    let created = state
        .db(move |conn| {
            Ok(Audience::queue(
                conn,
                &new_import,
                &stored,
                form_token.as_deref(),
                ip.as_deref(),
            )?)
        })
        .await;
    let audience = match created {
        Ok((a, true)) => a,
        Ok((a, false)) => {
            file.discard();
            a
        }
        Err(e) => {
            file.discard();
            // Two copies of one form at the same instant on PostgreSQL: the unique token
            // let one in; the other leads to it.
            let Some(token) = token_again else {
                return Err(e);
            };
            let first = state
                .db(move |conn| Ok(Audience::find_by_form_token(conn, &token)?))
                .await?;
            first.ok_or(e)?
        }
    };
    state.jobs.wake();
    Ok(Either::Right(see_other(&format!(
        "/engajar/publicos/{}",
        audience.id
    ))))
}
