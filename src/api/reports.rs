//! The service center's bodies: a report and the knowledge sessions are domain types,
//! re-exported; the facts export comes in pages.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::report::facts::ExportedFacts;
pub use crate::domain::report::{KnowledgeSession, NewSession, Report, ReportKind, SessionChange};

/// A page of the facts export, and where the next one starts (absent on the last page).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportPage {
    pub facts: Vec<ExportedFacts>,
    /// Pass as `after` and `after_id` for the next page.
    pub next: Option<ExportCursor>,
}

/// The last change a page held.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportCursor {
    pub after: chrono::DateTime<chrono::Utc>,
    pub after_id: i64,
}
