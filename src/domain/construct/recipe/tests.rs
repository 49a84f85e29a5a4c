//! The recipe engine end to end on a recipe with an include, `for_each` and `when`; every
//! kind of mistake a load reports, with its file and line; inputs; judging; masking; and the
//! invalid recipes under tests/fixtures/recipes/invalid/.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::inputs::{is_mobile, is_person_name};
use super::*;
use crate::domain::construct::generate::{self, CARD_BINS, DEPOSITORY_BANKS, luhn_ok};
use crate::domain::validate::is_id_number;

const PLAIN: &str = r#"name = "plain-account"
title = "普通账户"
description = "A customer, a fund account and shareholder cards."

[defaults]
timeout = "5s"
retry = { attempts = 4, backoff = "200ms", max_backoff = "2s" }
error_pointer = "/message"

[constants]
channel = "opsdesk"

[[input]]
name = "customer_name"
label = "姓名"
generate = "name"

[[input]]
name = "id_number"
generate = "id_number"

[[input]]
name = "phone"
generate = "phone"

[[input]]
name = "trading_password"
generate = "password"
secret = true

[[stage]]
name = "account"
title = "开户"

[[stage.step]]
name = "create-customer"
system = "account"
method = "POST"
path = "/customers"
headers = { "X-Channel" = "{{ channel }}" }
json = { name = "{{ customer_name }}", id_no = "{{ id_number }}", mobile = "{{ phone }}", env = "{{ env }}", run = "{{ run.id }}-{{ run.index }}" }
extract = { customer_id = "/data/customer_id" }

[[stage.step]]
name = "open-fund-account"
system = "account"
method = "post"
path = "/customers/{{ customer_id }}/fund-accounts"
form = { password = "{{ trading_password }}", kind = 1 }
idempotent = true
extract = { fund_account = "/data/fund_account" }

[[stage.step.check]]
status = [200, 201]

[[stage.step.check]]
pointer = "/code"
equals = "0"
message = "开资金账户失败：{{ response.message }}"

[result]
fund_account = "{{ fund_account }}"
customer_id = "{{ customer_id }}"
"#;

const TRADING: &str = r#"name = "trading-account"
title = "交易账户"
include = ["plain-account"]

[defaults]
timeout = "10s"

[constants]
risk_answers = { C1 = "AAAA", C2 = "BBBB", C3 = "CCCC", C4 = "DDDD", C5 = "EEEE" }

[[input]]
name = "phone"
label = "手机号码"

[[input]]
name = "funds"
type = "decimal"
default = "500000.00"
generate = "funds"

[[input]]
name = "withdrawable"
type = "decimal"
generate = "withdrawable"

[[input]]
name = "risk_level"
generate = "risk_level"

[[input]]
name = "depository_bank"
generate = "depository_bank"

[[input]]
name = "bank_card"
generate = "bank_card"

[[input]]
name = "agreements"
type = "list"
choices = ["gem", "star", "bond"]
generate = "agreements"
required = false

[[stage]]
name = "account"

[[stage.step]]
name = "score-risk"
system = "account"
method = "PUT"
path = "/customers/{{ customer_id }}/risk"
json = { level = "{{ risk_level }}", answers = "{{ risk_answers[risk_level] }}" }

[[stage]]
name = "depository"
title = "三方体系"

[[stage.step]]
name = "bind-bank"
system = "depository"
method = "POST"
path = "/bindings"
query = { channel = "{{ channel }}", note = "a b&c" }
json = { fund_account = "{{ fund_account }}", bank = "{{ depository_bank }}", card_no = "{{ bank_card }}", funds = "{{ funds }}", customer = "{{ customer_id }}", agreements = "{{ agreements }}", fixed = 7 }
retry = { attempts = 2 }
extract = { binding_id = "/data/binding_id" }

[[stage]]
name = "trading"

[[stage.step]]
name = "sign-agreement"
system = "trading"
method = "POST"
path = "/accounts/{{ fund_account }}/agreements/{{ agreement }}"
when = "agreements | length > 0"
for_each = "agreements"
as = "agreement"
json = { seq = "{{ index }}", code = "{{ agreement | upper }}" }

[result]
binding_id = "{{ binding_id }}"
trading_password = "{{ trading_password }}"
funds = "{{ funds }}"
"#;

fn today() -> NaiveDate {
    "2026-12-07".parse().unwrap()
}

/// A resolver over in-memory files: `name` is `name.toml`.
fn files(list: &[(&str, &str)]) -> impl Fn(&str) -> Result<RecipeSource, String> + use<> {
    let list: Vec<(String, String)> = list
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    move |name: &str| {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(n, t)| RecipeSource {
                file: format!("{n}.toml"),
                text: t.clone(),
            })
            .ok_or_else(|| "no such recipe".to_string())
    }
}

