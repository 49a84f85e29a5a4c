//! The `files` source: log files on this host (plain or gzipped, rotated names included),
//! searched with ripgrep's own searcher and matcher.
//!
//! The files are read newest first (by modification time; a file last written before the
//! window cannot hold a line in it and is not opened). The searcher picks out the lines that
//! name one of the query's identifiers (or hold its text, or match its regex); each is then
//! read by the source's format and kept when its time, level, text and regex all fit. A
//! file's lines come out newest first as soon as that file is done.

use std::collections::VecDeque;
use std::path::PathBuf;

use grep_regex::RegexMatcherBuilder;
use grep_searcher::SearcherBuilder;
use grep_searcher::sinks::Lossy;

use super::line::{LineFormat, LogLine};
use super::query::LogQuery;
use super::{Searched, SourceError};

/// A line longer than this is skipped with a warning, not held in memory whole.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct FilesSource {
    pub name: String,
    /// Glob patterns (`/var/log/app/*.log*`).
    pub paths: Vec<String>,
    pub format: LineFormat,
    /// Where times without a zone are read (the business time zone by default).
    pub zone: chrono_tz::Tz,
    pub max_line_bytes: usize,
}

impl FilesSource {
    fn error(&self, message: impl Into<String>) -> SourceError {
        SourceError {
            source_name: self.name.clone(),
            message: message.into(),
        }
    }

    /// The files the globs name, newest first.
    fn files(&self) -> Result<Vec<(PathBuf, std::time::SystemTime)>, SourceError> {
        let mut found = Vec::new();
        for pattern in &self.paths {
            let paths = glob::glob(pattern)
                .map_err(|e| self.error(format!("path pattern '{pattern}': {e}")))?;
            for path in paths.flatten() {
                if let Ok(meta) = std::fs::metadata(&path)
                    && meta.is_file()
                    && !found.iter().any(|(p, _)| *p == path)
                {
                    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                    found.push((path, modified));
                }
            }
        }
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(found)
    }

    /// Hands `emit` the lines that answer `query`, newest file first, each file's newest line
    /// first, until `query.limit` or until `emit` says stop (`false`).
    pub fn search(
        &self,
        query: &LogQuery,
        mut emit: impl FnMut(LogLine) -> bool,
    ) -> Result<Searched, SourceError> {
        query.check().map_err(|e| self.error(e.to_string()))?;
        let (pattern, caseless) = first_pass(query);
        let matcher = RegexMatcherBuilder::new()
            .case_insensitive(caseless)
            .build(&pattern)
            .map_err(|e| self.error(format!("the search does not compile: {e}")))?;
        let regex = query
            .regex
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| self.error(e.to_string()))?;
        let text = query.text.as_ref().map(|t| t.to_lowercase());
        let keeps = |raw: &str, line: &LogLine| {
            (query.identifiers.is_empty()
                || query.identifiers.iter().any(|i| raw.contains(i.as_str())))
                && query.in_window(line.at)
                && query.level.as_ref().is_none_or(|want| {
                    line.level
                        .as_ref()
                        .is_some_and(|l| l.eq_ignore_ascii_case(want))
                })
                && text.as_ref().is_none_or(|t| raw.to_lowercase().contains(t))
                && regex.as_ref().is_none_or(|r| r.is_match(raw))
        };
        let mut searcher = SearcherBuilder::new()
            .line_number(true)
            .heap_limit(Some(self.max_line_bytes))
            .build();
        let window_start = std::time::SystemTime::from(query.from);
        let mut done = Searched::default();
        for (path, modified) in self.files()? {
            if modified < window_start {
                continue;
            }
            let room = query.limit - done.lines;
            // The newest `room` lines of this file: the last ones it holds.
            let mut newest: VecDeque<LogLine> = VecDeque::new();
            let shown = path.display().to_string();
            let sink = Lossy(|number, raw: &str| {
                let raw = raw.trim_end_matches(['\n', '\r']);
                if let Some(p) = self.format.parse(raw, self.zone) {
                    let line = LogLine {
                        at: p.at,
                        level: p.level,
                        source: self.name.clone(),
                        message: p.message,
                        origin: format!("{shown}:{number}"),
                        trace: p.trace,
                        fields: p.fields,
                    };
                    if keeps(raw, &line) {
                        if newest.len() == room {
                            newest.pop_front();
                        }
                        newest.push_back(line);
                    }
                }
                Ok(true)
            });
            let file = std::fs::File::open(&path);
            let searched = match file {
                Err(e) => Err(e),
                Ok(file) if path.extension().is_some_and(|e| e == "gz") => {
                    searcher.search_reader(&matcher, flate2::read::MultiGzDecoder::new(file), sink)
                }
                Ok(file) => searcher.search_file(&matcher, &file, sink),
            };
            done.read += 1;
            if let Err(e) = searched {
                done.warnings
                    .push(format!("{shown}: {}", reason(&e, self.max_line_bytes)));
            }
            while let Some(line) = newest.pop_back() {
                done.lines += 1;
                if !emit(line) {
                    return Ok(done);
                }
            }
            if done.lines == query.limit {
                break;
            }
        }
        Ok(done)
    }
}

