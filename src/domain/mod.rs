//! Domain values that are parsed once at the edge and trusted everywhere after.

mod audience_status;
pub mod channel;
pub mod document;
mod email;
mod import_request;
mod legal_basis;
mod password;
pub mod phone;
mod priority;
mod record_type;
mod redact;
mod role;
mod segment_name;
pub mod sms;
pub mod template;
pub mod text;

pub use audience_status::AudienceStatus;
pub use channel::{ChannelList, parse_channel, read_channel_list};
pub use document::{Document, DocumentError, DocumentKind};
pub use email::Email;
pub use import_request::{
    DESCRIPTION_MAX_CHARS, ImportInput, ImportInputErrors, ImportOption, ImportOptions, NewImport,
};
pub use legal_basis::LegalBasis;
pub use password::{NewPassword, PasswordError};
pub use phone::{Phone, PhoneError};
pub use priority::Priority;
pub use record_type::RecordType;
pub use redact::{ERASED, PersonValues, is_erased};
pub use role::Role;
pub use segment_name::SegmentName;
