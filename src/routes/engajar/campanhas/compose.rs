//! The composer: `GET/POST /engajar/campanhas/nova` and, while a draft,
//! `GET/POST /engajar/campanhas/{id}/editar`. Unknown variables and every other problem
//! are shown beside their field before anything is saved.

use actix_web::{Either, HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::campaigns::actions::{self, Actor};
use crate::campaigns::schedule::{ScheduleInput, WEEKDAYS};
use crate::campaigns::status::CampaignStatus;
use crate::campaigns::{CampaignInput, FieldError, TargetInput};
use crate::domain::AudienceStatus;
use crate::domain::template::Variable;
use crate::models::campaign::Campaign;
use crate::models::form_submission::{self, Once};
use crate::models::whatsapp_template::WhatsAppTemplate;
use crate::models::{AudienceListItem, Segment};
use crate::web::csrf::CsrfForm;
use crate::web::page::PageCtx;
use crate::web::{AppError, AppState, client_ip, see_other};

/// Everything the form holds, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ComposeForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub audience_id: String,
    #[serde(default)]
    pub segment_id: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, rename = "fallback_PrimeiroNome")]
    f_primeiro_nome: String,
    #[serde(default, rename = "fallback_Nome")]
    f_nome: String,
    #[serde(default, rename = "fallback_CodCliente")]
    f_cod_cliente: String,
    #[serde(default, rename = "fallback_Tag")]
    f_tag: String,
    #[serde(default, rename = "fallback_Coringa1")]
    f_c1: String,
    #[serde(default, rename = "fallback_Coringa2")]
    f_c2: String,
    #[serde(default, rename = "fallback_Coringa3")]
    f_c3: String,
    #[serde(default, rename = "fallback_Coringa4")]
    f_c4: String,
    #[serde(default, rename = "fallback_Coringa5")]
    f_c5: String,
    #[serde(default, rename = "fallback_Mensagem")]
    f_mensagem: String,
    #[serde(default)]
    pub schedule: String,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    dia_0: Option<String>,
    #[serde(default)]
    dia_1: Option<String>,
    #[serde(default)]
    dia_2: Option<String>,
    #[serde(default)]
    dia_3: Option<String>,
    #[serde(default)]
    dia_4: Option<String>,
    #[serde(default)]
    dia_5: Option<String>,
    #[serde(default)]
    dia_6: Option<String>,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub acao: String,
    /// WhatsApp: the template's id and what each `{{n}}` takes.
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    param_1: String,
    #[serde(default)]
    param_2: String,
    #[serde(default)]
    param_3: String,
    #[serde(default)]
    param_4: String,
    #[serde(default)]
    param_5: String,
    #[serde(default)]
    param_6: String,
    #[serde(default)]
    param_7: String,
    #[serde(default)]
    param_8: String,
    #[serde(default)]
    param_9: String,
    #[serde(default)]
    param_10: String,
    #[serde(default)]
    pub exclude_no_whatsapp: Option<String>,
    /// SMS: each row's MENSAGEM (the body then for rows without one), Remover acentos.
    #[serde(default)]
    pub per_row_message: Option<String>,
    #[serde(default)]
    pub strip_accents: Option<String>,
    /// The form's one-time token: posted twice, it saves (and sends) once.
    #[serde(default)]
    pub form_token: String,
}

/// Template parameters the composer offers.
pub const FORM_PARAMS: usize = 10;

impl ComposeForm {
    fn fallbacks_mut(&mut self) -> [&mut String; 10] {
        [
            &mut self.f_primeiro_nome,
            &mut self.f_nome,
            &mut self.f_cod_cliente,
            &mut self.f_tag,
            &mut self.f_c1,
            &mut self.f_c2,
            &mut self.f_c3,
            &mut self.f_c4,
            &mut self.f_c5,
            &mut self.f_mensagem,
        ]
    }

