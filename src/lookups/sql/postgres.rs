//! PostgreSQL: one connection a lookup, the query inside `BEGIN READ ONLY` with a
//! `statement_timeout`, then `ROLLBACK`.
//!
//! The settings are per transaction (`SET LOCAL`), not per session or in the startup packet,
//! so they hold behind a transaction-pooling PgBouncer too. Values come in PostgreSQL's binary
//! format and are written out here as text, type by type.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow, PgValueFormat, Postgres};
use sqlx::{Column, ConnectOptions, Executor, Row, Statement, ValueRef};

use super::cells::{hex_bytes, text_or_hex};
use super::{Failure, Lookup, RowSink, on_fresh_connection};

/// `SQLSTATE` of a statement cancelled (here: by `statement_timeout`).
const QUERY_CANCELED: &str = "57014";

/// What opens a lookup's transaction, in order.
pub(super) fn opening(lookup: &Lookup<'_>) -> [String; 2] {
    [
        "BEGIN READ ONLY".to_string(),
        format!(
            "SET LOCAL statement_timeout = {}",
            lookup.timeout.as_millis()
        ),
    ]
}

/// Runs `lookup` on a fresh connection (see [`super::on_fresh_connection`]).
pub(super) async fn fetch<S: RowSink>(
    options: &PgConnectOptions,
    lookup: &Lookup<'_>,
    sink: S,
) -> Result<S, Failure> {
    on_fresh_connection(options.connect(), lookup, async move |conn| {
        read_only(conn, lookup, sink).await
    })
    .await
}

async fn read_only<S: RowSink>(
    conn: &mut PgConnection,
    lookup: &Lookup<'_>,
    mut sink: S,
) -> Result<S, Failure> {
    for statement in opening(lookup) {
        conn.execute(statement.as_str()).await.map_err(failure)?;
    }
    // Values are declared text, so `$1` is text wherever it stands (`:account::bigint`
    // casts it), and the columns are known even when no row comes back.
    let text = <&str as sqlx::Type<Postgres>>::type_info();
    let types = vec![text; lookup.values.len()];
    let statement = conn
        .prepare_with(lookup.sql, &types)
        .await
        .map_err(failure)?;
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
    conn.execute("ROLLBACK").await.map_err(failure)?;
    Ok(sink)
}

fn failure(e: sqlx::Error) -> Failure {
    match e.as_database_error() {
        Some(db) if db.code().as_deref() == Some(QUERY_CANCELED) => Failure::TimedOut,
        Some(db) => Failure::Refused(db.message().to_string()),
        None => Failure::Lost(e.to_string()),
    }
}

fn row_text(row: &PgRow) -> Vec<Option<String>> {
    (0..row.columns().len())
        .map(|i| {
            let value = row.try_get_raw(i).ok()?;
            if value.is_null() {
                return None;
            }
            let oid = value.type_info().oid().map(|o| o.0);
            let binary = value.format() == PgValueFormat::Binary;
            let bytes = value.as_bytes().ok()?;
            Some(text_of(oid, binary, bytes))
        })
        .collect()
}

