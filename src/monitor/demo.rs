//! The demo data the proactive monitors watch: two small SQLite databases built into the data
//! dir beside the account system (`demo-accounts.db`, see [`crate::lookups::sql::demo`]), and
//! the `sql` sources over them (`fixtures/demo/monitor-sources.toml`), so the demo monitors
//! find something on the first run.
//!
//! - `demo-trading.db`, the trading system's shareholder cards after the day's clearing files
//!   were applied: the account system's cards with a few seeded differences
//!   ([`SEEDED_MISMATCHES`]) for the consistency monitor to find.
//! - `demo-openings.db`, the account openings of the last 35 days by channel and branch, made
//!   up from a seed of the day: ordinary days, then a today on which the 手机App channel has
//!   barely worked since 09:30, so the volume falls well below the same weekday of the last
//!   weeks and the channel mix shifts. It holds the day it was built for and is built again
//!   on another day (the demo runs for days).
//!
//! Both are built in a temporary file and renamed into place, so a reader never finds half a
//! database.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use rusqlite::{Connection, OpenFlags, params};
use serde::Deserialize;

use crate::domain::construct::generate::Draw;
use crate::lookups::config::{LogsConfig, SourceConfig};
use crate::lookups::sql::SqlSource;
use crate::lookups::sql::demo::demo_database;

const SOURCES_TOML: &str = include_str!("../../fixtures/demo/monitor-sources.toml");
/// The trading system's database file in the data dir.
pub const TRADING_FILE: &str = "demo-trading.db";
/// The account-opening history's database file in the data dir.
pub const OPENINGS_FILE: &str = "demo-openings.db";
/// The trading system's source, as the source picker shows it.
pub const TRADING_SOURCE: &str = "demo-trading";
/// The account-opening history's source, as the source picker shows it.
pub const OPENINGS_SOURCE: &str = "demo-openings";

/// The cards (`account-market`) on which the trading system disagrees with the account system,
/// in ascending byte order: what the consistency monitor must find, no more and no less.
pub const SEEDED_MISMATCHES: &[&str] = &[
    "310124778410-北交所",
    "320191156407-沪A",
    "330121523196-沪A",
    "337183750323-沪A",
    "341145944631-北交所",
];

