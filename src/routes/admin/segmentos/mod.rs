//! Segmentos: the list of segments and the form that creates one.

pub mod get;
pub mod post;

use askama::Template;
use askama_web::WebTemplate;

use crate::models::SegmentWithCounts;
use crate::web::page::PageCtx;

#[derive(Template, WebTemplate)]
#[template(path = "admin/segmentos.html")]
pub struct SegmentListPage {
    pub ctx: PageCtx,
    pub segments: Vec<SegmentWithCounts>,
    pub name: String,
    pub error: Option<&'static str>,
    pub notice: Option<&'static str>,
}
