//! Ticket bodies: what `PATCH /tickets/{id}`, `/transitions`, `/assign`, `/links` and
//! `/approve-script` take, and the list page they answer with.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::domain::ticket::{Category, LinkKind, Priority, Status, TicketId, TransferTarget};
use crate::domain::view::TicketView;

/// Distinguishes an absent field (leave alone) from an explicit `null` (clear it).
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A partial update; `version` must be the version the client last saw.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    #[serde(deserialize_with = "super::whole::whole")]
    pub version: i64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub subcategory: Option<Option<String>>,
    #[serde(default)]
    pub system: Option<String>,
    /// A handler's username, or null to unassign.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
}

/// A lifecycle move. `version`, when given, must match the current one.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    pub to: Status,
    #[serde(default)]
    pub transfer_to: Option<TransferTarget>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub resolution: Option<String>,
    #[serde(default, deserialize_with = "super::whole::whole_or_null")]
    pub version: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A handler's username, or null to unassign.
    pub assignee: Option<String>,
    #[serde(default, deserialize_with = "super::whole::whole_or_null")]
    pub version: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    pub kind: LinkKind,
    /// The ticket linked to, or null to remove the link.
    #[serde(default, deserialize_with = "super::whole::whole_or_null")]
    #[schema(value_type = Option<i64>)]
    pub target: Option<TicketId>,
    #[serde(default, deserialize_with = "super::whole::whole_or_null")]
    pub version: Option<i64>,
}

/// The body of an approval: the version the approver reviewed.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    #[serde(default, deserialize_with = "super::whole::whole_or_null")]
    pub version: Option<i64>,
}

/// One page of tickets.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketPage {
    pub tickets: Vec<TicketView>,
    pub total: u64,
    pub offset: usize,
    pub limit: usize,
}