/// How the trading system differs from the account system on one card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seed {
    /// The card is there with this status; the account system's counter says 正常.
    Status(&'static str),
    /// The clearing file never opened the card on the trading side.
    Missing,
    /// The trading side has a card the account system never opened: this 股东代码, 正常.
    Extra(&'static str),
}

/// The seeded differences, one customer each, in the order of [`SEEDED_MISMATCHES`]. Most
/// are customers of demo tickets: 337183750323 and 341145944631 had the same alert before
/// (demo-0033, demo-0113), 330121523196 asked why 沪A says 未指定 (demo-0140), and
/// 320191156407 had only a 深A card and asked for a 沪A one (demo-0055).
const SEEDS: &[(&str, &str, Seed)] = &[
    ("310124778410", "北交所", Seed::Missing),
    ("320191156407", "沪A", Seed::Extra("A317702645")),
    ("330121523196", "沪A", Seed::Status("未指定")),
    ("337183750323", "沪A", Seed::Status("冻结")),
    ("341145944631", "北交所", Seed::Status("挂失")),
];

const TRADING_SCHEMA: &str = "
-- 交易系统股东卡: the trading system's cards after the day's clearing files were applied.
CREATE TABLE trading_card (
  account     TEXT NOT NULL,
  market      TEXT NOT NULL,     -- 沪A / 深A / 北交所
  holder_no   TEXT NOT NULL,
  card_status TEXT NOT NULL,     -- 正常 / 冻结 / 挂失 / 未指定 / ...
  cleared_on  TEXT NOT NULL      -- the day the clearing files were applied
);
CREATE INDEX trading_card_key ON trading_card (account, market);
";

const OPENINGS_SCHEMA: &str = "
-- 开户流水: one row an account opened, in the business's local time.
CREATE TABLE account_opening (
  opened_at TEXT NOT NULL,       -- 'YYYY-MM-DD HH:MM:SS'
  day       TEXT NOT NULL,       -- 'YYYY-MM-DD'
  channel   TEXT NOT NULL,       -- 手机App / 微信小程序 / 网上开户H5 / 营业部临柜
  branch    TEXT NOT NULL,
  account   TEXT NOT NULL
);
CREATE INDEX account_opening_day ON account_opening (day);
CREATE INDEX account_opening_opened_at ON account_opening (opened_at);
CREATE INDEX account_opening_account ON account_opening (account);
-- What the database was built for: `day` (YYYY-MM-DD), `built_at`, `tz`.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
";

/// Tells apart the temporary files of builds racing in one process.
static BUILDS: AtomicU64 = AtomicU64::new(0);

/// `data_dir/demo-trading.db`, built when it is not there yet from the account system's
/// shareholder cards (`demo-accounts.db`, itself built first if missing), read read-only.
pub fn demo_trading_database(data_dir: &Path) -> io::Result<PathBuf> {
    let path = data_dir.join(TRADING_FILE);
    if path.is_file() {
        return Ok(path);
    }
    let accounts = demo_database(data_dir)?;
    build_into(&path, "trading", |tmp| build_trading(tmp, &accounts))?;
    Ok(path)
}

/// `data_dir/demo-openings.db` for the day `now` falls on in `tz`, built again when it was
/// built for another day. Today's openings stop at the time of day it is built.
pub fn demo_openings_database(data_dir: &Path, now: DateTime<Utc>, tz: Tz) -> io::Result<PathBuf> {
    let path = data_dir.join(OPENINGS_FILE);
    let local = now.with_timezone(&tz).naive_local();
    let today = local.date();
    if built_for(&path).as_deref() == Some(day_text(today).as_str()) {
        return Ok(path);
    }
    let until = local.time().num_seconds_from_midnight();
    let built_at = local.format("%Y-%m-%d %H:%M:%S").to_string();
    build_into(&path, "openings", |tmp| {
        build_openings(tmp, today, until, &built_at, tz)
    })?;
    Ok(path)
}

/// Builds `path` with `build` in a temporary file beside it, then renames it into place.
fn build_into(
    path: &Path,
    what: &str,
    build: impl FnOnce(&Path) -> Result<(), BuildError>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let build_no = BUILDS.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("{name}.{}-{build_no}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if let Err(e) = build(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io::Error::other(format!(
            "cannot build the demo {what} database: {e}"
        )));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum BuildError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A shipped seed that no longer fits the account system (its fixture changed): refused
    /// rather than built with fewer mismatches than [`SEEDED_MISMATCHES`] promises.
    #[error("the seeded card {0} {1}")]
    Seed(String, &'static str),
}

fn seed_error(account: &str, market: &str, why: &'static str) -> BuildError {
    BuildError::Seed(format!("{account}-{market}"), why)
}

fn build_trading(path: &Path, accounts: &Path) -> Result<(), BuildError> {
    let source = Connection::open_with_flags(
        accounts,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut cards: Vec<(String, String, String, String)> = source
        .prepare(
            "SELECT account, market, holder_no, counter_status FROM shareholder_card
             ORDER BY account, market",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(source);

    for &(account, market, seed) in SEEDS {
        let at = cards
            .iter()
            .position(|(a, m, ..)| a == account && m == market);
        match (seed, at) {
            (Seed::Status(status), Some(i)) if cards[i].3 == "正常" => {
                cards[i].3 = status.to_string();
            }
            (Seed::Missing, Some(i)) => {
                cards.remove(i);
            }
            (Seed::Extra(holder_no), None) => {
                if cards.iter().any(|c| c.2 == holder_no) {
                    return Err(seed_error(account, market, "has a holder_no already taken"));
                }
                cards.push((
                    account.to_string(),
                    market.to_string(),
                    holder_no.to_string(),
                    "正常".to_string(),
                ));
            }
            (Seed::Status(_), Some(_)) => {
                return Err(seed_error(
                    account,
                    market,
                    "is not 正常 in the account system",
                ));
            }
            (Seed::Extra(_), Some(_)) => {
                return Err(seed_error(account, market, "is in the account system"));
            }
            (_, None) => {
                return Err(seed_error(account, market, "is not in the account system"));
            }
        }
    }
    cards.sort();

    let mut conn = Connection::open(path)?;
    conn.execute_batch(TRADING_SCHEMA)?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO trading_card (account, market, holder_no, card_status, cleared_on)
             VALUES (?1, ?2, ?3, ?4, date('now', 'localtime'))",
        )?;
        for (account, market, holder_no, status) in &cards {
            insert.execute(params![account, market, holder_no, status])?;
        }
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| BuildError::Sqlite(e))
}

