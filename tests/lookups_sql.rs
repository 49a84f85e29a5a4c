//! The `sql` lookup source against real databases: a throwaway PostgreSQL cluster
//! (tests/common/postgres.rs; skipped with a note where PostgreSQL is not installed, except
//! under `CI=true`) and the demo's SQLite account system. MySQL has no server here: its
//! statements and value decoding are unit tests in `src/lookups/sql/mysql.rs`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::postgres::PgCluster;
use opsdesk::domain::validate::Identifier;
use opsdesk::lookups::config::{NamedQuery, SqlConfig};
use opsdesk::lookups::sql::{DataRows, SqlSource, demo_database, demo_source};

const ZHANG: &str = "310012345678";
const LI: &str = "310087654321";
const WANG: &str = "320011112222";

const QUERIES: &[(&str, &str)] = &[
    (
        "customer-profile",
        "SELECT name, account, phone, id_number, name AS holder FROM customers \
         WHERE account = :account",
    ),
    (
        "by-phone",
        "SELECT account, name FROM customers WHERE phone = :phone",
    ),
    (
        "values",
        "SELECT opened_on, balance, frozen, vip, risk_level, points, lifetime_trades, ratio, \
                updated_at, reviewed_at, note, flags, grade \
         FROM customers WHERE account = :account",
    ),
    (
        "casts",
        "SELECT account::text AS as_text, opened_on::text AS opened, :account::text AS asked, \
                'a::b' AS literal \
         FROM customers WHERE account::varchar = :account::text -- :phone",
    ),
    (
        "cards",
        "/* 股东账户 */ SELECT market, holder_no, status FROM shareholder_cards \
         WHERE account = :account ORDER BY market",
    ),
    (
        "orders",
        "SELECT order_no, qty, price, state, reject_reason FROM orders \
         WHERE account = :account ORDER BY order_no",
    ),
    (
        "rename",
        "WITH changed AS (UPDATE customers SET name = '黑客' WHERE account = :account RETURNING *) \
         SELECT * FROM changed",
    ),
    (
        "rename-top",
        "WITH target AS (SELECT :account::text AS account) \
         UPDATE customers SET name = '黑客' WHERE account = (SELECT account FROM target)",
    ),
    (
        "slow",
        "SELECT pg_sleep(5), account FROM customers WHERE account = :account",
    ),
];

fn sql_config(name: &str, url: &str, queries: &[(&str, &str)]) -> SqlConfig {
    SqlConfig {
        name: name.into(),
        url: url.into(),
        password_env: None,
        timeout: "5s".into(),
        max_rows: 200,
        mask: ["name", "account", "phone", "id_number"]
            .into_iter()
            .map(|c| (c.to_string(), c.to_string()))
            .collect::<BTreeMap<_, _>>(),
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

fn crm(cluster: &PgCluster, change: impl FnOnce(&mut SqlConfig)) -> SqlSource {
    let mut cfg = sql_config("crm", &cluster.url("lookup_reader"), QUERIES);
    change(&mut cfg);
    SqlSource::new(&cfg, None).expect("a valid source")
}

async fn rows(source: &SqlSource, query: &str, by: Identifier, value: &str) -> DataRows {
    source
        .run(query, by, value)
        .await
        .unwrap_or_else(|e| panic!("{query} for {value}: {e}"))
}

async fn refused(source: &SqlSource, query: &str, by: Identifier, value: &str) -> String {
    match source.run(query, by, value).await {
        Ok(rows) => panic!("{query} answered: {rows:?}"),
        Err(e) => {
            assert_eq!(e.source_name, source.name());
            e.message
        }
    }
}

fn cells(row: &[Option<String>]) -> Vec<Option<&str>> {
    row.iter().map(Option::as_deref).collect()
}

// --- PostgreSQL ---

#[tokio::test]
async fn the_value_is_bound_never_pasted() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |_| {});
    for injection in [
        "' OR '1'='1",
        "310012345678' OR 'x'='x",
        "1; DROP TABLE customers",
    ] {
        let found = rows(&source, "customer-profile", Identifier::Account, injection).await;
        assert!(found.rows.is_empty(), "{injection}: {found:?}");
        assert_eq!(
            found.columns,
            ["name", "account", "phone", "id_number", "holder"],
            "columns are known without a row"
        );
    }
    let found = rows(&source, "customer-profile", Identifier::Account, ZHANG).await;
    assert_eq!(found.rows.len(), 1);
    assert_eq!(found.rows[0][4].as_deref(), Some("张三"));
    let by_phone = rows(&source, "by-phone", Identifier::Phone, " 13812341234 ").await;
    assert_eq!(by_phone.rows.len(), 1, "the value is trimmed");
}

