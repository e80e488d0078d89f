//! Segmentos: the list with counts, create, rename and delete (with confirmation).

pub mod get;
pub mod manage;
pub mod post;

use askama::Template;
use askama_web::WebTemplate;

use crate::models::SegmentWithCounts;
use crate::web::display::filters;
use crate::web::page::PageCtx;

#[derive(Template, WebTemplate)]
#[template(path = "admin/segmentos.html")]
pub struct SegmentListPage {
    pub ctx: PageCtx,
    pub segments: Vec<SegmentWithCounts>,
    pub name: String,
    pub error: Option<&'static str>,
    pub notice: Option<&'static str>,
    /// A rename that was refused: which segment, what was typed, why.
    pub rename_error: Option<(i64, String, &'static str)>,
}

impl SegmentListPage {
    fn rename_value(&self, id: &i64, current: &str) -> String {
        match &self.rename_error {
            Some((failed, typed, _)) if failed == id => typed.clone(),
            _ => current.to_string(),
        }
    }

    fn rename_message(&self, id: &i64) -> Option<&'static str> {
        match &self.rename_error {
            Some((failed, _, message)) if failed == id => Some(*message),
            _ => None,
        }
    }
}
