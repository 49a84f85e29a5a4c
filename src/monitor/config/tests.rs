use std::path::Path;

use super::*;
use crate::lookups::sql::demo::demo_source;

const SYSTEMS: [&str; 2] = ["account", "trading"];

fn lookups() -> Lookups {
    Lookups::new(vec![Source::Sql(demo_source(Path::new("/nonexistent")))])
}

fn load(text: &str) -> Result<Monitor, String> {
    parse("m", "monitors/m.toml", text, &lookups(), &SYSTEMS)
}

const GOOD: &str = r#"
title = "开户量"
schedule = "*/5 * * * *"

[query]
source = "demo-accounts"
sql = "SELECT count(*) FROM customer WHERE opened_on = :day"

[baseline]
tolerance = 30

[alert]
system = "account"
"#;

#[test]
fn a_good_file_loads_with_its_rule_and_defaults() {
    let m = load(GOOD).expect("loads");
    assert_eq!(m.rule.kind(), "baseline");
    assert_eq!(m.rule.sources(), ["demo-accounts"]);
    assert_eq!(m.timeout, DEFAULT_TIMEOUT);
    assert_eq!(m.title_en, "开户量");
    assert!(m.enabled && !m.alert.open_ticket);
}

/// The error of `text`, which must name the file and this line.
fn refused_at(text: &str, line: usize) -> String {
    let e = load(text).expect_err("refused");
    assert!(
        e.starts_with(&format!("monitors/m.toml:{line}: ")),
        "want line {line}: {e}"
    );
    e
}

#[test]
fn a_bad_cron_expression_is_refused_with_its_line() {
    let text = GOOD.replace("*/5 * * * *", "61 * * * *");
    let e = refused_at(&text, 3);
    assert!(e.contains("schedule"), "{e}");
}

#[test]
fn mistakes_are_said_with_file_and_line() {
    // An unknown key, where it is.
    let e = refused_at(
        &GOOD.replace("tolerance = 30", "tolerance = 30\ntolerence = 3"),
        11,
    );
    assert!(e.contains("tolerence"), "{e}");
    // A source nobody configured.
    let e = refused_at(
        &GOOD.replace("source = \"demo-accounts\"", "source = \"crm\""),
        5,
    );
    assert!(e.contains("no [[logs.sources]] is named 'crm'"), "{e}");
    // SQL that is not a read, and a marker of the database's own.
    let e = refused_at(
        &GOOD.replace(
            "SELECT count(*) FROM customer WHERE opened_on = :day",
            "DELETE FROM customer",
        ),
        5,
    );
    assert!(e.contains("SELECT"), "{e}");
    let e = load(&GOOD.replace(":day", "?")).expect_err("a ? is refused");
    assert!(e.contains(":today"), "{e}");
    // A baseline whose query does not read the day it measures.
    let e = load(&GOOD.replace("opened_on = :day", "opened_on = :today")).expect_err("no :day");
    assert!(e.contains(":day"), "{e}");
    // Two rules.
    let e = load(&format!("{GOOD}\n[threshold]\nabove = 3\n")).expect_err("two rules");
    assert!(e.contains("exactly one rule"), "{e}");
    // A system that is not configured, and an incident with no system.
    let e = load(&GOOD.replace("system = \"account\"", "system = \"crm\"")).expect_err("system");
    assert!(e.contains("'crm' is not a configured system"), "{e}");
    let e =
        load(&GOOD.replace("system = \"account\"", "open_ticket = true")).expect_err("no system");
    assert!(e.contains("alert.system"), "{e}");
    // Auto linking with nothing to match by.
    let e = load(&format!("{GOOD}\n[alert.link]\nauto = true\n")).expect_err("link");
    assert!(e.contains("accounts = true or keywords"), "{e}");
    // Not TOML at all.
    refused_at("title = \"x\"\nschedule = \n", 2);
}

#[test]
fn a_name_outside_the_rules_is_refused() {
    let e = parse(
        "Bad Name",
        "monitors/Bad Name.toml",
        GOOD,
        &lookups(),
        &SYSTEMS,
    )
    .expect_err("refused");
    assert!(e.contains("a-z, 0-9"), "{e}");
}

#[test]
fn a_consistency_check_names_both_sides_and_its_fields() {
    let text = r#"
title = "cards"
schedule = "0 30 18 * * 1-5"
[consistency]
fields = ["status"]
left = { source = "demo-accounts", sql = "SELECT account, status FROM customer ORDER BY account" }
right = { source = "demo-accounts", sql = "SELECT account, status FROM customer ORDER BY account" }
"#;
    let m = load(text).expect("loads");
    let Rule::Consistency { fields, listed, .. } = &m.rule else {
        panic!("a consistency rule");
    };
    assert_eq!(
        (fields.as_slice(), *listed),
        (&["status".to_string()][..], DEFAULT_LISTED)
    );
    let e = load(&text.replace("fields = [\"status\"]", "fields = []")).expect_err("no fields");
    assert!(e.contains("consistency.fields"), "{e}");
}

