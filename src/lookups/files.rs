//! The `files` source: log files on this host (plain or gzipped, rotated names included),
//! searched with ripgrep's own searcher and matcher.
//!
//! The files are read newest first (by modification time; a file last written before the
//! window cannot hold a line in it and is not opened). The searcher picks out the lines that
//! name one of the query's identifiers (or hold its text, or match its regex); each is then
//! read by the source's format and kept when its time, level, text and regex all fit. A
//! file's lines come out newest first as soon as that file is done; the per-minute counts of
//! every line that fits come at the end.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use grep_regex::RegexMatcherBuilder;
use grep_searcher::SearcherBuilder;

use super::config::{FileFormat, FilesConfig, check_name};
use super::line::{LineFormat, LogLine};
use super::query::LogQuery;
use super::{Found, Minute, Searched, SourceError, Total};

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
    /// The source `[[logs.sources]]` describes; times without a zone are read in `zone`
    /// unless it names its own.
    pub fn new(cfg: &FilesConfig, zone: chrono_tz::Tz) -> Result<FilesSource, String> {
        check_name(&cfg.name)?;
        let at = |key: &str| format!("logs.sources.{key} ({})", cfg.name);
        if cfg.paths.is_empty() {
            return Err(format!(
                "{}: name at least one file or pattern",
                at("paths")
            ));
        }
        for pattern in &cfg.paths {
            glob::Pattern::new(pattern)
                .map_err(|e| format!("{}: '{pattern}' is not a pattern: {e}", at("paths")))?;
        }
        let format = match (cfg.format, &cfg.timestamp_regex) {
            (FileFormat::Json, None) => LineFormat::Json(cfg.fields.clone()),
            (FileFormat::Json, Some(_)) => {
                return Err(format!(
                    "{}: is for format = \"text\"; JSON lines name their time in fields.timestamp",
                    at("timestamp_regex")
                ));
            }
            (FileFormat::Text, None) => LineFormat::text_default(),
            (FileFormat::Text, Some(re)) => LineFormat::Text {
                timestamp: regex::Regex::new(re)
                    .map_err(|e| format!("{}: {e}", at("timestamp_regex")))?,
            },
        };
        let zone = match &cfg.timezone {
            None => zone,
            Some(tz) => tz
                .parse()
                .map_err(|_| format!("{}: unknown time zone '{tz}'", at("timezone")))?,
        };
        if !(1024..=1 << 30).contains(&cfg.max_line_bytes) {
            return Err(format!(
                "{}: must be 1024 to 1073741824",
                at("max_line_bytes")
            ));
        }
        Ok(FilesSource {
            name: cfg.name.clone(),
            paths: cfg.paths.clone(),
            format,
            zone,
            max_line_bytes: cfg.max_line_bytes,
        })
    }

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

    /// Hands `emit` the lines that answer `query` ([`Found::Line`]), newest file first, each
    /// file's newest line first, until `query.limit`, then the per-minute counts
    /// ([`Found::Minutes`]). Ends early when `emit` answers `false` or `stop` turns true
    /// (checked between reads, so a long file without hits is left at once too).
    ///
    /// Files are read on as many threads as the machine has cores, each file whole by one
    /// thread; what they find is handed over in file order, so the newest file's lines come
    /// first however the reading is shared out.
    pub fn search(
        &self,
        query: &LogQuery,
        stop: &(dyn Fn() -> bool + Sync),
        mut emit: impl FnMut(Found) -> bool,
    ) -> Result<Searched, SourceError> {
        query.check().map_err(|e| self.error(e.to_string()))?;
        let filter = Filter::new(query).map_err(|e| self.error(e))?;
        let window_start = std::time::SystemTime::from(query.from);
        let files: Vec<PathBuf> = self
            .files()?
            .into_iter()
            .filter(|(_, modified)| *modified >= window_start)
            .map(|(path, _)| path)
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(files.len())
            .max(1);
        // Set once enough is found (or the caller stopped): the readers leave their files.
        let enough = AtomicBool::new(false);
        let quit = || enough.load(Ordering::Relaxed) || stop();
        let next = AtomicUsize::new(0);
        let mut done = Searched::default();
        let mut minutes: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
        let mut fitting: u64 = 0;
        let mut stopped_at_limit = false;
        let mut cancelled = false;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel::<(usize, FileFinds)>();
            for _ in 0..threads {
                let (tx, files, next, quit, filter) = (tx.clone(), &files, &next, &quit, &filter);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        if quit() {
                            break;
                        }
                        let found = self.search_file(path, filter, query.limit, quit);
                        if tx.send((i, found)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            // Files finished out of order wait here for the ones before them.
            let mut waiting: BTreeMap<usize, FileFinds> = BTreeMap::new();
            let mut turn = 0;
            while let Ok((i, found)) = rx.recv() {
                waiting.insert(i, found);
                while let Some(found) = waiting.remove(&turn) {
                    turn += 1;
                    if stop() {
                        cancelled = true;
                        enough.store(true, Ordering::Relaxed);
                        return;
                    }
                    done.read += 1;
                    done.warnings.extend(found.warning);
                    fitting += found.fitting;
                    for (minute, n) in found.minutes {
                        *minutes.entry(minute).or_default() += n;
                    }
                    let room = query.limit - done.lines;
                    for line in found.newest.into_iter().rev().take(room) {
                        done.lines += 1;
                        if !emit(Found::Line(line)) {
                            cancelled = true;
                            enough.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                    if done.lines == query.limit {
                        stopped_at_limit = true;
                        enough.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            }
        });
        if cancelled || stop() {
            return Ok(done);
        }
        done.total = Some(Total {
            value: fitting,
            at_least: stopped_at_limit,
        });
        let minutes = minutes
            .into_iter()
            .map(|(at, count)| Minute { at, count })
            .collect();
        emit(Found::Minutes {
            source: self.name.clone(),
            minutes,
        });
        Ok(done)
    }

    /// One file read through: its newest `keep` lines that fit, oldest first, and the count
    /// a minute of all that fit.
    fn search_file(
        &self,
        path: &std::path::Path,
        filter: &Filter,
        keep: usize,
        quit: &(dyn Fn() -> bool + Sync),
    ) -> FileFinds {
        let mut found = FileFinds::default();
        let shown = path.display().to_string();
        let mut searcher = SearcherBuilder::new()
            .line_number(false)
            .heap_limit(Some(self.max_line_bytes))
            .build();
        let sink = Matched(|at_byte, raw: &str| {
            let raw = raw.trim_end_matches(['\n', '\r']);
            if let Some(p) = self.format.parse(raw, self.zone) {
                let line = LogLine {
                    at: p.at,
                    level: p.level,
                    source: self.name.clone(),
                    message: p.message,
                    origin: format!("{shown}@{at_byte}"),
                    trace: p.trace,
                    fields: p.fields,
                };
                if filter.keeps(raw, &line) {
                    found.fitting += 1;
                    *found.minutes.entry(minute_of(line.at)).or_default() += 1;
                    if found.newest.len() == keep {
                        found.newest.pop_front();
                    }
                    found.newest.push_back(line);
                }
            }
        });
        let file = std::fs::File::open(path).map(|file| Stoppable { file, stop: quit });
        let searched = match file {
            Err(e) => Err(e),
            Ok(file) if path.extension().is_some_and(|e| e == "gz") => searcher.search_reader(
                &filter.matcher,
                flate2::read::MultiGzDecoder::new(file),
                sink,
            ),
            Ok(file) => searcher.search_reader(&filter.matcher, file, sink),
        };
        if let Err(e) = searched {
            found.warning = Some(format!("{shown}: {}", reason(&e, self.max_line_bytes)));
        }
        found
    }
}

/// A sink handing each matched line (lossily decoded) and where it starts to a closure.
struct Matched<F: FnMut(u64, &str)>(F);

impl<F: FnMut(u64, &str)> grep_searcher::Sink for Matched<F> {
    type Error = std::io::Error;

    fn matched(
        &mut self,
        _searcher: &grep_searcher::Searcher,
        mat: &grep_searcher::SinkMatch<'_>,
    ) -> Result<bool, std::io::Error> {
        let raw = String::from_utf8_lossy(mat.bytes());
        (self.0)(mat.absolute_byte_offset(), &raw);
        Ok(true)
    }
}

/// What one file gave.
#[derive(Default)]
struct FileFinds {
    /// The newest lines that fit, oldest first.
    newest: VecDeque<LogLine>,
    minutes: BTreeMap<DateTime<Utc>, u64>,
    fitting: u64,
    warning: Option<String>,
}

/// A query made ready to test lines: the searcher's first pass, then the checks on a line
/// read by its format.
struct Filter<'q> {
    matcher: grep_regex::RegexMatcher,
    query: &'q LogQuery,
    regex: Option<regex::Regex>,
    text: Option<String>,
}

impl<'q> Filter<'q> {
    fn new(query: &'q LogQuery) -> Result<Filter<'q>, String> {
        let (pattern, caseless) = first_pass(query);
        let matcher = RegexMatcherBuilder::new()
            .case_insensitive(caseless)
            .build(&pattern)
            .map_err(|e| format!("the search does not compile: {e}"))?;
        let regex = query
            .regex
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| e.to_string())?;
        Ok(Filter {
            matcher,
            query,
            regex,
            text: query.text.as_ref().map(|t| t.to_lowercase()),
        })
    }

    fn keeps(&self, raw: &str, line: &LogLine) -> bool {
        let q = self.query;
        (q.identifiers.is_empty() || q.identifiers.iter().any(|i| raw.contains(i.as_str())))
            && q.in_window(line.at)
            && q.level.as_ref().is_none_or(|want| {
                line.level
                    .as_ref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(want))
            })
            && self
                .text
                .as_ref()
                .is_none_or(|t| raw.to_lowercase().contains(t))
            && self.regex.as_ref().is_none_or(|r| r.is_match(raw))
    }
}

/// The minute a time falls in.
fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

/// A file that reads as ended-in-error once `stop` turns true, so the searcher leaves it
/// between two reads rather than at its end.
struct Stoppable<'a> {
    file: std::fs::File,
    stop: &'a (dyn Fn() -> bool + Sync),
}