fn trading() -> Recipe {
    let resolve = files(&[("plain-account", PLAIN), ("trading-account", TRADING)]);
    match Recipe::load("trading-account", &resolve) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// The 1-based line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"))
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn filled(recipe: &Recipe, pairs: &[(&str, &str)], seed: u64) -> Vars {
    match recipe.fill_inputs(
        &given(pairs),
        &mut Draw::new(seed),
        &HashSet::new(),
        today(),
    ) {
        Ok(v) => v,
        Err(e) => panic!("{e:?}"),
    }
}

fn instance(key: &str) -> Instance {
    Instance {
        key: key.into(),
        item: None,
        index: None,
    }
}

#[test]
fn a_recipe_with_an_include_loads_whole() {
    let r = trading();
    assert_eq!(r.name, "trading-account");
    assert_eq!(r.title, "交易账户");
    assert_eq!(r.files, ["trading-account.toml", "plain-account.toml"]);
    assert_eq!(r.digest.len(), 64);
    let steps: Vec<&str> = r.steps().map(|s| s.name.as_str()).collect();
    assert_eq!(
        steps,
        [
            "create-customer",
            "open-fund-account",
            "score-risk",
            "bind-bank",
            "sign-agreement"
        ]
    );
    let stages: Vec<(&str, Option<&str>)> = r
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.title.as_deref()))
        .collect();
    assert_eq!(
        stages,
        [
            ("account", Some("开户")),
            ("depository", Some("三方体系")),
            ("trading", None)
        ]
    );
    // Each file's [defaults] apply to its own steps.
    let create = r.step("create-customer").unwrap();
    assert_eq!(create.timeout, std::time::Duration::from_secs(5));
    assert_eq!(create.retry.attempts, 4);
    assert_eq!(create.retry.backoff, std::time::Duration::from_millis(200));
    assert_eq!(
        create.at.to_string(),
        format!(
            "plain-account.toml:{}",
            line_of(PLAIN, "\"create-customer\"")
        )
    );
    let bind = r.step("bind-bank").unwrap();
    assert_eq!(bind.timeout, std::time::Duration::from_secs(10));
    assert_eq!(bind.retry.attempts, 2);
    assert_eq!(bind.retry.backoff, std::time::Duration::from_millis(500));
    assert_eq!(bind.stage, "depository");
    assert!(!bind.idempotent && r.step("open-fund-account").unwrap().idempotent);
    assert_eq!(r.step("open-fund-account").unwrap().method(), "POST");
    assert!(r.step("nope").is_none());
    // The includer relabels `phone`; its generator stays.
    let phone = r.inputs.iter().find(|i| i.name == "phone").unwrap();
    assert_eq!(phone.label.as_deref(), Some("手机号码"));
    assert_eq!(phone.generate, Some(Generator::Phone));
    assert_eq!(phone.at.file, "plain-account.toml");
    // The same texts give the same digest; another text another.
    assert_eq!(trading().digest, r.digest);
    let changed = TRADING.replace("交易账户", "交易账户 ");
    let other = Recipe::load(
        "trading-account",
        &files(&[("plain-account", PLAIN), ("trading-account", &changed)]),
    )
    .unwrap();
    assert_ne!(other.digest, r.digest);
}

#[test]
fn systems_are_checked_against_the_environment() {
    let r = trading();
    assert!(
        r.check_systems("uat", &["account", "depository", "trading"])
            .is_ok()
    );
    let err = r.check_systems("uat2", &["account"]).unwrap_err();
    assert_eq!(err.0.len(), 2);
    let text = err.to_string();
    let line = line_of(TRADING, "\"bind-bank\"");
    assert!(
        text.contains(&format!("trading-account.toml:{line}: step `bind-bank` calls system `depository`, which environment `uat2` does not define")),
        "{text}"
    );
}

#[test]
fn requests_render_with_native_types() {
    let r = trading();
    let inputs = filled(&r, &[("agreements", "gem,bond")], 1);
    let mut vars = r.base_vars(&inputs, "uat", 42, 3);
    assert_eq!(vars["run"], json!({"id": 42, "index": 3}));
    // Money is text with two places, as the systems take it.
    assert_eq!(vars["funds"], json!("500000.00"));

    let create = r.step("create-customer").unwrap();
    let req = create
        .request(&vars, &instance("account/create-customer"))
        .unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path_and_query, "/customers");
    assert_eq!(
        req.headers,
        [("X-Channel".to_string(), "opsdesk".to_string())]
    );
    let body = req.body.unwrap();
    assert_eq!(body.content_type, "application/json");
    let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
    assert_eq!(sent["id_no"], inputs["id_number"]);
    assert_eq!(sent["env"], "uat");
    assert_eq!(sent["run"], "42-3");

    vars.insert("customer_id".into(), json!(7001));
    vars.insert("fund_account".into(), json!("310012345678"));
    let open = r.step("open-fund-account").unwrap();
    let req = open
        .request(&vars, &instance("account/open-fund-account"))
        .unwrap();
    assert_eq!(req.path_and_query, "/customers/7001/fund-accounts");
    let body = req.body.unwrap();
    assert_eq!(body.content_type, "application/x-www-form-urlencoded");
    let password = inputs["trading_password"].as_str().unwrap();
    assert_eq!(
        String::from_utf8(body.bytes).unwrap(),
        format!("password={password}&kind=1")
    );

    let risk = r.step("score-risk").unwrap();
    let req = risk
        .request(&vars, &instance("account/score-risk"))
        .unwrap();
    let sent: Value = serde_json::from_slice(&req.body.unwrap().bytes).unwrap();
    let level = inputs["risk_level"].as_str().unwrap();
    assert_eq!(sent["level"], level);
    assert_eq!(sent["answers"], r.constants()["risk_answers"][level]);

    let bind = r.step("bind-bank").unwrap();
    let req = bind
        .request(&vars, &instance("depository/bind-bank"))
        .unwrap();
    assert_eq!(
        req.path_and_query,
        "/bindings?channel=opsdesk&note=a%20b%26c"
    );
    let sent: Value = serde_json::from_slice(&req.body.unwrap().bytes).unwrap();
    assert_eq!(sent["customer"], json!(7001), "a number stays a number");
    assert_eq!(
        sent["funds"],
        json!("500000.00"),
        "an amount goes as text with two places"
    );
    assert_eq!(
        sent["agreements"],
        json!(["gem", "bond"]),
        "a list stays a list"
    );
    assert_eq!(sent["fixed"], json!(7));
    assert_eq!(sent["fund_account"], "310012345678");
}

