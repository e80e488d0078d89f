//! Audiences: the list and the layout template.

pub mod layout;
pub mod list;
