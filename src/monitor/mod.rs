//! Proactive monitors at the edge: the monitor files, their data sources, the evaluations
//! and what their alerts' notifications say. The rules themselves are pure, in
//! `domain::monitor`; the alerts' lifecycle is `service::monitors`, the scheduler
//! `server::jobs::monitors`.

pub mod config;
pub mod demo;
pub mod evaluate;
pub mod notice;

use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use include_dir::{Dir, include_dir};

use self::config::Book;
use crate::lookups::sources::Lookups;
use crate::lookups::sql::SqlSource;

static DEMO_MONITORS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/monitors");

/// The demo's monitors (`fixtures/monitors/`), built into the binary, over `lookups`.
pub fn demo_monitors(lookups: &Lookups, systems: &[&str]) -> Book {
    let mut texts: Vec<(&str, &str)> = DEMO_MONITORS
        .files()
        .filter_map(|f| {
            let name = f.path().file_stem()?.to_str()?;
            Some((name, f.contents_utf8()?))
        })
        .collect();
    texts.sort();
    Book::from_texts(&texts, lookups, systems)
}

/// The demo's business databases written into `dir` (the account and trading systems the
/// first time, the account-opening history each day) and the data sources over them.
pub fn demo_data_sources(dir: &Path, now: DateTime<Utc>, tz: Tz) -> io::Result<Vec<SqlSource>> {
    crate::lookups::sql::demo::demo_database(dir)?;
    demo::demo_trading_database(dir)?;
    demo::demo_openings_database(dir, now, tz)?;
    let mut sources = vec![crate::lookups::sql::demo::demo_source(dir)];
    sources.extend(demo::demo_sources(dir));
    Ok(sources)
}
