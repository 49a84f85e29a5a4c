//! The source's own rules, without a database: what its configuration may say, what a lookup
//! may ask, what reaches a message, and the statements built for MySQL (no server here).

use std::collections::BTreeMap;

use super::*;
use crate::lookups::config::NamedQuery;

fn config(url: &str, queries: &[(&str, &str)]) -> SqlConfig {
    SqlConfig {
        name: "crm".into(),
        url: url.into(),
        password_env: None,
        timeout: "5s".into(),
        max_rows: 200,
        mask: BTreeMap::from([("Phone".to_string(), "phone".to_string())]),
        queries: queries
            .iter()
            .map(|(name, sql)| NamedQuery {
                name: name.to_string(),
                title: None,
                sql: sql.to_string(),
            })
            .collect(),
    }
}

const PROFILE: (&str, &str) = (
    "customer-profile",
    "SELECT name, phone FROM customer WHERE account = :account",
);

fn source(url: &str) -> SqlSource {
    SqlSource::new(&config(url, &[PROFILE]), Some(Path::new("/data"))).expect("valid")
}

#[test]
fn refusals_name_the_key_and_the_source() {
    type Change = fn(&mut SqlConfig);
    let cases: &[(&str, Change)] = &[
        ("logs.sources.name:", |c| c.name = "bad name".into()),
        ("logs.sources.url: 'ftp'", |c| c.url = "ftp://x/y".into()),
        ("logs.sources.url:", |c| {
            c.url = "postgres://u:pw@db/x".into()
        }),
        (
            "logs.sources.password_env: the environment variable OPSDESK_SQL_TEST_UNSET_7F3A",
            |c| c.password_env = Some("OPSDESK_SQL_TEST_UNSET_7F3A".into()),
        ),
        ("logs.sources.timeout: '0s'", |c| c.timeout = "0s".into()),
        ("logs.sources.timeout: '11m'", |c| c.timeout = "11m".into()),
        ("logs.sources.timeout: 'soon'", |c| {
            c.timeout = "soon".into()
        }),
        ("logs.sources.max_rows: 0", |c| c.max_rows = 0),
        ("logs.sources.max_rows: 10001", |c| c.max_rows = 10_001),
        ("logs.sources.mask: column 'x': 'email'", |c| {
            c.mask.insert("x".into(), "email".into());
        }),
        ("logs.sources.query: name at least one", |c| {
            c.queries.clear()
        }),
        ("logs.sources.query.name: two queries", |c| {
            c.queries.push(c.queries[0].clone())
        }),
        ("logs.sources.query.name: 'a b'", |c| {
            c.queries[0].name = "a b".into()
        }),
        ("logs.sources.query.name:", |c| {
            c.queries[0].name = "q".repeat(49)
        }),
        (
            "logs.sources.query.sql: 'customer-profile' must start with SELECT",
            |c| c.queries[0].sql = "DELETE FROM customer WHERE account = :account".into(),
        ),
        (
            "logs.sources.query.sql: 'customer-profile' names no customer identifier",
            |c| c.queries[0].sql = "SELECT 1".into(),
        ),
    ];
    for (want, change) in cases {
        let mut cfg = config("postgres://reader@db/crm", &[PROFILE]);
        change(&mut cfg);
        let err = SqlSource::new(&cfg, None).expect_err("refused");
        assert!(err.starts_with(want), "want {want}…, got {err}");
        if !want.starts_with("logs.sources.name") {
            assert!(err.ends_with("(source 'crm')"), "{err}");
        }
    }
}

#[test]
fn durations_and_limits_at_their_bounds_are_taken() {
    let mut cfg = config("postgres://reader@db/crm", &[PROFILE]);
    for (timeout, rows) in [("1s", 1), ("10m", MAX_ROWS)] {
        cfg.timeout = timeout.into();
        cfg.max_rows = rows;
        assert!(SqlSource::new(&cfg, None).is_ok(), "{timeout} {rows}");
    }
}

#[test]
fn mysql_queries_bind_once_per_question_mark() {
    let s = SqlSource::new(
        &config(
            "mysql://reader@db:3306/crm",
            &[(
                "find-by-phone",
                "SELECT * FROM c WHERE phone = :phone OR backup_phone = :phone -- :account\n",
            )],
        ),
        None,
    )
    .expect("valid");
    let q = &s.inner.queries[0];
    assert_eq!(
        q.sql,
        "SELECT * FROM c WHERE phone = ? OR backup_phone = ? -- :account"
    );
    assert_eq!((q.by, q.binds), (Identifier::Phone, 2));
    assert_eq!(s.kind(), "mysql");
    assert_eq!(s.inner.place, "db:3306/crm");

    let pg = source("postgres://reader@db/crm");
    assert_eq!(
        pg.inner.queries[0].sql,
        "SELECT name, phone FROM customer WHERE account = $1"
    );
}

