//! The internal note that carries log lines into a ticket: the lines as they were found, and
//! the query that found them written as a command the next person can run again.

use chrono::{DateTime, Utc};

use crate::api::{DataRows, LogLine, LookupRequest};

/// A line's message in a note is cut here: a note is read, not searched.
const MAX_MESSAGE_CHARS: usize = 1_000;

/// The note: a heading, each line (time, level, source, message, where it was read), then the
/// query as `opsdesk logs search …`.
pub fn text(lines: &[&LogLine], asked: &LookupRequest, zone: chrono_tz::Tz) -> String {
    let mut out = format!("日志 log lines ({}):\n", lines.len());
    for line in lines {
        let message: String = line
            .message
            .replace(['\n', '\r'], " ")
            .chars()
            .take(MAX_MESSAGE_CHARS)
            .collect();
        out.push_str(&format!(
            "[{} {} {}] {}\n  ({})\n",
            local(line.at, zone),
            line.level.as_deref().unwrap_or("-"),
            line.source,
            message,
            line.origin,
        ));
    }
    out.push_str(&format!("查询 query: {}", command(asked, zone)));
    out
}

/// The note of a data lookup: the rows as a table (customer columns as masked as shown), and
/// the command that runs it again.
pub fn data_text(rows: &DataRows, ticket: i64) -> String {
    let mut out = format!("数据 data · {} ({}):\n", rows.query, rows.source);
    for line in crate::display::table(&rows.columns, &rows.rows, 40) {
        out.push_str(&line);
        out.push('\n');
    }
    if rows.truncated {
        out.push_str("(只显示了前面的行 more rows than shown)\n");
    }
    out.push_str(&format!(
        "查询 query: opsdesk lookup run {} --source {} --ticket {ticket}",
        quoted(&rows.query),
        quoted(&rows.source)
    ));
    out
}

fn local(at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// The lookup as the command line writes it, each value quoted for a POSIX shell.
pub fn command(asked: &LookupRequest, zone: chrono_tz::Tz) -> String {
    let mut args = vec!["opsdesk logs search".to_string()];
    let mut flag = |name: &str, value: &str| args.push(format!("--{name} {}", quoted(value)));
    if let Some(t) = asked.ticket {
        flag("ticket", &t.to_string());
    }
    for s in &asked.sources {
        flag("source", s);
    }
    for i in &asked.identifiers {
        flag("user", i);
    }
    let when = |t: DateTime<Utc>| t.with_timezone(&zone).to_rfc3339();
    if let Some(from) = asked.from {
        flag("from", &when(from));
    }
    if let Some(to) = asked.to {
        flag("to", &when(to));
    }
    if let Some(level) = &asked.level {
        flag("level", level);
    }
    if let Some(re) = &asked.regex {
        flag("regex", re);
    }
    if let Some(text) = &asked.text {
        args.push(format!("-- {}", quoted(text)));
    }
    args.join(" ")
}

/// A shell word: plain when it is only safe characters, else single-quoted.
fn quoted(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:+@/,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at: &str, message: &str) -> LogLine {
        LogLine {
            at: at.parse().unwrap(),
            level: Some("ERROR".into()),
            source: "demo-app".into(),
            message: message.into(),
            origin: "/var/log/app.log@1024".into(),
            trace: None,
            fields: Default::default(),
        }
    }

    #[test]
    fn a_note_holds_the_lines_and_the_query_to_run_again() {
        let a = line("2026-12-07T02:02:00Z", "委托失败\ncode=-150906");
        let asked = LookupRequest {
            ticket: Some(188),
            sources: vec!["demo-app".into()],
            from: Some("2026-12-07T01:30:00Z".parse().unwrap()),
            to: Some("2026-12-07T02:30:00Z".parse().unwrap()),
            level: Some("ERROR".into()),
            text: Some("it's 资金".into()),
            ..Default::default()
        };
        let note = text(&[&a], &asked, chrono_tz::Asia::Shanghai);
        assert!(
            note.contains("[2026-12-07 10:02:00.000 ERROR demo-app] 委托失败 code=-150906\n  (/var/log/app.log@1024)"),
            "{note}"
        );
        assert!(
            note.ends_with(
                "查询 query: opsdesk logs search --ticket 188 --source demo-app \
             --from 2026-12-07T09:30:00+08:00 --to 2026-12-07T10:30:00+08:00 --level ERROR \
             -- 'it'\\''s 资金'"
            ),
            "{note}"
        );
    }
}
