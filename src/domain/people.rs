//! Who works with tickets: roles and usernames.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user may do. Admins may do everything handlers may, plus manage users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Handler,
    Submitter,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Handler => "handler",
            Role::Submitter => "submitter",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "handler" => Some(Role::Handler),
            "submitter" => Some(Role::Submitter),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Handlers and admins work the queue; submitters see only their own tickets.
    pub fn works_tickets(self) -> bool {
        matches!(self, Role::Handler | Role::Admin)
    }
}

/// A person who works with tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub city: Option<String>,
}

/// Usernames are short ASCII handles (`h_chen`, `cm_wang`) so they are safe in URLs, logs and
/// terminals; the display name carries the Chinese name.
pub fn valid_username(name: &str) -> bool {
    (3..=32).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.' || b == b'-'
        })
        && name.as_bytes()[0].is_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["h_chen", "cm_wang01", "admin", "li.na"] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in [
            "",
            "ab",
            "Admin",
            "1abc",
            "张三",
            "a b",
            "x".repeat(33).as_str(),
        ] {
            assert!(!valid_username(bad), "{bad}");
        }
    }
}
