//! Contatos: one search box over every key a contact has, and the contact's page.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::domain::Priority;
use crate::messages;
use crate::models::{
    ContactAudience, ContactProfile, ContactSearch, DocumentConflict, InteractionView, Segment,
    audit,
};
use crate::time;
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::display::filters;
use crate::web::page::PageCtx;
use crate::web::paging::{PAGE_SIZE, Pager};
use crate::web::{AppError, AppState, client_ip, see_other};

/// Longest search accepted; nothing a contact has is longer.
const MAX_QUERY_CHARS: usize = 200;

#[derive(Template, WebTemplate)]
#[template(path = "contatos/list.html")]
pub struct ContactListPage {
    ctx: PageCtx,
    contacts: Vec<ContactProfile>,
    segments: Vec<Segment>,
    q: String,
    segment: Option<i64>,
    priority: String,
    searched: bool,
    pager: Pager,
    /// CPF/CNPJs two contacts shared, waiting for a person.
    repeated_documents: i64,
}

impl ContactListPage {
    fn is_segment(&self, id: &i64) -> bool {
        self.segment == Some(*id)
    }

    fn priorities(&self) -> [Priority; 3] {
        [Priority::Alta, Priority::Media, Priority::Baixa]
    }
}

#[derive(Deserialize)]
pub struct ContactQuery {
    q: Option<String>,
    segmento: Option<String>,
    prioridade: Option<String>,
    page: Option<i64>,
}

/// `GET /contatos?q=…&segmento=ID&prioridade=ALTA&page=N`.
pub async fn contact_list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<ContactQuery>,
) -> Result<ContactListPage, AppError> {
    let q: String = query
        .q
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect();
    let segment = query
        .segmento
        .as_deref()
        .and_then(|s| s.trim().parse().ok());
    let priority = query
        .prioridade
        .as_deref()
        .and_then(|p| Priority::parse(p).ok());
    let search = ContactSearch {
        q: q.clone(),
        segment_id: segment,
        priority,
    };
    let page = Pager::requested(query.page);
    let (contacts, more, segments, repeated_documents) = state
        .db(move |conn| {
            let (contacts, more) = search.page(conn, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
            Ok((
                contacts,
                more,
                Segment::list(conn)?,
                DocumentConflict::open_count(conn)?,
            ))
        })
        .await?;
    let priority_code = priority.map(|p| p.as_str().to_string()).unwrap_or_default();
    let pager = Pager::open_ended(
        page,
        more,
        "/contatos",
        &[
            ("q", q.clone()),
            (
                "segmento",
                segment.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("prioridade", priority_code.clone()),
        ],
    );
    Ok(ContactListPage {
        ctx,
        contacts,
        segments,
        searched: !q.is_empty() || segment.is_some() || priority.is_some(),
        q,
        segment,
        priority: priority_code,
        pager,
        repeated_documents,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "contatos/show.html")]
pub struct ContactPage {
    ctx: PageCtx,
    contact: ContactProfile,
    audiences: Vec<ContactAudience>,
    interactions: Vec<InteractionView>,
    repeated_documents: Vec<DocumentConflict>,
    campaign_messages: Vec<crate::campaigns::ledger::MessageView>,
    whatsapp: Vec<crate::models::contact::WhatsAppKnown>,
    /// Just saved by Editar contato.
    saved: bool,
}

impl ContactPage {
    /// "com WhatsApp (informado em 27/11/2026 14:05)" beside a phone, when a callback
    /// taught it, and whether its owner stopped WhatsApp marketing messages.
    fn whatsapp_of(&self, phone: &str) -> Option<String> {
        let w = self.whatsapp.iter().find(|w| w.phone == phone)?;
        let mut parts = Vec::new();
        if let Some(label) = w.label() {
            parts.push(format!("{label} (informado em {})", time::format_br(w.at)));
        }
        if let Some(at) = w.marketing_stopped_at {
            parts.push(messages::whatsapp_marketing_stopped(&time::format_br(at)));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// Messages as the contact's page shows them: the start of long ones.
    fn excerpt(text: &str) -> String {
        crate::domain::text::excerpt(text, 500)
    }

    fn when(ts: &i64) -> String {
        time::format_br(*ts)
    }

    fn outcome_label(outcome: &str) -> &'static str {
        match outcome {
            "created" => "Criou o contato",
            "updated" => "Atualizou o contato",
            _ => "Sem alteração",
        }
    }

    fn priority_label(code: &str) -> &'static str {
        Priority::parse(code).map_or("—", Priority::label)
    }
}

/// `GET /contatos/{id}`.
pub async fn show_contact(
    req: actix_web::HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<ContactPage, AppError> {
    let id = path.into_inner();
    let (contact, audiences, interactions, repeated_documents, campaign_messages, whatsapp) = state
        .db(move |conn| {
            let contact = ContactProfile::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((
                contact,
                ContactAudience::of_contact(conn, id)?,
                InteractionView::of_contact(conn, id)?,
                DocumentConflict::of_contact(conn, id)?,
                crate::campaigns::ledger::for_contact(conn, id, 100)?,
                crate::models::contact::WhatsAppKnown::of_contact(conn, id)?,
            ))
        })
        .await?;
    // Who looked at whom (LGPD art. 37); only a contact that exists.
    state.audit.record_view(
        &req,
        ctx.user.id,
        "contact_view",
        messages::titular_access("contact_view", id),
        Some(id),
    );
    Ok(ContactPage {
        ctx,
        contact,
        audiences,
        interactions,
        repeated_documents,
        campaign_messages,
        whatsapp,
        saved: req.query_string().contains("salvo=1"),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "contatos/cpf_repetidos.html")]
pub struct RepeatedDocumentsPage {
    ctx: PageCtx,
    conflicts: Vec<DocumentConflict>,
    notice: Option<&'static str>,
}

impl RepeatedDocumentsPage {
    fn when(ts: &i64) -> String {
        time::format_br(*ts)
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    ok: Option<String>,
}

/// `GET /contatos/cpf-repetidos`: contacts that shared a CPF/CNPJ before documents became
/// unique, for a person to tell which one it belongs to.
pub async fn repeated_documents(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> Result<RepeatedDocumentsPage, AppError> {
    let conflicts = state.db(|conn| Ok(DocumentConflict::open(conn)?)).await?;
    Ok(RepeatedDocumentsPage {
        ctx,
        conflicts,
        notice: query
            .ok
            .as_ref()
            .map(|_| messages::REPEATED_DOCUMENT_RESOLVED),
    })
}

/// `POST /contatos/cpf-repetidos/{id}/resolvido`.
pub async fn resolve_repeated_document(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let by = ctx.user.id;
    let ip = client_ip(&req);
    state
        .db(move |conn| {
            if !DocumentConflict::resolve(conn, id, by, time::now())? {
                return Err(AppError::NotFound);
            }
            audit(
                conn,
                Some(by),
                "document_conflict_resolved",
                &format!("CPF/CNPJ repetido #{id} marcado como resolvido"),
                ip.as_deref(),
            )?;
            Ok(())
        })
        .await?;
    Ok(see_other("/contatos/cpf-repetidos?ok=1"))
}