#[test]
fn for_each_and_when_decide_the_calls() {
    let r = trading();
    let sign = r.step("sign-agreement").unwrap();
    assert!(sign.is_for_each());
    let mut vars = r.base_vars(&filled(&r, &[("agreements", "gem,bond")], 2), "uat", 1, 0);
    vars.insert("fund_account".into(), json!("310012345678"));
    let calls = sign.instances(&vars).unwrap();
    let keys: Vec<&str> = calls.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        ["trading/sign-agreement[0]", "trading/sign-agreement[1]"]
    );
    assert_eq!(calls[1].item, Some(json!("bond")));
    assert_eq!(calls[1].index, Some(1));
    let req = sign.request(&vars, &calls[1]).unwrap();
    assert_eq!(req.path_and_query, "/accounts/310012345678/agreements/bond");
    let sent: Value = serde_json::from_slice(&req.body.unwrap().bytes).unwrap();
    assert_eq!(sent, json!({"seq": 1, "code": "BOND"}));

    // `when` false: no call at all.
    vars.insert("agreements".into(), json!([]));
    assert_eq!(sign.instances(&vars).unwrap(), []);
    // A step without for_each is one call.
    let bind = r.step("bind-bank").unwrap();
    assert_eq!(
        bind.instances(&vars).unwrap(),
        [instance("depository/bind-bank")]
    );
    // for_each over something that is not a list is an error, not a panic.
    vars.insert("agreements".into(), json!("gem"));
    assert!(sign.instances(&vars).unwrap_err().contains("not a list"));
}