#[test]
fn a_directory_loads_the_good_files_and_sets_the_refused_aside() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("volume.toml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        GOOD.replace("*/5 * * * *", "every day"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a monitor").unwrap();
    let book = Book::load(dir.path(), &lookups(), &SYSTEMS);
    let names: Vec<&str> = book.monitors.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["volume"]);
    assert_eq!(book.broken.len(), 1);
    assert_eq!(book.broken[0].name, "broken");
    assert!(
        book.broken[0].error.contains("broken.toml:3:"),
        "{:?}",
        book.broken
    );
    // A dir that is not there is no monitors, not an error.
    assert!(
        Book::load(&dir.path().join("none"), &lookups(), &SYSTEMS)
            .monitors
            .is_empty()
    );
}

#[test]
fn the_demo_monitors_load_over_the_demo_sources() {
    let dir = Path::new("/nonexistent");
    let mut sources = vec![Source::Sql(demo_source(dir))];
    sources.extend(
        crate::monitor::demo::demo_sources(dir)
            .into_iter()
            .map(Source::Sql),
    );
    let systems = crate::config::Settings::default();
    let book = crate::monitor::demo_monitors(&Lookups::new(sources), &systems.system_keys());
    assert!(book.broken.is_empty(), "{:?}", book.broken);
    let kinds: Vec<&str> = book.monitors.iter().map(|m| m.rule.kind()).collect();
    assert_eq!(
        kinds,
        ["consistency", "threshold", "distribution", "baseline"]
    );
}

fn with_es() -> Lookups {
    let cfg: crate::lookups::config::LogsConfig = toml::from_str(
        r#"
        [[sources]]
        kind = "elasticsearch"
        name = "app-es"
        urls = ["http://127.0.0.1:9200"]
        index = "app-logs-*"
        "#,
    )
    .expect("a logs config");
    let crate::lookups::config::SourceConfig::Elasticsearch(es) = &cfg.sources[0] else {
        panic!("an elasticsearch source");
    };
    let es = crate::lookups::elasticsearch::ElasticsearchSource::new(es, chrono_tz::Asia::Shanghai)
        .expect("a source");
    lookups().with(vec![Source::Elasticsearch(es)])
}

#[test]
fn an_elasticsearch_source_is_counted_and_grouped() {
    let load = |body: &str| {
        let text = format!("title = \"t\"\nschedule = \"*/5 * * * *\"\n{body}");
        parse("m", "monitors/m.toml", &text, &with_es(), &SYSTEMS)
    };
    let m = load("[query]\nsource = \"app-es\"\ncount = \"level:ERROR\"\nwindow = \"1h\"\n[threshold]\nabove = 100\n")
        .expect("a counted threshold");
    let Rule::Threshold {
        query: Query::Es(q),
        ..
    } = &m.rule
    else {
        panic!("an Elasticsearch threshold");
    };
    assert_eq!(
        (q.query.as_str(), q.window),
        ("level:ERROR", Some(Duration::from_secs(3600)))
    );
    load("[query]\nsource = \"app-es\"\ncount = \"\"\ngroup_by = \"channel\"\n[distribution]\nmax_shift = 15\n")
        .expect("a grouped distribution");
    load("[query]\nsource = \"app-es\"\ncount = \"event:open\"\n[baseline]\ntolerance = 30\n")
        .expect("a baseline by day");
    for (body, words) in [
        (
            "[query]\nsource = \"app-es\"\nsql = \"SELECT 1\"\n[threshold]\nabove = 1\n",
            "give count",
        ),
        (
            "[query]\nsource = \"app-es\"\ncount = \"\"\n[distribution]\nmax_shift = 15\n",
            "group_by",
        ),
        (
            "[query]\nsource = \"app-es\"\ncount = \"\"\ngroup_by = \"c\"\n[threshold]\nabove = 1\n",
            "group_by is for",
        ),
        (
            "[query]\nsource = \"app-es\"\ncount = \"\"\nwindow = \"1h\"\n[baseline]\ntolerance = 30\n",
            "without a window",
        ),
        (
            "[query]\nsource = \"app-es\"\ncount = \"\"\nwindow = \"1s\"\n[threshold]\nabove = 1\n",
            "1m to 31 days",
        ),
        (
            "[query]\nsource = \"demo-accounts\"\ncount = \"x\"\n[threshold]\nabove = 1\n",
            "Elasticsearch source",
        ),
    ] {
        let e = load(body).expect_err(body);
        assert!(e.contains(words), "{body}: {e}");
    }
}
