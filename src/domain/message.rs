//! Messages on a ticket (submitter-visible replies and internal notes) and attachments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::people::Role;
use super::ticket::TicketId;

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: i64,
    pub ticket_id: TicketId,
    pub author: String,
    pub author_role: Role,
    /// Internal notes are for handlers only and never shown to the submitter.
    pub internal: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Metadata of a stored file; the bytes live under the data dir by `stored_name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: TicketId,
    pub message_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub stored_name: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

/// Checks a message body: not blank, not longer than [`MAX_BODY_CHARS`].
pub fn check_body(body: &str) -> Result<(), super::validate::ValidationErrors> {
    let n = body.trim().chars().count();
    if n == 0 {
        return Err(super::validate::ValidationErrors::one(
            "body",
            "消息内容不能为空",
            "the message body is empty",
        ));
    }
    if n > MAX_BODY_CHARS {
        return Err(super::validate::ValidationErrors::one(
            "body",
            format!("消息不能超过 {MAX_BODY_CHARS} 个字"),
            format!("the message must be at most {MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A file name as shown and offered for download: the last path component, without control
/// characters or quotes, at most 100 characters; never empty.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | '`' | '<' | '>' | ';'))
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_quotes() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\截图 1.png"), "截图 1.png");
        assert_eq!(clean_filename("a\"b\r\n.png"), "ab.png");
        assert_eq!(clean_filename(".."), "attachment");
        assert_eq!(clean_filename(""), "attachment");
    }

    #[test]
    fn bodies() {
        assert!(check_body("  ").is_err());
        assert!(check_body("好的").is_ok());
        assert!(check_body(&"字".repeat(MAX_BODY_CHARS + 1)).is_err());
    }
}
