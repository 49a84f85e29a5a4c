//! Recording a knowledge session from the workstation (`n`), and changing one later (`e`: its
//! views grow with the replays). The form is the shared editor holding a few `field = value`
//! lines (TOML, as the KB pane's articles are), so nothing new has to be learnt to fill it in;
//! a refusal reopens it with each reason written above the field it is about, and nothing
//! typed is lost: a form the server cannot take now is kept as a draft.

use chrono::NaiveDate;
use futures::FutureExt;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::super::PaneId;
use crate::client::ClientError;
use crate::domain::report::sheet::Topic;
use crate::domain::report::{KnowledgeSession, NewSession, SessionChange};
use crate::tui::desk::Desk;
use crate::tui::effect::{Effect, Io, Job};
use crate::tui::overlay::Overlay;

/// What a session form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    New,
    Edit { id: i64, version: i64 },
}

impl Form {
    fn draft_key(self) -> String {
        match self {
            Form::New => "stats/session-new".into(),
            Form::Edit { id, .. } => format!("stats/session-{id}"),
        }
    }

    fn title(self) -> String {
        match self {
            Form::New => "记录知识分享 record a knowledge session".into(),
            Form::Edit { id, .. } => format!("修改知识分享 #{id} change a knowledge session"),
        }
    }
}

/// The editor's purpose: a session form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionText(pub Form);

/// The fields in the order the form lists them, with what each asks for (a comment at the
/// end of its line, so the whole form fits the editor at 80×24).
const FIELDS: &[(&str, &str)] = &[
    ("held_on", "日期 day held, YYYY-MM-DD"),
    ("topic", "主题 topic"),
    ("systems", "系统 systems"),
    ("kb_articles", "知识库文章编号 KB article ids"),
    ("live_viewers", "直播人数 live viewers"),
    ("total_views", "总观看，含回放 views incl. replays"),
];

/// The form's first line: how to fill it in.
const HOW: &str = "# 列表用逗号分隔 lists comma-separated · \"\" 表示不知道 unknown";

/// A reason the form was refused, as written above its field.
const REFUSAL: &str = "# ✗ ";

/// A new session as the form starts it: today, on the first proposed topic.
pub fn blank(today: NaiveDate, topic: Option<&Topic>) -> NewSession {
    NewSession {
        held_on: today,
        topic: topic.map(|t| t.title.clone()).unwrap_or_default(),
        systems: topic.map(|t| t.systems.clone()).unwrap_or_default(),
        kb_articles: topic.and_then(|t| t.kb_article).into_iter().collect(),
        live_viewers: None,
        total_views: None,
    }
}

/// The form's text for `s`, the systems known named at its end.
pub fn template(s: &NewSession, known: &[String]) -> String {
    let quoted = |v: &str| toml::Value::String(v.to_string()).to_string();
    let count = |v: Option<i64>| v.map_or_else(|| "\"\"".to_string(), |n| n.to_string());
    let join = |items: Vec<String>| quoted(&items.join(", "));
    let mut out = format!("{HOW}\n");
    for (field, about) in FIELDS {
        let value = match *field {
            "held_on" => quoted(&s.held_on.to_string()),
            "topic" => quoted(&s.topic),
            "systems" => join(s.systems.clone()),
            "kb_articles" => join(s.kb_articles.iter().map(i64::to_string).collect()),
            "live_viewers" => count(s.live_viewers),
            _ => count(s.total_views),
        };
        let line = format!("{field} = {value}");
        let pad = 28usize.saturating_sub(unicode_width::UnicodeWidthStr::width(line.as_str()));
        out.push_str(&format!("{line}{}  # {about}\n", " ".repeat(pad)));
    }
    if !known.is_empty() {
        out.push_str(&format!("# 系统 systems: {}\n", known.join(", ")));
    }
    out
}

