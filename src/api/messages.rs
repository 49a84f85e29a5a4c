//! Conversation bodies: a new message, read markers, unread counts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ticket::TicketId;

/// How far a user has read a ticket's conversation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct ReadMarker {
    /// The last message read; 0 when none.
    pub message_id: i64,
    /// Messages from others after it (internal notes count for handlers only).
    pub unread: u32,
}

/// An open ticket with messages the caller has not read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct Unread {
    pub ticket_id: TicketId,
    pub unread: u32,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMarkerBody {
    /// The last message read; the marker never moves backwards.
    #[serde(deserialize_with = "super::whole::whole")]
    pub message_id: i64,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
    /// An internal note for handlers; never shown to the submitter.
    #[serde(default)]
    pub internal: bool,
}
