//! The service center's reports as web pages: the self-contained HTML report a manager opens
//! from a mail or under `/reports/`, its inline SVG charts, and the list of reports.

pub mod charts;
pub mod page;
pub mod routes;
