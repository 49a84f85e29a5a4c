//! The API description (`/api/v1/openapi.json`, checked in as `docs/openapi.json`).
//!
//! utoipa generates it from the handlers' annotations and the wire types; [`description`] then
//! states what a derive cannot: the rules the validators enforce (as the patterns of
//! `domain::rules`), the configured systems, the refusals every operation shares by its shape
//! (a token, a path id, a JSON body, a write), and the links a stateful tester follows from a
//! created ticket. Contract testers (schemathesis in CI) and generated clients read this.

use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use crate::domain::rules;
use crate::domain::ticket::Status;
use crate::domain::validate::{
    MAX_DESCRIPTION_CHARS, MAX_SHORT_TEXT_CHARS, MAX_TITLE_CHARS, MIN_DESCRIPTION_CHARS,
    MIN_TITLE_CHARS,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "opsdesk", description = "Incident tickets for a brokerage's production-incident team. Authenticate with `Authorization: Bearer <token>` (`opsdesk admin user add NAME --role handler` prints one)."),
    paths(
        super::meta::healthz, super::meta::readyz, super::meta::systems, super::meta::me, super::meta::users,
        super::tickets::list, super::tickets::create, super::tickets::get, super::tickets::patch,
        super::tickets::transition, super::tickets::assign, super::tickets::link, super::tickets::customer,
        super::tickets::approve_script,
        super::tickets::audit, super::tickets::similar,
        super::messages::list, super::messages::create, super::messages::read_marker, super::messages::mark_read, super::messages::unread,
        super::attachments::upload, super::attachments::download,
        super::events::events, super::events::list,
        super::kb::search, super::kb::get, super::kb::helpful, super::kb::create, super::kb::update, super::kb::changes, super::kb::revisions,
        super::kb::add_image, super::kb::image,
        super::lookups::run, super::lookups::list_sources,
        super::lookups::list_queries, super::lookups::run_data,
        super::reports::weekly, super::reports::monthly, super::reports::export, super::reports::list, super::reports::record, super::reports::change,
        super::construct::recipes, super::construct::recipe, super::construct::check, super::construct::environments,
        super::construct::start, super::construct::list, super::construct::get_one, super::construct::resume,
        super::construct::cancel, super::construct::stats, super::construct::events,
        super::monitors::list, super::monitors::run, super::monitors::history, super::monitors::alerts,
        super::monitors::get_one, super::monitors::acknowledge, super::monitors::resolve, super::monitors::silence,
        super::monitors::open_ticket, super::monitors::link,
    ),
    modifiers(&BearerAuth, &Described, &Public)
)]
pub struct ApiDoc;

/// The probes answer without a token (load balancers and monitors call them); the description
/// says so (`security: []`), so a contract tester knows it is meant.
struct Public;

/// Paths that need no token.
const PUBLIC_PATHS: &[&str] = &["/healthz", "/readyz"];

impl utoipa::Modify for Public {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in PUBLIC_PATHS {
            if let Some(item) = openapi.paths.paths.get_mut(*path)
                && let Some(get) = item.get.as_mut()
            {
                get.security = Some(Vec::new());
            }
        }
    }
}

/// Every response says what it is (OpenAPI requires a description): an annotation that
/// gives none gets the status's own words, so no handler can leave one out.
struct Described;

impl utoipa::Modify for Described {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for op in operations.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.trim().is_empty()
                    {
                        response.description = status_words(status);
                    }
                }
            }
        }
    }
}

/// A status code's reason phrase, as the description of a response that gives none.
fn status_words(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Response")
        .to_string()
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// What a server offers that its description names: its systems, log sources, data queries,
/// construction recipes and environments.
#[derive(Debug, Clone, Copy)]
pub struct Offered<'a> {
    pub systems: &'a [&'a str],
    pub log_sources: &'a [&'a str],
    pub data_queries: &'a [crate::api::QueryInfo],
    pub recipes: &'a [String],
    pub environments: &'a [&'a str],
}

/// The whole description for a server that offers `offered`.
pub fn description(offered: Offered<'_>) -> Value {
    let Offered {
        systems,
        log_sources,
        data_queries,
        recipes,
        environments,
    } = offered;
    let mut spec = serde_json::to_value(ApiDoc::openapi()).expect("the description serialises");
    bodies(&mut spec, systems);
    construction_bodies(&mut spec, recipes, environments);
    kb_bodies(&mut spec);
    lookup_bodies(&mut spec, log_sources);
    data_lookup_bodies(&mut spec, data_queries);
    session_bodies(&mut spec);
    queries(&mut spec);
    construction_queries(&mut spec);
    downloads(&mut spec);
    refusals(&mut spec);
    links(&mut spec);
    spec
}

const ERROR_BODY: &str = "#/components/schemas/ErrorBody";

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The component schema `name`; a missing one is a bug the unit tests catch.
fn component<'a>(spec: &'a mut Value, name: &str) -> &'a mut Map<String, Value> {
    spec["components"]["schemas"][name]
        .as_object_mut()
        .unwrap_or_else(|| panic!("the description has no schema {name}"))
}

/// Refines property `field` of schema `name`: the generated schema's keys, `rule`'s over them.
fn refine(spec: &mut Value, name: &str, field: &str, rule: Value) {
    let properties = component(spec, name)
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{name} has no properties"));
    let property = properties
        .get_mut(field)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{name} has no field {field}"));
    // A nullable enum comes as `oneOf: [{$ref}, {type: null}]`; a rule replaces it whole.
    if rule.get("oneOf").is_some() || rule.get("$ref").is_some() || rule.get("enum").is_some() {
        property.remove("oneOf");
    }
    if let Value::Object(rule) = rule {
        property.extend(rule);
    }
}

