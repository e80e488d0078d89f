//! Rows and their queries. Models return `QueryResult`; handlers turn errors into pages.

pub mod audience;
pub mod audit;
pub mod segment;
pub mod user;

pub use audience::AudienceListItem;
pub use audit::NewAuditEntry;
pub use segment::{NewSegment, Segment, SegmentWithCounts};
pub use user::{NewUser, User};