    fn fallbacks(&self) -> [&String; 10] {
        [
            &self.f_primeiro_nome,
            &self.f_nome,
            &self.f_cod_cliente,
            &self.f_tag,
            &self.f_c1,
            &self.f_c2,
            &self.f_c3,
            &self.f_c4,
            &self.f_c5,
            &self.f_mensagem,
        ]
    }

    fn params(&self) -> [&String; FORM_PARAMS] {
        [
            &self.param_1,
            &self.param_2,
            &self.param_3,
            &self.param_4,
            &self.param_5,
            &self.param_6,
            &self.param_7,
            &self.param_8,
            &self.param_9,
            &self.param_10,
        ]
    }

    fn params_mut(&mut self) -> [&mut String; FORM_PARAMS] {
        [
            &mut self.param_1,
            &mut self.param_2,
            &mut self.param_3,
            &mut self.param_4,
            &mut self.param_5,
            &mut self.param_6,
            &mut self.param_7,
            &mut self.param_8,
            &mut self.param_9,
            &mut self.param_10,
        ]
    }

    fn days(&self) -> [&Option<String>; 7] {
        [
            &self.dia_0,
            &self.dia_1,
            &self.dia_2,
            &self.dia_3,
            &self.dia_4,
            &self.dia_5,
            &self.dia_6,
        ]
    }

    fn to_input(&self) -> CampaignInput {
        CampaignInput {
            name: self.name.clone(),
            channel: self.channel.clone(),
            target: match self.target.as_str() {
                "segment" => TargetInput::SegmentId(self.segment_id.clone()),
                "audience" => TargetInput::Audience(self.audience_id.clone()),
                _ => TargetInput::None,
            },
            subject: self.subject.clone(),
            body: self.body.clone(),
            fallbacks: Variable::ALL
                .iter()
                .zip(self.fallbacks())
                .filter(|(_, t)| !t.trim().is_empty())
                .map(|(v, t)| (v.name().to_string(), t.clone()))
                .collect(),
            schedule: ScheduleInput {
                kind: self.schedule.clone(),
                at: self.at.clone(),
                time: self.time.clone(),
                days: self
                    .days()
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.is_some())
                    .map(|(i, _)| i.to_string())
                    .collect(),
                day: self.day.clone(),
                until: self.until.clone(),
            },
            template: self.template.clone(),
            params: self.params().into_iter().cloned().collect(),
            per_row_message: self.per_row_message.is_some(),
            options: crate::models::campaign::CampaignOptions {
                strip_accents: self.strip_accents.is_some(),
                exclude_no_whatsapp: self.exclude_no_whatsapp.is_some(),
            },
        }
    }

    /// The form as a saved campaign fills it.
    fn from_campaign(c: &Campaign) -> ComposeForm {
        let (kind, at, time, days, until) = c.schedule.columns();
        let fallbacks = crate::campaigns::read_fallbacks(&c.fallbacks);
        let mut form = ComposeForm {
            name: c.name.clone(),
            channel: c.channel.code().into(),
            subject: c.subject.clone(),
            body: c.body.clone(),
            schedule: kind.into(),
            at: at.map(local_input).unwrap_or_default(),
            time: time.unwrap_or_default(),
            until: until
                .map(|u| local_input(u).chars().take(10).collect())
                .unwrap_or_default(),
            ..Default::default()
        };
        match c.target {
            crate::campaigns::Target::Audience(a) => {
                form.target = "audience".into();
                form.audience_id = a.to_string();
            }
            crate::campaigns::Target::Segment(s) => {
                form.target = "segment".into();
                form.segment_id = s.to_string();
            }
        }
        for (slot, v) in form.fallbacks_mut().into_iter().zip(Variable::ALL) {
            *slot = fallbacks.get(v).unwrap_or_default().to_string();
        }
        let on = |b: bool| b.then(|| "on".to_string());
        form.strip_accents = on(c.options.strip_accents);
        form.exclude_no_whatsapp = on(c.options.exclude_no_whatsapp);
        if c.channel == crate::campaigns::CampaignChannel::Sms
            && c.body.trim() == format!("@{}", Variable::Mensagem.name())
        {
            // Each row's MENSAGEM: the body field holds the text for rows without one.
            form.per_row_message = on(true);
            form.body = std::mem::take(&mut form.f_mensagem);
        }
        if c.channel == crate::campaigns::CampaignChannel::Whatsapp {
            form.body.clear();
            form.template = c.template_id.map(|t| t.to_string()).unwrap_or_default();
            for (slot, p) in form.params_mut().into_iter().zip(&c.template_params) {
                *slot = p.clone();
            }
        }
        if kind == "weekly" {
            let chosen: Vec<String> = days
                .clone()
                .unwrap_or_default()
                .split(',')
                .map(str::to_string)
                .collect();
            let slots = [
                &mut form.dia_0,
                &mut form.dia_1,
                &mut form.dia_2,
                &mut form.dia_3,
                &mut form.dia_4,
                &mut form.dia_5,
                &mut form.dia_6,
            ];
            for (i, slot) in slots.into_iter().enumerate() {
                if chosen.contains(&i.to_string()) {
                    *slot = Some("on".into());
                }
            }
        } else if kind == "monthly" {
            form.day = days.unwrap_or_default();
        }
        form
    }
}