/// Replaces property `field` of schema `name` with `schema`, keeping only its description.
fn replace(spec: &mut Value, name: &str, field: &str, schema: Value) {
    let property = component(spec, name)
        .get_mut("properties")
        .and_then(|p| p.get_mut(field))
        .unwrap_or_else(|| panic!("{name} has no field {field}"));
    let description = property.get("description").cloned();
    *property = schema;
    if let Some(d) = description {
        property["description"] = d;
    }
}

fn text(min: usize, max: usize, nullable: bool) -> Value {
    json!({
        "type": if nullable { json!(["string", "null"]) } else { json!("string") },
        "pattern": rules::text(min, Some(max)),
    })
}

/// Length rules count characters after leading and trailing whitespace is trimmed.
const TRIMMED: &str =
    "Lengths count characters (not bytes) after leading and trailing whitespace is trimmed.";

/// The request bodies' rules, field by field.
fn bodies(spec: &mut Value, systems: &[&str]) {
    let title = || text(MIN_TITLE_CHARS, MAX_TITLE_CHARS, false);
    let short = || text(0, MAX_SHORT_TEXT_CHARS, true);
    // One named enum of the configured keys, so a generated client gets one `SystemKey` type.
    spec["components"]["schemas"]["SystemKey"] = json!({
        "type": "string",
        "enum": systems,
        "description": "A configured system key (`GET /api/v1/systems`).",
    });
    let version = json!({ "format": "int64", "minimum": 1 });

    refine(spec, "NewTicket", "title", title());
    refine(
        spec,
        "NewTicket",
        "description",
        text(MIN_DESCRIPTION_CHARS, MAX_DESCRIPTION_CHARS, false),
    );
    replace(spec, "NewTicket", "system", schema_ref("SystemKey"));
    refine(spec, "NewTicket", "subcategory", short());
    refine(
        spec,
        "NewTicket",
        "external_ref",
        text(1, MAX_SHORT_TEXT_CHARS, true),
    );
    refine(spec, "NewTicket", "customer", schema_ref("NewCustomer"));
    let new_ticket = component(spec, "NewTicket");
    new_ticket.insert(
        "required".into(),
        json!(["title", "description", "system", "customer"]),
    );
    new_ticket.insert(
        "description".into(),
        json!(format!(
            "A new ticket as the API, the import and the MSS form deliver it. {TRIMMED}"
        )),
    );
    new_ticket.insert("examples".into(), json!([{
        "title": "挂单价格到了为什么没成交",
        "description": "【ITSM】客户说他挂的价格和盘面一样，但就是不成交，是不是系统有问题？资金账号330202535583。",
        "system": "trading",
        "category": "consultation",
        "subcategory": "委托",
        "priority": "P3",
        "customer": {"name": "张建国", "account": "330202535583", "phone": "15636100491"},
    }]));
    let customer = new_customer();
    spec["components"]["schemas"]["NewCustomer"] = customer;

    refine(spec, "TicketPatch", "version", version.clone());
    refine(spec, "TicketPatch", "title", {
        let mut t = title();
        t["type"] = json!(["string", "null"]);
        t
    });
    replace(
        spec,
        "TicketPatch",
        "system",
        json!({ "oneOf": [schema_ref("SystemKey"), { "type": "null" }] }),
    );
    refine(spec, "TicketPatch", "subcategory", short());
    component(spec, "TicketPatch").insert(
        "examples".into(),
        json!([{ "version": 3, "priority": "P2", "assignee": "h_chen" }]),
    );

    spec["components"]["schemas"]["TransitionBody"] = transition();
    for name in ["AssignBody", "LinkBody", "ApproveBody"] {
        refine(spec, name, "version", version.clone());
    }
    component(spec, "AssignBody").insert("examples".into(), json!([{ "assignee": "h_chen" }]));
    refine(
        spec,
        "LinkBody",
        "target",
        json!({ "type": ["integer", "null"], "format": "int64", "minimum": 1 }),
    );
    refine(
        spec,
        "NewMessage",
        "body",
        text(1, crate::domain::message::MAX_BODY_CHARS, false),
    );
    component(spec, "NewMessage").insert(
        "examples".into(),
        json!([{ "body": "您好，已查到委托记录：挂单价格与成交价不同档，属于正常未成交，请客户关注盘口。" }]),
    );
    refine(
        spec,
        "ReadMarkerBody",
        "message_id",
        json!({ "format": "int64", "minimum": 0 }),
    );
}

