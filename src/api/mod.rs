//! The wire contract: every body the companion server takes or answers with, shared by the
//! server, the HTTP client, the CLI and the workstation, so the two sides cannot drift.
//!
//! Bodies defined here are plain serde types; the views the domain builds (a ticket as the
//! API shows it, a message, a committed change) are re-exported so a client needs no other
//! module. May touch: `domain` only.

pub mod changes;
pub mod construct;
pub mod kb;
pub mod lookups;
pub mod messages;
pub mod monitors;
pub mod reports;
pub mod tickets;
pub use crate::domain::whole;

pub use crate::domain::message::{Attachment, Message};
pub use crate::domain::people::User;
pub use crate::domain::view::{ClockView, SlaView, TicketView};
pub use changes::{Change, ChangePage, ResetNotice, TimelineEntry};
pub use kb::{KbArticle, KbArticleBody, KbChanges, KbImage, KbPage, KbRevision, KbSummary};
pub use lookups::{
    DataLookupRequest, DataRows, Found, LogLine, LookupRequest, QueryInfo, SourceInfo,
};
pub use messages::{NewMessage, ReadMarker, ReadMarkerBody, Unread};
pub use reports::{ExportCursor, ExportPage};
pub use tickets::{ApproveBody, AssignBody, LinkBody, TicketPage, TicketPatch, TransitionBody};