#[test]
fn answers_are_judged_by_checks_and_extractions() {
    let r = trading();
    let vars = r.base_vars(&filled(&r, &[], 3), "uat", 1, 0);
    let open = r.step("open-fund-account").unwrap();
    let key = instance("account/open-fund-account");
    let ok = br#"{"code": 0, "data": {"fund_account": "310012345678"}}"#;
    let got = open.judge(&vars, &key, 200, ok).unwrap();
    assert_eq!(got["fund_account"], "310012345678");
    // The failing check's message, with `response`.
    let refused = r#"{"code": "E01", "message": "证件已开户"}"#.as_bytes();
    assert_eq!(
        open.judge(&vars, &key, 201, refused),
        Err("开资金账户失败：证件已开户".to_string())
    );
    // The status check has no message: the error_pointer value with the status.
    let busy = r#"{"code": "E99", "message": "系统繁忙"}"#.as_bytes();
    assert_eq!(
        open.judge(&vars, &key, 500, busy),
        Err("HTTP 500: 系统繁忙".to_string())
    );
    // Not JSON: the status and the start of the answer.
    let html = format!("<html>{}</html>", "x".repeat(500));
    let err = open.judge(&vars, &key, 502, html.as_bytes()).unwrap_err();
    assert!(err.starts_with("HTTP 502: <html>xxx"), "{err}");
    assert_eq!(err.chars().count(), "HTTP 502: ".len() + 201);
    // Checks pass but the value to extract is missing.
    let err = open
        .judge(&vars, &key, 200, br#"{"code": "0", "data": {}}"#)
        .unwrap_err();
    assert!(
        err.contains("no /data/fund_account to extract `fund_account`"),
        "{err}"
    );
    // No checks: any 2xx passes, anything else fails.
    let create = r.step("create-customer").unwrap();
    let key = instance("account/create-customer");
    assert_eq!(
        create
            .judge(&vars, &key, 201, br#"{"data": {"customer_id": 9}}"#)
            .unwrap()["customer_id"],
        json!(9)
    );
    assert_eq!(
        create.judge(&vars, &key, 404, br#"{"message": "no route"}"#),
        Err("HTTP 404: no route".to_string())
    );
    assert_eq!(
        create.judge(&vars, &key, 503, b""),
        Err("HTTP 503: (an empty answer)".to_string())
    );
    // bind-bank's file sets no error_pointer: the answer's start.
    let bind = r.step("bind-bank").unwrap();
    assert_eq!(
        bind.judge(
            &vars,
            &instance("depository/bind-bank"),
            400,
            br#"{"message": "bad card"}"#
        ),
        Err(r#"HTTP 400: {"message": "bad card"}"#.to_string())
    );
}

#[test]
fn judging_never_panics_on_strange_answers() {
    let r = trading();
    let vars = r.base_vars(&filled(&r, &[], 4), "uat", 1, 0);
    let mut draw = Draw::new(99);
    for step in r.steps() {
        for _ in 0..200 {
            let len = draw.below(64) as usize;
            let body: Vec<u8> = (0..len).map(|_| draw.below(256) as u8).collect();
            let status = draw.below(1000) as u16;
            let _ = step.judge(&vars, &instance("x/y"), status, &body);
        }
        let _ = step.judge(&vars, &instance("x/y"), 200, b"null");
        let _ = step.judge(&vars, &instance("x/y"), 200, b"[1,2]");
    }
}

#[test]
fn results_render_includes_first() {
    let r = trading();
    let inputs = filled(&r, &[], 5);
    let mut vars = r.base_vars(&inputs, "uat", 1, 0);
    vars.insert("customer_id".into(), json!(7));
    vars.insert("fund_account".into(), json!("310012345678"));
    vars.insert("binding_id".into(), json!("B-1"));
    let result = r.result(&vars).unwrap();
    let keys: Vec<&str> = result.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "binding_id",
            "customer_id",
            "fund_account",
            "funds",
            "trading_password"
        ]
    );
    assert_eq!(result["funds"], json!("500000.00"));
    assert_eq!(result["customer_id"], json!(7));
    assert_eq!(result["trading_password"], inputs["trading_password"]);
    vars.remove("binding_id");
    assert!(r.result(&vars).unwrap_err().contains("binding_id"));
}

#[test]
fn generated_inputs_pass_their_own_checks() {
    let r = trading();
    let mut taken: HashSet<String> = HashSet::new();
    for seed in 0..500 {
        let v = match r.fill_inputs(&BTreeMap::new(), &mut Draw::new(seed), &taken, today()) {
            Ok(v) => v,
            Err(e) => panic!("seed {seed}: {e:?}"),
        };
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        assert!(is_person_name(&s("customer_name")), "{v:?}");
        let id = s("id_number");
        assert!(is_id_number(&id), "{id}");
        let born = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").unwrap();
        assert!(
            born.checked_add_months(chrono::Months::new(216)).unwrap() <= today(),
            "{id}"
        );
        assert!(is_mobile(&s("phone")));
        assert!(generate::password_ok(&s("trading_password")));
        let card = s("bank_card");
        assert!(luhn_ok(&card), "{card}");
        // On a BIN of the drawn depository bank.
        let bank = s("depository_bank");
        let bank_name = DEPOSITORY_BANKS.iter().find(|(c, _)| *c == bank).unwrap().1;
        assert!(
            CARD_BINS.iter().any(|(bin, len, b)| *b == bank_name
                && card.starts_with(bin)
                && card.len() == *len),
            "{card} on {bank}"
        );
        assert!(generate::RISK_LEVELS.contains(&s("risk_level").as_str()));
        // The default wins over the generator; withdrawable is a part of it.
        assert_eq!(v["funds"], json!("500000.00"));
        let w: f64 = s("withdrawable").parse().unwrap();
        assert!((0.0..=500000.0).contains(&w));
        let agreements = v["agreements"].as_array().unwrap();
        assert!(!agreements.is_empty());
        // Values handed out before are not drawn again.
        for k in ["customer_name", "id_number", "phone", "bank_card"] {
            assert!(
                taken.insert(s(k)) || k == "customer_name",
                "{k} repeated: {}",
                s(k)
            );
        }
    }
}

#[test]
fn funds_are_generated_when_there_is_no_default() {
    let text = TRADING.replace("default = \"500000.00\"\n", "");
    let r = Recipe::load(
        "trading-account",
        &files(&[("plain-account", PLAIN), ("trading-account", &text)]),
    )
    .unwrap();
    for seed in 0..200 {
        let v = filled(&r, &[], seed);
        let amount = |k: &str| v[k].as_str().unwrap().parse::<f64>().unwrap();
        let f = amount("funds");
        assert!((50_000.0..=2_000_000.0).contains(&f), "{f}");
        assert!(amount("withdrawable") <= f);
    }
}

#[test]
fn typed_inputs_are_checked_and_every_error_returned() {
    let r = trading();
    let fill = |pairs: &[(&str, &str)]| {
        r.fill_inputs(&given(pairs), &mut Draw::new(1), &HashSet::new(), today())
    };
    let errors = fill(&[
        ("id_number", "110105194912310021"), // check character should be X
        ("agreements", "gem,futures"),
        ("withdrawable", "600000"),
        ("bogus", "1"),
        ("phone", "12345678901"),
        ("customer_name", "张3"),
        ("funds", "1.005"),
        ("risk_level", "C9"),
        ("bank_card", "6222021234567890124"),
    ])
    .unwrap_err();
    let by_input = |name: &str| {
        errors
            .iter()
            .filter(|e| e.input == name)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert!(
        by_input("id_number").contains("not a resident ID number"),
        "{errors:?}"
    );
    assert!(by_input("agreements").contains("`futures` is not one of: gem, star, bond"));
    assert!(by_input("bogus").contains("no such input"));
    assert!(by_input("phone").contains("mobile"));
    assert!(by_input("customer_name").contains("2 to 20"));
    assert!(by_input("funds").contains("at most 2 decimal places"));
    assert!(by_input("risk_level").contains("C1 to C5"));
    assert!(by_input("bank_card").contains("Luhn"));
    // Funds failed to parse, so withdrawable is compared with nothing.
    assert_eq!(by_input("withdrawable"), "");

    let errors = fill(&[("withdrawable", "600000"), ("funds", "500000")]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].input, "withdrawable");
    assert!(errors[0].message.contains("more than the funds"));

    // Under 18 on the day: born 2008-12-08 is 17 on 2026-12-07.
    let first17 = "11010520081208002";
    let minor = format!(
        "{first17}{}",
        char::from(crate::domain::validate::id_check_char(first17.as_bytes()))
    );
    assert!(is_id_number(&minor));
    let errors = fill(&[("id_number", &minor)]).unwrap_err();
    assert_eq!(errors[0].message, "the holder is under 18 on 2026-12-07");
    // A day later the holder is 18.
    assert!(
        r.fill_inputs(
            &given(&[("id_number", &minor)]),
            &mut Draw::new(1),
            &HashSet::new(),
            "2026-12-08".parse().unwrap()
        )
        .is_ok()
    );
    // Good values pass, a blank one is as if not typed.
    let v = fill(&[
        ("id_number", "11010519491231002X"),
        ("customer_name", "阿依古丽·买买提"),
        ("funds", "1000.5"),
        ("withdrawable", "1000.50"),
        ("agreements", ""),
        ("phone", " 13812345678 "),
    ])
    .unwrap();
    assert_eq!(v["phone"], "13812345678");
    assert_eq!(v["withdrawable"], json!("1000.50"));
    assert!(!v["agreements"].as_array().unwrap().is_empty());
}

#[test]
fn optional_and_required_inputs() {
    let text = r#"name = "r"
[[input]]
name = "note"
required = false
[[input]]
name = "count"
type = "integer"
required = false
[[input]]
name = "must"
[[input]]
name = "flag"
type = "bool"
default = true
[[stage]]
name = "s"
[[stage.step]]
name = "a"
system = "x"
path = "/a/{{ note }}/{{ count }}/{{ must }}/{{ flag }}"
"#;
    let r = Recipe::load("r", &files(&[("r", text)])).unwrap();
    let errors = r
        .fill_inputs(
            &BTreeMap::new(),
            &mut Draw::new(1),
            &HashSet::new(),
            today(),
        )
        .unwrap_err();
    assert_eq!(
        errors,
        [FieldError {
            input: "must".into(),
            message: "is required".into()
        }]
    );
    let v = filled(&r, &[("must", "m")], 1);
    assert_eq!(v["note"], "");
    assert_eq!(v["count"], Value::Null);
    assert_eq!(v["flag"], true);
    let req = r
        .step("a")
        .unwrap()
        .request(&r.base_vars(&v, "uat", 1, 0), &instance("s/a"))
        .unwrap();
    assert_eq!(req.path_and_query, "/a///m/true");
    assert_eq!(req.method, "GET");
    assert!(req.body.is_none());
    let errors = r
        .fill_inputs(
            &given(&[("must", "m"), ("count", "x1"), ("flag", "maybe")]),
            &mut Draw::new(1),
            &HashSet::new(),
            today(),
        )
        .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn masker_hides_customer_data_and_secrets_everywhere() {
    let r = trading();
    let card = format!(
        "622202123456789012{}",
        generate::luhn_digit("622202123456789012")
    );
    assert_eq!(card, "6222021234567890128");
    let v = filled(
        &r,
        &[
            ("customer_name", "张三丰"),
            ("id_number", "11010519491231002X"),
            ("phone", "13812345678"),
            ("bank_card", &card),
            ("depository_bank", "ICBC"),
            ("trading_password", "135790"),
        ],
        1,
    );
    let m = r.masker(&v);
    let text = m.text("张三丰 11010519491231002X 13812345678 6222021234567890128 135790 ICBC");
    assert_eq!(
        text,
        "张** 110***********002X 138****5678 622202*********0128 ****** ICBC"
    );
    let masked = m.json(&json!({
        "customer": {"name": "张三丰", "mobile": 13812345678_u64, "note": "卡号6222021234567890128"},
        "list": ["135790", 1, null, true],
    }));
    assert_eq!(
        masked,
        json!({
            "customer": {"name": "张**", "mobile": "138****5678", "note": "卡号622202*********0128"},
            "list": ["******", 1, null, true],
        })
    );
    assert!(!format!("{m:?}").contains("13812345678"));
    // A request as the records keep it.
    let vars = r.base_vars(&v, "uat", 1, 0);
    let req = r
        .step("create-customer")
        .unwrap()
        .request(&vars, &instance("account/create-customer"))
        .unwrap();
    let body = m.text(&String::from_utf8(req.body.unwrap().bytes).unwrap());
    assert!(
        !body.contains("张三丰") && !body.contains("13812345678"),
        "{body}"
    );
}

/// One file `r.toml` (recipe `r`) that must fail to load with `want` on the line holding
/// `needle`.
#[track_caller]
fn refused(text: &str, needle: &str, want: &str) {
    refused_with(&[("r", text)], "r", "r", text, needle, want);
}

#[track_caller]
fn refused_with(
    list: &[(&str, &str)],
    load: &str,
    file: &str,
    text: &str,
    needle: &str,
    want: &str,
) {
    let err = match Recipe::load(load, &files(list)) {
        Ok(_) => panic!("loaded; wanted {want}"),
        Err(e) => e.to_string(),
    };
    let line = line_of(text, needle);
    let expected = format!("{file}.toml:{line}: ");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&expected) && l.contains(want)),
        "wanted `{expected}…{want}…` in:\n{err}"
    );
}

