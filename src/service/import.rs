//! ITSM CSV import: tickets exported from the group's legacy ticket system.
//!
//! Each row goes through the same validation as the API and lands in its own write job, so a
//! bad row is refused alone. The ITSM number (`external_ref`) makes the import repeatable: a
//! row already imported is reported and skipped, never imported twice.
//!
//! Columns (header row required, order free, unknown columns refused):
//! `external_ref`*, `title`*, `description`*, `system`* (key or Chinese name), `created_at`
//! (RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in the business time zone), `category`
//! (data/program/consultation or 数据类/程序类/咨询类), `subcategory`, `priority` (P1–P4),
//! `customer_name`, `customer_account`, `customer_phone`, `customer_id_number`, `submitter`.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;

use super::tickets::create_in;
use super::{Desk, DeskError};
use crate::domain::mask::{AccountNo, CustomerName, IdNumber, Phone};
use crate::domain::people::Role;
use crate::domain::ticket::{Category, Channel, Customer, Priority};
use crate::domain::validate::NewTicket;
use crate::store::{tickets, users};

const COLUMNS: &[&str] = &[
    "external_ref",
    "title",
    "description",
    "system",
    "created_at",
    "category",
    "subcategory",
    "priority",
    "customer_name",
    "customer_account",
    "customer_phone",
    "customer_id_number",
    "submitter",
];
const REQUIRED: &[&str] = &["external_ref", "title", "description", "system"];
/// The user that owns imported tickets whose submitter is unknown here.
const ITSM_USER: &str = "itsm";

