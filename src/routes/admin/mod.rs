//! Admin-only pages; the `/admin` scope answers 403 to staff.

pub mod segmentos;