/// `2026-12-01T14:30`, what a datetime-local field holds, in Brasília time.
fn local_input(ts: i64) -> String {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_opt(ts, 0)
        .single()
        .map(|t| {
            t.with_timezone(&chrono_tz::America::Sao_Paulo)
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub struct Choice {
    pub id: i64,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "engajar/campanhas/compose.html")]
pub struct ComposePage {
    ctx: PageCtx,
    /// `None` for a new campaign.
    editing: Option<i64>,
    form: ComposeForm,
    errors: Vec<FieldError>,
    audiences: Vec<Choice>,
    segments: Vec<Choice>,
    templates: Vec<WhatsAppTemplate>,
}

impl ComposePage {
    /// One field per parameter of the largest template (at least one).
    fn param_fields(&self) -> Vec<(usize, String)> {
        let n = self
            .templates
            .iter()
            .map(|t| t.parameters as usize)
            .max()
            .unwrap_or(1)
            .clamp(1, FORM_PARAMS);
        self.form
            .params()
            .into_iter()
            .take(n)
            .enumerate()
            .map(|(i, v)| (i + 1, v.clone()))
            .collect()
    }

    fn checked(&self, field: &str) -> bool {
        match field {
            "per_row_message" => self.form.per_row_message.is_some(),
            "strip_accents" => self.form.strip_accents.is_some(),
            _ => self.form.exclude_no_whatsapp.is_some(),
        }
    }

    /// Where the error summary's link for `field` leads.
    fn anchor(field: &str) -> &str {
        match field {
            "audience" => "audience_id",
            "segment" => "segment_id",
            "target" => "destino",
            "params" => "param_1",
            "fallback" => "variaveis",
            "days" => "dias",
            "schedule" => "quando",
            "form_token" => "error-summary",
            other => other,
        }
    }

    fn error(&self, field: &str) -> Option<String> {
        let all: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect();
        (!all.is_empty()).then(|| all.join(" "))
    }

    fn action(&self) -> String {
        match self.editing {
            Some(id) => edit_action(id),
            None => NEW_ACTION.into(),
        }
    }

    fn variables(&self) -> Vec<(&'static str, String)> {
        Variable::ALL
            .iter()
            .zip(self.form.fallbacks())
            .map(|(v, t)| (v.name(), t.clone()))
            .collect()
    }

    fn weekdays(&self) -> Vec<(usize, &'static str, bool)> {
        self.form
            .days()
            .iter()
            .enumerate()
            .map(|(i, d)| (i, WEEKDAYS[i], d.is_some()))
            .collect()
    }

    fn is(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "target" => &self.form.target,
            "schedule" => &self.form.schedule,
            "audience" => &self.form.audience_id,
            "segment" => &self.form.segment_id,
            "day" => &self.form.day,
            "template" => &self.form.template,
            _ => &self.form.channel,
        };
        current == value
    }

    /// The token the form was posted with (refused, it is still free), else a new one.
    fn form_token(&self) -> String {
        if self.form.form_token.trim().is_empty() {
            self.ctx.once_token(self.action())
        } else {
            self.form.form_token.clone()
        }
    }

    fn days_of_month(&self) -> Vec<String> {
        (1..=28).map(|d| d.to_string()).collect()
    }
}

/// The composer's action for a new campaign, and its one-time tokens' purpose.
const NEW_ACTION: &str = "/engajar/campanhas/nova";

fn edit_action(id: i64) -> String {
    format!("/engajar/campanhas/{id}/editar")
}

/// The form posted with a token of another form: shown again as typed, with a fresh
/// token and the request to reload, nothing saved.
async fn other_form(
    ctx: PageCtx,
    state: &AppState,
    editing: Option<i64>,
    mut form: ComposeForm,
) -> Result<ComposePage, AppError> {
    let (audiences, segments, templates) = choices(state).await?;
    form.form_token.clear();
    Ok(ComposePage {
        ctx,
        editing,
        form,
        errors: vec![FieldError {
            field: "form_token".into(),
            code: "other_form",
            message: crate::messages::campaign::FORM_TOKEN_OTHER_FORM.into(),
        }],
        audiences,
        segments,
        templates,
    })
}

type Choices = (Vec<Choice>, Vec<Choice>, Vec<WhatsAppTemplate>);

async fn choices(state: &AppState) -> Result<Choices, AppError> {
    state
        .db(|conn| {
            let audiences = AudienceListItem::page(conn, None, 0, 500)?
                .into_iter()
                .filter(|a| {
                    matches!(
                        a.status,
                        AudienceStatus::Done | AudienceStatus::DoneWithRejections
                    )
                })
                .map(|a| Choice {
                    id: a.id,
                    label: format!("#{} · {} ({} linhas)", a.id, a.description, a.imported),
                })
                .collect();
            let segments = Segment::list(conn)?
                .into_iter()
                .map(|s| Choice {
                    id: s.id,
                    label: s.name,
                })
                .collect();
            Ok((audiences, segments, WhatsAppTemplate::all(conn)?))
        })
        .await
}

#[derive(Deserialize)]
pub struct NewQuery {
    publico: Option<i64>,
}

/// `GET /engajar/campanhas/nova` (`?publico=ID` from an audience's page).
pub async fn new_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<NewQuery>,
) -> Result<ComposePage, AppError> {
    let (audiences, segments, templates) = choices(&state).await?;
    let mut form = ComposeForm {
        channel: "email".into(),
        schedule: "now".into(),
        target: "audience".into(),
        ..Default::default()
    };
    if let Some(a) = query.publico {
        form.audience_id = a.to_string();
    }
    Ok(ComposePage {
        ctx,
        editing: None,
        form,
        errors: Vec::new(),
        audiences,
        segments,
        templates,
    })
}

