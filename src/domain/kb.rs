//! Knowledge-base articles: what one is, the rules it keeps, and its file form (markdown with
//! TOML front matter, as `kb import` reads and `kb export` writes).
//!
//! An article is the problem as the customer meets it (title, symptoms with the exact error
//! texts), why it happens (cause) and the steps that solve it (markdown). The file's `id` is
//! a stable slug, so an exported knowledge base can be edited in git and imported again.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::sanitize;
use super::ticket::Category;
use super::validate::FieldError;

/// Who may read an article: handlers only (internal troubleshooting), or submitters too (the
/// help center and the MSS suggestions show only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Handlers,
    Submitters,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Handlers => "handlers",
            Audience::Submitters => "submitters",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        match s {
            "handlers" => Some(Audience::Handlers),
            "submitters" => Some(Audience::Submitters),
            _ => None,
        }
    }
}

/// The longest slug, title, tag and symptom an article may carry (characters).
pub const MAX_SLUG: usize = 60;
pub const MIN_TITLE: usize = 4;
pub const MAX_TITLE: usize = 80;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG: usize = 32;
pub const MAX_SYMPTOMS: usize = 10;
pub const MAX_SYMPTOM: usize = 200;
/// Cause and steps: a long article, not a dump.
pub const MAX_TEXT: usize = 20_000;

/// An article's content: what a file holds and what an edit changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// The stable slug: `[a-z0-9-]`, at most 60 characters.
    pub id: String,
    pub title: String,
    /// A configured system key.
    pub system: String,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub audience: Audience,
    #[serde(default)]
    pub hot: bool,
    /// What the customer sees, exact error texts included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<String>,
    #[serde(default)]
    pub cause: String,
    /// The tickets it was written from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_tickets: Vec<i64>,
    pub author: String,
    #[serde(with = "business_time")]
    pub updated_at: DateTime<Utc>,
    /// How often it was opened and found helpful (carried by export and import).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub views: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub helpful: u64,
    /// The resolution steps, markdown: the file's body after the front matter.
    #[serde(skip)]
    pub steps: String,
}

impl Article {
    /// An empty article on `system` by `author`, for handlers only until said otherwise: what
    /// a new one starts from. Its time is to the second, as its file says it.
    pub fn draft(system: &str, author: &str, at: DateTime<Utc>) -> Article {
        Article {
            id: String::new(),
            title: String::new(),
            system: system.to_string(),
            category: Category::Consultation,
            tags: Vec::new(),
            audience: Audience::Handlers,
            hot: false,
            symptoms: Vec::new(),
            cause: String::new(),
            source_tickets: Vec::new(),
            author: author.to_string(),
            updated_at: chrono::SubsecRound::trunc_subsecs(at, 0),
            views: 0,
            helpful: 0,
            steps: String::new(),
        }
    }

    /// Whether submitters may read it too (the help center and the MSS suggestions show it).
    pub fn for_submitters(&self) -> bool {
        self.audience == Audience::Submitters
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Times in files are written in the business time zone (UTC+8), as people there read them.
mod business_time {
    use chrono::{DateTime, FixedOffset, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let east8 = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        // To the second: a file is read by people, and what it says is what it keeps.
        let t = t.with_timezone(&east8);
        s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "updated_at '{text}': {e} (want RFC 3339, e.g. 2026-11-18T10:20:00+08:00)"
                ))
            })
    }
}

/// Why a file is not an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError(pub String);

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const FENCE: &str = "+++";
const YAML_FENCE: &str = "---";

/// Reads an article file: `+++`, TOML front matter, `+++`, then the steps in markdown.
pub fn parse_file(text: &str) -> Result<Article, FileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // TOML between `+++` lines (what export writes), or YAML between `---` lines (what many
    // static-site and wiki exports write).
    let (fence, yaml) = if text.starts_with(YAML_FENCE) {
        (YAML_FENCE, true)
    } else {
        (FENCE, false)
    };
    let Some(rest) = text
        .strip_prefix(fence)
        .and_then(|r| r.strip_prefix(['\n', '\r']))
    else {
        return Err(FileError(
            "the file must start with a line '+++' opening TOML front matter (or '---' opening YAML)"
                .into(),
        ));
    };
    let rest = rest.strip_prefix('\n').unwrap_or(rest);
    let Some((front, body)) = split_at_fence(rest, fence) else {
        return Err(FileError(format!(
            "the front matter has no closing '{fence}' line"
        )));
    };
    let mut article: Article = if yaml {
        serde_norway::from_str(front).map_err(|e| {
            let line = e.location().map_or(1, |l| l.line() + 1);
            let message = e.to_string();
            // The crate appends "at line N column M"; the line is said first, in file terms.
            let message = message.split(" at line ").next().unwrap_or(&message);
            FileError(format!("line {line}: {message}"))
        })?
    } else {
        toml::from_str(front).map_err(|e| {
            // One line a problem: the line in the file (the fence is line 1) and the message.
            let line = e.span().map_or(1, |span| {
                front[..span.start.min(front.len())].matches('\n').count() + 2
            });
            FileError(format!("line {line}: {}", e.message().trim_end()))
        })?
    };
    article.steps = body.trim().to_string();
    Ok(article)
}

