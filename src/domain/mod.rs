//! The pure domain: no IO, no async, no clock (time is always a parameter).

pub mod backoff;
pub mod calendar;
pub mod canned;
pub mod construct;
pub mod images;
pub mod kb;
pub mod kb_images;
pub mod kb_search;
pub mod lifecycle;
pub mod mask;
pub mod matcher;
pub mod message;
pub mod monitor;
pub mod notify;
pub mod people;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod similar;
pub mod sla;
pub mod ticket;
pub mod validate;
pub mod view;
pub mod whole;
