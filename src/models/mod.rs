//! Rows and their queries. Models return `QueryResult`; handlers turn errors into pages.

pub mod audience;
pub mod audit;
pub mod campaign;
pub mod channel_settings;
pub mod contact;
pub mod contact_edit;
pub mod dnd;
pub mod document_conflict;
pub mod erase;
pub mod form_submission;
pub mod former_value;
pub mod interaction;
pub mod provider_settings;
pub mod retention;
pub mod search;
pub mod secret;
pub mod segment;
pub mod session;
pub mod settings;
pub mod titular;
pub mod titular_request;
pub mod token;
pub mod upload;
pub mod user;
pub mod validation;
pub mod whatsapp_template;

pub use audience::{
    Audience, AudienceListItem, AudienceMember, AudienceRowError, Counts, NewAudienceMember,
    NewAudienceRowError,
};
pub use audit::{AuditFilter, AuditView, ImportAudit, NewAuditEntry, audit};
pub use contact::{ChannelView, ContactAudience, ContactProfile, ContactSearch};
pub use dnd::{DndEntryView, NewDndEntry};
pub use document_conflict::DocumentConflict;
pub use interaction::{InteractionView, NewInteraction, QueueItem};
pub use segment::{NewSegment, Segment, SegmentWithCounts};
pub use session::{Resumed, SessionEnd, SessionLimits, UserSession};
pub use settings::Settings;
pub use user::{NewUser, User, UserChangeError};