/// What the searcher looks for before a line is read: one of the identifiers, else the text
/// (case-insensitive), else the regex, else every line.
fn first_pass(query: &LogQuery) -> (String, bool) {
    if !query.identifiers.is_empty() {
        let any: Vec<String> = query.identifiers.iter().map(|i| regex::escape(i)).collect();
        (any.join("|"), false)
    } else if let Some(text) = &query.text {
        (regex::escape(text), true)
    } else if let Some(re) = &query.regex {
        (re.clone(), false)
    } else {
        (String::new(), false)
    }
}

/// A failed read in words: a line past the limit is the likely one.
fn reason(e: &std::io::Error, max: usize) -> String {
    let text = e.to_string();
    if text.contains("limit") {
        format!("a line longer than {max} bytes; the rest of the file was not searched")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::lookups::line::FieldNames;

    const ACCOUNT: &str = "310001234567";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn json_line(time: &str, level: &str, message: &str, account: &str) -> String {
        format!(
            r#"{{"@timestamp":"{time}","level":"{level}","message":"{message}","account":"{account}","trace_id":"t-{message}"}}"#
        )
    }

    fn source(dir: &std::path::Path, format: LineFormat) -> FilesSource {
        FilesSource {
            name: "app-files".into(),
            paths: vec![format!("{}/app.log*", dir.display())],
            format,
            zone: chrono_tz::Asia::Shanghai,
            max_line_bytes: 4096,
        }
    }

    fn found(s: &FilesSource, q: &LogQuery) -> (Vec<String>, Searched) {
        let mut lines = Vec::new();
        let done = s
            .search(q, |l| {
                lines.push(l.message);
                true
            })
            .unwrap();
        (lines, done)
    }

    /// Sets a file's modification time, as rotation would have left it.
    fn touched(path: &std::path::Path, when: &str) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(std::time::SystemTime::from(at(when)))
            .unwrap();
    }

    #[test]
    fn a_customers_lines_around_the_time_newest_first_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let older = [
            json_line("2026-12-07T09:50:00+08:00", "INFO", "登录", ACCOUNT),
            json_line("2026-12-07T09:55:00+08:00", "INFO", "别人", "310009999999"),
        ];
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(dir.path().join("app.log.1.gz")).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all((older.join("\n") + "\n").as_bytes()).unwrap();
        gz.finish().unwrap();
        touched(&dir.path().join("app.log.1.gz"), "2026-12-07T01:59:00Z");
        let newer = [
            json_line("2026-12-07T10:01:00+08:00", "WARN", "委托被拒", ACCOUNT),
            json_line("2026-12-07T10:02:00+08:00", "ERROR", "下单失败", ACCOUNT),
            json_line("2026-12-07T11:30:00+08:00", "ERROR", "窗口之外", ACCOUNT),
        ];
        std::fs::write(dir.path().join("app.log"), newer.join("\n") + "\n").unwrap();
        touched(&dir.path().join("app.log"), "2026-12-07T03:31:00Z");
        // A file last written before the window is not opened.
        std::fs::write(
            dir.path().join("app.log.2"),
            json_line("2026-12-06T10:00:00+08:00", "INFO", "昨天", ACCOUNT) + "\n",
        )
        .unwrap();
        touched(&dir.path().join("app.log.2"), "2026-12-06T02:01:00Z");

        let s = source(dir.path(), LineFormat::Json(FieldNames::default()));
        let q = LogQuery::around(at("2026-12-07T02:00:00Z"), vec![ACCOUNT.into()]);
        let (lines, done) = found(&s, &q);
        assert_eq!(lines, ["下单失败", "委托被拒", "登录"]);
        assert_eq!(done.read, 2, "{done:?}");
        assert!(done.warnings.is_empty(), "{done:?}");

        let errors = LogQuery {
            level: Some("error".into()),
            ..q.clone()
        };
        assert_eq!(found(&s, &errors).0, ["下单失败"]);
        let one = LogQuery {
            limit: 1,
            ..q.clone()
        };
        assert_eq!(found(&s, &one).0, ["下单失败"]);
        let worded = LogQuery {
            identifiers: Vec::new(),
            text: Some("委托".into()),
            ..q.clone()
        };
        assert_eq!(found(&s, &worded).0, ["委托被拒"]);
        let mut first = Vec::new();
        s.search(&q, |l| {
            first.push(l.origin);
            false
        })
        .unwrap();
        assert!(first[0].ends_with("app.log:2"), "{first:?}");
    }

    #[test]
    fn text_logs_broken_bytes_and_monster_lines_do_not_stop_a_search() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(
            format!("2026-12-07 10:00:00.100 INFO 登录 account={ACCOUNT}\n").as_bytes(),
        );
        bytes.extend_from_slice(b"2026-12-07 10:00:01 WARN \xff\xfe broken account=");
        bytes.extend_from_slice(ACCOUNT.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(b"\tat com.example.Order.submit\n");
        std::fs::write(dir.path().join("app.log"), &bytes).unwrap();
        let s = source(dir.path(), LineFormat::text_default());
        let q = LogQuery::around(at("2026-12-07T02:00:00Z"), vec![ACCOUNT.into()]);
        let (lines, done) = found(&s, &q);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("broken") && lines[0].contains('\u{fffd}'),
            "{lines:?}"
        );

        let mut monster = bytes.clone();
        monster
            .extend_from_slice(format!("2026-12-07 10:00:02 ERROR account={ACCOUNT} ").as_bytes());
        monster.extend(std::iter::repeat_n(b'x', 64 * 1024));
        monster.push(b'\n');
        std::fs::write(dir.path().join("app.log"), &monster).unwrap();
        let (lines, done_monster) = found(&s, &q);
        assert_eq!(lines.len(), 2, "the lines before it are kept: {lines:?}");
        assert_eq!(done_monster.warnings.len(), 1, "{done_monster:?}");
        assert!(
            done_monster.warnings[0].contains("longer than"),
            "{done_monster:?}"
        );
        assert!(done.warnings.is_empty());
    }

    #[test]
    fn a_bad_pattern_names_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = source(dir.path(), LineFormat::text_default());
        s.paths = vec!["[".into()];
        let q = LogQuery::around(at("2026-12-07T02:00:00Z"), vec![ACCOUNT.into()]);
        let e = s.search(&q, |_| true).unwrap_err();
        assert_eq!(e.source_name, "app-files");
        let bad = LogQuery {
            regex: Some("(".into()),
            ..q
        };
        let e = source(dir.path(), LineFormat::text_default())
            .search(&bad, |_| true)
            .unwrap_err();
        assert!(e.to_string().starts_with("app-files: "), "{e}");
    }
}
