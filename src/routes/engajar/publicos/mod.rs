//! Audiences: the list, the import form, an audience's page, the layout template.

pub mod importar;
pub mod layout;
pub mod list;
pub mod rejected;
pub mod show;
pub mod validation;