#[tokio::test]
async fn casts_and_quoted_colons_are_no_placeholders() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |_| {});
    let found = rows(&source, "casts", Identifier::Account, ZHANG).await;
    assert_eq!(
        cells(&found.rows[0]),
        [Some(ZHANG), Some("2015-03-20"), Some(ZHANG), Some("a::b")]
    );
    let cards = rows(&source, "cards", Identifier::Account, ZHANG).await;
    assert_eq!(cards.rows.len(), 2);
}

#[tokio::test]
async fn a_write_through_a_lookup_is_refused_by_the_database() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |_| {});
    // Both pass the first check (they start with WITH); PostgreSQL names the statement's
    // own command.
    for (query, command) in [("rename", "SELECT"), ("rename-top", "UPDATE")] {
        let message = refused(&source, query, Identifier::Account, ZHANG).await;
        assert_eq!(
            message,
            format!("the database refused: cannot execute {command} in a read-only transaction")
        );
    }
    let after = rows(&source, "customer-profile", Identifier::Account, ZHANG).await;
    assert_eq!(
        after.rows[0][4].as_deref(),
        Some("张三"),
        "the row is unchanged"
    );
    assert_eq!(
        cluster.psql(
            "crm",
            &format!("SELECT name FROM customers WHERE account = '{ZHANG}'")
        ),
        "张三"
    );
}

#[tokio::test]
async fn a_slow_query_is_cancelled_at_the_timeout() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |c| c.timeout = "1s".into());
    let message = refused(&source, "slow", Identifier::Account, ZHANG).await;
    assert_eq!(message, "the query ran over 1s and was cancelled");
    // The source is fine for the next lookup.
    let found = rows(&source, "customer-profile", Identifier::Account, ZHANG).await;
    assert_eq!(found.rows.len(), 1);
}

#[tokio::test]
async fn rows_are_capped_and_the_cut_is_said() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let capped = rows(
        &crm(&cluster, |c| c.max_rows = 3),
        "orders",
        Identifier::Account,
        ZHANG,
    )
    .await;
    assert_eq!(capped.rows.len(), 3);
    assert!(capped.truncated);
    assert_eq!(capped.rows[2][0].as_deref(), Some("3"));

    let all = rows(
        &crm(&cluster, |c| c.max_rows = 10),
        "orders",
        Identifier::Account,
        ZHANG,
    )
    .await;
    assert_eq!(all.rows.len(), 10);
    assert!(!all.truncated, "exactly max_rows is not a cut");
    assert_eq!(
        cells(&all.rows[9]),
        [
            Some("10"),
            Some("1000"),
            Some("1688.000"),
            Some("废单"),
            Some("可用资金不足")
        ]
    );
}

#[tokio::test]
async fn customer_columns_are_masked_as_tickets_are() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |_| {});
    let zhang = rows(&source, "customer-profile", Identifier::Account, ZHANG).await;
    assert_eq!(
        cells(&zhang.rows[0][..4]),
        [
            Some("张*"),
            Some("3100****5678"),
            Some("138****1234"),
            Some("110***********002X")
        ]
    );
    let wang = rows(&source, "customer-profile", Identifier::Account, WANG).await;
    assert_eq!(
        cells(&wang.rows[0][..4]),
        [
            Some("王*"),
            Some("3200****2222"),
            Some("****"),
            Some("****")
        ],
        "a value that is not a phone or an ID number is hidden whole"
    );
    let li = rows(&source, "customer-profile", Identifier::Account, LI).await;
    assert_eq!(cells(&li.rows[0][2..4]), [None, None]);
}

#[tokio::test]
async fn values_come_as_text_and_null_as_none() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |_| {});
    let zhang = rows(&source, "values", Identifier::Account, ZHANG).await;
    assert_eq!(
        cells(&zhang.rows[0]),
        [
            Some("2015-03-20"),
            Some("52380.16"),
            Some("50000.0000"),
            Some("true"),
            Some("3"),
            Some("1200"),
            Some("9876543210"),
            Some("0.25"),
            Some("2024-03-15 02:05:00+00"),
            Some("2024-03-15 10:05:00.5"),
            Some("新股申购冻结"),
            Some("\\x00ff"),
            Some("A   "),
        ]
    );
    let wang = rows(&source, "values", Identifier::Account, WANG).await;
    assert_eq!(
        cells(&wang.rows[0]),
        [
            Some("2020-01-02"),
            Some("-0.50"),
            Some("0.0000"),
            Some("false"),
            Some("-2"),
            Some("-7"),
            Some("-1"),
            Some("-1.5"),
            Some("2024-01-01 00:00:00+00"),
            Some("1999-12-31 23:59:59"),
            Some(""),
            Some("\\x"),
            Some("B   "),
        ]
    );
    let li = rows(&source, "values", Identifier::Account, LI).await;
    assert!(li.rows[0].iter().all(Option::is_none), "{:?}", li.rows[0]);
}

