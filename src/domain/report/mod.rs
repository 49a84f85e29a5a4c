//! The service center's reports, pure: the period a report covers, and what a report counts
//! of each ticket. The figures, the rollup they are read from and the report's renderings
//! build on these.

pub mod assemble;
pub mod facts;
pub mod figures;
pub mod period;
pub mod recurring;
pub mod session;
pub mod sheet;

pub use facts::TicketFacts;
pub use figures::Figures;
pub use period::{Period, PeriodError};
pub use session::{KnowledgeSession, NewSession, SessionChange};
pub use sheet::{Report, ReportKind};