/// Type OIDs (`pg_type.oid`) of the built-in types written out here.
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const OID: u32 = 26;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const TIMETZ: u32 = 1266;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// A value as text, from its type and its bytes. Text types, enums and domains over them
/// arrive as their text; a type not known here shows as text when its bytes are text, else
/// as hex (cast it to text in the query to see it as PostgreSQL writes it).
pub(super) fn text_of(oid: Option<u32>, binary: bool, bytes: &[u8]) -> String {
    if !binary {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let decoded = match oid {
        Some(oid::BOOL) => match bytes {
            [0] => Some("false".into()),
            [_] => Some("true".into()),
            _ => None,
        },
        Some(oid::BYTEA) => Some(hex_bytes(bytes)),
        Some(oid::INT2) => be::<2>(bytes).map(|b| i16::from_be_bytes(b).to_string()),
        Some(oid::INT4) => be::<4>(bytes).map(|b| i32::from_be_bytes(b).to_string()),
        Some(oid::OID) => be::<4>(bytes).map(|b| u32::from_be_bytes(b).to_string()),
        Some(oid::INT8) => be::<8>(bytes).map(|b| i64::from_be_bytes(b).to_string()),
        Some(oid::FLOAT4) => be::<4>(bytes).map(|b| float(f64::from(f32::from_be_bytes(b)))),
        Some(oid::FLOAT8) => be::<8>(bytes).map(|b| float(f64::from_be_bytes(b))),
        Some(oid::NUMERIC) => numeric(bytes),
        Some(oid::DATE) => be::<4>(bytes).map(|b| date(i32::from_be_bytes(b))),
        Some(oid::TIME) => be::<8>(bytes).map(|b| clock(i64::from_be_bytes(b))),
        Some(oid::TIMETZ) => timetz(bytes),
        Some(oid::TIMESTAMP) => be::<8>(bytes).and_then(|b| timestamp(i64::from_be_bytes(b))),
        Some(oid::TIMESTAMPTZ) => be::<8>(bytes)
            .and_then(|b| timestamp(i64::from_be_bytes(b)))
            .map(|t| {
                if t.ends_with("infinity") {
                    t
                } else {
                    t + "+00"
                }
            }),
        Some(oid::INTERVAL) => interval(bytes),
        Some(oid::UUID) => uuid(bytes),
        // jsonb's binary form is a version byte (1) and the text.
        Some(oid::JSONB) => match bytes.split_first() {
            Some((1, text)) => Some(String::from_utf8_lossy(text).into_owned()),
            _ => None,
        },
        _ => None,
    };
    decoded.unwrap_or_else(|| text_or_hex(bytes))
}

fn be<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        f.to_string()
    }
}

/// `numeric`: digit groups of base 10,000, the first at 10,000^weight, and the scale to show.
fn numeric(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<i16> {
        bytes
            .get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = usize::try_from(word(0)?).ok()?;
    let weight = i64::from(word(1)?);
    let sign = word(2)? as u16;
    let dscale = usize::try_from(word(3)?).ok()?;
    if bytes.len() != 8 + ndigits * 2 {
        return None;
    }
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let group = |p: i64| -> i16 {
        usize::try_from(p)
            .ok()
            .filter(|p| *p < ndigits)
            .and_then(|p| word(4 + p))
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&group(0).to_string());
        for p in 1..=weight {
            out.push_str(&format!("{:04}", group(p)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut p = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", group(p)));
            p += 1;
        }
        fraction.truncate(dscale);
        out.push('.');
        out.push_str(&fraction);
    }
    Some(out)
}

/// PostgreSQL counts days and microseconds from 2000-01-01.
fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => epoch()
            .date()
            .checked_add_signed(TimeDelta::days(i64::from(days)))
            .map_or_else(|| days.to_string(), |d| d.format("%Y-%m-%d").to_string()),
    }
}

/// Seconds with a fraction only when there is one, as PostgreSQL writes them.
fn fraction(micros: i64) -> String {
    if micros == 0 {
        return String::new();
    }
    let digits = format!("{micros:06}");
    format!(".{}", digits.trim_end_matches('0'))
}

fn timestamp(micros: i64) -> Option<String> {
    match micros {
        i64::MAX => Some("infinity".into()),
        i64::MIN => Some("-infinity".into()),
        _ => {
            let t = epoch().checked_add_signed(TimeDelta::microseconds(micros))?;
            Some(format!(
                "{}{}",
                t.format("%Y-%m-%d %H:%M:%S"),
                fraction(micros.rem_euclid(1_000_000))
            ))
        }
    }
}

fn clock(micros: i64) -> String {
    let secs = micros / 1_000_000;
    format!(
        "{:02}:{:02}:{:02}{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        fraction(micros % 1_000_000)
    )
}

/// `timetz`: the time, then the zone in seconds *west* of UTC.
fn timetz(bytes: &[u8]) -> Option<String> {
    let time = i64::from_be_bytes(be::<8>(bytes.get(..8)?)?);
    let west = i32::from_be_bytes(be::<4>(bytes.get(8..)?)?);
    let east = -west;
    let sign = if east < 0 { '-' } else { '+' };
    let (h, m) = (east.abs() / 3600, east.abs() / 60 % 60);
    let zone = if m == 0 {
        format!("{sign}{h:02}")
    } else {
        format!("{sign}{h:02}:{m:02}")
    };
    Some(format!("{}{zone}", clock(time)))
}