/// A small valid recipe to break one thing at a time.
const SMALL: &str = r#"name = "r"

[constants]
channel = "web"

[[input]]
name = "phone"
generate = "phone"

[[stage]]
name = "s"

[[stage.step]]
name = "first"
system = "x"
method = "POST"
path = "/a/{{ phone }}"
extract = { token = "/token" }

[[stage.step]]
name = "second"
system = "x"
path = "/b/{{ token }}"
"#;

#[test]
fn the_small_recipe_loads() {
    Recipe::load("r", &files(&[("r", SMALL)])).unwrap();
}

#[test]
fn toml_mistakes_name_their_line() {
    refused(
        &SMALL.replace("name = \"first\"", "name = \"first"),
        "name = \"first",
        "invalid TOML",
    );
    refused(
        &SMALL.replace("method = \"POST\"", "metod = \"POST\""),
        "metod",
        "unknown key `metod` in [[stage.step]]",
    );
    refused(
        &SMALL.replace("[constants]", "[constant]"),
        "[constant]",
        "unknown key `constant` in the recipe",
    );
    refused(
        &SMALL.replace("system = \"x\"\nmethod", "system = 3\nmethod"),
        "system = 3",
        "`system` must be a string, not an integer",
    );
    refused(
        &SMALL.replace("name = \"r\"", "name = \"other\""),
        "name = \"other\"",
        "the recipe is called `other` but its file is `r.toml`",
    );
    refused(
        &SMALL.replace("method = \"POST\"", "method = \"FETCH\""),
        "FETCH",
        "method `FETCH` is not one of GET, POST, PUT, PATCH, DELETE",
    );
    refused(
        &SMALL.replace("method = \"POST\"", "timeout = \"10 s\""),
        "10 s",
        "`timeout`: `10 s` is not a duration",
    );
    refused(
        &SMALL.replace("method = \"POST\"", "retry = { attempts = 0 }"),
        "attempts = 0",
        "`attempts` must be 1 to 20",
    );
    refused(
        &SMALL.replace("method = \"POST\"", "retry = { backoff = \"5x\" }"),
        "5x",
        "`backoff`: `5x` is not a duration",
    );
    refused(
        &SMALL.replace("\"/token\"", "\"token\""),
        "\"token\"",
        "`token`: `token` is not a JSON pointer",
    );
    refused(
        &SMALL.replace(
            "[constants]",
            "[defaults]\nerror_pointer = \"message\"\n\n[constants]",
        ),
        "error_pointer",
        "`error_pointer`: `message` is not a JSON pointer",
    );
    refused(
        &SMALL.replace("generate = \"phone\"", "generate = \"mobile\""),
        "mobile",
        "unknown generator `mobile`",
    );
    refused(
        &SMALL.replace(
            "generate = \"phone\"",
            "type = \"integer\"\ngenerate = \"phone\"",
        ),
        "generate = \"phone\"",
        "generator `phone` makes string values, not integer",
    );
    refused(
        &SMALL.replace("name = \"phone\"", "name = \"Phone\""),
        "Phone",
        "input `Phone` is not a variable name",
    );
    refused(
        &SMALL.replace("name = \"phone\"", "name = \"env\""),
        "name = \"env\"",
        "`env` is a name opsdesk gives templates",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\njson = {}\nform = {}",
        ),
        "json = {}",
        "has both `json` and `form`",
    );
    refused(
        &SMALL.replace("path = \"/b/{{ token }}\"", "path = \"/b\"\nas = \"x\""),
        "as = \"x\"",
        "has `as` but no `for_each`",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\n\n[[stage.step.check]]\nmessage = \"no\"",
        ),
        "[[stage.step.check]]",
        "a check needs `status` or `pointer`",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\n\n[[stage.step.check]]\nequals = 1",
        ),
        "equals = 1",
        "a check that compares a value needs `pointer`",
    );
    refused(
        &SMALL.replace(
            "generate = \"phone\"",
            "type = \"string\"\nchoices = [\"a\"]\ndefault = \"b\"",
        ),
        "default = \"b\"",
        "input `phone`: the default is wrong: `b` is not one of: a",
    );
    refused(
        &SMALL.replace("name = \"second\"", "name = \"first\" # again"),
        "# again",
        "step `first` is named twice (first at r.toml:14)",
    );
}

