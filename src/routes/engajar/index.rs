//! `GET /engajar`: the area's options, Importação de Público first.

use askama::Template;
use askama_web::WebTemplate;

use crate::web::page::PageCtx;

#[derive(Template, WebTemplate)]
#[template(path = "engajar/index.html")]
pub struct EngajarPage {
    ctx: PageCtx,
}

pub async fn engajar_home(ctx: PageCtx) -> EngajarPage {
    EngajarPage { ctx }
}