/// `interval`: microseconds, days, months, written as PostgreSQL's default style does.
fn interval(bytes: &[u8]) -> Option<String> {
    let micros = i64::from_be_bytes(be::<8>(bytes.get(..8)?)?);
    let days = i32::from_be_bytes(be::<4>(bytes.get(8..12)?)?);
    let months = i32::from_be_bytes(be::<4>(bytes.get(12..)?)?);
    let unit =
        |n: i32, one: &str, many: &str| format!("{n} {}", if n.abs() == 1 { one } else { many });
    let mut parts = Vec::new();
    if months / 12 != 0 {
        parts.push(unit(months / 12, "year", "years"));
    }
    if months % 12 != 0 {
        parts.push(unit(months % 12, "mon", "mons"));
    }
    if days != 0 {
        parts.push(unit(days, "day", "days"));
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        parts.push(format!("{sign}{}", clock(micros.abs())));
    }
    Some(parts.join(" "))
}

fn uuid(bytes: &[u8]) -> Option<String> {
    if bytes.len() != 16 {
        return None;
    }
    let h = hex::encode(bytes);
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(weight: i16, sign: u16, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(digits.len() as i16).to_be_bytes());
        b.extend_from_slice(&weight.to_be_bytes());
        b.extend_from_slice(&sign.to_be_bytes());
        b.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_are_exact() {
        let cases: &[(Vec<u8>, &str)] = &[
            (numeric_bytes(1, 0, 4, &[1, 2345, 6700]), "12345.6700"),
            (numeric_bytes(-1, 0x4000, 1, &[5000]), "-0.5"),
            (numeric_bytes(0, 0, 0, &[]), "0"),
            (numeric_bytes(0, 0, 2, &[]), "0.00"),
            (numeric_bytes(-2, 0, 6, &[1200]), "0.000012"),
            (numeric_bytes(2, 0, 0, &[1]), "100000000"),
            (numeric_bytes(0, 0xC000, 0, &[]), "NaN"),
        ];
        for (bytes, want) in cases {
            assert_eq!(text_of(Some(oid::NUMERIC), true, bytes), *want);
        }
    }

    #[test]
    fn times_read_as_postgresql_writes_them() {
        let day = 86_400_000_000i64;
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(i32::MAX), "infinity");
        assert_eq!(
            timestamp(day + 1_500_000).as_deref(),
            Some("2000-01-02 00:00:01.5")
        );
        assert_eq!(
            text_of(Some(oid::TIMESTAMPTZ), true, &0i64.to_be_bytes()),
            "2000-01-01 00:00:00+00"
        );
        assert_eq!(clock(3_723_000_001), "01:02:03.000001");
        let mut tz = 3_600_000_000i64.to_be_bytes().to_vec();
        tz.extend_from_slice(&(-8 * 3600i32).to_be_bytes());
        assert_eq!(timetz(&tz).as_deref(), Some("01:00:00+08"));
        let mut iv = 3_600_000_000i64.to_be_bytes().to_vec();
        iv.extend_from_slice(&3i32.to_be_bytes());
        iv.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(
            interval(&iv).as_deref(),
            Some("1 year 2 mons 3 days 01:00:00")
        );
    }

    #[test]
    fn simple_types() {
        assert_eq!(text_of(Some(oid::BOOL), true, &[1]), "true");
        assert_eq!(text_of(Some(oid::INT2), true, &(-7i16).to_be_bytes()), "-7");
        assert_eq!(
            text_of(Some(oid::INT8), true, &(1i64 << 40).to_be_bytes()),
            "1099511627776"
        );
        assert_eq!(
            text_of(Some(oid::FLOAT8), true, &2.5f64.to_be_bytes()),
            "2.5"
        );
        assert_eq!(text_of(Some(oid::BYTEA), true, &[0xde, 0xad]), "\\xdead");
        assert_eq!(
            text_of(Some(oid::JSONB), true, b"\x01{\"a\": 1}"),
            "{\"a\": 1}"
        );
        assert_eq!(text_of(Some(25), true, "正常".as_bytes()), "正常");
        assert_eq!(text_of(Some(99999), true, &[0, 0, 1]), "\\x000001");
        assert_eq!(text_of(Some(oid::INT4), false, b"42"), "42");
        assert_eq!(
            text_of(Some(oid::UUID), true, &[0x12; 16]),
            "12121212-1212-1212-1212-121212121212"
        );
    }
}