#[test]
fn template_mistakes_name_their_line() {
    refused(
        &SMALL.replace("/b/{{ token }}", "/b/{{ tokn }}"),
        "tokn",
        "step `second`, path: `tokn` is not defined",
    );
    refused(
        &SMALL.replace("/b/{{ token }}", "/b/{{ token "),
        "/b/{{ token ",
        "step `second`: `path` does not parse",
    );
    refused(
        &SMALL.replace("/b/{{ token }}", "/b/{{ item }}"),
        "{{ item }}",
        "`item` is defined only in a step with `for_each`",
    );
    refused(
        &SMALL.replace("/b/{{ token }}", "/b/{{ index }}"),
        "{{ index }}",
        "`index` is defined only in a step with `for_each`",
    );
    refused(
        &SMALL.replace("/b/{{ token }}", "/b/{{ response }}"),
        "{{ response }}",
        "`response` is defined only in a check's `message`",
    );
    refused(
        &SMALL.replace("/a/{{ phone }}", "/a/{{ token }}"),
        "/a/{{ token }}",
        "`token` is extracted from this step's own answer",
    );
    refused(
        &SMALL.replace("/a/{{ phone }}", "/a/{{ later }}").replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\nextract = { later = \"/later\" }",
        ),
        "/a/{{ later }}",
        "`later` is extracted by step `second` (r.toml:24), which runs after this one",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\nfor_each = \"[1, 2]\"\nwhen = \"item > 1\"",
        ),
        "when = ",
        "`item` is defined in the step's requests, not in `when` or `for_each`",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b/{{ item }}\"\nfor_each = \"[1, 2]\"\nas = \"n\"",
        ),
        "/b/{{ item }}",
        "this step binds each element to `n` (its `as`), not `item`",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\nfor_each = \"[1, 2]\"\nas = \"phone\"",
        ),
        "name = \"second\"",
        "`as` = `phone` hides a variable of that name",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\nwhen = \"phone ==\"",
        ),
        "when = ",
        "`when` does not parse",
    );
    refused(
        &SMALL.replace("/b/{{ token }}", &format!("/b/{}", "x".repeat(17 * 1024))),
        "/b/xxx",
        "a template may have at most 16384",
    );
    refused(
        &SMALL.replace(
            "path = \"/b/{{ token }}\"",
            "path = \"/b\"\njson = { a = [\"{{ nope }}\"] }",
        ),
        "json = ",
        "step `second`, json.a[0]: `nope` is not defined",
    );
    refused(
        &format!("{SMALL}\n[result]\nx = \"{{{{ nada }}}}\"\n"),
        "nada",
        "result `x`: `nada` is not defined",
    );
    refused(
        &SMALL.replace("{ token = ", "{ phone = "),
        "{ phone = ",
        "extracts into `phone`, but input `phone` (r.toml:",
    );
    refused(
        &SMALL.replace("{ token = ", "{ channel = "),
        "{ channel = ",
        "extracts into `channel`, but constant `channel` (r.toml:",
    );
}

