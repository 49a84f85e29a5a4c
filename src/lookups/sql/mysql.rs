//! MySQL (and MariaDB): one connection a lookup, made read-only for the session and given a
//! statement time limit, the query inside `START TRANSACTION READ ONLY`, then `ROLLBACK`.
//!
//! The query is a prepared statement, so MySQL answers in its binary row format; the values
//! are written out here as text, type by type.

use std::time::Duration;

use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlRow};
use sqlx::{Column, ConnectOptions, Executor, Row, Statement, TypeInfo, ValueRef};

use super::cells::text_or_hex;
use super::{Failure, Lookup, RowSink, on_fresh_connection};

/// MySQL's `ER_UNKNOWN_SYSTEM_VARIABLE`: MariaDB has no `max_execution_time`.
const UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
/// Errors of a statement stopped by its time limit: MySQL's `ER_QUERY_TIMEOUT`, MariaDB's
/// `ER_STATEMENT_TIMEOUT`, and `ER_QUERY_INTERRUPTED`.
const TIMED_OUT: [u16; 3] = [3024, 1969, 1317];

/// What makes the session read-only and bounds its statements, in order.
pub(super) fn session(timeout: Duration) -> [String; 2] {
    [
        "SET SESSION TRANSACTION READ ONLY".to_string(),
        format!("SET SESSION max_execution_time = {}", timeout.as_millis()),
    ]
}

/// MariaDB's own statement time limit (in seconds), when `max_execution_time` is unknown.
pub(super) fn mariadb_time_limit(timeout: Duration) -> String {
    format!(
        "SET SESSION max_statement_time = {}.{:03}",
        timeout.as_secs(),
        timeout.subsec_millis()
    )
}

pub(super) const BEGIN: &str = "START TRANSACTION READ ONLY";
pub(super) const END: &str = "ROLLBACK";

/// The connection settings a lookup keeps to: MySQL's own meaning of `||` and its server
/// time zone, as the DBA's client shows them (sqlx would otherwise change both).
pub(super) fn options(options: MySqlConnectOptions) -> MySqlConnectOptions {
    options
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
}

/// Runs `lookup` on a fresh connection (see [`super::on_fresh_connection`]).
pub(super) async fn fetch<S: RowSink>(
    options: &MySqlConnectOptions,
    lookup: &Lookup<'_>,
    sink: S,
) -> Result<S, Failure> {
    on_fresh_connection(options.connect(), lookup, async move |conn| {
        read_only(conn, lookup, sink).await
    })
    .await
}

async fn read_only<S: RowSink>(
    conn: &mut MySqlConnection,
    lookup: &Lookup<'_>,
    mut sink: S,
) -> Result<S, Failure> {
    let [read_only, time_limit] = session(lookup.timeout);
    conn.execute(read_only.as_str()).await.map_err(failure)?;
    if let Err(e) = conn.execute(time_limit.as_str()).await {
        if error_number(&e) != Some(UNKNOWN_SYSTEM_VARIABLE) {
            return Err(failure(e));
        }
        conn.execute(mariadb_time_limit(lookup.timeout).as_str())
            .await
            .map_err(failure)?;
    }
    conn.execute(BEGIN).await.map_err(failure)?;
    let statement = conn.prepare(lookup.sql).await.map_err(failure)?;
    sink.columns(
        statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
    );
    let mut query = statement.query();
    for value in &lookup.values {
        query = query.bind(value.as_str());
    }
    {
        let mut stream = query.fetch(&mut *conn);
        while let Some(row) = stream.try_next().await.map_err(failure)? {
            if !sink.row(row_text(&row)).await {
                break;
            }
        }
    }
    conn.execute(END).await.map_err(failure)?;
    Ok(sink)
}

fn error_number(e: &sqlx::Error) -> Option<u16> {
    e.as_database_error()
        .and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>())
        .map(MySqlDatabaseError::number)
}