#[tokio::test]
async fn a_lookup_asks_for_a_known_query_by_its_identifier() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let source = crm(&cluster, |_| {});
    let unknown = refused(&source, "balance", Identifier::Account, ZHANG).await;
    assert!(
        unknown.starts_with("no query is named 'balance' (there are: customer-profile, by-phone"),
        "{unknown}"
    );
    let wrong = refused(
        &source,
        "customer-profile",
        Identifier::Phone,
        "13812341234",
    )
    .await;
    assert_eq!(wrong, "customer-profile looks up by account, not by phone");
    let names: Vec<String> = source.queries().into_iter().map(|q| q.by).collect();
    assert_eq!(names[..2], ["account", "phone"]);
}

/// A password the test need not put in the environment (setting a variable while other
/// test threads read the environment is not sound): PATH is set in every process.
fn password_in_the_environment() -> Option<String> {
    std::env::var("PATH").ok().filter(|p| !p.is_empty())
}

#[tokio::test]
async fn the_password_comes_from_password_env_and_never_shows() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let Some(password) = password_in_the_environment() else {
        return;
    };
    let quoted = password.replace('\'', "''");
    cluster.psql(
        "postgres",
        &format!(
            "ALTER ROLE lookup_secret PASSWORD '{quoted}'; \
             ALTER ROLE lookup_other PASSWORD 'another password';"
        ),
    );
    let with_role = |role: &str| {
        let mut cfg = sql_config("vault", &cluster.url(role), QUERIES);
        cfg.password_env = Some("PATH".into());
        SqlSource::new(&cfg, None).expect("a valid source")
    };

    let right = with_role("lookup_secret");
    let found = rows(&right, "customer-profile", Identifier::Account, ZHANG).await;
    assert_eq!(found.rows.len(), 1, "logged in with the password from PATH");

    let wrong = with_role("lookup_other");
    let message = refused(&wrong, "customer-profile", Identifier::Account, ZHANG).await;
    assert!(
        message.starts_with("cannot reach the database: password authentication failed"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!("(127.0.0.1:{}/crm)", cluster.port)),
        "{message}"
    );
    for shown in [message, format!("{wrong:?}"), format!("{right:?}")] {
        assert!(!shown.contains(&password), "the password shows: {shown}");
    }
}

#[tokio::test]
async fn tls_is_spoken_when_the_url_asks_for_it() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    if !cluster.tls {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl (from ca-certificates) makes the test cluster's certificate"
        );
        eprintln!("skipping: no openssl to make a certificate with");
        return;
    }
    let url = format!("{}?sslmode=require", cluster.url("lookup_reader"));
    let source = SqlSource::new(
        &sql_config(
            "tls",
            &url,
            &[(
                "over-tls",
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND :account <> ''",
            )],
        ),
        None,
    )
    .expect("a valid source");
    let found = rows(&source, "over-tls", Identifier::Account, ZHANG).await;
    assert_eq!(cells(&found.rows[0]), [Some("true")]);
}

#[tokio::test]
async fn an_unreachable_database_is_said_at_once() {
    let port = common::free_port();
    let source = SqlSource::new(
        &sql_config(
            "gone",
            &format!("postgres://lookup_reader@127.0.0.1:{port}/crm"),
            QUERIES,
        ),
        None,
    )
    .expect("a valid source");
    let message = refused(&source, "customer-profile", Identifier::Account, ZHANG).await;
    assert!(
        message.starts_with("cannot reach the database:"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!("(127.0.0.1:{port}/crm)")),
        "{message}"
    );
}

// --- SQLite: the demo's account system ---