/// `POST /engajar/campanhas/nova`.
pub async fn create(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ComposeForm>,
) -> Result<Either<ComposePage, HttpResponse>, AppError> {
    let input = form.to_input();
    let draft = form.acao != "agendar";
    let actor = Actor {
        user: Some(ctx.user.id),
        ip: client_ip(&req),
    };
    let now = state.config.clock.now();
    let token = form.form_token.clone();
    let saved = state
        .db(move |conn| {
            Ok(form_submission::once(
                conn,
                Some(&token),
                NEW_ACTION,
                now,
                |conn| {
                    let saved =
                        actions::create(conn, &input, draft, &actor, now)?.map(|c| match draft {
                            true => format!("/engajar/campanhas/{}/previa", c.id),
                            false => format!("/engajar/campanhas/{}", c.id),
                        });
                    let location = saved.as_ref().ok().cloned();
                    Ok::<_, diesel::result::Error>((saved, location))
                },
            )?)
        })
        .await?;
    match saved {
        Once::Before(location) | Once::Done(Ok(location)) => {
            Ok(Either::Right(see_other(&location)))
        }
        Once::OtherForm => Ok(Either::Left(other_form(ctx, &state, None, form).await?)),
        Once::Done(Err(errors)) => {
            let (audiences, segments, templates) = choices(&state).await?;
            Ok(Either::Left(ComposePage {
                ctx,
                editing: None,
                form,
                errors,
                audiences,
                segments,
                templates,
            }))
        }
    }
}