/// An article as written: one wire type, described as two bodies, since creating takes no
/// `version` and replacing requires one.
/// A lookup's rules: the configured sources by name, identifiers that are not blank, a
/// regex in the syntax the server compiles, and the window's order in words (a hook of the
/// contract run keeps generated windows in order).
fn lookup_bodies(spec: &mut Value, log_sources: &[&str]) {
    use crate::lookups::query::{MAX_IDENTIFIER_CHARS, MAX_IDENTIFIERS, MAX_TEXT_CHARS};
    let name = "LookupRequest";
    let sources = if log_sources.is_empty() {
        json!({ "type": "array", "maxItems": 0, "items": { "type": "string" } })
    } else {
        json!({ "type": "array", "items": { "type": "string", "enum": log_sources } })
    };
    replace(spec, name, "sources", sources);
    replace(
        spec,
        name,
        "identifiers",
        json!({
            "type": "array",
            "maxItems": MAX_IDENTIFIERS,
            "items": { "type": "string", "pattern": rules::text(1, Some(MAX_IDENTIFIER_CHARS)) },
        }),
    );
    refine(
        spec,
        name,
        "regex",
        json!({
            "format": "rust-regex",
            "maxLength": MAX_TEXT_CHARS,
            "description": "A regular expression in the syntax of Rust's `regex` crate (no look-around, no back-references); one that does not compile is refused with 422.",
        }),
    );
    component(spec, name).insert(
        "description".into(),
        json!(
        "A lookup. `to` must not be before `from` (422 otherwise); `from` alone runs until now (an hour at least), `to` alone is the hour before it; with neither the ticket's reported time ±30 minutes, or the last hour."
        ),
    );
}

/// A knowledge session's rules: a one-line topic, configured systems; what the schema cannot
/// say (a day up to a year ahead) in words.
/// A run's status in the runs' list: one word (the shared `status` query rule is the
/// tickets' list of statuses, so this one is set after it).
fn construction_queries(spec: &mut Value) {
    use crate::domain::construct::run::RunStatus;
    let statuses: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
    if let Some(params) = spec["paths"]["/api/v1/constructions"]["get"]["parameters"].as_array_mut()
    {
        for p in params.iter_mut().filter(|p| p["name"] == "status") {
            *p = json!({
                "in": "query", "name": "status", "required": false,
                "description": "Only the runs in this state.",
                "schema": { "type": "string", "enum": statuses },
            });
        }
    }
}

/// Construction: the recipes and environments this server offers, by name; what a run's
/// request may hold.
fn construction_bodies(spec: &mut Value, recipes: &[String], environments: &[&str]) {
    spec["components"]["schemas"]["RecipeName"] = json!({
        "type": "string",
        "enum": recipes,
        "description": "A recipe this server offers (`GET /api/v1/recipes`).",
    });
    spec["components"]["schemas"]["EnvironmentName"] = if environments.is_empty() {
        json!({
            "type": "string",
            "pattern": "^[a-z0-9_-]{1,32}$",
            "description": "A UAT environment (`GET /api/v1/environments`); this server has none configured.",
        })
    } else {
        json!({
            "type": "string",
            "enum": environments,
            "description": "A UAT environment this server builds in (`GET /api/v1/environments`).",
        })
    };
    replace(
        spec,
        "StartConstruction",
        "recipe",
        schema_ref("RecipeName"),
    );
    replace(
        spec,
        "StartConstruction",
        "environment",
        schema_ref("EnvironmentName"),
    );
    refine(
        spec,
        "StartConstruction",
        "count",
        json!({ "minimum": 1, "maximum": crate::service::construct::MAX_BATCH }),
    );
    let inputs = json!({
        "type": "object",
        "additionalProperties": { "type": "string", "maxLength": crate::service::construct::MAX_INPUT_CHARS },
        "maxProperties": crate::service::construct::MAX_INPUTS,
    });
    // Seeds stay within the integers every JSON reader holds exactly.
    let seed = json!({ "minimum": -crate::service::construct::MAX_SEED, "maximum": crate::service::construct::MAX_SEED });
    refine(spec, "StartConstruction", "seed", seed.clone());
    refine(spec, "CheckInputs", "seed", seed);
    replace(spec, "StartConstruction", "set", inputs.clone());
    replace(spec, "CheckInputs", "set", inputs);
    // A default is whatever the input's type takes: text, a number, a list, a yes or no.
    replace(spec, "FormInput", "default", json!({}));
    component(spec, "StartConstruction").insert(
        "description".into(),
        json!("Accounts to build. `set` names the recipe's inputs (`GET /api/v1/recipes/{name}`); an unknown one, or a value its checks refuse (a name of 2–20 characters, an ID number with its check character and an adult's birth date, an 11-digit mobile, a card on its bank's BIN with the Luhn digit, withdrawable within the funds), is 422 as `set.<input>`; an ID number an earlier run built with is 409."),
    );
    for path in ["/api/v1/recipes/{name}", "/api/v1/recipes/{name}/check"] {
        let Some(item) = spec["paths"][path].as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params.iter_mut().filter(|p| p["name"] == "name") {
                    p["schema"] = schema_ref("RecipeName");
                }
            }
        }
    }
}