/// `text` with each reason (`field: why`) written above its field's line; a reason naming no
/// field of the form goes on top. Earlier reasons are taken out first.
pub fn with_refusals(text: &str, reasons: &[String]) -> String {
    let mut top: Vec<&String> = Vec::new();
    let mut by_field: Vec<(&str, &String)> = Vec::new();
    for r in reasons {
        match r.split_once(':').map(|(f, _)| f.trim()) {
            Some(f) if FIELDS.iter().any(|(name, _)| *name == f) => by_field.push((f, r)),
            _ => top.push(r),
        }
    }
    let mut out = String::new();
    for r in top {
        out.push_str(&format!("{REFUSAL}{r}\n"));
    }
    for line in text.lines().filter(|l| !l.starts_with(REFUSAL)) {
        let key = line.split_once('=').map(|(k, _)| k.trim());
        for (_, r) in by_field.iter().filter(|(f, _)| Some(*f) == key) {
            out.push_str(&format!("{REFUSAL}{r}\n"));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Reads the form: the session, or every field that cannot be read (`field: why`).
pub fn parse(text: &str) -> Result<NewSession, Vec<String>> {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            let why = e.message().to_string();
            return Err(vec![format!("表单读不出来 the form cannot be read: {why}")]);
        }
    };
    let mut errors = Vec::new();
    let mut s = NewSession::default();
    for key in table.keys() {
        if !FIELDS.iter().any(|(f, _)| f == key) {
            let shown: String = key.chars().take(30).collect();
            errors.push(format!("没有这一项 no field '{shown}'"));
        }
    }
    match table.get("held_on").map(|v| match v {
        toml::Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }) {
        Some(day) => match day.parse::<NaiveDate>() {
            Ok(d) => s.held_on = d,
            Err(_) => errors.push("held_on: 日期写作 2026-11-24 write it as 2026-11-24".into()),
        },
        None => errors.push("held_on: 需要日期 a day is needed".into()),
    }
    match table.get("topic") {
        Some(toml::Value::String(t)) => s.topic = t.trim().to_string(),
        _ => errors.push("topic: 需要主题 a topic is needed".into()),
    }
    match list(table.get("systems")) {
        Ok(items) => s.systems = items,
        Err(()) => {
            errors.push("systems: 写作 \"trading, app\" write them as \"trading, app\"".into())
        }
    }
    match list(table.get("kb_articles")).and_then(|items| {
        items
            .iter()
            .map(|i| i.trim_start_matches('#').parse::<i64>().map_err(|_| ()))
            .collect::<Result<Vec<i64>, ()>>()
    }) {
        Ok(ids) => s.kb_articles = ids,
        Err(()) => errors.push("kb_articles: 文章编号是数字 article ids are numbers".into()),
    }
    for (field, slot) in [
        ("live_viewers", &mut s.live_viewers),
        ("total_views", &mut s.total_views),
    ] {
        match count(table.get(field)) {
            Ok(n) => *slot = n,
            Err(()) => errors.push(format!(
                "{field}: 人数是不小于 0 的整数，或留空 \"\" a whole number, or \"\""
            )),
        }
    }
    if errors.is_empty() {
        Ok(s.normalized().deduped())
    } else {
        Err(errors)
    }
}

/// A comma-separated string or an array of strings or numbers; absent is empty.
fn list(v: Option<&toml::Value>) -> Result<Vec<String>, ()> {
    let words = |s: &str| -> Vec<String> {
        s.split([',', '，', '、'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    match v {
        None => Ok(Vec::new()),
        Some(toml::Value::String(s)) => Ok(words(s)),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) => Ok(s.trim().to_string()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                _ => Err(()),
            })
            .collect(),
        Some(toml::Value::Integer(n)) => Ok(vec![n.to_string()]),
        Some(_) => Err(()),
    }
}

/// A whole number not below zero, or `""` (or absent) for not known.
fn count(v: Option<&toml::Value>) -> Result<Option<i64>, ()> {
    match v {
        None => Ok(None),
        Some(toml::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(toml::Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err(()),
        },
        Some(toml::Value::Integer(n)) if *n >= 0 => Ok(Some(*n)),
        Some(_) => Err(()),
    }
}

/// The systems a form may name, for its comment.
fn known(desk: &Desk) -> Vec<String> {
    desk.systems.iter().map(|s| s.key.clone()).collect()
}

/// Opens the form for `form`: the draft kept for it when there is one, else `values`.
pub fn open(form: Form, values: &NewSession, desk: &mut Desk) {
    let kept = desk.drafts.get(&form.draft_key()).cloned();
    let template = template(values, &known(desk));
    desk.overlay(editor(form, form.title(), &template, kept.as_deref()));
}

fn editor(form: Form, title: String, template: &str, kept: Option<&str>) -> Overlay {
    Overlay::editor(
        PaneId::STATS,
        SessionText(form),
        title,
        template,
        kept,
        Vec::new(),
        Some(form.draft_key()),
    )
}

/// Keeps `text` as the form's draft, here and in the local cache.
fn keep(form: Form, text: String, desk: &mut Desk) -> Effect {
    crate::tui::drafts::keep(form.draft_key(), text, desk)
}

/// Reopens the form with the reasons above their fields, and says so.
fn reopen(form: Form, text: &str, reasons: &[String], desk: &mut Desk) -> Vec<Effect> {
    let text = with_refusals(text, reasons);
    desk.toast(format!("未保存 · not saved: {}", reasons.join("; ")), true);
    let title = format!("{} · 未保存 not saved", form.title());
    desk.overlay(editor(form, title, &text, None));
    vec![keep(form, text, desk)]
}

/// The key that makes a resent session safe: the same form sent twice is one session; a
/// corrected one (after a refusal) is another request.
pub fn idempotency_key(s: &NewSession) -> String {
    let body = serde_json::to_vec(s).unwrap_or_default();
    let digest = Sha256::digest(&body);
    format!("tui-session-{}", hex::encode(&digest[..12]))
}

/// The form was sent: read and saved, or reopened with what is wrong.
pub fn written(form: Form, text: String, desk: &mut Desk) -> Vec<Effect> {
    match parse(&text) {
        Ok(session) => vec![Effect::run(
            Some(PaneId::STATS),
            SaveSession {
                form,
                key: idempotency_key(&session),
                session,
                text,
            },
        )],
        Err(reasons) => reopen(form, &text, &reasons, desk),
    }
}

/// What a change sends: every field of the form, over the version it was read at.
pub fn change_of(s: &NewSession, version: i64) -> SessionChange {
    SessionChange {
        held_on: Some(s.held_on),
        topic: Some(s.topic.clone()),
        systems: Some(s.systems.clone()),
        kb_articles: Some(s.kb_articles.clone()),
        live_viewers: s.live_viewers,
        total_views: s.total_views,
        version: Some(version),
    }
}

/// Sends a session (new, or a change) to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveSession {
    pub form: Form,
    pub session: NewSession,
    pub key: String,
    /// The form's text, to reopen it with if the server refuses.
    pub text: String,
}

/// What came of it.
#[derive(Debug)]
pub struct SessionSaved {
    pub form: Form,
    pub text: String,
    pub result: Result<KnowledgeSession, Refusal>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Fields the server refused (`field: why`).
    Invalid(Vec<String>),
    /// Someone changed the session since the report was read.
    Changed,
    /// Not reached, or not now: kept as a draft.
    Later(String),
}

impl Job for SaveSession {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let SaveSession {
                form,
                session,
                key,
                text,
            } = *self;
            let sent = match form {
                Form::New => io.client.record_session(&session, Some(&key)).await,
                Form::Edit { id, version } => {
                    io.client
                        .change_session(id, &change_of(&session, version))
                        .await
                }
            };
            let result = sent.map_err(|e| match e {
                ClientError::Api {
                    status: 409, code, ..
                } if code == "version_conflict" => Refusal::Changed,
                ClientError::Api {
                    status: 400 | 409 | 422,
                    message,
                    fields,
                    ..
                } => Refusal::Invalid(if fields.is_empty() {
                    vec![message]
                } else {
                    fields
                }),
                e => Refusal::Later(crate::tui::calls::explain(&e)),
            });
            io.reply(SessionSaved { form, text, result }).await;
        }
        .boxed()
    }
}

