//! The validation rules as the API description states them: regular expressions (ECMA-262, the
//! dialect of JSON Schema's `pattern`) built from the same character sets the validators use,
//! so that a generated client or a contract tester accepts exactly what the server accepts.
//!
//! Each class is spelled out with `\uXXXX` escapes rather than `\s` or `\d`, because those mean
//! different characters in ECMA-262, Python and Rust; `$` is only used where the character
//! before it may be whitespace, since Python's `$` also matches before a final newline.

/// The characters `str::trim` removes (Unicode `White_Space`), as inclusive ranges.
pub const WHITESPACE: &[(char, char)] = &[
    ('\u{9}', '\u{d}'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Dashes of every width people type inside numbers to read them (besides whitespace).
pub const NUMBER_DASHES: &[char] = &[
    '-', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}', '\u{FF0D}',
];

/// Whether `c` is whitespace as [`WHITESPACE`] lists it.
pub fn is_blank(c: char) -> bool {
    WHITESPACE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `c` may sit inside a customer number without counting: whitespace (a pasted
/// number's trailing newline included) or a dash.
pub fn is_number_separator(c: char) -> bool {
    is_blank(c) || NUMBER_DASHES.contains(&c)
}

fn escape(c: char) -> String {
    format!("\\u{:04x}", c as u32)
}

fn ranges(list: &[(char, char)]) -> String {
    list.iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                escape(lo)
            } else {
                format!("{}-{}", escape(lo), escape(hi))
            }
        })
        .collect()
}

/// `[…]` of whitespace.
fn blank() -> String {
    format!("[{}]", ranges(WHITESPACE))
}

/// `[^…]`: a character that is not whitespace.
fn visible() -> String {
    format!("[^{}]", ranges(WHITESPACE))
}

/// Any character at all, newlines included (JSON Schema has no dot-all flag).
const ANY: &str = "[\\s\\S]";

/// C0 and C1 control characters.
pub const CONTROLS: &[(char, char)] = &[('\u{0}', '\u{1f}'), ('\u{7f}', '\u{9f}')];

/// Control characters but the tab, line feed and carriage return that text is written with.
pub const CONTROLS_BUT_LINES: &[(char, char)] = &[
    ('\u{0}', '\u{8}'),
    ('\u{b}', '\u{c}'),
    ('\u{e}', '\u{1f}'),
    ('\u{7f}', '\u{9f}'),
];

/// Bidirectional formatting characters (`sanitize::is_bidi_control`).
pub const BIDI: &[(char, char)] = &[
    ('\u{61c}', '\u{61c}'),
    ('\u{200e}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2066}', '\u{2069}'),
];

/// A text whose trimmed length, in characters, is `min..=max` (`max: None` for no bound).
pub fn text(min: usize, max: Option<usize>) -> String {
    text_without(min, max, &[])
}

/// [`text`] holding none of the characters in `forbidden`, its trimmed whitespace included.
pub fn text_without(min: usize, max: Option<usize>, forbidden: &[&[(char, char)]]) -> String {
    let banned = |c: char| {
        forbidden
            .iter()
            .any(|set| set.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)))
    };
    let all: Vec<(char, char)> = forbidden
        .iter()
        .flat_map(|set| set.iter().copied())
        .collect();
    let (w, n, any) = if all.is_empty() {
        (blank(), visible(), ANY.to_string())
    } else {
        let kept: Vec<(char, char)> = WHITESPACE
            .iter()
            .flat_map(|&(lo, hi)| (lo..=hi).filter(|&c| !banned(c)).map(|c| (c, c)))
            .collect();
        (
            format!("[{}]", ranges(&kept)),
            format!("[^{}{}]", ranges(WHITESPACE), ranges(&all)),
            format!("[^{}]", ranges(&all)),
        )
    };
    let inner = |lo: usize, hi: Option<usize>| match hi {
        Some(hi) => format!("{any}{{{lo},{hi}}}"),
        None => format!("{any}{{{lo},}}"),
    };
    let core = match (min, max) {
        (_, Some(0)) => String::new(),
        (_, Some(1)) if min <= 1 => format!("{n}{}", if min == 0 { "?" } else { "" }),
        (0 | 1, hi) => {
            let rest = format!("(?:{}{n})?", inner(0, hi.map(|h| h - 2)));
            if min == 0 {
                format!("(?:{n}{rest})?")
            } else {
                format!("{n}{rest}")
            }
        }
        (lo, hi) => format!("{n}{}{n}", inner(lo - 2, hi.map(|h| h - 2))),
    };
    format!("^{w}*{core}{w}*$")
}

