//! The demo's account system (`fixtures/demo/accounts.sql`): a small SQLite database of the
//! demo tickets' customers, built once into the data dir, and the `sql` source over it
//! (`fixtures/demo/accounts.toml`), so the demo shows a data lookup next to the log lines.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

use super::SqlSource;
use crate::lookups::config::{LogsConfig, SourceConfig};

const ACCOUNTS_SQL: &str = include_str!("../../../fixtures/demo/accounts.sql");
const ACCOUNTS_TOML: &str = include_str!("../../../fixtures/demo/accounts.toml");
/// The demo database's file in the data dir.
pub const FILE: &str = "demo-accounts.db";
/// The demo's data source, as the source picker shows it.
pub const SOURCE: &str = "demo-accounts";

/// Tells apart the temporary files of builds racing in one process.
static BUILDS: AtomicU64 = AtomicU64::new(0);

/// `data_dir/demo-accounts.db`, built from the shipped SQL when it is not there yet. Built
/// in a temporary file and renamed into place, so a reader never finds half a database.
pub fn demo_database(data_dir: &Path) -> io::Result<PathBuf> {
    let path = data_dir.join(FILE);
    if path.is_file() {
        return Ok(path);
    }
    std::fs::create_dir_all(data_dir)?;
    let build = BUILDS.fetch_add(1, Ordering::Relaxed);
    let tmp = data_dir.join(format!("{FILE}.{}-{build}.tmp", std::process::id()));
    let built = build_at(&tmp);
    if let Err(e) = built {
        let _ = std::fs::remove_file(&tmp);
        return Err(io::Error::other(format!(
            "cannot build the demo accounts database: {e}"
        )));
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

fn build_at(path: &Path) -> rusqlite::Result<()> {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(ACCOUNTS_SQL)?;
    conn.close().map_err(|(_, e)| e)
}

#[derive(Deserialize)]
struct DemoConfig {
    logs: LogsConfig,
}

/// The `demo-accounts` source over `data_dir/demo-accounts.db` (see [`demo_database`]).
pub fn demo_source(data_dir: &Path) -> SqlSource {
    // The shipped text is part of the build, not input: the tests below load it, so a
    // failure here is a broken build, not a bad configuration.
    let demo: DemoConfig =
        toml::from_str(ACCOUNTS_TOML).expect("fixtures/demo/accounts.toml parses");
    let cfg = demo
        .logs
        .sources
        .iter()
        .find_map(|s| match s {
            SourceConfig::Sql(c) if c.name == SOURCE => Some(c),
            _ => None,
        })
        .expect("fixtures/demo/accounts.toml has the demo-accounts source");
    SqlSource::new(cfg, Some(data_dir)).expect("the demo-accounts source is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_source_loads_with_its_five_queries() {
        let source = demo_source(Path::new("/nonexistent"));
        assert_eq!(source.name(), SOURCE);
        assert_eq!(source.kind(), "sqlite");
        let names: Vec<(String, String)> = source
            .queries()
            .into_iter()
            .map(|q| (q.name, q.by))
            .collect();
        let want = [
            ("customer-profile", "account"),
            ("shareholder-cards", "account"),
            ("depository", "account"),
            ("orders-today", "account"),
            ("find-by-phone", "phone"),
        ];
        assert_eq!(
            names,
            want.map(|(n, b)| (n.to_string(), b.to_string())).to_vec()
        );
    }
}
