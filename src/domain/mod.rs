//! Domain values that are parsed once at the edge and trusted everywhere after.

mod audience_status;
mod email;
mod legal_basis;
mod password;
mod role;
mod segment_name;

pub use audience_status::AudienceStatus;
pub use email::Email;
pub use legal_basis::LegalBasis;
pub use password::{NewPassword, PasswordError};
pub use role::Role;
pub use segment_name::SegmentName;
