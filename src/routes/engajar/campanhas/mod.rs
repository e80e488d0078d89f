//! Campanhas: the list, the composer, a campaign's page, its preview, its actions and
//! its export.

pub mod actions;
pub mod compose;
pub mod delete;
pub mod export;
pub mod list;
pub mod preview;
pub mod show;
