//! Canned replies: the answers a desk gives again and again, kept as a library (a file in the
//! config dir over the shipped ones) and picked by name in the editor. Slots in a body are
//! filled for the ticket at hand: `{客户}` (the customer's masked name), `{工单号}`, `{系统}`,
//! `{提交人}`, `{处理人}`.
//!
//! Pure: parsing and filling; the workstation reads the files.

use serde::Deserialize;

/// One canned reply.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    /// What the picker shows: "密码重置后登录".
    pub title: String,
    /// The system it is for (a key, `account`); none: every system.
    #[serde(default)]
    pub system: Option<String>,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    reply: Vec<Canned>,
}

/// The values the slots are filled with.
#[derive(Clone, Debug, Default)]
pub struct Slots<'a> {
    pub customer: &'a str,
    pub ticket: &'a str,
    pub system: &'a str,
    pub submitter: &'a str,
    pub handler: &'a str,
}

/// Reads a library; an error names the line (`file:line: …`).
pub fn parse(file: &str, text: &str) -> Result<Vec<Canned>, String> {
    let parsed: File = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        format!("{file}:{line}: {}", e.message())
    })?;
    for (i, c) in parsed.reply.iter().enumerate() {
        if c.title.trim().is_empty() || c.body.trim().is_empty() {
            return Err(format!("{file}: reply {} needs a title and a body", i + 1));
        }
    }
    Ok(parsed.reply)
}

/// The library for a ticket of `system`: those for it first, then those for every system;
/// a user's entry with the same title as a shipped one replaces it.
pub fn for_system<'a>(library: &'a [Canned], system: &str) -> Vec<&'a Canned> {
    let mut chosen: Vec<&Canned> = Vec::new();
    for c in library.iter().rev() {
        if !chosen.iter().any(|k| k.title == c.title) {
            chosen.push(c);
        }
    }
    chosen.reverse();
    chosen.retain(|c| c.system.as_deref().is_none_or(|s| s == system));
    chosen.sort_by_key(|c| c.system.is_none());
    chosen
}

/// A body with its slots filled.
pub fn fill(body: &str, slots: &Slots<'_>) -> String {
    body.replace("{客户}", slots.customer)
        .replace("{工单号}", slots.ticket)
        .replace("{系统}", slots.system)
        .replace("{提交人}", slots.submitter)
        .replace("{处理人}", slots.handler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_library_reads_and_fills() {
        let library = parse(
            "replies.toml",
            include_str!("../../fixtures/canned/replies.toml"),
        )
        .expect("the shipped replies read");
        assert!(library.len() >= 12);
        let account = for_system(&library, "account");
        assert!(
            account
                .iter()
                .any(|c| c.system.as_deref() == Some("account"))
        );
        assert!(
            account
                .iter()
                .all(|c| c.system.as_deref() != Some("trading"))
        );
        let slots = Slots {
            customer: "王**",
            ticket: "101",
            system: "账户",
            submitter: "cm_wang",
            handler: "h_chen",
        };
        let filled = fill(
            "{客户}（工单 {工单号}，{系统}）由 {处理人} 处理，{提交人} 请知悉",
            &slots,
        );
        assert_eq!(
            filled,
            "王**（工单 101，账户）由 h_chen 处理，cm_wang 请知悉"
        );
    }

    #[test]
    fn a_users_reply_replaces_the_shipped_one_of_the_same_title_and_errors_name_the_line() {
        let shipped = parse("a", "[[reply]]\ntitle = \"问候\"\nbody = \"您好\"\n").unwrap();
        let mine = parse(
            "b",
            "[[reply]]\ntitle = \"问候\"\nbody = \"您好，我是值班的\"\n",
        )
        .unwrap();
        let all: Vec<Canned> = shipped.into_iter().chain(mine).collect();
        let chosen = for_system(&all, "trading");
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].body, "您好，我是值班的");
        let err = parse(
            "canned.toml",
            "[[reply]]\ntitle = \"x\"\nbody = \"y\"\ncolour = 1\n",
        )
        .unwrap_err();
        assert!(err.starts_with("canned.toml:4:"), "{err}");
        assert!(parse("c", "[[reply]]\ntitle = \" \"\nbody = \"y\"\n").is_err());
    }
}