#[test]
fn mistakes_across_includes_name_their_file() {
    let base = r#"name = "base"
[[input]]
name = "funds"
type = "decimal"
generate = "funds"

[[stage]]
name = "s"

[[stage.step]]
name = "step-one"
system = "x"
path = "/one"
"#;
    let top = r#"name = "top"
include = ["base"]

[[input]]
name = "funds"
type = "integer"

[[stage]]
name = "s"

[[stage.step]]
name = "step-one"
system = "x"
path = "/again"
"#;
    let list = [("base", base), ("top", top)];
    refused_with(
        &list,
        "top",
        "top",
        top,
        "name = \"funds\"",
        "may change only its `default` and `label`, not `type`",
    );
    refused_with(
        &list,
        "top",
        "top",
        top,
        "name = \"step-one\"",
        "step `step-one` is named twice (first at base.toml:11)",
    );
    // Both at once.
    let err = Recipe::load("top", &files(&list)).unwrap_err();
    assert_eq!(err.0.len(), 2, "{err}");

    // An include that is missing, and include cycles.
    let lonely = "name = \"lonely\"\ninclude = [\"ghost\"]\n";
    refused_with(
        &[("lonely", lonely)],
        "lonely",
        "lonely",
        lonely,
        "ghost",
        "cannot read include `ghost`: no such recipe",
    );
    let a = "name = \"a\"\ninclude = [\"b\"]\n";
    let b = "name = \"b\"\ninclude = [\"a\"]\n";
    refused_with(
        &[("a", a), ("b", b)],
        "a",
        "b",
        b,
        "include",
        "include cycle: a.toml → b.toml → a.toml",
    );
    let selfish = "name = \"me\"\ninclude = [\"me\"]\n";
    refused_with(
        &[("me", selfish)],
        "me",
        "me",
        selfish,
        "include",
        "include cycle: me.toml → me.toml",
    );
    // The recipe itself missing.
    let err = Recipe::load("nowhere", &files(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read recipe `nowhere`: no such recipe"
    );
    // An include shared by two includes is read once.
    let c = "name = \"c\"\ninclude = [\"a2\", \"b2\"]\n[[stage]]\nname = \"s\"\n[[stage.step]]\nname = \"c\"\nsystem = \"x\"\npath = \"/c\"\n";
    let a2 = "name = \"a2\"\ninclude = [\"shared\"]\n";
    let b2 = "name = \"b2\"\ninclude = [\"shared\"]\n";
    let shared = "name = \"shared\"\n[[stage]]\nname = \"s\"\n[[stage.step]]\nname = \"sh\"\nsystem = \"x\"\npath = \"/s\"\n";
    let r = Recipe::load(
        "c",
        &files(&[("c", c), ("a2", a2), ("b2", b2), ("shared", shared)]),
    )
    .unwrap();
    assert_eq!(
        r.steps().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["sh", "c"]
    );
    assert_eq!(r.files, ["c.toml", "shared.toml", "a2.toml", "b2.toml"]);
}

#[test]
fn a_load_reports_every_mistake_at_once() {
    let text = SMALL
        .replace("method = \"POST\"", "method = \"FETCH\"")
        .replace("/b/{{ token }}", "/b/{{ tokn }}")
        .replace("generate = \"phone\"", "generate = \"mobile\"");
    let err = Recipe::load("r", &files(&[("r", &text)])).unwrap_err();
    assert_eq!(err.0.len(), 3, "{err}");
    assert!(
        err.0
            .iter()
            .all(|e| e.at.as_ref().is_some_and(|a| a.file == "r.toml"))
    );
}

#[test]
fn no_steps_and_withdrawable_without_funds_are_refused() {
    let empty = "name = \"r\"\n";
    refused(empty, "name", "the recipe has no steps");
    let text = SMALL.replace(
        "[[stage]]",
        "[[input]]\nname = \"w\"\ntype = \"decimal\"\ngenerate = \"withdrawable\"\n\n[[stage]]",
    );
    refused(
        &text,
        "name = \"w\"",
        "draws a part of the funds, but no input holds funds",
    );
}

#[test]
fn broken_texts_never_panic() {
    // Every prefix of a real recipe: most are invalid TOML or incomplete recipes.
    let resolve_plain = |cut: usize| {
        let text: String = TRADING.chars().take(cut).collect();
        move |name: &str| {
            Ok(RecipeSource {
                file: format!("{name}.toml"),
                text: if name == "plain-account" {
                    PLAIN.to_string()
                } else {
                    text.clone()
                },
            })
        }
    };
    let n = TRADING.chars().count();
    for cut in (0..n).step_by(5) {
        let _ = Recipe::load("trading-account", &resolve_plain(cut));
    }
}

/// tests/fixtures/recipes/invalid/*.toml: each file's first line is `# expect: <text>`, a
/// piece of the load's error (with `file:line`). Files in lib/ are what they include.
#[test]
fn invalid_fixtures_fail_as_their_first_line_says() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recipes/invalid");
    let resolve = |name: &str| {
        for candidate in [
            dir.join(format!("{name}.toml")),
            dir.join("lib").join(format!("{name}.toml")),
        ] {
            if let Ok(text) = std::fs::read_to_string(&candidate) {
                let file = candidate
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Ok(RecipeSource { file, text });
            }
        }
        Err("no such recipe".to_string())
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 5, "{entries:?}");
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let want = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()))
            .trim();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        match Recipe::load(&name, &resolve) {
            Ok(_) => panic!("{name} loaded; wanted {want}"),
            Err(e) => assert!(
                e.to_string().contains(want),
                "{name}: wanted `{want}` in:\n{e}"
            ),
        }
    }
}

#[test]
fn deeply_nested_texts_are_refused_not_overflowed() {
    let deep = format!("{}1{}", "(".repeat(8000), ")".repeat(8000));
    let text = SMALL.replace("/b/{{ token }}", &format!("/b/{{{{ {deep} }}}}"));
    assert!(Recipe::load("r", &files(&[("r", &text)])).is_err());
    let when = SMALL.replace(
        "path = \"/b/{{ token }}\"",
        &format!("path = \"/b\"\nwhen = \"{}\"", "[".repeat(8000)),
    );
    assert!(Recipe::load("r", &files(&[("r", &when)])).is_err());
    let toml_deep = format!(
        "{SMALL}\n[result]\nx = {}1{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(Recipe::load("r", &files(&[("r", &toml_deep)])).is_err());
    let tables = format!(
        "{SMALL}\n[result]\nx = {}1{}\n",
        "{a=".repeat(5000),
        "}".repeat(5000)
    );
    assert!(Recipe::load("r", &files(&[("r", &tables)])).is_err());
}
