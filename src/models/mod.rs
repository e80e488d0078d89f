//! Rows and their queries. Models return `QueryResult`; handlers turn errors into pages.

pub mod audience;
pub mod audit;
pub mod contact;
pub mod dnd;
pub mod segment;
pub mod user;

pub use audience::{
    Audience, AudienceListItem, AudienceMember, AudienceRowError, NewAudience, NewAudienceMember,
    NewAudienceRowError,
};
pub use audit::{NewAudienceEntry, NewAuditEntry};
pub use contact::{ChannelView, ContactProfile};
pub use dnd::NewDndEntry;
pub use segment::{NewSegment, Segment, SegmentWithCounts};
pub use user::{NewUser, User};