impl Read for Stoppable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if (self.stop)() {
            return Err(std::io::Error::other("the lookup was cancelled"));
        }
        self.file.read(buf)
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
            .search(q, &|| false, |found| {
                if let Found::Line(l) = found {
                    lines.push(l.message);
                }
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
        s.search(&q, &|| false, |found| {
            if let Found::Line(l) = found {
                first.push(l.origin);
            }
            false
        })
        .unwrap();
        assert_eq!(first.len(), 1);
        // Where the line starts in its file: after the first line and its newline.
        let at = format!("app.log@{}", newer[0].len() + 1);
        assert!(first[0].ends_with(&at), "{first:?}");
        assert_eq!(
            done.total,
            Some(Total {
                value: 3,
                at_least: false
            })
        );
        let stopped = s.search(&q, &|| true, |_| true).unwrap();
        assert_eq!(stopped.lines, 0, "a stopped search reads nothing");
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
        let e = s.search(&q, &|| false, |_| true).unwrap_err();
        assert_eq!(e.source_name, "app-files");
        let bad = LogQuery {
            regex: Some("(".into()),
            ..q
        };
        let e = source(dir.path(), LineFormat::text_default())
            .search(&bad, &|| false, |_| true)
            .unwrap_err();
        assert!(e.to_string().starts_with("app-files: "), "{e}");
    }
}