/// Days of history, today included.
const HISTORY_DAYS: u64 = 35;
/// The channel that fails today.
const APP: &str = "手机App";
/// Channels and their usual share in percent; each day moves each by up to ±10 % of itself.
const CHANNELS: &[(&str, u64)] = &[
    (APP, 60),
    ("微信小程序", 20),
    ("网上开户H5", 12),
    ("营业部临柜", 8),
];
/// Branches an opened account is assigned to, weighted by their size.
const BRANCHES: &[(&str, u64)] = &[
    ("上海淮海中路营业部", 41),
    ("杭州庆春路营业部", 32),
    ("成都天府大道营业部", 32),
    ("深圳南山科技园营业部", 26),
    ("上海浦东南路营业部", 26),
    ("深圳福田营业部", 23),
    ("北京金融街营业部", 23),
];
/// Spans of the day openings happen in (seconds from midnight) and their relative density:
/// busiest while the exchanges trade, quiet early and late.
const SPANS: &[(u32, u32, u64)] = &[
    (8 * 3600 + 1800, 9 * 3600 + 1800, 2),
    (9 * 3600 + 1800, 11 * 3600 + 1800, 6),
    (11 * 3600 + 1800, 13 * 3600, 3),
    (13 * 3600, 15 * 3600, 6),
    (15 * 3600, 18 * 3600, 3),
    (18 * 3600, 22 * 3600, 2),
];
/// Today, from 09:30 on, one 手机App opening in this many gets through (the others, ~86 %,
/// fail).
const OUTAGE_GETS_THROUGH: u64 = 7;
const OUTAGE_FROM: u32 = 9 * 3600 + 1800;

/// One account opened.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Opening {
    day: NaiveDate,
    /// Seconds from midnight, local time.
    second: u32,
    channel: &'static str,
    branch: &'static str,
    account: String,
}

impl Opening {
    fn opened_at(&self) -> String {
        let (h, m, s) = (self.second / 3600, self.second / 60 % 60, self.second % 60);
        format!("{} {h:02}:{m:02}:{s:02}", day_text(self.day))
    }
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The day an openings database was built for; `None` when there is none or it cannot be read
/// (built again then).
fn built_for(path: &Path) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    conn.query_row("SELECT value FROM meta WHERE key = 'day'", [], |r| r.get(0))
        .ok()
}

fn build_openings(
    path: &Path,
    today: NaiveDate,
    until: u32,
    built_at: &str,
    tz: Tz,
) -> Result<(), BuildError> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(OPENINGS_SCHEMA)?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO account_opening (opened_at, day, channel, branch, account)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for o in openings(today, until) {
            insert.execute(params![
                o.opened_at(),
                day_text(o.day),
                o.channel,
                o.branch,
                o.account
            ])?;
        }
        let mut meta = tx.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
        meta.execute(params!["day", day_text(today)])?;
        meta.execute(params!["built_at", built_at])?;
        meta.execute(params!["tz", tz.name()])?;
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| BuildError::Sqlite(e))
}

/// The openings of the [`HISTORY_DAYS`] up to `today`, oldest first; today's only up to
/// `until` (seconds from midnight) and with the 手机App outage. A day's openings come from a
/// seed of the day alone, so the same day always opens the same accounts (but for today's cut).
///
/// A day's volume and channel mix are drawn, then spread evenly: the openings take one slice
/// each of the day's density ([`SPANS`]), at a random point in it, and the channels take
/// turns by their shares. So any hour holds about what it should, and the day's noise is in
/// its volume and mix, not in clumps that would blur today's outage.
fn openings(today: NaiveDate, until: u32) -> Vec<Opening> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut all = Vec::new();
    for back in (0..HISTORY_DAYS).rev() {
        let Some(day) = today.checked_sub_days(Days::new(back)) else {
            continue;
        };
        let is_today = back == 0;
        let mut draw = Draw::new(day_seed(day));
        let count = volume(&mut draw, day.weekday());
        let mix: Vec<(&'static str, u64)> = CHANNELS
            .iter()
            .map(|&(channel, share)| (channel, share * (90 + draw.below(21))))
            .collect();
        let channels = dealt(&mut draw, &mix, count);
        let mass = day_mass();
        let mut app_in_outage = 0u64;
        for (i, channel) in (0u64..).zip(channels) {
            let second = second_at((i * mass + draw.below(mass)) / count);
            let branch = *weighted(&mut draw, BRANCHES);
            let account = loop {
                let a = format!("3301{:08}", draw.below(100_000_000));
                if taken.insert(a.clone()) {
                    break a;
                }
            };
            let fails = channel == APP && second >= OUTAGE_FROM && {
                app_in_outage += 1;
                app_in_outage % OUTAGE_GETS_THROUGH != 1
            };
            if is_today && (second > until || fails) {
                continue;
            }
            all.push(Opening {
                day,
                second,
                channel,
                branch,
                account,
            });
        }
    }
    all
}