/// The front matter and the body, split at the first line that is exactly `fence`.
fn split_at_fence<'a>(s: &'a str, fence: &str) -> Option<(&'a str, &'a str)> {
    let mut at = 0;
    for line in s.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == fence {
            return Some((&s[..at], &s[at + line.len()..]));
        }
        at += line.len();
    }
    None
}

/// Writes an article as its file; `parse_file` of the result gives the article back.
pub fn render_file(article: &Article) -> String {
    let front = toml::to_string(article).expect("an article serialises to TOML");
    format!("{FENCE}\n{front}{FENCE}\n\n{}\n", article.steps)
}

/// The article's problems with the rules, field by field (the English sentence names the
/// field as the file spells it).
pub fn check(article: &Article, systems: &[&str]) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut refuse = |field: &str, zh: String, en: String| {
        problems.push(FieldError::new(field, zh, en));
    };
    let chars = |s: &str| s.trim().chars().count();
    let slug_ok = !article.id.is_empty()
        && article.id.len() <= MAX_SLUG
        && article
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug_ok {
        refuse(
            "slug",
            format!("编号只能用小写字母、数字和“-”，最多 {MAX_SLUG} 个"),
            format!(
                "id '{}' must be 1 to {MAX_SLUG} of a-z, 0-9 and '-'",
                article.id.chars().take(80).collect::<String>()
            ),
        );
    }
    if !(MIN_TITLE..=MAX_TITLE).contains(&chars(&article.title)) {
        refuse(
            "title",
            format!("标题需 {MIN_TITLE}–{MAX_TITLE} 个字"),
            format!("title must be {MIN_TITLE} to {MAX_TITLE} characters"),
        );
    }
    if !systems.contains(&article.system.as_str()) {
        refuse(
            "system",
            "请选择已配置的系统".into(),
            format!(
                "system '{}' is not a configured system ({})",
                article.system,
                systems.join(", ")
            ),
        );
    }
    if article.tags.len() > MAX_TAGS
        || article
            .tags
            .iter()
            .any(|t| !(1..=MAX_TAG).contains(&chars(t)))
    {
        refuse(
            "tags",
            format!("标签最多 {MAX_TAGS} 个，每个 1–{MAX_TAG} 个字"),
            format!("tags: at most {MAX_TAGS}, each 1 to {MAX_TAG} characters"),
        );
    }
    if article.symptoms.len() > MAX_SYMPTOMS
        || article
            .symptoms
            .iter()
            .any(|s| !(1..=MAX_SYMPTOM).contains(&chars(s)))
    {
        refuse(
            "symptoms",
            format!("现象最多 {MAX_SYMPTOMS} 条，每条 1–{MAX_SYMPTOM} 个字"),
            format!("symptoms: at most {MAX_SYMPTOMS}, each 1 to {MAX_SYMPTOM} characters"),
        );
    }
    if chars(&article.cause) > MAX_TEXT {
        refuse(
            "cause",
            format!("原因最多 {MAX_TEXT} 个字"),
            format!("cause: at most {MAX_TEXT} characters"),
        );
    }
    if !(1..=MAX_TEXT).contains(&chars(&article.steps)) {
        refuse(
            "steps",
            format!("处理步骤需 1–{MAX_TEXT} 个字"),
            format!(
                "the steps (the markdown after the front matter) must be 1 to {MAX_TEXT} characters"
            ),
        );
    }
    if article.source_tickets.iter().any(|&t| t < 1) {
        refuse(
            "source_tickets",
            "来源工单号须为正整数".into(),
            "source_tickets: ticket numbers are positive".into(),
        );
    }
    if article.author.trim().is_empty() {
        refuse("author", "请填写作者".into(), "author must be given".into());
    }
    // Articles reach terminals and pages: no escape sequence or bidi override is kept, and a
    // one-line field holds no line break or tab either.
    let one_line = |t: &str| {
        t.chars()
            .any(|c| c.is_control() || sanitize::is_bidi_control(c))
    };
    let prose = |t: &str| t.chars().any(|c| sanitize::is_unsafe(c) && c != '\r');
    let unsafe_fields = [
        ("title", one_line(&article.title)),
        ("tags", article.tags.iter().any(|t| one_line(t))),
        ("symptoms", article.symptoms.iter().any(|t| one_line(t))),
        ("author", one_line(&article.author)),
        ("cause", prose(&article.cause)),
        ("steps", prose(&article.steps)),
    ];
    for (field, _) in unsafe_fields.iter().filter(|(_, bad)| *bad) {
        refuse(
            field,
            "不能含控制字符".into(),
            format!("{field}: control characters and bidi overrides are not allowed"),
        );
    }
    problems
}

