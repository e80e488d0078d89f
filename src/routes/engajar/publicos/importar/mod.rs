//! Importar Público: the form, and its submission (queue the import, or only validate).

pub mod get;
pub mod post;

use askama::Template;
use askama_web::WebTemplate;

use crate::domain::LegalBasis;
use crate::models::Segment;
use crate::web::page::PageCtx;

/// What the user typed, kept when the form comes back with problems.
#[derive(Debug, Default, Clone)]
pub struct ImportFormValues {
    pub descricao: String,
    pub segmento: Option<i64>,
    pub autorizacao: String,
    pub verify: bool,
    pub nao_perturbe: bool,
    pub manter_segmento: bool,
    pub limpar_tag: bool,
    /// One per form shown: a second POST of the same form leads to the first audience.
    pub form_token: String,
}

#[derive(Debug, Default)]
pub struct ImportFormErrors {
    pub descricao: Option<&'static str>,
    pub segmento: Option<&'static str>,
    pub arquivo: Option<String>,
    pub autorizacao: Option<&'static str>,
}

impl ImportFormErrors {
    pub fn any(&self) -> bool {
        self.descricao.is_some()
            || self.segmento.is_some()
            || self.arquivo.is_some()
            || self.autorizacao.is_some()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "engajar/publicos/importar.html")]
pub struct ImportFormPage {
    pub ctx: PageCtx,
    pub segments: Vec<Segment>,
    pub bases: [LegalBasis; 10],
    pub verify_enabled: bool,
    pub max_upload_mb: u64,
    pub values: ImportFormValues,
    pub errors: ImportFormErrors,
    /// Back from a validation's "Corrigir": the fields are kept, the file is chosen again.
    pub notice: Option<&'static str>,
}

impl ImportFormPage {
    fn segment_selected(&self, id: &i64) -> bool {
        self.values.segmento == Some(*id)
    }

    fn basis_selected(&self, basis: &LegalBasis) -> bool {
        self.values.autorizacao == basis.code()
    }
}