/// A knowledge-base article's slug: 1 to `max` of `a-z`, `0-9` and `-`, whitespace around it
/// trimmed.
pub fn slug(max: usize) -> String {
    let w = blank();
    format!("^{w}*[a-z0-9-]{{1,{max}}}{w}*$")
}

/// A text with at least one character that is not whitespace (no anchors: "contains").
pub fn not_blank() -> String {
    visible()
}

/// A number separator.
fn separator() -> String {
    let dashes: String = NUMBER_DASHES.iter().map(|c| escape(*c)).collect();
    format!("[{}{dashes}]", ranges(WHITESPACE))
}

/// A digit, half- or full-width.
pub const DIGIT: &str = "[0-9\\uff10-\\uff19]";

/// `count` digits, separators anywhere between and after them.
fn digits(count: &str) -> String {
    format!("(?:{DIGIT}{}*){count}", separator())
}

/// A customer account as typed: 6–20 digits with separators, or only separators (no account).
pub fn account() -> String {
    let s = separator();
    format!("^{s}*(?:{})?$", digits("{6,20}"))
}

/// A mobile number as typed: 11 digits starting with 1, optionally after `+86`, `0086` or
/// `86`, with separators; or only separators (no phone).
pub fn phone() -> String {
    let s = separator();
    let plus = "[\\u002b\\uff0b]";
    let zero = "[0\\uff10]";
    let prefix = format!("(?:(?:{plus}{s}*|{zero}{s}*{zero}{s}*)?[8\\uff18]{s}*[6\\uff16]{s}*)?");
    format!("^{s}*(?:{prefix}[1\\uff11]{s}*{})?$", digits("{10}"))
}

/// A resident ID number as typed: 17 digits and a digit or X, with separators; or only
/// separators (no ID number). The birth date and check character are stated in words.
pub fn id_number() -> String {
    let s = separator();
    format!(
        "^{s}*(?:{}[0-9\\uff10-\\uff19Xx\\uff38\\uff58]{s}*)?$",
        digits("{17}")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_what_trim_removes() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_blank(c), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(s)
    }

    #[test]
    fn text_patterns_count_trimmed_characters() {
        let title = text(4, Some(120));
        assert!(matches(&title, "委托下单"));
        assert!(matches(&title, "  委托下单\n"));
        assert!(!matches(&title, "  委托 \n"));
        assert!(!matches(&title, &"字".repeat(121)));
        assert!(matches(&title, &format!(" {} ", "字".repeat(120))));
        let optional = text(0, Some(64));
        assert!(matches(&optional, ""));
        assert!(matches(&optional, "   "));
        assert!(!matches(&optional, &"字".repeat(65)));
        let one = text(1, Some(64));
        assert!(!matches(&one, " \u{3000}"));
        assert!(matches(&one, " a "));
        assert!(matches(&not_blank(), "\u{3000}好"));
        assert!(!matches(&not_blank(), "\u{3000} \n"));
    }

    #[test]
    fn text_patterns_leave_out_what_they_forbid() {
        let line = text_without(1, Some(10), &[CONTROLS, BIDI]);
        assert!(matches(&line, " 开户失败\u{3000}"));
        for bad in [
            "开户\u{1b}[2J",
            "开户\n失败",
            "开户失败\t",
            "\u{202e}开户",
            "开户\u{85}",
        ] {
            assert!(!matches(&line, bad), "{bad:?}");
        }
        let prose = text_without(1, None, &[CONTROLS_BUT_LINES, BIDI]);
        assert!(matches(&prose, "1. 重试\r\n\t2. 再试\n"));
        for bad in ["1. \u{1b}]52;c;x\u{7}", "\u{b}1.", "1.\u{2066}"] {
            assert!(!matches(&prose, bad), "{bad:?}");
        }
    }
}