fn session_bodies(spec: &mut Value) {
    use crate::domain::report::session::{
        MAX_SESSION_ARTICLES, MAX_SESSION_SYSTEMS, MAX_TOPIC_CHARS, MAX_VIEWERS, MIN_TOPIC_CHARS,
    };
    for name in ["NewSession", "SessionChange"] {
        refine(
            spec,
            name,
            "topic",
            json!({ "pattern": rules::text_without(MIN_TOPIC_CHARS, Some(MAX_TOPIC_CHARS), &[rules::CONTROLS]) }),
        );
        let systems = json!({ "type": "array", "maxItems": MAX_SESSION_SYSTEMS, "items": schema_ref("SystemKey") });
        let articles = json!({ "type": "array", "maxItems": MAX_SESSION_ARTICLES, "items": { "type": "integer", "format": "int64" } });
        let viewers = json!({ "type": "integer", "minimum": 0, "maximum": MAX_VIEWERS });
        let nullable = |schema: Value| json!({ "oneOf": [schema, { "type": "null" }] });
        // A new session's lists may be left out but not null; a change's fields may be null
        // (nothing to change), and the counts are optional in both.
        let lists_nullable = name == "SessionChange";
        let (systems, articles) = if lists_nullable {
            (nullable(systems), nullable(articles))
        } else {
            (systems, articles)
        };
        replace(spec, name, "systems", systems);
        replace(spec, name, "kb_articles", articles);
        replace(spec, name, "live_viewers", nullable(viewers.clone()));
        replace(spec, name, "total_views", nullable(viewers));
        component(spec, name).insert(
            "description".into(),
            json!("A knowledge session. `held_on` is a day from 2000-01-01 to a year after today in the business time zone, (422 otherwise); `kb_articles` must exist (409 otherwise). Without `systems` a new session covers its articles' systems."),
        );
    }
}

/// A data lookup's rules: each configured query with the source that holds it and the
/// identifier it looks up by (or a ticket to take it from); identifiers printable, 1–64.
fn data_lookup_bodies(spec: &mut Value, queries: &[crate::api::QueryInfo]) {
    let name = "DataLookupRequest";
    for field in ["account", "phone", "id_number"] {
        refine(
            spec,
            name,
            field,
            json!({ "pattern": rules::text_without(1, Some(64), &[rules::CONTROLS]) }),
        );
    }
    if queries.is_empty() {
        return;
    }
    let each: Vec<Value> = queries
        .iter()
        .map(|q| {
            json!({
                "properties": {
                    "query": { "const": q.name },
                    "source": { "const": q.source },
                },
                // Given, and not null: a null identifier or ticket is no identifier.
                "anyOf": [
                    { "required": [q.by], "properties": { q.by.clone(): { "type": "string" } } },
                    { "required": ["ticket"], "properties": { "ticket": { "type": "integer" } } },
                ],
            })
        })
        .collect();
    component(spec, name).insert("anyOf".into(), json!(each));
}

