//! A filled-in weekly report (`tests/fixtures/report_2026-W47.json`) for rendering tests:
//! twelve weeks of trend, a knowledge session with its before and after, and hostile text
//! (markup in a title and a handler's name) that every rendering must keep inert.
#![allow(dead_code)]

use opsdesk::domain::report::Report;

pub fn sample_report() -> Report {
    serde_json::from_str(include_str!("../fixtures/report_2026-W47.json"))
        .expect("the sample report reads as a Report")
}
