//! Laying out text for a terminal, shared by the CLI and the TUI: widths counted in terminal
//! columns (CJK characters take two), and SLA countdowns in a few characters.

use chrono::{DateTime, Utc};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::view::{ClockView, TicketView};

/// Pads or cuts `text` to exactly `width` columns, marking a cut with `…`; newlines and tabs
/// become spaces so a row stays one row.
pub fn fit(text: &str, width: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    if one_line.width() <= width {
        let pad = width - one_line.width();
        return format!("{one_line}{}", " ".repeat(pad));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in one_line.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
        used += 1;
    }
    format!("{out}{}", " ".repeat(width.saturating_sub(used)))
}

/// Rows of cells as aligned lines, the header first: each column as wide as its widest cell
/// up to `max_column` (longer cells cut with `…`), NULL said as such, two spaces between.
pub fn table(columns: &[String], rows: &[Vec<Option<String>>], max_column: usize) -> Vec<String> {
    let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |v| cell(v).width()))
                .chain([name.width()])
                .max()
                .unwrap_or(0)
                .min(max_column)
        })
        .collect();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| fit(c, *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    std::iter::once(line(columns.to_vec()))
        .chain(rows.iter().map(|r| line(r.iter().map(cell).collect())))
        .collect()
}

/// The end of `text` that fits in `width` columns, `…` first when the start is cut: what a
/// text box shows as its text grows past it (the cursor is at the end).
pub fn tail(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut kept = Vec::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        kept.push(c);
        used += w;
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// Breaks `text` into at most `max_lines` rows of exactly `width` columns (CJK-aware, at any
/// character: Chinese has no spaces to break at); the last row is cut with `…` when more remains.
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    for (i, c) in chars.iter().enumerate() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            if rows.len() + 1 == max_lines {
                let rest: String = chars[i..].iter().collect();
                rows.push(fit(&format!("{row}{rest}"), width));
                return rows;
            }
            rows.push(fit(&row, width));
            row.clear();
            used = 0;
            if *c == ' ' {
                continue;
            }
        }
        row.push(*c);
        used += w;
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(fit(&row, width));
    }
    rows
}

/// Breaks free text into rows of at most `width` columns for reading: an ASCII word (an
/// account number, a URL) stays whole where it fits, Chinese breaks between any two
/// characters, and each line of the text starts a row. Unlike a word wrapper made for
/// spaced languages, a Chinese run after a space is not pushed whole to the next row.
pub fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in text.lines() {
        let mut row = String::new();
        let mut used = 0;
        let flush = |row: &mut String, used: &mut usize, out: &mut Vec<String>| {
            out.push(row.trim_end().to_string());
            row.clear();
            *used = 0;
        };
        for token in tokens(line) {
            let w = token.width();
            if token.chars().all(char::is_whitespace) {
                if used + w <= width {
                    row.push_str(token);
                    used += w;
                } else {
                    flush(&mut row, &mut used, &mut out);
                }
                continue;
            }
            if used > 0 && used + w > width {
                flush(&mut row, &mut used, &mut out);
            }
            if w <= width {
                row.push_str(token);
                used += w;
                continue;
            }
            // A word longer than the row: cut it where it must be cut.
            for c in token.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > width {
                    flush(&mut row, &mut used, &mut out);
                }
                row.push(c);
                used += cw;
            }
        }
        out.push(row.trim_end().to_string());
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// Runs of ASCII letters, digits and punctuation; each other character alone; spaces alone.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        let wordy = c.is_ascii_graphic();
        match (start, wordy) {
            (None, true) => start = Some(i),
            (Some(_), true) => {}
            (Some(s), false) => {
                out.push(&line[s..i]);
                start = None;
                out.push(&line[i..i + c.len_utf8()]);
            }
            (None, false) => out.push(&line[i..i + c.len_utf8()]),
        }
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