/// `GET /engajar/campanhas/{id}/editar`: a draft in the composer.
pub async fn edit_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<Either<ComposePage, HttpResponse>, AppError> {
    let id = id.into_inner();
    let c = state
        .db(move |conn| Campaign::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    if c.status != CampaignStatus::Draft {
        return Ok(Either::Right(see_other(&format!(
            "/engajar/campanhas/{id}"
        ))));
    }
    let (audiences, segments, templates) = choices(&state).await?;
    Ok(Either::Left(ComposePage {
        ctx,
        editing: Some(id),
        form: ComposeForm::from_campaign(&c),
        errors: Vec::new(),
        audiences,
        segments,
        templates,
    }))
}

/// `POST /engajar/campanhas/{id}/editar`.
pub async fn update(
    req: HttpRequest,
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ComposeForm>,
) -> Result<Either<ComposePage, HttpResponse>, AppError> {
    let id = id.into_inner();
    let input = form.to_input();
    let schedule_now = form.acao == "agendar";
    let actor = Actor {
        user: Some(ctx.user.id),
        ip: client_ip(&req),
    };
    let now = state.config.clock.now();
    let token = form.form_token.clone();
    let saved = state
        .db(move |conn| {
            Campaign::find(conn, id)?.ok_or(AppError::NotFound)?;
            form_submission::once(conn, Some(&token), &edit_action(id), now, |conn| {
                let saved = actions::update(conn, id, &input, &actor, now)?;
                if let Ok(Ok(())) = &saved
                    && schedule_now
                {
                    actions::act(conn, id, actions::Action::Schedule, &actor, now)?
                        .map_err(|r| AppError::Conflict(r.message()))?;
                }
                let location = matches!(saved, Ok(Ok(()))).then(|| match schedule_now {
                    true => format!("/engajar/campanhas/{id}"),
                    false => format!("/engajar/campanhas/{id}/previa"),
                });
                Ok::<_, AppError>((saved, location))
            })
        })
        .await?;
    let saved = match saved {
        Once::Done(saved) => saved,
        Once::Before(location) => return Ok(Either::Right(see_other(&location))),
        Once::OtherForm => {
            return Ok(Either::Left(other_form(ctx, &state, Some(id), form).await?));
        }
    };
    match saved {
        Ok(Ok(())) if schedule_now => Ok(Either::Right(see_other(&format!(
            "/engajar/campanhas/{id}"
        )))),
        Ok(Ok(())) => Ok(Either::Right(see_other(&format!(
            "/engajar/campanhas/{id}/previa"
        )))),
        Ok(Err(_)) => Err(AppError::Conflict(
            crate::messages::campaign::ONLY_DRAFTS_CHANGE.into(),
        )),
        Err(errors) => {
            let (audiences, segments, templates) = choices(&state).await?;
            Ok(Either::Left(ComposePage {
                ctx,
                editing: Some(id),
                form,
                errors,
                audiences,
                segments,
                templates,
            }))
        }
    }
}