#[tokio::test]
async fn the_demo_account_system_answers_for_the_demo_customers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = demo_database(dir.path()).expect("the demo database is built");
    assert_eq!(path, dir.path().join("demo-accounts.db"));
    assert_eq!(
        demo_database(dir.path()).expect("again"),
        path,
        "built once"
    );
    let source = demo_source(dir.path());

    // "账户有钱但下单提示可用资金不足": funds frozen for a new-share subscription.
    let profile = rows(
        &source,
        "customer-profile",
        Identifier::Account,
        "320159494599",
    )
    .await;
    let column = |rows: &DataRows, name: &str| {
        let i = rows.columns.iter().position(|c| c == name).expect(name);
        rows.rows[0][i].clone()
    };
    assert_eq!(profile.rows.len(), 1);
    assert_eq!(
        column(&profile, "资金账号").as_deref(),
        Some("3201****4599")
    );
    assert_eq!(column(&profile, "手机号").as_deref(), Some("181****7796"));
    assert!(column(&profile, "姓名").is_some_and(|n| n.ends_with("**")));
    assert_eq!(column(&profile, "可用资金").as_deref(), Some("2380.16"));
    assert_eq!(column(&profile, "冻结资金").as_deref(), Some("50000.00"));
    assert_eq!(
        column(&profile, "冻结原因").as_deref(),
        Some("新股申购冻结")
    );

    let orders = rows(&source, "orders-today", Identifier::Account, "320159494599").await;
    assert_eq!(column(&orders, "废单原因").as_deref(), Some("可用资金不足"));

    // "交易提示账户状态异常": the depository (中登) froze the Shanghai card.
    let cards = rows(
        &source,
        "shareholder-cards",
        Identifier::Account,
        "343143101444",
    )
    .await;
    let shanghai = cards
        .rows
        .iter()
        .find(|r| r[0].as_deref() == Some("沪A"))
        .expect("a 沪A card");
    assert_eq!(shanghai[3].as_deref(), Some("冻结"));
    assert_eq!(shanghai[4].as_deref(), Some("不一致"));

    // "存管银行签约失败".
    let bank = rows(&source, "depository", Identifier::Account, "330274936915").await;
    assert_eq!(column(&bank, "签约状态").as_deref(), Some("签约失败"));

    // "客户说没开过户但提示已有账户": his phone is on an account opened in 2016.
    let by_phone = rows(&source, "find-by-phone", Identifier::Phone, "13568874638").await;
    assert_eq!(by_phone.rows.len(), 2, "{by_phone:?}");
    assert_eq!(by_phone.rows[0][6].as_deref(), Some("2016-08-11"));
}

fn demo_copy_source(dir: &Path, queries: &[(&str, &str)], timeout: &str) -> SqlSource {
    demo_database(dir).expect("the demo database is built");
    let mut cfg = sql_config("accounts", "sqlite://demo-accounts.db", queries);
    cfg.timeout = timeout.into();
    SqlSource::new(&cfg, Some(dir)).expect("a valid source")
}

#[tokio::test]
async fn a_write_through_the_sqlite_source_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = demo_copy_source(
        dir.path(),
        &[
            (
                "rename",
                "WITH target AS (SELECT :account AS account) \
                 UPDATE customer SET name = '黑客' \
                 WHERE account = (SELECT account FROM target)",
            ),
            (
                "holder",
                "SELECT name AS holder FROM customer WHERE account = :account",
            ),
        ],
        "5s",
    );
    let before = rows(&source, "holder", Identifier::Account, "320159494599").await;
    let message = refused(&source, "rename", Identifier::Account, "320159494599").await;
    assert_eq!(
        message,
        "the database refused: attempt to write a readonly database"
    );
    let after = rows(&source, "holder", Identifier::Account, "320159494599").await;
    assert_eq!(before, after, "the row is unchanged");
}

#[tokio::test]
async fn a_missing_sqlite_file_is_never_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = sql_config(
        "accounts",
        "sqlite://missing.db",
        &[(
            "holder",
            "SELECT name FROM customer WHERE account = :account",
        )],
    );
    let source = SqlSource::new(&cfg, Some(dir.path())).expect("a valid source");
    let message = refused(&source, "holder", Identifier::Account, "320159494599").await;
    assert!(
        message.starts_with("cannot reach the database: no database file at"),
        "{message}"
    );
    assert!(!dir.path().join("missing.db").exists());
}

#[tokio::test]
async fn a_slow_sqlite_query_is_interrupted_at_the_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = demo_copy_source(
        dir.path(),
        &[(
            "forever",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
             SELECT count(*) FROM n WHERE :account IS NOT NULL",
        )],
        "1s",
    );
    let message = refused(&source, "forever", Identifier::Account, "320159494599").await;
    assert_eq!(message, "the query ran over 1s and was cancelled");
}

#[test]
fn a_sqlite_read_whose_caller_goes_away_is_interrupted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = demo_copy_source(
        dir.path(),
        &[(
            "forever",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
             SELECT count(*) FROM n WHERE :account IS NOT NULL",
        )],
        "10m",
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The caller gives up long before the source's timeout (a client gone, a server stopping).
    let gave_up = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_millis(300),
            source.run("forever", Identifier::Account, "320159494599"),
        )
        .await
    });
    assert!(gave_up.is_err(), "the query was still running");
    // A runtime waits for its blocking threads: this returns only once the statement stopped.
    let dropped = Instant::now();
    drop(rt);
    assert!(
        dropped.elapsed() < Duration::from_secs(30),
        "the statement ran on for {:?}",
        dropped.elapsed()
    );
}
