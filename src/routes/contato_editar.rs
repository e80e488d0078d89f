//! Editar contato (`/contatos/{id}/editar`, staff): every field with the import's
//! normalisation; a problem is shown beside its field and nothing changes; a CPF/CNPJ or
//! channel that is another contact's is refused with a link to that contact.

use std::collections::{BTreeSet, HashMap};

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::domain::{Document, Priority, parse_channel};
use crate::models::contact_edit::{self, ContactChanges, EditConflict};
use crate::models::{ContactProfile, NewAuditEntry, Segment};
use crate::web::csrf::CsrfForm;
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

const MAX_NAME: usize = 200;
const MAX_CODE: usize = 100;
const MAX_TAG: usize = 100;
const MAX_TAGS: usize = 20;

#[derive(Template, WebTemplate)]
#[template(path = "contatos/edit.html")]
pub struct EditPage {
    ctx: PageCtx,
    contact: ContactProfile,
    segments: Vec<Segment>,
    form: HashMap<String, String>,
    errors: Vec<(&'static str, String)>,
    /// The other contact a CPF/CNPJ or channel belongs to.
    owner: Option<i64>,
}

impl EditPage {
    fn value(&self, field: &str) -> String {
        self.form.get(field).cloned().unwrap_or_default()
    }

    fn checked(&self, field: &str) -> bool {
        self.form.contains_key(field)
    }

    fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    }

    fn priorities(&self) -> [Priority; 3] {
        [Priority::Alta, Priority::Media, Priority::Baixa]
    }
}

/// The form as the contact is now.
fn form_of(contact: &ContactProfile, segments: &[Segment]) -> HashMap<String, String> {
    let mut form = HashMap::new();
    form.insert("nome".into(), contact.name.clone().unwrap_or_default());
    form.insert(
        "cpfcnpj".into(),
        contact
            .document
            .as_deref()
            .map(crate::web::display::document)
            .unwrap_or_default(),
    );
    form.insert(
        "codcliente".into(),
        contact.customer_code.clone().unwrap_or_default(),
    );
    form.insert("prioridade".into(), contact.priority.clone());
    form.insert("tags".into(), contact.tags.join(", "));
    for s in segments {
        if contact.segments.contains(&s.name) {
            form.insert(format!("segmento_{}", s.id), "on".into());
        }
    }
    form
}

async fn load(state: &AppState, id: i64) -> Result<(ContactProfile, Vec<Segment>), AppError> {
    state
        .db(move |conn| {
            let contact = ContactProfile::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((contact, Segment::list(conn)?))
        })
        .await
}

/// `GET /contatos/{id}/editar`.
pub async fn edit_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<EditPage, AppError> {
    let (contact, segments) = load(&state, id.into_inner()).await?;
    Ok(EditPage {
        ctx,
        form: form_of(&contact, &segments),
        contact,
        segments,
        errors: Vec::new(),
        owner: None,
    })
}

/// The changes the form asks for, or each field's problem.
fn parse(
    form: &HashMap<String, String>,
    contact: &ContactProfile,
    segments: &[Segment],
) -> Result<ContactChanges, Vec<(&'static str, String)>> {
    use crate::domain::text::collapse_spaces;
    let get = |k: &str| form.get(k).map(|v| collapse_spaces(v)).unwrap_or_default();
    let mut errors = Vec::new();
    let name = Some(get("nome")).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
        errors.push(("nome", crate::messages::CONTACT_NAME_TOO_LONG.to_string()));
    }
    let document = match get("cpfcnpj") {
        d if d.is_empty() => None,
        d => match Document::parse(&d) {
            Ok(d) => Some(d.into_inner()),
            Err(e) => {
                errors.push(("cpfcnpj", format!("CPF/CNPJ inválido: {e}.")));
                None
            }
        },
    };
    let customer_code = Some(get("codcliente")).filter(|c| !c.is_empty());
    if customer_code
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CODE)
    {
        errors.push((
            "codcliente",
            crate::messages::CONTACT_CODE_TOO_LONG.to_string(),
        ));
    }
    let priority = match Priority::parse(&get("prioridade")) {
        Ok(p) => p,
        Err(_) => {
            errors.push(("prioridade", crate::messages::CONTACT_PRIORITY.to_string()));
            Priority::Baixa
        }
    };
    let tags: BTreeSet<String> = get("tags")
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if tags.len() > MAX_TAGS || tags.iter().any(|t| t.chars().count() > MAX_TAG) {
        errors.push(("tags", crate::messages::CONTACT_TAGS.to_string()));
    }
    let chosen: BTreeSet<i64> = segments
        .iter()
        .filter(|s| form.contains_key(&format!("segmento_{}", s.id)))
        .map(|s| s.id)
        .collect();
    let add_channel = match get("novo_canal") {
        c if c.is_empty() => None,
        c => match parse_channel(&c) {
            Some(channel) => Some(channel),
            None => {
                errors.push((
                    "novo_canal",
                    crate::messages::CONTACT_CHANNEL_INVALID.to_string(),
                ));
                None
            }
        },
    };
    let remove_channels: BTreeSet<String> = contact
        .channels
        .iter()
        .enumerate()
        .filter(|(i, _)| form.contains_key(&format!("remover_{i}")))
        .map(|(_, c)| c.value.clone())
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ContactChanges {
        name,
        document,
        customer_code,
        priority,
        tags,
        segments: chosen,
        add_channel,
        remove_channels,
    })
}