fn kb_bodies(spec: &mut Value) {
    use crate::domain::kb::{
        MAX_SLUG, MAX_SYMPTOM, MAX_SYMPTOMS, MAX_TAG, MAX_TAGS, MAX_TEXT, MAX_TITLE, MIN_TITLE,
    };
    let name = "KbArticleBody";
    // Articles reach terminals and pages: no control character or bidi override, and none of
    // the line breaks and tabs a one-line field has no use for.
    let line = |min, max| json!({ "type": "string", "pattern": rules::text_without(min, Some(max), &[rules::CONTROLS, rules::BIDI]) });
    let prose = |min, max| json!({ "type": "string", "pattern": rules::text_without(min, Some(max), &[rules::CONTROLS_BUT_LINES, rules::BIDI]) });
    refine(spec, name, "title", line(MIN_TITLE, MAX_TITLE));
    replace(spec, name, "system", schema_ref("SystemKey"));
    refine(
        spec,
        name,
        "slug",
        json!({ "type": ["string", "null"], "pattern": rules::slug(MAX_SLUG) }),
    );
    let list = |item: Value, max: usize| json!({ "type": "array", "items": item, "maxItems": max });
    refine(spec, name, "tags", list(line(1, MAX_TAG), MAX_TAGS));
    refine(
        spec,
        name,
        "symptoms",
        list(line(1, MAX_SYMPTOM), MAX_SYMPTOMS),
    );
    refine(spec, name, "cause", prose(0, MAX_TEXT));
    refine(spec, name, "steps", prose(1, MAX_TEXT));
    refine(
        spec,
        name,
        "source_tickets",
        list(
            json!({ "type": "integer", "format": "int64", "minimum": 1 }),
            1000,
        ),
    );
    let written = component(spec, name).clone();
    spec["components"]["schemas"]
        .as_object_mut()
        .expect("schemas")
        .remove(name);
    let describe = |body: &mut Map<String, Value>, what: &str| {
        body.insert(
            "description".into(),
            json!(format!(
                "{what} The author is the caller and the time the server's. {TRIMMED}"
            )),
        );
        body.insert("additionalProperties".into(), json!(false));
    };
    let mut new = written.clone();
    new["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("version");
    describe(&mut new, "A new article.");
    new.insert(
        "examples".into(),
        json!([{
            "title": "开户失败：视频见证时提示“网络异常，请稍后重试”",
            "system": "account_opening",
            "audience": "submitters",
            "tags": ["开户失败", "视频见证"],
            "symptoms": ["视频见证页面提示“网络异常，请稍后重试”"],
            "steps": "1. 请客户切换到稳定的 Wi-Fi 或 4G/5G 网络。\n2. 重新进入视频见证排队。",
        }]),
    );
    let mut edit = written;
    edit["properties"]["version"] = json!({ "type": "integer", "format": "int64", "minimum": 1 });
    let mut required: Vec<Value> = edit["required"].as_array().cloned().unwrap_or_default();
    required.push(json!("version"));
    edit.insert("required".into(), json!(required));
    describe(
        &mut edit,
        "An article's new text over `version`, the version last read; it keeps its slug.",
    );
    spec["components"]["schemas"]["KbNewArticleBody"] = Value::Object(new);
    spec["components"]["schemas"]["KbArticleEditBody"] = Value::Object(edit);
    for (path, method, body) in [
        ("/api/v1/kb/articles", "post", "KbNewArticleBody"),
        ("/api/v1/kb/articles/{id}", "put", "KbArticleEditBody"),
    ] {
        spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"] =
            schema_ref(body);
    }
}

/// The customer of a new ticket: each number as people type it (spaces and dashes, full-width
/// digits), and at least one of account, phone or ID number.
fn new_customer() -> Value {
    let fields = json!({
        "name": text(0, MAX_SHORT_TEXT_CHARS, true),
        "account": { "type": ["string", "null"], "pattern": rules::account() },
        "phone": { "type": ["string", "null"], "pattern": rules::phone() },
        "id_number": {
            "type": ["string", "null"],
            "pattern": rules::id_number(),
            "format": "cn-resident-id",
        },
    });
    // Each branch lists every field, its own one present and holding a digit, so a client
    // generated from a branch can still send the name. The titles name the branches' types
    // in generated clients (`CustomerByAccount`, …).
    let one_of_three = [
        ("account", "CustomerByAccount"),
        ("phone", "CustomerByPhone"),
        ("id_number", "CustomerByIdNumber"),
    ]
    .map(|(field, title)| {
        let mut properties = fields.clone();
        let own = &mut properties[field];
        own["type"] = json!("string");
        own["allOf"] = json!([{ "pattern": rules::DIGIT }]);
        json!({ "title": title, "required": [field], "properties": properties })
    });
    json!({
        "type": "object",
        "description": format!(
            "Who the ticket is about; handlers look logs and data up by these. At least one of `account`, `phone` or `id_number` is required. \
             Numbers may carry spaces, dashes and full-width digits, and a value of only those counts as absent. \
             `account`: 6 to 20 digits. `phone`: an 11-digit mobile number starting with 1, optionally after +86, 0086 or 86. \
             `id_number`: an 18-character resident ID (GB 11643) whose digits 7–14 are a real birth date and whose last character is the ISO 7064 MOD 11-2 check character (format `cn-resident-id`). \
             `name`: at most {MAX_SHORT_TEXT_CHARS} characters. {TRIMMED}"
        ),
        "properties": fields,
        "anyOf": one_of_three,
        "additionalProperties": false,
        "examples": [{ "name": "张建国", "account": "330202535583" }],
    })
}

/// A lifecycle move: what each kind of target status needs, as `oneOf`. The status graph
/// itself (which moves the present status allows) is the server's state: 409.
fn transition() -> Value {
    let others: Vec<Status> = Status::ALL
        .iter()
        .copied()
        .filter(|s| !matches!(s, Status::Transferred | Status::Resolved))
        .collect();
    let not_blank = json!({ "type": "string", "pattern": rules::not_blank() });
    let no_target = json!({ "type": "null" });
    let common = json!({
        "to": schema_ref("Status"),
        "transfer_to": { "oneOf": [schema_ref("TransferTarget"), { "type": "null" }] },
        "note": { "type": ["string", "null"] },
        "resolution": { "type": ["string", "null"] },
        "version": { "type": ["integer", "null"], "format": "int64", "minimum": 1 },
    });
    // Each branch lists every field it allows, so a client generated from one branch can
    // still send the note and the version.
    let branch = |title: &str, required: &[&str], own: Value| {
        let mut properties = common.clone();
        if let (Some(all), Value::Object(own)) = (properties.as_object_mut(), own) {
            all.extend(own);
        }
        json!({ "title": title, "required": required, "properties": properties })
    };
    json!({
        "type": "object",
        "description": "A lifecycle move. A transfer needs `transfer_to` and a hand-off note (`note`) for the receiving team; resolving needs a `resolution`; `transfer_to` is only for transfers. Which moves the ticket's present status allows is its state: a move it does not allow is 409 naming the allowed ones. `version`, when given, must match the current one.",
        "required": ["to"],
        "properties": common.clone(),
        "additionalProperties": false,
        "oneOf": [
            branch(
                "transfer",
                &["to", "transfer_to", "note"],
                json!({
                    "to": { "const": Status::Transferred },
                    "transfer_to": schema_ref("TransferTarget"),
                    "note": not_blank,
                }),
            ),
            branch(
                "resolve",
                &["to", "resolution"],
                json!({
                    "to": { "const": Status::Resolved },
                    "resolution": not_blank,
                    "transfer_to": no_target,
                }),
            ),
            branch(
                "other",
                &["to"],
                json!({ "to": { "enum": others }, "transfer_to": no_target }),
            ),
        ],
        "examples": [{ "to": "transferred", "transfer_to": "dev", "note": "委托回报延迟，已附日志截图，请查撮合回报链路" }],
    })
}

fn operations(spec: &mut Value) -> impl Iterator<Item = (String, String, &mut Map<String, Value>)> {
    spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.iter_mut())
        .flat_map(|(path, item)| {
            item.as_object_mut()
                .into_iter()
                .flat_map(|item| item.iter_mut())
                .filter_map(move |(method, op)| {
                    op.as_object_mut()
                        .map(|op| (path.clone(), method.clone(), op))
                })
        })
}

/// What `service::Idempotency::new` takes: 1 to 128 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = "^[\\u0021-\\u007e]{1,128}$";