#[test]
fn queries_say_what_they_look_up_by() {
    let s = source("sqlite://crm.db");
    assert_eq!(
        s.queries(),
        vec![QueryInfo {
            source: "crm".into(),
            name: "customer-profile".into(),
            title: None,
            by: "account".into(),
        }]
    );
}

#[tokio::test]
async fn a_lookup_is_checked_before_any_database_is_asked() {
    // The file does not exist: each refusal below comes before it would be opened.
    let s = source("sqlite://nowhere.db");
    let cases: &[(&str, Identifier, &str, &str)] = &[
        (
            "orders",
            Identifier::Account,
            "310012345678",
            "no query is named 'orders' (there are: customer-profile)",
        ),
        (
            "customer-profile",
            Identifier::Phone,
            "13812341234",
            "customer-profile looks up by account, not by phone",
        ),
        (
            "customer-profile",
            Identifier::Account,
            "  ",
            "the account to look up is blank",
        ),
        (
            "customer-profile",
            Identifier::Account,
            &"1".repeat(65),
            "the account to look up is over 64 characters",
        ),
        (
            "customer-profile",
            Identifier::Account,
            "3100\u{0}1",
            "the account to look up holds a control character",
        ),
    ];
    for (query, by, value, want) in cases {
        let err = s.run(query, *by, value).await.expect_err("refused");
        assert_eq!(err.source_name, "crm");
        assert_eq!(err.message, *want);
    }
}

#[tokio::test]
async fn a_missing_sqlite_file_is_said_and_not_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s =
        SqlSource::new(&config("sqlite://gone.db", &[PROFILE]), Some(dir.path())).expect("valid");
    let err = s
        .run("customer-profile", Identifier::Account, "310012345678")
        .await
        .expect_err("refused");
    assert!(
        err.message
            .starts_with("cannot reach the database: no database file at"),
        "{}",
        err.message
    );
    assert!(!dir.path().join("gone.db").exists());
}

#[test]
fn messages_lose_the_password_and_mask_the_value() {
    // PATH is set in every process: a password the test need not put in the environment.
    let Ok(path) = std::env::var("PATH") else {
        return;
    };
    let mut cfg = config("postgres://reader@db/crm", &[PROFILE]);
    cfg.password_env = Some("PATH".into());
    let s = SqlSource::new(&cfg, None).expect("valid");
    let shown = format!("{s:?}");
    assert!(!shown.contains(&path), "{shown}");
    assert!(shown.contains("password_env: Some(\"PATH\")"), "{shown}");

    let message = format!("auth failed with {path} for 13812341234 in query");
    let scrubbed = s.scrub(&message, Identifier::Phone, "13812341234");
    assert_eq!(scrubbed, "auth failed with **** for 138****1234 in query");
}

#[test]
fn failures_are_put_in_the_handlers_words() {
    let mut cfg = config("postgres://reader@db.internal:5432/crm", &[PROFILE]);
    cfg.timeout = "2m".into();
    let s = SqlSource::new(&cfg, None).expect("valid");
    assert_eq!(
        s.say(Failure::TimedOut, s.inner.timeout),
        "the query ran over 2m and was cancelled"
    );
    assert_eq!(
        s.say(
            Failure::Unreachable("connection refused".into()),
            s.inner.timeout
        ),
        "cannot reach the database: connection refused (db.internal:5432/crm)"
    );
    assert_eq!(
        s.say(
            Failure::Refused("cannot execute UPDATE in a read-only transaction".into()),
            s.inner.timeout
        ),
        "the database refused: cannot execute UPDATE in a read-only transaction"
    );
}

#[test]
fn customer_columns_are_masked_whatever_their_case() {
    let s = source("sqlite://crm.db");
    let q = &s.inner.queries[0];
    let rows = s.masked(
        q,
        Fetched {
            columns: vec!["name".into(), "PHONE".into()],
            rows: vec![
                vec![Some("张三".into()), Some("13812341234".into())],
                vec![None, Some("n/a".into())],
                vec![Some("x".repeat(cells::MAX_CELL_CHARS + 1)), None],
            ],
            truncated: true,
        },
    );
    assert_eq!(
        rows.rows[0],
        vec![Some("张三".into()), Some("138****1234".into())]
    );
    assert_eq!(rows.rows[1], vec![None, Some("****".into())]);
    assert!(rows.rows[2][0].as_deref().is_some_and(|c| c.ends_with('…')));
    assert!(rows.truncated);
    assert_eq!(
        (rows.source.as_str(), rows.query.as_str()),
        ("crm", "customer-profile")
    );
}