/// `count` channels in the order of the day's openings, each about as often as its share of
/// `mix` in any stretch of the day: a smooth weighted round-robin from a random start,
/// shuffled within runs of five so it does not read as a pattern.
fn dealt(draw: &mut Draw, mix: &[(&'static str, u64)], count: u64) -> Vec<&'static str> {
    let weights: Vec<i64> = mix
        .iter()
        .map(|&(_, w)| i64::try_from(w).unwrap_or(i64::MAX / 4))
        .collect();
    let total: i64 = weights.iter().sum::<i64>().max(1);
    let mut credit: Vec<i64> = weights
        .iter()
        .map(|_| i64::try_from(draw.below(total.unsigned_abs())).unwrap_or(0) - total / 2)
        .collect();
    let mut dealt = Vec::new();
    for _ in 0..count {
        for (c, w) in credit.iter_mut().zip(&weights) {
            *c += w;
        }
        let mut best = 0;
        for (i, c) in credit.iter().enumerate() {
            if *c > credit[best] {
                best = i;
            }
        }
        credit[best] -= total;
        dealt.push(mix[best].0);
    }
    for run in dealt.chunks_mut(5) {
        for i in (1..run.len()).rev() {
            let j = draw.below(i as u64 + 1) as usize;
            run.swap(i, j);
        }
    }
    dealt
}

fn day_seed(day: NaiveDate) -> u64 {
    // "openings" in ASCII, mixed with the day.
    0x6F70_656E_696E_6773 ^ u64::from(day.num_days_from_ce().unsigned_abs())
}

/// How many accounts a day opens: ~85–115 on weekdays (Monday and Friday busier), 16–24 at
/// weekends.
fn volume(draw: &mut Draw, weekday: Weekday) -> u64 {
    let (base, spread) = match weekday {
        Weekday::Mon => (104, 10),
        Weekday::Tue => (98, 10),
        Weekday::Wed => (95, 10),
        Weekday::Thu => (96, 10),
        Weekday::Fri => (102, 10),
        Weekday::Sat => (21, 15),
        Weekday::Sun => (19, 15),
    };
    base * (100 - spread + draw.below(2 * spread + 1)) / 100
}

/// The whole day's density: [`SPANS`]' seconds, each by its density.
fn day_mass() -> u64 {
    SPANS
        .iter()
        .map(|&(from, to, density)| u64::from(to - from) * density)
        .sum()
}

/// The second of the day by which `at` of the [`day_mass`] has gone by.
fn second_at(mut at: u64) -> u32 {
    for &(from, to, density) in SPANS {
        let mass = u64::from(to - from) * density;
        if at < mass {
            // Below `to - from`, which fits in a u32.
            return from + u32::try_from(at / density).unwrap_or(0);
        }
        at -= mass;
    }
    SPANS[SPANS.len() - 1].1 - 1
}

/// One of `items`, each as likely as its weight (weights not all zero).
fn weighted<'a, T>(draw: &mut Draw, items: &'a [(T, u64)]) -> &'a T {
    let total: u64 = items.iter().map(|(_, w)| w).sum();
    let mut at = draw.below(total.max(1));
    for (item, w) in items {
        if at < *w {
            return item;
        }
        at -= w;
    }
    &items[items.len() - 1].0
}

#[derive(Deserialize)]
struct DemoConfig {
    logs: LogsConfig,
}

/// The `demo-trading` and `demo-openings` sources over `data_dir` (see
/// [`demo_trading_database`] and [`demo_openings_database`]), in the fixture's order.
pub fn demo_sources(data_dir: &Path) -> Vec<SqlSource> {
    // The shipped text is part of the build, not input: the tests below load it, so a
    // failure here is a broken build, not a bad configuration.
    let demo: DemoConfig =
        toml::from_str(SOURCES_TOML).expect("fixtures/demo/monitor-sources.toml parses");
    demo.logs
        .sources
        .iter()
        .filter_map(|s| match s {
            SourceConfig::Sql(c) => {
                Some(SqlSource::new(c, Some(data_dir)).expect("the demo monitor sources are valid"))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::validate::Identifier;

    fn shanghai(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("a Shanghai time")
            .with_timezone(&Utc)
    }

    fn rows(path: &Path) -> Vec<(String, String, String, String, String)> {
        let conn = Connection::open(path).expect("open");
        conn.prepare(
            "SELECT opened_at, day, channel, branch, account FROM account_opening ORDER BY rowid",
        )
        .expect("prepare")
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
    }

    fn count(conn: &Connection, sql: &str) -> f64 {
        conn.query_row(sql, [], |r| r.get::<_, f64>(0)).expect(sql)
    }

    #[test]
    fn the_shipped_sources_load_with_their_queries() {
        let sources = demo_sources(Path::new("/nonexistent"));
        type Queries = Vec<(String, Option<String>, String)>;
        let got: Vec<(String, &str, Queries)> = sources
            .iter()
            .map(|s| {
                let queries = s
                    .queries()
                    .into_iter()
                    .map(|q| (q.name, q.title, q.by))
                    .collect();
                (s.name().to_string(), s.kind(), queries)
            })
            .collect();
        let query = |n: &str, t: &str| (n.to_string(), Some(t.to_string()), "account".to_string());
        assert_eq!(
            got,
            vec![
                (
                    TRADING_SOURCE.to_string(),
                    "sqlite",
                    vec![query("trading-cards", "交易系统股东卡")]
                ),
                (
                    OPENINGS_SOURCE.to_string(),
                    "sqlite",
                    vec![query("opening-record", "开户记录")]
                ),
            ]
        );
        assert!(SOURCES_TOML.contains(&format!("sqlite://{TRADING_FILE}")));
        assert!(SOURCES_TOML.contains(&format!("sqlite://{OPENINGS_FILE}")));
    }

    #[test]
    fn the_seeds_are_the_seeded_mismatches_on_five_customers() {
        let keys: Vec<String> = SEEDS.iter().map(|(a, m, _)| format!("{a}-{m}")).collect();
        assert_eq!(keys, SEEDED_MISMATCHES);
        assert!(SEEDED_MISMATCHES.windows(2).all(|w| w[0] < w[1]));
        let customers: HashSet<&str> = SEEDS.iter().map(|(a, ..)| *a).collect();
        assert_eq!(customers.len(), 5);
        let tickets = include_str!("../../fixtures/demo/tickets.json");
        let in_tickets = customers.iter().filter(|a| tickets.contains(**a)).count();
        assert!(
            in_tickets >= 2,
            "{in_tickets} of the seeded customers have tickets"
        );
    }

    #[test]
    fn the_trading_system_differs_from_the_account_system_in_exactly_the_seeded_cards() {
        let dir = tempfile::tempdir().expect("tempdir");
        let trading = demo_trading_database(dir.path()).expect("built");
        assert_eq!(trading, dir.path().join(TRADING_FILE));
        let accounts = dir.path().join(crate::lookups::sql::demo::FILE);
        assert!(accounts.is_file(), "the account system is built first");

        let conn = Connection::open(&trading).expect("open");
        conn.execute(
            "ATTACH DATABASE ?1 AS acct",
            [accounts.to_str().expect("a UTF-8 path")],
        )
        .expect("attach");
        // A full outer join, as SQLite writes one: each side left-joined to the other.
        let diff: Vec<(String, String)> = conn
            .prepare(
                "SELECT key, kind FROM (
                   SELECT a.account || '-' || a.market AS key,
                          CASE WHEN t.account IS NULL THEN 'missing' ELSE 'status' END AS kind
                   FROM acct.shareholder_card a
                   LEFT JOIN trading_card t ON t.account = a.account AND t.market = a.market
                   WHERE t.account IS NULL OR t.card_status <> a.counter_status
                      OR t.holder_no <> a.holder_no
                   UNION
                   SELECT t.account || '-' || t.market, 'extra'
                   FROM trading_card t
                   LEFT JOIN acct.shareholder_card a
                     ON a.account = t.account AND a.market = t.market
                   WHERE a.account IS NULL
                 ) ORDER BY key",
            )
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let keys: Vec<&str> = diff.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, SEEDED_MISMATCHES);
        let kinds: Vec<&str> = diff.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(kinds, ["missing", "extra", "status", "status", "status"]);

        let statuses: Vec<String> = conn
            .prepare(
                "SELECT card_status FROM trading_card
                 WHERE account || '-' || market IN (?1, ?2, ?3) ORDER BY account",
            )
            .expect("prepare")
            .query_map(
                params![
                    SEEDED_MISMATCHES[2],
                    SEEDED_MISMATCHES[3],
                    SEEDED_MISMATCHES[4]
                ],
                |r| r.get(0),
            )
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(statuses, ["未指定", "冻结", "挂失"]);
        let cards = count(&conn, "SELECT count(*) FROM trading_card");
        let keys = count(
            &conn,
            "SELECT count(DISTINCT account || '-' || market) FROM trading_card",
        );
        let cleared = count(
            &conn,
            "SELECT count(*) FROM trading_card WHERE cleared_on GLOB '[0-9][0-9][0-9][0-9]-*'",
        );
        assert_eq!(cards, keys, "one row a card");
        assert_eq!(cleared, cards);
        drop(conn);

        // There already: handed back as it is.
        assert_eq!(demo_trading_database(dir.path()).expect("again"), trading);
    }

    #[test]
    fn today_the_app_channel_fails_and_the_volume_falls_below_the_last_four_weeks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = shanghai(2026, 12, 8, 14);
        let path =
            demo_openings_database(dir.path(), now, chrono_tz::Asia::Shanghai).expect("built");
        assert_eq!(path, dir.path().join(OPENINGS_FILE));
        let conn = Connection::open(&path).expect("open");
        let day: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'day'", [], |r| r.get(0))
            .expect("meta day");
        assert_eq!(day, "2026-12-08");

        // 35 days, today up to 14:00 only.
        assert_eq!(
            count(&conn, "SELECT count(DISTINCT day) FROM account_opening"),
            35.0
        );
        let first: String = conn
            .query_row("SELECT min(day) FROM account_opening", [], |r| r.get(0))
            .expect("first day");
        assert_eq!(first, "2026-11-04");
        let last: String = conn
            .query_row(
                "SELECT max(opened_at) FROM account_opening WHERE day = '2026-12-08'",
                [],
                |r| r.get(0),
            )
            .expect("today's last");
        assert!(last.as_str() <= "2026-12-08 14:00:00", "{last}");
        assert!(last.as_str() >= "2026-12-08 08:30:00", "{last}");
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM account_opening WHERE substr(opened_at, 1, 10) <> day OR substr(opened_at, 12) NOT BETWEEN '08:30:00' AND '22:00:00'"
            ),
            0.0
        );

        // Ordinary days: ~80–120 on weekdays, 15–25 at weekends.
        let per_day: Vec<(String, i64)> = conn
            .prepare(
                "SELECT day, count(*) FROM account_opening WHERE day < '2026-12-08'
                 GROUP BY day ORDER BY day",
            )
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(per_day.len(), 34);
        for (day, n) in &per_day {
            let weekday = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .expect("a day")
                .weekday();
            let range = match weekday {
                Weekday::Sat | Weekday::Sun => 15..=25,
                _ => 80..=120,
            };
            assert!(range.contains(n), "{day} ({weekday}): {n}");
        }

        // Today against the same weekday of the last four weeks, up to the same time of day.
        let today = count(
            &conn,
            "SELECT count(*) FROM account_opening WHERE day = '2026-12-08'",
        );
        let weeks = count(
            &conn,
            "SELECT count(*) / 4.0 FROM account_opening
             WHERE day IN ('2026-12-01', '2026-11-24', '2026-11-17', '2026-11-10')
               AND substr(opened_at, 12) <= '14:00:00'",
        );
        assert!(today > 0.0);
        assert!(
            today < 0.75 * weeks,
            "today {today}, the weeks' mean {weeks}"
        );

        // The channel mix: 手机App's share today against the last four weeks'.
        let share = |days: &str| {
            count(
                &conn,
                &format!(
                    "SELECT 100.0 * sum(channel = '手机App') / count(*) FROM account_opening
                     WHERE {days}"
                ),
            )
        };
        let app_today = share("day = '2026-12-08'");
        let app_weeks = share("day BETWEEN '2026-11-10' AND '2026-12-07'");
        assert!((50.0..70.0).contains(&app_weeks), "{app_weeks}");
        assert!(
            app_weeks - app_today > 15.0,
            "手机App today {app_today}%, the last four weeks {app_weeks}%"
        );
        for channel in ["微信小程序", "网上开户H5", "营业部临柜"] {
            let n = count(
                &conn,
                &format!("SELECT count(*) FROM account_opening WHERE channel = '{channel}'"),
            );
            assert!(n > 0.0, "{channel}");
        }

        // Accounts: distinct, 12 digits.
        let all = count(&conn, "SELECT count(*) FROM account_opening");
        let distinct = count(&conn, "SELECT count(DISTINCT account) FROM account_opening");
        let plausible = count(
            &conn,
            "SELECT count(*) FROM account_opening
             WHERE account GLOB '3301[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'",
        );
        assert_eq!(distinct, all);
        assert_eq!(plausible, all);
    }

    #[test]
    fn the_openings_are_the_same_for_the_same_day_and_rebuilt_on_the_next() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = shanghai(2026, 12, 8, 14);
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let first = rows(&demo_openings_database(a.path(), now, tz).expect("built"));
        let second = rows(&demo_openings_database(b.path(), now, tz).expect("built"));
        assert!(!first.is_empty());
        assert_eq!(first, second, "the same now makes the same rows");

        // Later the same day: the day's database stays as it is.
        let path = demo_openings_database(a.path(), shanghai(2026, 12, 8, 16), tz).expect("kept");
        assert_eq!(rows(&path), first);

        // The next day: built again, for that day.
        let path =
            demo_openings_database(a.path(), shanghai(2026, 12, 9, 14), tz).expect("rebuilt");
        let conn = Connection::open(&path).expect("open");
        let day: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'day'", [], |r| r.get(0))
            .expect("meta day");
        assert_eq!(day, "2026-12-09");
        let span: (String, String) = conn
            .query_row("SELECT min(day), max(day) FROM account_opening", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("span");
        assert_eq!(span, ("2026-11-05".to_string(), "2026-12-09".to_string()));
        // Yesterday is an ordinary whole day now, the same up to where it was cut.
        let after = count(
            &conn,
            "SELECT count(*) FROM account_opening
             WHERE day = '2026-12-08' AND opened_at > '2026-12-08 14:00:00'",
        );
        assert!(after > 0.0);
        let older: Vec<_> = first
            .iter()
            .filter(|r| r.1.as_str() > "2026-11-04" && r.1.as_str() < "2026-12-08")
            .cloned()
            .collect();
        let again: Vec<_> = rows(&path)
            .into_iter()
            .filter(|r| r.1.as_str() < "2026-12-08")
            .collect();
        assert_eq!(again, older, "the days before are the same days");
        drop(conn);

        let leftovers: Vec<_> = std::fs::read_dir(a.path())
            .expect("read dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test]
    async fn a_handler_looks_the_findings_up_in_both_sources() {
        let dir = tempfile::tempdir().expect("tempdir");
        demo_trading_database(dir.path()).expect("trading");
        let openings = demo_openings_database(
            dir.path(),
            shanghai(2026, 12, 8, 14),
            chrono_tz::Asia::Shanghai,
        )
        .expect("openings");
        let account: String = Connection::open(&openings)
            .expect("open")
            .query_row(
                "SELECT account FROM account_opening ORDER BY opened_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("an account");
        let sources = demo_sources(dir.path());

        let cards = sources[0]
            .run("trading-cards", Identifier::Account, "337183750323")
            .await
            .expect("trading cards");
        assert_eq!(cards.source, TRADING_SOURCE);
        assert_eq!(cards.columns[1], "市场");
        let status: Vec<(Option<&str>, Option<&str>)> = cards
            .rows
            .iter()
            .map(|r| (r[1].as_deref(), r[3].as_deref()))
            .collect();
        assert_eq!(
            status,
            [
                (Some("北交所"), Some("正常")),
                (Some("沪A"), Some("冻结")),
                (Some("深A"), Some("正常"))
            ]
        );
        assert_ne!(cards.rows[0][0].as_deref(), Some("337183750323"), "masked");

        let record = sources[1]
            .run("opening-record", Identifier::Account, &account)
            .await
            .expect("opening record");
        assert_eq!(record.source, OPENINGS_SOURCE);
        assert_eq!(record.rows.len(), 1);
        assert_eq!(record.columns[2], "开户渠道");
    }
}
