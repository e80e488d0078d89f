//! Admin-only pages; the `/admin` scope answers 403 to staff.

pub mod auditoria;
pub mod canais;
pub mod configuracoes;
pub mod nao_perturbe;
pub mod provedores;
pub mod publicos;
pub mod retencao;
pub mod segmentos;
pub mod tokens;
pub mod usuarios;