/// The clock that matters now: the first response until there was one, then resolution.
pub fn relevant_clock(t: &TicketView) -> &ClockView {
    if t.first_responded_at.is_none() {
        &t.sla.first_response
    } else {
        &t.sla.resolve
    }
}

/// Under this much time left a clock shows as due soon, whatever its target.
const DUE_SOON_SECS: i64 = 30 * 60;

/// A countdown such as `2h13m`, `-25m` or `暂停`, and the SLA state to colour it by
/// (`ok`, `due_soon`, `breached`, `paused`, `met`, `missed`), read at `now`.
pub fn countdown(state: &str, due: DateTime<Utc>, now: DateTime<Utc>) -> (String, &'static str) {
    match state {
        "met" => return ("达成".into(), "met"),
        "missed" => return ("超时".into(), "missed"),
        "paused" => return ("暂停".into(), "paused"),
        _ => {}
    }
    let left = (due - now).num_seconds();
    let shown = if left <= 0 {
        "breached"
    } else if left < DUE_SOON_SECS || state == "due_soon" {
        "due_soon"
    } else {
        "ok"
    };
    (duration(left), shown)
}

/// `-1h05m`, `2d3h`, `45m`, `30s`.
pub fn duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sign}{s}s"),
        (0, 0, m) => format!("{sign}{m}m"),
        (0, h, m) => format!("{sign}{h}h{m:02}m"),
        (d, h, _) => format!("{sign}{d}d{h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_box_keeps_the_end_being_typed_in_sight() {
        assert_eq!(tail("khsb", 10), "khsb");
        assert_eq!(tail("开户失败开户失败", 9), "…开户失败");
        assert_eq!(tail("abcdefgh", 5), "…efgh");
        assert!(tail(&"开户".repeat(700), 40).width() <= 40);
    }

    #[test]
    fn free_text_wraps_by_words_and_chinese_characters() {
        // The Chinese after a space stays on the row it starts on.
        assert_eq!(
            wrap_text("客户 310012345678 今天下单失败", 12),
            vec!["客户", "310012345678", "今天下单失败"]
        );
        assert_eq!(
            wrap_text("客户反馈 下单失败提示资金不足", 11),
            vec!["客户反馈 下", "单失败提示", "资金不足"]
        );
        assert_eq!(wrap_text("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap_text("第一行\n\n第三行", 20),
            vec!["第一行", "", "第三行"]
        );
        assert_eq!(wrap_text("", 5), vec![""]);
        for row in wrap_text(
            "委托编号 A123，截图见附件 https://desk.example/mss/tickets/42 谢谢",
            9,
        ) {
            assert!(row.width() <= 9, "{row:?}");
        }
    }

    #[test]
    fn wrap_breaks_by_columns_and_cuts_the_last_row() {
        assert_eq!(wrap("abc", 5, 3), vec!["abc  "]);
        assert_eq!(wrap("abcdefgh", 3, 3), vec!["abc", "def", "gh "]);
        assert_eq!(wrap("版本冲突请刷新", 6, 2), vec!["版本冲", "突请… "]);
        assert_eq!(wrap("abcdefghij", 3, 2), vec!["abc", "de…"]);
        assert_eq!(wrap("", 4, 2), vec!["    "]);
        for row in wrap(
            "#12 → 已解决 未发送：the ticket was changed by someone else (now version 7)",
            20,
            3,
        ) {
            assert_eq!(row.width(), 20, "{row:?}");
        }
    }

    #[test]
    fn fit_counts_terminal_columns() {
        assert_eq!(fit("交易", 6), "交易  ");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("行情延迟严重", 7), "行情延…");
        assert_eq!(fit("行情延迟严重", 8), "行情延… ");
        assert_eq!(fit("a\nb", 4), "a b ");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(30), "30s");
        assert_eq!(duration(45 * 60), "45m");
        assert_eq!(duration(-(3600 + 5 * 60)), "-1h05m");
        assert_eq!(duration(2 * 86_400 + 3 * 3600 + 59), "2d3h");
    }
}