/// The server answered; true when a session was saved (the report is fetched again).
pub fn on_saved(saved: SessionSaved, desk: &mut Desk) -> (bool, Vec<Effect>) {
    let SessionSaved { form, text, result } = saved;
    match result {
        Ok(s) => {
            desk.toast(
                format!("知识分享已保存 · session saved: {} {}", s.held_on, s.topic),
                false,
            );
            (true, Vec::new())
        }
        Err(Refusal::Invalid(reasons)) => (false, reopen(form, &text, &reasons, desk)),
        Err(Refusal::Changed) => {
            desk.toast(
                "这次分享已被他人修改，已重新载入报告，请再按 e 修改 · changed by someone else: the report is reloaded, press e again",
                true,
            );
            (true, vec![keep(form, text, desk)])
        }
        Err(Refusal::Later(why)) => {
            desk.toast(
                format!("未发出，已存为草稿 · not sent, kept as a draft: {why}"),
                true,
            );
            (false, vec![keep(form, text, desk)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_form_starts_from_the_first_topic_and_reads_back() {
        let topic = Topic {
            title: "委托提示可用资金不足".into(),
            tickets: 14,
            kb_article: Some(3),
            systems: vec!["trading".into()],
        };
        let s = blank(day("2026-11-24"), Some(&topic));
        let text = template(&s, &["trading".into(), "app".into()]);
        assert!(text.contains("held_on = \"2026-11-24\""), "{text}");
        assert!(text.contains("topic = \"委托提示可用资金不足\""), "{text}");
        assert_eq!(parse(&text), Ok(s.clone()));
        // Filled in by hand: lists as the handler writes them, viewers as numbers.
        let filled = text
            .replace(
                "systems = \"trading\"",
                "systems = \"trading，app, trading\"",
            )
            .replace("kb_articles = \"3\"", "kb_articles = \"#3, 7\"")
            .replace("live_viewers = \"\"", "live_viewers = 180")
            .replace("total_views = \"\"", "total_views = \"640\"");
        assert_eq!(
            parse(&filled),
            Ok(NewSession {
                held_on: day("2026-11-24"),
                topic: "委托提示可用资金不足".into(),
                systems: vec!["trading".into(), "app".into()],
                kb_articles: vec![3, 7],
                live_viewers: Some(180),
                total_views: Some(640),
            })
        );
    }

    #[test]
    fn what_cannot_be_read_is_named_by_field_and_written_above_it() {
        let s = blank(day("2026-11-24"), None);
        let text = template(&s, &[])
            .replace("\"2026-11-24\"", "\"24/11\"")
            .replace("live_viewers = \"\"", "live_viewers = -3");
        let reasons = parse(&text).unwrap_err();
        let fields: Vec<&str> = reasons
            .iter()
            .filter_map(|r| r.split_once(':').map(|(f, _)| f))
            .collect();
        assert_eq!(fields, ["held_on", "live_viewers"]);
        let marked = with_refusals(&text, &reasons);
        let lines: Vec<&str> = marked.lines().collect();
        let at = lines.iter().position(|l| l.starts_with("held_on")).unwrap();
        assert!(lines[at - 1].starts_with("# ✗ held_on:"), "{marked}");
        // A second refusal replaces the first.
        let again = with_refusals(&marked, &["topic: 主题需 2–120 个字".into()]);
        assert_eq!(again.matches(REFUSAL).count(), 1);
        assert!(parse("held_on = ").is_err());
    }

    #[test]
    fn the_same_form_sent_twice_carries_the_same_key() {
        let s = blank(day("2026-11-24"), None);
        assert_eq!(idempotency_key(&s), idempotency_key(&s.clone()));
        let other = NewSession {
            topic: "另一个".into(),
            ..s.clone()
        };
        assert_ne!(idempotency_key(&s), idempotency_key(&other));
        let change = change_of(&s, 4);
        assert_eq!(change.version, Some(4));
        assert_eq!(change.held_on, Some(s.held_on));
    }
}
