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

/// How long a username is locked after its `failures`-th wrong password in a row: nothing
/// before `after` failures, then `base`, doubling with each further failure, at most a day.
/// Backoff rather than a fixed lock keeps a guesser slow without locking the owner out for long.
pub fn lockout(failures: u32, after: u32, base: chrono::Duration) -> Option<chrono::Duration> {
    if failures < after {
        return None;
    }
    let doublings = (failures - after).min(16);
    let day = chrono::Duration::days(1);
    Some((base * 2i32.pow(doublings)).min(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_backs_off_and_caps() {
        let m = chrono::Duration::minutes;
        assert_eq!(lockout(4, 5, m(5)), None);
        assert_eq!(lockout(5, 5, m(5)), Some(m(5)));
        assert_eq!(lockout(6, 5, m(5)), Some(m(10)));
        assert_eq!(lockout(8, 5, m(5)), Some(m(40)));
        assert_eq!(lockout(60, 5, m(5)), Some(chrono::Duration::days(1)));
        assert_eq!(lockout(u32::MAX, 5, m(5)), Some(chrono::Duration::days(1)));
    }

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