/// What happened to one row (line numbers count the header as line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowOutcome {
    Imported {
        line: u64,
        external_ref: String,
        ticket: i64,
    },
    AlreadyImported {
        line: u64,
        external_ref: String,
        ticket: i64,
    },
    Refused {
        line: u64,
        external_ref: Option<String>,
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the CSV cannot be read: {0}")]
    Csv(#[from] csv::Error),
    #[error("unknown column '{0}'; known columns: {known}", known = COLUMNS.join(", "))]
    UnknownColumn(String),
    #[error("column '{0}' appears twice")]
    DuplicateColumn(String),
    #[error("the file is neither UTF-8 nor GBK text; save it as CSV (UTF-8)")]
    Encoding,
    #[error("missing required column '{0}'")]
    MissingColumn(&'static str),
    #[error(transparent)]
    Desk(#[from] DeskError),
}

fn parse_time(s: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .and_then(|n| tz.from_local_datetime(&n).earliest())
    .map(|t| t.with_timezone(&Utc))
}

fn parse_category(s: &str) -> Option<Category> {
    s.parse().ok().or_else(|| {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.label_zh() == s || c.label_zh().trim_end_matches('类') == s)
    })
}

/// The file's text: UTF-8 (with or without a BOM), else GBK/GB18030, the encoding of a
/// "CSV" saved by Excel on Chinese Windows.
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or(ImportError::Encoding)
}

/// Decodes the file and checks its header row: known columns, each once, the required ones
/// present. Callers run it before touching a data dir, so a wrong file changes nothing.
pub fn read_header(
    bytes: &[u8],
) -> Result<(std::borrow::Cow<'_, str>, csv::StringRecord), ImportError> {
    let text = decode(bytes)?;
    let headers = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
        .headers()?
        .clone();
    for (i, h) in headers.iter().enumerate() {
        if !COLUMNS.contains(&h) {
            return Err(ImportError::UnknownColumn(h.chars().take(40).collect()));
        }
        if headers.iter().take(i).any(|earlier| earlier == h) {
            return Err(ImportError::DuplicateColumn(h.to_string()));
        }
    }
    for r in REQUIRED {
        if !headers.iter().any(|h| h == *r) {
            return Err(ImportError::MissingColumn(r));
        }
    }
    Ok((text, headers))
}

impl Desk {
    /// Imports every row of a CSV file's bytes (UTF-8, or GBK as Excel on Chinese Windows
    /// saves it); returns one outcome per data row.
    pub async fn import_itsm_csv(&self, bytes: &[u8]) -> Result<Vec<RowOutcome>, ImportError> {
        let (text, headers) = read_header(bytes)?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text.as_bytes());
        self.ensure_itsm_user().await?;
        let tz = self.settings.calendar.tz();
        // Imported tickets are history from the legacy system: they page no one.
        let quiet = std::sync::Arc::new(self.settings.without_notifications());
        let mut outcomes = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    outcomes.push(RowOutcome::Refused {
                        line,
                        external_ref: None,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            let field = |name: &str| {
                headers
                    .iter()
                    .position(|h| h == name)
                    .and_then(|i| record.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            outcomes.push(self.import_row(line, &field, tz, &quiet).await);
        }
        Ok(outcomes)
    }

    async fn import_row(
        &self,
        line: u64,
        field: &dyn Fn(&str) -> Option<String>,
        tz: chrono_tz::Tz,
        quiet: &std::sync::Arc<crate::config::Settings>,
    ) -> RowOutcome {
        let external_ref = field("external_ref");
        let refused = |reason: String| RowOutcome::Refused {
            line,
            external_ref: external_ref.clone(),
            reason,
        };
        let Some(reference) = external_ref.clone() else {
            return refused("external_ref is empty".into());
        };
        let created_at = match field("created_at") {
            None => None,
            Some(s) => match parse_time(&s, tz) {
                Some(t) if t > Utc::now() => {
                    return refused(format!("created_at '{s}' is in the future"));
                }
                Some(t) => Some(t),
                None => {
                    return refused(format!(
                        "created_at '{s}' is not RFC 3339 or YYYY-MM-DD HH:MM[:SS]"
                    ));
                }
            },
        };
        let category = match field("category") {
            None => None,
            Some(s) => match parse_category(&s) {
                Some(c) => Some(c),
                None => {
                    return refused(format!(
                        "category '{s}' is not data/program/consultation or 数据类/程序类/咨询类"
                    ));
                }
            },
        };
        let priority = match field("priority") {
            None => None,
            Some(p) => match p.to_ascii_uppercase().parse::<Priority>() {
                Ok(p) => Some(p),
                Err(_) => return refused(format!("priority '{p}' must be P1, P2, P3 or P4")),
            },
        };
        let system = field("system").unwrap_or_default();
        let system = self
            .settings
            .systems
            .iter()
            .find(|s| s.name == system)
            .map(|s| s.key.clone())
            .unwrap_or(system);
        let new = NewTicket {
            title: field("title").unwrap_or_default(),
            description: field("description").unwrap_or_default(),
            system,
            customer: Customer {
                name: field("customer_name").map(CustomerName::new),
                account: field("customer_account").map(AccountNo::new),
                phone: field("customer_phone").map(Phone::new),
                id_number: field("customer_id_number").map(IdNumber::new),
            },
            category,
            subcategory: field("subcategory"),
            priority,
            channel: Some(Channel::Itsm),
            external_ref: Some(reference.clone()),
        };
        let submitter = field("submitter");
        let settings = quiet.clone();
        let reference_in = reference.clone();
        let result = self
            .write(move |ctx| {
                if let Some(id) =
                    tickets::by_external_ref(ctx.conn, Channel::Itsm.as_str(), &reference_in)?
                {
                    return Ok((id, false));
                }
                let owner = submitter
                    .and_then(|s| users::by_username(ctx.conn, &s).transpose())
                    .transpose()?
                    .map(Ok)
                    .unwrap_or_else(|| {
                        users::by_username(ctx.conn, ITSM_USER)?
                            .ok_or_else(|| DeskError::NotFound(format!("user {ITSM_USER}")))
                    })?;
                let at = created_at.unwrap_or(ctx.now);
                let (t, _) = create_in(ctx, &settings, &owner, new, at)?;
                Ok((t.id, true))
            })
            .await;
        match result {
            Ok((ticket, true)) => RowOutcome::Imported {
                line,
                external_ref: reference,
                ticket,
            },
            Ok((ticket, false)) => RowOutcome::AlreadyImported {
                line,
                external_ref: reference,
                ticket,
            },
            Err(DeskError::Validation(v)) => refused(v.to_string()),
            Err(e) => refused(e.to_string()),
        }
    }

    async fn ensure_itsm_user(&self) -> Result<(), DeskError> {
        self.write(|ctx| {
            if users::by_username(ctx.conn, ITSM_USER)?.is_none() {
                users::insert(
                    ctx.conn,
                    ITSM_USER,
                    "ITSM 导入",
                    Role::Submitter,
                    None,
                    None,
                    ctx.now,
                )?;
            }
            Ok(())
        })
        .await
    }
}
