//! The report of "Validar sem importar": what the import would do, nothing written.

use askama::Template;

use crate::import::{Counts, Outcome};
use crate::layout::{FileError, RejectedRow};
use crate::web::page::PageCtx;

#[derive(Template)]
#[template(path = "engajar/publicos/validacao.html")]
pub struct ValidationPage {
    ctx: PageCtx,
    file_name: String,
    segment: String,
    importable: bool,
    counts: Counts,
    file_errors: Vec<FileError>,
    file_error_total: u64,
    rejected: Vec<RejectedRow>,
}

impl ValidationPage {
    pub fn new(ctx: PageCtx, file_name: &str, segment: &str, outcome: Outcome) -> Self {
        let (importable, counts, report) = match outcome {
            Outcome::Imported { counts, report } => (true, counts, report),
            Outcome::Rejected { report } => {
                let counts = Counts {
                    rows: report.data_rows,
                    ..Counts::default()
                };
                (false, counts, report)
            }
        };
        ValidationPage {
            ctx,
            file_name: file_name.to_string(),
            segment: segment.to_string(),
            importable,
            counts,
            file_error_total: report.file_error_total,
            file_errors: report.file_errors,
            rejected: report.rejected.into_iter().take(100).collect(),
        }
    }
}