/// Query parameters as the server reads them: absent rather than null, status and category
/// lists as comma-separated words (`style: form, explode: false`) with at least one word (an
/// empty value reads as one empty word to some clients and as no words to others, so the
/// server refuses it), the offset bounded by the database's integer.
fn queries(spec: &mut Value) {
    for (_, _, op) in operations(spec) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for p in params.iter_mut().filter(|p| p["name"] == "Idempotency-Key") {
            p["schema"] = json!({ "type": "string", "pattern": IDEMPOTENCY_KEY });
        }
        for p in params.iter_mut().filter(|p| p["in"] == "query") {
            let schema = &mut p["schema"];
            if let Some(types) = schema.get("type").and_then(Value::as_array) {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if let [one] = kept.as_slice() {
                    schema["type"] = one.clone();
                }
            }
            let list = match p["name"].as_str() {
                Some("status") => Some("Status"),
                Some("category") => Some("Category"),
                _ => None,
            };
            if let Some(word) = list {
                p["schema"] = json!({ "type": "array", "items": schema_ref(word), "minItems": 1 });
                p["style"] = json!("form");
                p["explode"] = json!(false);
            }
            if p["name"] == "offset" {
                p["schema"]["format"] = json!("int64");
                p["schema"]["maximum"] = json!(i64::MAX);
            }
        }
    }
}

/// The attachment download answers in the type decided from the bytes.
fn downloads(spec: &mut Value) {
    let ok = &mut spec["paths"]["/api/v1/attachments/{id}"]["get"]["responses"]["200"];
    let binary = json!({ "schema": { "type": "string", "format": "binary" } });
    ok["content"] = crate::service::messages::SERVED_TYPES
        .iter()
        .map(|t| (t.to_string(), binary.clone()))
        .collect::<Map<String, Value>>()
        .into();
    ok["description"] = json!(
        "The file's bytes, in the type decided from them: pictures inline, anything else as a download (`Content-Disposition: attachment`)."
    );
}

/// The refusals an operation has by its shape, each with the `code`s it carries.
fn shared_refusals(method: &str, op: &Map<String, Value>) -> Vec<(&'static str, &'static str)> {
    let params = op.get("parameters").and_then(Value::as_array);
    let has = |place: &str| params.is_some_and(|ps| ps.iter().any(|p| p["in"] == place));
    let named = |name: &str| params.is_some_and(|ps| ps.iter().any(|p| p["name"] == name));
    let json_body = op
        .get("requestBody")
        .is_some_and(|b| b["content"].get("application/json").is_some());
    let public = op.get("security") == Some(&json!([]));
    let writes = matches!(method, "post" | "put" | "patch" | "delete");

    let mut out = Vec::new();
    if !public {
        out.push((
            "401",
            "`unauthorized`: no token, or a malformed, unknown or revoked one",
        ));
    }
    if has("path") {
        out.push(("400", "`bad_request`: a path id that is not a whole number"));
        out.push((
            "404",
            "`not_found`: no such ticket or attachment, or one the caller may not see",
        ));
    }
    if has("query") {
        out.push((
            "400",
            "`bad_request`: an unknown query parameter, or one outside its schema",
        ));
    }
    if named("Idempotency-Key") {
        out.push(("422", "`validation_failed`: an `Idempotency-Key` that is not 1 to 128 visible ASCII characters"));
    }
    if json_body {
        out.push(("400", "`malformed_json`: a body that is not JSON"));
        out.push((
            "413",
            "`body_too_large`: a body over `server.max_body_bytes` (1 MiB by default)",
        ));
        out.push((
            "415",
            "`unsupported_media_type`: a body not sent as `application/json`",
        ));
        out.push(("422", "`invalid_body` or `validation_failed` (with `fields`, in Chinese and English): a body the schema refuses: an unknown field, a wrong type, a rule of a field"));
    }
    out.push((
        "408",
        "`timeout`: the request, or its body, took longer than the server allows",
    ));
    out.push(("503", "`unavailable`: the server is at its limit of requests in flight, shutting down, or cannot read its database; `busy`/`read_only` on a write the storage refuses. Nothing was written; retry after `Retry-After` when given"));
    if writes {
        out.push(("507", "`disk_full`: the data dir's disk is full. Nothing was written; retry after `Retry-After`"));
    }
    out
}

/// Every status an operation can answer is declared with the error body, merged with the
/// annotation's own words where it declares the status already.
fn refusals(spec: &mut Value) {
    for (_, method, op) in operations(spec) {
        let shared = shared_refusals(&method, op);
        let responses = op
            .entry("responses")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("responses is an object");
        for (status, why) in shared {
            let response = responses.entry(status).or_insert_with(|| {
                json!({
                    "description": "",
                    "content": { "application/json": { "schema": { "$ref": ERROR_BODY } } },
                })
            });
            let reason = status_words(status);
            let said = response["description"].as_str().unwrap_or_default();
            response["description"] = json!(match said {
                "" => why.to_string(),
                s if s == reason => why.to_string(),
                s if s.contains(why) => s.to_string(),
                s => format!("{s}; {why}"),
            });
            if matches!(status, "503" | "507") {
                response["headers"] = json!({
                    "Retry-After": {
                        "description": "Seconds to wait before the same request can succeed.",
                        "schema": { "type": "integer", "minimum": 0 },
                    }
                });
            }
        }
    }
}