/// `POST /contatos/{id}/editar`.
pub async fn edit(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Either<EditPage, HttpResponse>, AppError> {
    let id = id.into_inner();
    let (contact, segments) = load(&state, id).await?;
    let refuse = |errors, owner| {
        Ok(Either::Left(EditPage {
            ctx: ctx.clone(),
            contact: contact.clone(),
            segments: segments.clone(),
            form: form.clone(),
            errors,
            owner,
        }))
    };
    let changes = match parse(&form, &contact, &segments) {
        Ok(changes) => changes,
        Err(errors) => return refuse(errors, None),
    };
    let user = ctx.user.id;
    let ip = client_ip(&req);
    let outcome = state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let now = crate::time::now();
                let outcome = contact_edit::edit(conn, id, &changes, now)?;
                if let Some(Ok((before, after))) = &outcome {
                    NewAuditEntry {
                        user_id: Some(user),
                        action: "contact_edit",
                        detail: &contact_edit::describe(before, after),
                        ip: ip.as_deref(),
                        created_at: now,
                        contact_id: Some(id),
                    }
                    .insert(conn)?;
                }
                Ok::<_, diesel::result::Error>(outcome)
            })?)
        })
        .await?;
    match outcome {
        None => Err(AppError::NotFound),
        Some(Err(EditConflict::Document(other))) => refuse(
            vec![(
                "cpfcnpj",
                crate::messages::CONTACT_DOCUMENT_TAKEN.to_string(),
            )],
            Some(other),
        ),
        Some(Err(EditConflict::Channel(other))) => refuse(
            vec![(
                "novo_canal",
                crate::messages::CONTACT_CHANNEL_TAKEN.to_string(),
            )],
            Some(other),
        ),
        Some(Err(EditConflict::SuppressedChannel)) => refuse(
            vec![(
                "novo_canal",
                crate::messages::CONTACT_CHANNEL_SUPPRESSED.to_string(),
            )],
            None,
        ),
        Some(Err(EditConflict::SuppressedDocument)) => refuse(
            vec![(
                "cpfcnpj",
                crate::messages::CONTACT_DOCUMENT_SUPPRESSED.to_string(),
            )],
            None,
        ),
        Some(Err(EditConflict::NoChannelLeft)) => refuse(
            vec![("canais", crate::messages::CONTACT_LAST_CHANNEL.to_string())],
            None,
        ),
        Some(Ok(_)) => Ok(Either::Right(see_other(&format!("/contatos/{id}?salvo=1")))),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "contatos/merge.html")]
pub struct MergePage {
    ctx: PageCtx,
    keep: ContactProfile,
    other: ContactProfile,
    /// Why these two cannot be merged; the page then offers no button.
    refused: Option<&'static str>,
}

impl MergePage {
    fn sides(&self) -> [(&'static str, &ContactProfile); 2] {
        [("Fica", &self.keep), ("Sai", &self.other)]
    }
}

#[derive(serde::Deserialize)]
pub struct MergeQuery {
    com: Option<i64>,
}

/// `GET /contatos/{id}/mesclar?com=OTHER` (admins): both contacts, and what will move.
pub async fn merge_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<MergeQuery>,
) -> Result<MergePage, AppError> {
    if !ctx.is_admin() {
        return Err(AppError::Forbidden);
    }
    let keep = id.into_inner();
    let other = query.com.filter(|o| *o != keep).ok_or(AppError::NotFound)?;
    let (keep, other) = state
        .db(move |conn| {
            Ok((
                ContactProfile::find(conn, keep)?.ok_or(AppError::NotFound)?,
                ContactProfile::find(conn, other)?.ok_or(AppError::NotFound)?,
            ))
        })
        .await?;
    let refused = (!contact_edit::may_merge(&keep, &other))
        .then_some(crate::messages::MERGE_DIFFERENT_DOCUMENTS);
    Ok(MergePage {
        ctx,
        keep,
        other,
        refused,
    })
}

#[derive(serde::Deserialize)]
pub struct MergeForm {
    com: Option<i64>,
}

/// `POST /contatos/{id}/mesclar` (admins): the other contact moves into this one.
pub async fn merge(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> Result<HttpResponse, AppError> {
    if !ctx.is_admin() {
        return Err(AppError::Forbidden);
    }
    let keep = id.into_inner();
    let other = form.com.ok_or(AppError::NotFound)?;
    let user = ctx.user.id;
    let ip = client_ip(&req);
    let refused = state
        .db(move |conn| {
            let (Some(k), Some(o)) = (
                ContactProfile::find(conn, keep)?,
                ContactProfile::find(conn, other)?,
            ) else {
                return Err(AppError::NotFound);
            };
            Ok((!contact_edit::may_merge(&k, &o)).then_some((k, o)))
        })
        .await?;
    if let Some((keep, other)) = refused {
        let page = MergePage {
            ctx,
            keep,
            other,
            refused: Some(crate::messages::MERGE_DIFFERENT_DOCUMENTS),
        };
        return Ok(HttpResponse::Conflict()
            .content_type("text/html; charset=utf-8")
            .body(page.render()?));
    }
    let merged = state
        .db(move |conn| {
            Ok(crate::db::write_transaction(conn, |conn| {
                let now = crate::time::now();
                let merged = contact_edit::merge(conn, keep, other, now)?;
                if let Some(m) = &merged {
                    NewAuditEntry {
                        user_id: Some(user),
                        action: "contact_merge",
                        detail: &format!(
                            "Juntou o contato #{other} ao contato #{keep}: {} canal(is), {} \
                             linha(s) de público, {} interação(ões) e {} mensagem(ns) \
                             passaram a ele.",
                            m.channels, m.audience_rows, m.interactions, m.messages
                        ),
                        ip: ip.as_deref(),
                        created_at: now,
                        contact_id: Some(keep),
                    }
                    .insert(conn)?;
                }
                Ok::<_, diesel::result::Error>(merged)
            })?)
        })
        .await?;
    merged.ok_or(AppError::NotFound)?;
    Ok(see_other(&format!("/contatos/{keep}?salvo=1")))
}