fn failure(e: sqlx::Error) -> Failure {
    match (error_number(&e), e.as_database_error()) {
        (Some(n), _) if TIMED_OUT.contains(&n) => Failure::TimedOut,
        (_, Some(db)) => Failure::Refused(db.message().to_string()),
        (_, None) => Failure::Lost(e.to_string()),
    }
}

fn row_text(row: &MySqlRow) -> Vec<Option<String>> {
    (0..row.columns().len())
        .map(|i| {
            let value = row.try_get_raw(i).ok()?;
            if value.is_null() {
                return None;
            }
            let type_name = value.type_info().name().to_string();
            // Unchecked: the raw bytes of any type, written out by `text_of`.
            let bytes: &[u8] = row.try_get_unchecked(i).ok()?;
            Some(text_of(&type_name, bytes))
        })
        .collect()
}

/// A value of MySQL's binary row format as text, from its type name (as sqlx names it) and
/// its bytes: integers and floats little-endian, dates and times as their packed fields,
/// decimals, JSON and strings as text, binary strings as text when they are, else hex.
pub(super) fn text_of(type_name: &str, bytes: &[u8]) -> String {
    let unsigned = type_name.ends_with("UNSIGNED");
    let kind = type_name.trim_end_matches(" UNSIGNED");
    let decoded = match kind {
        "BOOLEAN" | "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
            integer(bytes, unsigned)
        }
        "FLOAT" => le::<4>(bytes).map(|b| f32::from_le_bytes(b).to_string()),
        "DOUBLE" => le::<8>(bytes).map(|b| f64::from_le_bytes(b).to_string()),
        "DATE" => date_time(bytes, false),
        "DATETIME" | "TIMESTAMP" => date_time(bytes, true),
        "TIME" => time(bytes),
        "BIT" => Some(
            bytes
                .iter()
                .fold(0u128, |n, b| (n << 8) | u128::from(*b))
                .to_string(),
        ),
        "DECIMAL" | "JSON" | "ENUM" | "SET" | "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT"
        | "MEDIUMTEXT" | "LONGTEXT" => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    decoded.unwrap_or_else(|| text_or_hex(bytes))
}

fn le<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

fn integer(bytes: &[u8], unsigned: bool) -> Option<String> {
    let n = bytes.len();
    if !matches!(n, 1 | 2 | 4 | 8) {
        return None;
    }
    let mut wide = [0u8; 8];
    wide[..n].copy_from_slice(bytes);
    let raw = u64::from_le_bytes(wide);
    if unsigned {
        return Some(raw.to_string());
    }
    // Sign-extend from the value's own width.
    let shift = 64 - 8 * n as u32;
    Some((((raw << shift) as i64) >> shift).to_string())
}

/// `DATE`, `DATETIME`, `TIMESTAMP`: a length byte (0, 4, 7 or 11), then year (2 bytes),
/// month, day, hour, minute, second, microseconds (4 bytes).
fn date_time(bytes: &[u8], with_time: bool) -> Option<String> {
    let (&len, f) = bytes.split_first()?;
    if f.len() != usize::from(len) || !matches!(len, 0 | 4 | 7 | 11) {
        return None;
    }
    let get = |i: usize| f.get(i).copied().unwrap_or(0);
    let year = u16::from_le_bytes([get(0), get(1)]);
    let mut out = format!("{year:04}-{:02}-{:02}", get(2), get(3));
    if with_time {
        out.push_str(&format!(" {:02}:{:02}:{:02}", get(4), get(5), get(6)));
        out.push_str(&micros(f.get(7..11)));
    }
    Some(out)
}

/// `TIME`: a length byte (0, 8 or 12), then a sign, days (4 bytes), hours, minutes,
/// seconds, microseconds (4 bytes).
fn time(bytes: &[u8]) -> Option<String> {
    let (&len, f) = bytes.split_first()?;
    if f.len() != usize::from(len) || !matches!(len, 0 | 8 | 12) {
        return None;
    }
    if len == 0 {
        return Some("00:00:00".into());
    }
    let sign = if f[0] == 1 { "-" } else { "" };
    let days = u32::from_le_bytes([f[1], f[2], f[3], f[4]]);
    let hours = u64::from(days) * 24 + u64::from(f[5]);
    Some(format!(
        "{sign}{hours:02}:{:02}:{:02}{}",
        f[6],
        f[7],
        micros(f.get(8..12))
    ))
}