/// From a created ticket, what a stateful tester (and a reader) can do next: every operation
/// on `/tickets/{id}` with its id, and the writes that take the version with it too.
fn links(spec: &mut Value) {
    let mut targets: Vec<(String, bool)> = Vec::new();
    for (path, method, op) in operations(spec) {
        if path.starts_with("/api/v1/tickets/{id}")
            && let Some(id) = op.get("operationId").and_then(Value::as_str)
        {
            let versioned = matches!(method.as_str(), "patch")
                || [
                    "transition_ticket",
                    "assign_ticket",
                    "link_ticket",
                    "approve_script",
                ]
                .contains(&id);
            targets.push((id.to_string(), versioned));
        }
    }
    targets.sort();
    let links: Map<String, Value> = targets
        .iter()
        .map(|(id, versioned)| {
            let mut link = json!({
                "operationId": id,
                "parameters": { "id": "$response.body#/id" },
            });
            if *versioned {
                link["requestBody"] = json!({ "version": "$response.body#/version" });
            }
            (id.clone(), link)
        })
        .collect();
    let (mut from_ticket, mut from_attachment) = (Vec::new(), Vec::new());
    for (path, method, op) in operations(spec) {
        let answers_ticket = ["200", "201"].iter().any(|s| {
            op["responses"][s]["content"]["application/json"]["schema"]["$ref"]
                == "#/components/schemas/TicketView"
        });
        if answers_ticket && method != "get" {
            from_ticket.push((path.clone(), method.clone()));
        }
        if path == "/api/v1/tickets/{id}/attachments" {
            from_attachment.push((path, method));
        }
    }
    for (path, method) in from_ticket {
        let op = &mut spec["paths"][&path][&method];
        for status in ["200", "201"] {
            if op["responses"].get(status).is_some() {
                op["responses"][status]["links"] = Value::Object(links.clone());
            }
        }
    }
    for (path, method) in from_attachment {
        spec["paths"][&path][&method]["responses"]["201"]["links"] = json!({
            "download_attachment": {
                "operationId": "download_attachment",
                "parameters": { "id": "$response.body#/id" },
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{Value, json};

    use super::description;
    use crate::config::default_systems;

    /// The description as a server with the default systems serves it.
    fn served() -> Value {
        let systems = default_systems();
        let keys: Vec<&str> = systems.iter().map(|s| s.key.as_str()).collect();
        let recipes = crate::construct::recipes::Recipes::new(&Default::default()).names();
        description(super::Offered {
            systems: &keys,
            log_sources: &[],
            data_queries: &[],
            recipes: &recipes,
            environments: &[],
        })
    }

    /// What the OpenAPI 3.1 reference validator checks that utoipa lets an annotation miss:
    /// a description on every response, every path parameter declared, unique operation ids,
    /// and bytes described as binary rather than as an array of numbers.
    #[test]
    fn the_description_holds_what_generated_clients_need() {
        let spec = served();
        let mut ids = HashSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            let wanted: Vec<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split('}').next())
                .collect();
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                let id = op["operationId"].as_str().unwrap_or_default().to_string();
                assert!(
                    ids.insert(id.clone()),
                    "{at}: operation id {id} is used twice"
                );
                for (status, response) in op["responses"].as_object().unwrap() {
                    let described = response["description"].as_str().unwrap_or_default();
                    assert!(
                        !described.trim().is_empty(),
                        "{at} {status}: no description"
                    );
                    let text = response.to_string();
                    assert!(
                        !(text.contains("octet-stream") && text.contains("\"array\"")),
                        "{at} {status}: bytes described as an array"
                    );
                }
                for name in &wanted {
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| p["in"] == "path" && p["name"] == *name)
                    });
                    assert!(declared, "{at}: path parameter {name} not declared");
                }
            }
        }
    }

    /// The bounds the server enforces on paging are in the description, so a generated
    /// request within it is never refused for them.
    #[test]
    fn paging_bounds_are_described() {
        let spec = served();
        for path in ["/api/v1/tickets", "/api/v1/changes"] {
            let params = spec["paths"][path]["get"]["parameters"].as_array().unwrap();
            let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
            assert_eq!(limit["schema"]["minimum"], serde_json::json!(1), "{path}");
            assert_eq!(
                limit["schema"]["maximum"],
                serde_json::json!(1000),
                "{path}"
            );
        }
    }

    #[test]
    fn the_probes_are_described_as_public_and_the_rest_as_needing_a_token() {
        let spec = served();
        for path in super::PUBLIC_PATHS {
            assert_eq!(
                spec["paths"][path]["get"]["security"],
                serde_json::json!([]),
                "{path}"
            );
        }
        assert!(
            spec["paths"]["/api/v1/tickets"]["get"]
                .get("security")
                .is_none()
        );
        assert_eq!(spec["security"][0]["bearer"], serde_json::json!([]));
    }

    /// The enums are listed in the words the wire carries, so a generated client decodes
    /// every ticket.
    #[test]
    fn enums_are_described_in_their_wire_spelling() {
        use crate::domain::people::Role;
        use crate::domain::ticket::{
            Category, Channel, LinkKind, Priority, Status, TransferTarget,
        };
        let spec = served();
        let listed = |name: &str| -> Vec<String> {
            spec["components"]["schemas"][name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} is described"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        fn wire<T: serde::Serialize>(all: &[T]) -> Vec<String> {
            all.iter()
                .map(|v| {
                    serde_json::to_value(v)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        }
        assert_eq!(listed("Category"), wire(Category::ALL));
        assert_eq!(listed("Status"), wire(Status::ALL));
        assert_eq!(listed("Priority"), wire(Priority::ALL));
        assert_eq!(listed("Channel"), wire(Channel::ALL));
        assert_eq!(listed("TransferTarget"), wire(TransferTarget::ALL));
        assert_eq!(listed("LinkKind"), wire(LinkKind::ALL));
        assert_eq!(
            listed("Role"),
            wire(&[Role::Handler, Role::Submitter, Role::Admin])
        );
    }

    /// `docs/openapi.json` is the description a default server serves, so a change to the API
    /// shows up as a reviewed diff of that file. To accept a change, regenerate it with
    /// `OPSDESK_WRITE_DOCS=1 cargo test --lib checked_in` and review `git diff docs/`.
    #[test]
    fn the_checked_in_description_is_the_served_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
        let generated = serde_json::to_string_pretty(&served()).unwrap() + "\n";
        if std::env::var_os("OPSDESK_WRITE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/openapi.json is not the description the code generates; review the API change \
             and regenerate the file with `OPSDESK_WRITE_DOCS=1 cargo test --lib checked_in`"
        );
    }

    /// Every example in the description is a body the server accepts: it reads as its type,
    /// and a new ticket passes validation against the default systems.
    #[test]
    fn the_examples_are_accepted_bodies() {
        use crate::api::{AssignBody, NewMessage, TicketPatch, TransitionBody};
        use crate::domain::validate::{NewTicket, new_ticket, normalized};
        let spec = served();
        let example = |name: &str| spec["components"]["schemas"][name]["examples"][0].clone();
        let ticket: NewTicket = serde_json::from_value(example("NewTicket")).unwrap();
        let systems = default_systems();
        let keys: Vec<&str> = systems.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(new_ticket(&normalized(ticket), &keys), Ok(()));
        serde_json::from_value::<TicketPatch>(example("TicketPatch")).unwrap();
        serde_json::from_value::<AssignBody>(example("AssignBody")).unwrap();
        let m: NewMessage = serde_json::from_value(example("NewMessage")).unwrap();
        assert!(crate::domain::message::check_body(&m.body).is_ok());
        let t: TransitionBody = serde_json::from_value(example("TransitionBody")).unwrap();
        let request = crate::domain::lifecycle::TransitionRequest {
            to: Some(t.to),
            transfer_to: t.transfer_to,
            note: t.note,
            resolution: t.resolution,
        };
        let from = crate::domain::ticket::Status::Triaging;
        assert!(crate::domain::lifecycle::check(from, &request).is_ok());
    }

    /// The transition body's branches say what `lifecycle::check` needs of each target: a
    /// body missing what its branch requires is refused there for that reason, not another.
    #[test]
    fn the_transition_branches_are_the_lifecycle_rules() {
        use crate::domain::lifecycle::{TransitionError, TransitionRequest, allowed_from, check};
        use crate::domain::ticket::{Status, TransferTarget};
        let spec = served();
        let branches = spec["components"]["schemas"]["TransitionBody"]["oneOf"]
            .as_array()
            .unwrap()
            .clone();
        for to in Status::ALL.iter().copied() {
            let Some(from) = Status::ALL
                .iter()
                .copied()
                .find(|f| allowed_from(*f).contains(&to))
            else {
                continue;
            };
            let word = json!(to);
            let branch = branches
                .iter()
                .find(|b| {
                    b["properties"]["to"]["const"] == word
                        || b["properties"]["to"]["enum"]
                            .as_array()
                            .is_some_and(|e| e.contains(&word))
                })
                .unwrap_or_else(|| panic!("no branch for {to}"));
            let required: Vec<&str> = branch["required"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let full = TransitionRequest {
                to: Some(to),
                transfer_to: required
                    .contains(&"transfer_to")
                    .then_some(TransferTarget::Dev),
                note: required.contains(&"note").then(|| "交接说明".to_string()),
                resolution: required
                    .contains(&"resolution")
                    .then(|| "已处理".to_string()),
            };
            assert_eq!(
                check(from, &full),
                Ok(to),
                "{from} -> {to} with its branch's fields"
            );
            for field in ["transfer_to", "note", "resolution"] {
                let mut short = full.clone();
                match field {
                    "transfer_to" => short.transfer_to = None,
                    "note" => short.note = Some("  ".into()),
                    _ => short.resolution = Some("\u{3000}".into()),
                }
                let refused = check(from, &short);
                if required.contains(&field) {
                    assert!(
                        matches!(refused, Err(ref e) if !e.depends_on_status()),
                        "{to} without {field}: {refused:?}"
                    );
                } else {
                    assert_eq!(refused, Ok(to), "{to} needs no {field}");
                }
            }
            let forbids_target = branch["properties"]["transfer_to"] == json!({"type": "null"});
            let with_target = TransitionRequest {
                transfer_to: Some(TransferTarget::Ops),
                ..full
            };
            if forbids_target {
                assert_eq!(
                    check(from, &with_target),
                    Err(TransitionError::UnexpectedTransferTarget)
                );
            }
        }
    }

    /// Every request body refuses a field it does not know, as the description's
    /// `additionalProperties: false` says.
    #[test]
    fn request_bodies_are_closed() {
        let spec = served();
        for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
            if name.ends_with("Body") && name != "ErrorBody"
                || ["NewTicket", "NewMessage", "TicketPatch", "NewCustomer"]
                    .contains(&name.as_str())
            {
                assert_eq!(schema["additionalProperties"], json!(false), "{name}");
            }
        }
    }
}
