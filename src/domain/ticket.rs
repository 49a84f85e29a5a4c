//! The ticket model of DESIGN.md §3: one reported production problem of one end customer.
//!
//! Pure data and small conversions; the lifecycle rules live in `lifecycle`, the SLA clock in
//! `sla`, validation of new tickets in `validate`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::mask::{AccountNo, CustomerName, IdNumber, Phone};
use super::sla::SlaPause;
use super::validate::NewTicket;

pub type TicketId = i64;

/// Declares a closed set of snake_case words with `as_str`, `FromStr`, `Display` and `ALL`,
/// so the database, the API and the CLI spell every variant the same way.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $word)] $variant),+ }

        // The API description lists the words the wire carries (a derived schema would show
        // the Rust variant names: the rename inside this macro is invisible to it).
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($word),+]))
                    .into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, UnknownWord> {
                match s { $($word => Ok($name::$variant),)+ _ => Err(UnknownWord {
                    kind: stringify!($name),
                    word: s.chars().take(40).collect(),
                    expected: &[$($word),+],
                }) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

pub(crate) use word_enum;

/// A word that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{word}' (expected one of: {})", expected.join(", "))]
pub struct UnknownWord {
    pub kind: &'static str,
    pub word: String,
    pub expected: &'static [&'static str],
}

word_enum!(
    /// Where a ticket is in its lifecycle.
    Status {
        New = "new",
        Triaging = "triaging",
        WaitingSubmitter = "waiting_submitter",
        Transferred = "transferred",
        Resolved = "resolved",
        Closed = "closed",
    }
);

impl Status {
    /// Open tickets are the handler's queue: everything not resolved or closed.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }

    /// The status in words, as submitters read it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::New => "待受理",
            Status::Triaging => "处理中",
            Status::WaitingSubmitter => "待补充信息",
            Status::Transferred => "已转交",
            Status::Resolved => "已解决",
            Status::Closed => "已关闭",
        }
    }
}

word_enum!(
    /// The team a ticket is handed to (转测试 / 转研发 / 运维执行脚本 / 产品配置).
    TransferTarget {
        Test = "test",
        Dev = "dev",
        Ops = "ops",
        Product = "product",
    }
);

impl TransferTarget {
    pub fn label_zh(self) -> &'static str {
        match self {
            TransferTarget::Test => "测试",
            TransferTarget::Dev => "研发",
            TransferTarget::Ops => "运维",
            TransferTarget::Product => "产品",
        }
    }
}

word_enum!(
    /// Urgency; P1 is the most urgent. Each has its own SLA targets.
    Priority {
        P1 = "P1",
        P2 = "P2",
        P3 = "P3",
        P4 = "P4",
    }
);

word_enum!(
    /// The three top-level categories of the weekly report (数据类 / 程序类 / 咨询类).
    Category {
        Data = "data",
        Program = "program",
        Consultation = "consultation",
    }
);

impl Category {
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Data => "数据类",
            Category::Program => "程序类",
            Category::Consultation => "咨询类",
        }
    }
}

word_enum!(
    /// How a ticket reached the team.
    Channel {
        Mss = "mss",
        Itsm = "itsm",
        Api = "api",
        Monitor = "monitor",
    }
);

/// The end customer a ticket is about. Every field is a masking newtype, so `Debug` and
/// `Display` (and so any `tracing` field) only ever show the masked form; serde carries the
/// full value for storage and for the handler's explicit reveal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<CustomerName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub account: Option<AccountNo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<IdNumber>,
}

impl Customer {
    /// The customer as lists, logs and notifications may show it.
    pub fn masked(&self) -> MaskedCustomer {
        MaskedCustomer {
            name: self.name.as_ref().map(ToString::to_string),
            account: self.account.as_ref().map(ToString::to_string),
            phone: self.phone.as_ref().map(ToString::to_string),
            id_number: self.id_number.as_ref().map(ToString::to_string),
        }
    }

    /// A customer is identifiable when handlers can look them up: account, phone or ID number.
    pub fn has_identifier(&self) -> bool {
        self.account.is_some() || self.phone.is_some() || self.id_number.is_some()
    }
}

/// The masked customer block of every list, event and notification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaskedCustomer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

/// Links between tickets: a duplicate points at the ticket it repeats; many reports of one
/// outage point at their parent incident.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Links {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<TicketId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<TicketId>,
}

word_enum!(
    /// The kind of a link, as the links endpoint names it.
    LinkKind {
        DuplicateOf = "duplicate_of",
        Parent = "parent",
    }
);

/// A ticket as stored. Derived SLA figures are computed at read time from `sla` and the clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub version: i64,
    pub status: Status,
    pub transfer_to: Option<TransferTarget>,
    pub priority: Priority,
    pub category: Category,
    pub subcategory: Option<String>,
    pub system: String,
    pub channel: Channel,
    pub title: String,
    pub description: String,
    pub customer: Customer,
    pub submitter: String,
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    /// The handler's hand-off note of the latest transfer.
    pub transfer_note: Option<String>,
    /// Who made the latest transfer: the way back to the ticket's handler.
    pub transferred_by: Option<String>,
    /// For a transfer to ops: the second handler who reviewed and approved the data-fix script.
    pub script_approved_by: Option<String>,
    pub script_approved_at: Option<DateTime<Utc>>,
    pub links: Links,
    pub kb_article: Option<i64>,
    /// The ticket number in the system it came from (ITSM), unique per channel.
    pub external_ref: Option<String>,
    /// When the SLA clocks were paused (waiting on the submitter); the last one may be open.
    pub sla_pauses: Vec<SlaPause>,
}

impl Ticket {
    /// A new ticket as it enters the queue, from an already validated submission.
    pub fn open(new: NewTicket, channel: Channel, submitter: String, at: DateTime<Utc>) -> Ticket {
        let trimmed = |s: String| s.trim().to_string();
        Ticket {
            id: 0,
            version: 1,
            status: Status::New,
            transfer_to: None,
            priority: new.priority.unwrap_or(Priority::P3),
            category: new.category.unwrap_or(Category::Consultation),
            subcategory: new.subcategory.map(trimmed).filter(|s| !s.is_empty()),
            system: trimmed(new.system),
            channel,
            title: trimmed(new.title),
            description: trimmed(new.description),
            customer: new.customer,
            submitter,
            assignee: None,
            created_at: at,
            updated_at: at,
            first_responded_at: None,
            resolved_at: None,
            closed_at: None,
            resolution: None,
            transfer_note: None,
            transferred_by: None,
            script_approved_by: None,
            script_approved_at: None,
            links: Links::default(),
            kb_article: None,
            external_ref: new.external_ref.map(trimmed),
            sla_pauses: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>().unwrap(), *p);
        }
        let err = "urgent".parse::<Priority>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown Priority 'urgent' (expected one of: P1, P2, P3, P4)"
        );
    }

    #[test]
    fn serde_uses_the_same_words() {
        assert_eq!(
            serde_json::to_string(&Status::WaitingSubmitter).unwrap(),
            "\"waiting_submitter\""
        );
        assert_eq!(serde_json::to_string(&Priority::P2).unwrap(), "\"P2\"");
    }

    #[test]
    fn open_statuses() {
        assert!(Status::Transferred.is_open());
        assert!(!Status::Resolved.is_open());
        assert!(!Status::Closed.is_open());
    }
}