/// A fraction of a second, when there is one, without trailing zeros.
fn micros(bytes: Option<&[u8]>) -> String {
    let n = bytes.and_then(le::<4>).map_or(0, u32::from_le_bytes);
    if n == 0 {
        return String::new();
    }
    format!(".{}", format!("{n:06}").trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_is_read_only_and_time_limited() {
        let timeout = Duration::from_millis(5000);
        assert_eq!(
            session(timeout),
            [
                "SET SESSION TRANSACTION READ ONLY".to_string(),
                "SET SESSION max_execution_time = 5000".to_string(),
            ]
        );
        assert_eq!(
            mariadb_time_limit(Duration::from_millis(1500)),
            "SET SESSION max_statement_time = 1.500"
        );
        assert_eq!(BEGIN, "START TRANSACTION READ ONLY");
        assert_eq!(END, "ROLLBACK");
    }

    #[test]
    fn binary_values_read_as_text() {
        let cases: &[(&str, Vec<u8>, &str)] = &[
            ("TINYINT", vec![0xff], "-1"),
            ("TINYINT UNSIGNED", vec![0xff], "255"),
            ("BOOLEAN", vec![1], "1"),
            ("SMALLINT", (-300i16).to_le_bytes().to_vec(), "-300"),
            ("YEAR", 2024u16.to_le_bytes().to_vec(), "2024"),
            ("INT", (-5i32).to_le_bytes().to_vec(), "-5"),
            (
                "MEDIUMINT UNSIGNED",
                70000u32.to_le_bytes().to_vec(),
                "70000",
            ),
            (
                "BIGINT",
                i64::MIN.to_le_bytes().to_vec(),
                "-9223372036854775808",
            ),
            (
                "BIGINT UNSIGNED",
                u64::MAX.to_le_bytes().to_vec(),
                "18446744073709551615",
            ),
            ("FLOAT", 0.1f32.to_le_bytes().to_vec(), "0.1"),
            ("DOUBLE", 2.5f64.to_le_bytes().to_vec(), "2.5"),
            ("DECIMAL", b"52380.16".to_vec(), "52380.16"),
            ("DATE", vec![4, 0xe8, 0x07, 3, 15], "2024-03-15"),
            ("DATE", vec![0], "0000-00-00"),
            (
                "DATETIME",
                vec![7, 0xe8, 0x07, 3, 15, 10, 5, 0],
                "2024-03-15 10:05:00",
            ),
            (
                "TIMESTAMP",
                vec![11, 0xe8, 0x07, 3, 15, 10, 5, 0, 0x20, 0xa1, 0x07, 0],
                "2024-03-15 10:05:00.5",
            ),
            (
                "DATETIME",
                vec![4, 0xe8, 0x07, 3, 15],
                "2024-03-15 00:00:00",
            ),
            ("TIME", vec![8, 1, 1, 0, 0, 0, 2, 3, 4], "-26:03:04"),
            ("TIME", vec![0], "00:00:00"),
            ("BIT", vec![1, 0], "256"),
            ("VARCHAR", "正常".as_bytes().to_vec(), "正常"),
            ("JSON", b"{\"a\": 1}".to_vec(), "{\"a\": 1}"),
            ("VARBINARY", b"utf8_bin text".to_vec(), "utf8_bin text"),
            ("BLOB", vec![0, 1, 2], "\\x000102"),
            ("DATETIME", vec![3, 1, 2, 3], "\\x03010203"),
        ];
        for (type_name, bytes, want) in cases {
            assert_eq!(text_of(type_name, bytes), *want, "{type_name} {bytes:?}");
        }
    }
}
