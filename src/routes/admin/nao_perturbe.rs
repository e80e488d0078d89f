//! Não Perturbe: the phones and e-mails no campaign may reach. Upload a list, add one,
//! remove one, search; the import's "Verificar site Não Perturbe" option reads it.

use actix_multipart::Multipart;
use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::{parse_channel, read_channel_list};
use crate::messages;
use crate::models::{DndEntryView, NewDndEntry, audit};
use crate::time;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::paging::{PAGE_SIZE, Pager};
use crate::web::session::TypedSession;
use crate::web::{AppError, AppState, client_ip, see_other, upload};

/// A list file larger than this is not a list of phones.
const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "admin/nao_perturbe.html")]
pub struct DndPage {
    ctx: PageCtx,
    entries: Vec<DndEntryView>,
    listed: i64,
    q: String,
    pager: Pager,
    value: String,
    notice: Option<String>,
    error: Option<String>,
}

impl DndPage {
    fn kind_label(kind: &str) -> &'static str {
        if kind == "EMAIL" {
            "E-mail"
        } else {
            "Telefone"
        }
    }

    fn when(ts: &i64) -> String {
        time::format_br(*ts)
    }
}

#[derive(Deserialize)]
pub struct DndQuery {
    q: Option<String>,
    page: Option<i64>,
    ok: Option<String>,
    adicionados: Option<u64>,
    repetidos: Option<u64>,
    invalidos: Option<u64>,
}

async fn render(
    ctx: PageCtx,
    state: &AppState,
    q: String,
    page: Option<i64>,
    value: String,
    notice: Option<String>,
    error: Option<String>,
) -> Result<DndPage, AppError> {
    let search = q.clone();
    let (entries, listed, pager) = state
        .db(move |conn| {
            let search = Some(search.as_str()).filter(|s| !s.trim().is_empty());
            let total = DndEntryView::count(conn, search)?;
            let listed = DndEntryView::count(conn, None)?;
            let pager = Pager::counted(
                page,
                total,
                "/admin/nao-perturbe",
                &[("q", search.unwrap_or("").to_string())],
            );
            let entries = DndEntryView::page(conn, search, pager.offset(), PAGE_SIZE)?;
            Ok((entries, listed, pager))
        })
        .await?;
    Ok(DndPage {
        ctx,
        entries,
        listed,
        q,
        pager,
        value,
        notice,
        error,
    })
}

/// `GET /admin/nao-perturbe`.
pub async fn dnd_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<DndQuery>,
) -> Result<DndPage, AppError> {
    let notice = match query.ok.as_deref() {
        Some("adicionado") => Some(messages::DND_ADDED.to_string()),
        Some("removido") => Some(messages::DND_REMOVED.to_string()),
        Some("lista") => Some(format!(
            "Lista importada: {} adicionado(s), {} já estavam na lista, {} linha(s) sem telefone ou e-mail válido.",
            query.adicionados.unwrap_or(0),
            query.repetidos.unwrap_or(0),
            query.invalidos.unwrap_or(0)
        )),
        _ => None,
    };
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    render(ctx, &state, q, query.page, String::new(), notice, None).await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    value: String,
}

/// `POST /admin/nao-perturbe`: adds one phone or e-mail.
pub async fn dnd_add(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Result<Either<DndPage, HttpResponse>, AppError> {
    let Some((kind, value)) = parse_channel(&form.value) else {
        let error = Some(messages::DND_INVALID.to_string());
        let page = render(ctx, &state, String::new(), None, form.value, None, error).await?;
        return Ok(Either::Left(page));
    };
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let added = state
        .db(move |conn| {
            let entry = NewDndEntry::new(kind, value.clone(), Some(by), time::now());
            let added = NewDndEntry::insert_all(conn, &[entry])?;
            if added > 0 {
                audit(
                    conn,
                    Some(by),
                    "dnd_add",
                    &format!(
                        "Incluiu {} no Não Perturbe.",
                        crate::web::display::channel(&value)
                    ),
                    ip.as_deref(),
                )?;
            }
            Ok(added > 0)
        })
        .await?;
    if !added {
        let error = Some(messages::DND_ALREADY.to_string());
        let page = render(ctx, &state, String::new(), None, form.value, None, error).await?;
        return Ok(Either::Left(page));
    }
    Ok(Either::Right(see_other(
        "/admin/nao-perturbe?ok=adicionado",
    )))
}

/// `POST /admin/nao-perturbe/{id}/remover`.
pub async fn dnd_remove(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let by = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            let (_, value) = DndEntryView::remove(conn, id)?.ok_or(AppError::NotFound)?;
            audit(
                conn,
                Some(by),
                "dnd_remove",
                &format!(
                    "Retirou {} do Não Perturbe.",
                    crate::web::display::channel(&value)
                ),
                ip.as_deref(),
            )?;
            Ok(())
        })
        .await?;
    Ok(see_other("/admin/nao-perturbe?ok=removido"))
}

/// `POST /admin/nao-perturbe/lista` (multipart, field `arquivo`): a TXT or CSV list.
pub async fn dnd_upload(
    req: HttpRequest,
    ctx: PageCtx,
    session: TypedSession,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<Either<DndPage, HttpResponse>, AppError> {
    // The list is read at once, on this server: its own folder holds it meanwhile.
    let store = upload::UploadStore::Folder(state.config.spool_dir.clone());
    let _slot = state.uploads.enter(
        ctx.user.id,
        store.used_bytes().await?,
        state.config.spool_max_bytes,
    )?;
    let csrf_ok = |token: &str| session.csrf_matches(token);
    let upload = upload::read(payload, &store, MAX_LIST_BYTES, &csrf_ok).await?;
    let file = match (&upload.file, upload.too_large) {
        (Some(file), false) if file.size > 0 => file,
        _ => {
            upload.discard();
            let error = if upload.too_large {
                messages::DND_LIST_TOO_LARGE
            } else {
                messages::DND_LIST_REQUIRED
            };
            let page = render(
                ctx,
                &state,
                String::new(),
                None,
                String::new(),
                None,
                Some(error.into()),
            )
            .await?;
            return Ok(Either::Left(page));
        }
    };
    let local = file.local_file().await?;
    let bytes = tokio::fs::read(&local.path)
        .await
        .map_err(|e| AppError::Internal(format!("reading spooled list: {e}")));
    upload.discard();
    let list = read_channel_list(&bytes?);
    let by = ctx.user.id;
    let ip = client_ip(&req);
    let name = file.original_name.clone();
    let read = list.values.len();
    let added = state
        .db(move |conn| {
            let now = time::now();
            let entries: Vec<NewDndEntry> = list
                .values
                .into_iter()
                .map(|(kind, value)| NewDndEntry::new(kind, value, Some(by), now))
                .collect();
            let added = NewDndEntry::insert_all(conn, &entries)?;
            audit(
                conn,
                Some(by),
                "dnd_upload",
                &format!("arquivo {name}: {added} adicionado(s) de {read}"),
                ip.as_deref(),
            )?;
            Ok(added)
        })
        .await?;
    Ok(Either::Right(see_other(&format!(
        "/admin/nao-perturbe?ok=lista&adicionados={added}&repetidos={}&invalidos={}",
        read - added,
        list.invalid
    ))))
}
