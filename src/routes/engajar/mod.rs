//! The Engajar area: its home and the audiences (públicos).

pub mod campanhas;
pub mod index;
pub mod publicos;