/// What a resolved ticket gives an article written up from it.
pub struct FromTicket<'a> {
    pub id: i64,
    pub title: &'a str,
    pub system: &'a str,
    pub category: Category,
    pub description: &'a str,
    pub resolution: Option<&'a str>,
}

/// The texts a customer saw, as a description quotes them (“…”, "…", 「…」), in order and
/// once each; the description's first sentence when it quotes none.
pub fn quoted_errors(description: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (open, close) in [('“', '”'), ('"', '"'), ('「', '」')] {
        let mut rest = description;
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len_utf8()..];
            let Some(end) = after.find(close) else { break };
            let quoted = after[..end].trim();
            if !quoted.is_empty()
                && quoted.chars().count() <= MAX_SYMPTOM
                && !out.iter().any(|q| q == quoted)
            {
                out.push(quoted.to_string());
            }
            rest = &after[end + close.len_utf8()..];
        }
    }
    if out.is_empty() {
        let first = description
            .split(['。', '！', '？', '\n'])
            .map(str::trim)
            .find(|s| !s.is_empty());
        out.extend(first.map(|s| s.chars().take(MAX_SYMPTOM).collect()));
    }
    out.truncate(MAX_SYMPTOMS);
    out
}

/// A draft article written up from a resolved ticket: its title, system and category, the
/// error texts the customer saw as symptoms, the resolution as the steps, the ticket as its
/// source; for handlers until the writer says otherwise. Long numbers (accounts, phones, ID
/// numbers) are masked: an article is read by people who may not see the customer.
pub fn written_up(t: &FromTicket<'_>, author: &str, at: DateTime<Utc>) -> Article {
    use super::mask::mask_long_numbers as masked;
    Article {
        title: masked(t.title.trim()),
        category: t.category,
        symptoms: quoted_errors(t.description)
            .iter()
            .map(|s| masked(s))
            .collect(),
        source_tickets: vec![t.id],
        steps: masked(t.resolution.unwrap_or("").trim()),
        ..Article::draft(t.system, author, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "+++
id = \"account-opening-video-witness-failed\"
title = \"开户失败：视频见证时提示“网络异常，请稍后重试”\"
system = \"account_opening\"
category = \"consultation\"
tags = [\"开户\", \"open account\"]
audience = \"submitters\"
hot = true
symptoms = [\"视频见证页面提示“网络异常，请稍后重试”\"]
cause = \"\"\"
视频见证走实时音视频通道。
\"\"\"
author = \"h_chen\"
updated_at = \"2026-11-18T10:20:00+08:00\"
+++

1. 请客户切换到稳定的网络。
2. 重新进入视频见证。
";

    #[test]
    fn a_file_reads_and_writes_back_to_the_same_article() {
        let a = parse_file(FILE).unwrap();
        assert_eq!(a.id, "account-opening-video-witness-failed");
        assert_eq!(a.category, Category::Consultation);
        assert_eq!(a.audience, Audience::Submitters);
        assert!(a.hot);
        assert_eq!(
            a.steps,
            "1. 请客户切换到稳定的网络。\n2. 重新进入视频见证。"
        );
        assert_eq!(a.updated_at.to_rfc3339(), "2026-11-18T02:20:00+00:00");
        let written = render_file(&a);
        assert_eq!(parse_file(&written).unwrap(), a);
        assert_eq!(
            render_file(&parse_file(&written).unwrap()),
            written,
            "stable"
        );
        assert!(
            written.contains("updated_at = \"2026-11-18T10:20:00+08:00\""),
            "{written}"
        );
        assert!(check(&a, &["account_opening"]).is_empty());
    }

    #[test]
    fn yaml_front_matter_reads_as_the_same_article() {
        let yaml = "---
id: account-opening-video-witness-failed
title: 开户失败：视频见证时提示“网络异常，请稍后重试”
system: account_opening
category: consultation
tags: [开户, open account]
audience: submitters
hot: true
symptoms:
  - 视频见证页面提示“网络异常，请稍后重试”
cause: |
  视频见证走实时音视频通道。
author: h_chen
updated_at: 2026-11-18T10:20:00+08:00
---

1. 请客户切换到稳定的网络。
2. 重新进入视频见证。
";
        assert_eq!(parse_file(yaml).unwrap(), parse_file(FILE).unwrap());
        let unknown = yaml.replace("hot: true", "hot: true\ncolour: red");
        assert!(parse_file(&unknown).unwrap_err().0.contains("colour"));
    }

    #[test]
    fn broken_files_say_what_is_wrong() {
        let err = |text: &str| parse_file(text).unwrap_err().0;
        assert!(err("no front matter").contains("must start with a line '+++'"));
        assert!(err("---\ntitle: x\n").contains("no closing '---'"));
        assert_eq!(
            err("---\nid: [\n---\nsteps").split(':').next(),
            Some("line 2")
        );
        assert!(err("+++\ntitle = \"x\"\n").contains("no closing '+++'"));
        assert_eq!(
            err("+++\nid = \"a\"\ntitle = \n+++\nsteps"),
            "line 3: string values must be quoted, expected literal string"
        );
        let unknown = FILE.replace("hot = true", "hot = true\ncolour = \"red\"");
        assert!(err(&unknown).contains("colour"), "{}", err(&unknown));
        let missing = FILE.replace("author = \"h_chen\"\n", "");
        assert!(err(&missing).contains("author"), "{}", err(&missing));
        let time = FILE.replace("2026-11-18T10:20:00+08:00", "yesterday");
        assert!(err(&time).contains("RFC 3339"), "{}", err(&time));
        let word = FILE.replace("\"consultation\"", "\"advice\"");
        assert!(err(&word).contains("advice"), "{}", err(&word));
    }

    #[test]
    fn a_ticket_written_up_keeps_the_customers_words_and_not_the_customer() {
        let t = FromTicket {
            id: 42,
            title: "客户 310012345678 开户失败",
            system: "account_opening",
            category: Category::Program,
            description: "客户说提示“中登开户接口超时”，又提示「请稍后再试」，再次提示“中登开户接口超时”。手机 13812345678",
            resolution: Some("  次日 9:30 后重试即可。  "),
        };
        let a = written_up(&t, "h_chen", Utc::now());
        assert_eq!(a.symptoms, ["中登开户接口超时", "请稍后再试"]);
        assert!(!a.title.contains("310012345678"), "{}", a.title);
        assert_eq!(a.steps, "次日 9:30 后重试即可。");
        assert_eq!(a.source_tickets, [42]);
        assert_eq!(a.audience, Audience::Handlers);
        // No quotes: the first sentence, numbers masked.
        let plain = quoted_errors("APP 登录后白屏，账号 310012345678。已重装");
        assert_eq!(plain, ["APP 登录后白屏，账号 310012345678"]);
    }

    #[test]
    fn the_rules_name_each_field() {
        let mut a = parse_file(FILE).unwrap();
        a.id = "Has Spaces".into();
        a.title = "短".into();
        a.system = "nowhere".into();
        a.tags = vec![String::new()];
        a.steps = "  ".into();
        a.author = " ".into();
        let problems = check(&a, &["account_opening"]);
        for field in ["id", "title", "system", "tags", "steps", "author"] {
            assert!(
                problems.iter().any(|p| p.en.contains(field)),
                "{field}: {problems:?}"
            );
        }
    }

    #[test]
    fn escape_sequences_and_line_breaks_are_refused_where_they_do_not_belong() {
        let good = parse_file(FILE).unwrap();
        assert!(check(&good, &["account_opening"]).is_empty());
        let refused = |a: &Article| -> Vec<String> {
            check(a, &["account_opening"])
                .into_iter()
                .map(|p| p.field)
                .collect()
        };
        let mut a = good.clone();
        a.title = "开户失败\u{1b}]52;c;ZXZpbA==\u{7}提示".into();
        a.tags = vec!["开户\n失败".into()];
        a.symptoms = vec!["提示\u{202E}败失户开".into()];
        a.steps = "1. 重试\u{1b}[2J\n".into();
        assert_eq!(refused(&a), ["title", "tags", "symptoms", "steps"]);
        let mut a = good;
        a.steps = "1. 重试\r\n\t2. 再试\n".into();
        a.cause = "网络\n抖动".into();
        assert!(
            refused(&a).is_empty(),
            "line breaks and tabs belong in the text"
        );
    }

    #[test]
    fn every_demo_article_keeps_the_rules() {
        let systems: Vec<String> = crate::config::default_systems()
            .into_iter()
            .map(|s| s.key)
            .collect();
        let systems: Vec<&str> = systems.iter().map(String::as_str).collect();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kb");
        let mut seen = std::collections::HashSet::new();
        let mut count = 0;
        for system in std::fs::read_dir(&dir).unwrap() {
            for file in std::fs::read_dir(system.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let a = parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(
                    check(&a, &systems),
                    Vec::<FieldError>::new(),
                    "{}",
                    path.display()
                );
                assert!(seen.insert(a.id.clone()), "{} twice", a.id);
                assert_eq!(
                    parse_file(&render_file(&a)).unwrap(),
                    a,
                    "{}",
                    path.display()
                );
                count += 1;
            }
        }
        assert!(count >= 150, "{count}");
    }
}
