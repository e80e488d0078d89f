//! What an import is asked to do, validated once for both front doors (the form and the
//! command line): `NewImport::try_from(ImportInput)`.

use super::LegalBasis;
use crate::messages;

/// The four import options, each with one name in code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Verify: phones that already talked to us stay only if they bring news.
    pub verify: bool,
    /// Verificar site Não Perturbe: skip phones and e-mails on the list.
    pub dnd: bool,
    /// Manter apenas neste segmento: contacts leave every other segment.
    pub only_segment: bool,
    /// Limpar tag de localização: contacts lose their earlier tags first.
    pub clear_tags: bool,
}

/// One option: its code (form field and audit word) and its pt-BR label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOption {
    pub code: &'static str,
    pub label: &'static str,
}

impl ImportOptions {
    pub const VERIFY: ImportOption = ImportOption {
        code: "verify",
        label: "Verify",
    };
    pub const DND: ImportOption = ImportOption {
        code: "nao_perturbe",
        label: "Verificar site Não Perturbe",
    };
    pub const ONLY_SEGMENT: ImportOption = ImportOption {
        code: "manter_segmento",
        label: "Manter apenas neste segmento",
    };
    pub const CLEAR_TAGS: ImportOption = ImportOption {
        code: "limpar_tag",
        label: "Limpar tag de localização",
    };

    /// The options that are on, in the form's order.
    pub fn enabled(self) -> Vec<ImportOption> {
        [
            (self.verify, Self::VERIFY),
            (self.dnd, Self::DND),
            (self.only_segment, Self::ONLY_SEGMENT),
            (self.clear_tags, Self::CLEAR_TAGS),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, option)| option)
        .collect()
    }
}

pub const DESCRIPTION_MAX_CHARS: usize = 200;

/// An import as typed: the form's fields or the command line's flags.
#[derive(Debug, Clone, Default)]
pub struct ImportInput {
    pub description: String,
    /// The segment chosen, when it exists (`None` when missing or unknown).
    pub segment: Option<(i64, String)>,
    pub legal_basis: String,
    pub file_name: String,
    pub options: ImportOptions,
    pub created_by: Option<i64>,
}

/// An import every rule has accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImport {
    pub description: String,
    pub segment_id: i64,
    pub segment_name: String,
    pub legal_basis: LegalBasis,
    pub file_name: String,
    pub options: ImportOptions,
    /// `None` for the command line.
    pub created_by: Option<i64>,
}

/// What is wrong with an import's input, field by field (pt-BR, as shown to users).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportInputErrors {
    pub description: Option<&'static str>,
    pub segment: Option<&'static str>,
    pub legal_basis: Option<&'static str>,
}

impl ImportInputErrors {
    pub fn any(&self) -> bool {
        self.description.is_some() || self.segment.is_some() || self.legal_basis.is_some()
    }

    /// Every message, one after the other (for the command line).
    pub fn messages(&self) -> Vec<&'static str> {
        [self.description, self.segment, self.legal_basis]
            .into_iter()
            .flatten()
            .collect()
    }
}

impl TryFrom<ImportInput> for NewImport {
    type Error = ImportInputErrors;

    fn try_from(input: ImportInput) -> Result<Self, Self::Error> {
        let description = super::text::collapse_spaces(&input.description);
        let mut errors = ImportInputErrors::default();
        if description.is_empty() {
            errors.description = Some(messages::IMPORT_DESCRIPTION_REQUIRED);
        } else if description.chars().count() > DESCRIPTION_MAX_CHARS {
            errors.description = Some(messages::IMPORT_DESCRIPTION_TOO_LONG);
        } else if super::text::has_control_chars(&description, false) {
            errors.description = Some(messages::IMPORT_DESCRIPTION_INVALID);
        }
        if input.segment.is_none() {
            errors.segment = Some(messages::IMPORT_SEGMENT_REQUIRED);
        }
        let basis = LegalBasis::parse(&input.legal_basis);
        if basis.is_none() {
            errors.legal_basis = Some(messages::IMPORT_BASIS_REQUIRED);
        }
        match (input.segment, basis) {
            (Some((segment_id, segment_name)), Some(legal_basis)) if !errors.any() => {
                Ok(NewImport {
                    description,
                    segment_id,
                    segment_name,
                    legal_basis,
                    file_name: input.file_name,
                    options: input.options,
                    created_by: input.created_by,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ImportInput {
        ImportInput {
            description: "  Clientes   de março ".into(),
            segment: Some((3, "Varejo".into())),
            legal_basis: "consentimento".into(),
            file_name: "a.csv".into(),
            options: ImportOptions {
                dnd: true,
                ..ImportOptions::default()
            },
            created_by: Some(1),
        }
    }

    #[test]
    fn a_good_input_is_accepted_with_its_spaces_collapsed() {
        let import = NewImport::try_from(input()).unwrap();
        assert_eq!(import.description, "Clientes de março");
        assert_eq!(import.legal_basis, LegalBasis::Consentimento);
        assert_eq!(import.segment_id, 3);
        assert_eq!(import.options.enabled(), vec![ImportOptions::DND]);
    }

    #[test]
    fn each_rule_names_its_field() {
        let long = ImportInput {
            description: "é".repeat(201),
            ..input()
        };
        let errors = NewImport::try_from(long).unwrap_err();
        assert_eq!(
            errors.description,
            Some(messages::IMPORT_DESCRIPTION_TOO_LONG)
        );
        assert_eq!(errors.messages().len(), 1);
        let exact = ImportInput {
            description: "é".repeat(200),
            ..input()
        };
        assert!(NewImport::try_from(exact).is_ok());
        let empty = ImportInput {
            description: "   ".into(),
            segment: None,
            legal_basis: "outra".into(),
            ..input()
        };
        let errors = NewImport::try_from(empty).unwrap_err();
        assert_eq!(
            errors.messages(),
            vec![
                messages::IMPORT_DESCRIPTION_REQUIRED,
                messages::IMPORT_SEGMENT_REQUIRED,
                messages::IMPORT_BASIS_REQUIRED
            ]
        );
    }
}
