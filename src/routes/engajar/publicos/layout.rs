//! `GET /engajar/publicos/layout.csv`: the template users fill in.

use actix_web::HttpResponse;
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};

use crate::layout;

pub async fn layout_csv() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("layout_publico.csv".into())],
        })
        .body(layout::template_csv())
}

/// One column of the layout as its help page shows it.
pub struct ColumnHelp {
    pub position: usize,
    pub name: &'static str,
    pub required: &'static str,
    pub meaning: &'static str,
    pub example: &'static str,
}

/// `GET /engajar/publicos/layout`: how to fill the layout — its 13 columns, what goes in
/// each, an example row, and the template to download.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "engajar/publicos/layout.html")]
pub struct LayoutHelpPage {
    ctx: crate::web::page::PageCtx,
    columns: Vec<ColumnHelp>,
    examples: &'static [[&'static str; 13]],
    header: &'static [&'static str; 13],
}

pub async fn layout_help(ctx: crate::web::page::PageCtx) -> LayoutHelpPage {
    let examples = layout::example_rows();
    LayoutHelpPage {
        ctx,
        columns: layout::COLUMNS
            .iter()
            .zip(layout::COLUMN_HELP)
            .enumerate()
            .map(|(i, (name, (required, meaning)))| ColumnHelp {
                position: i + 1,
                name,
                required,
                meaning,
                example: examples[0][i],
            })
            .collect(),
        examples,
        header: &layout::COLUMNS,
    }
}
