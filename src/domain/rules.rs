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

/// A text whose trimmed length, in characters, is `min..=max` (`max: None` for no bound).
pub fn text(min: usize, max: Option<usize>) -> String {
    let (w, n) = (blank(), visible());
    let inner = |lo: usize, hi: Option<usize>| match hi {
        Some(hi) => format!("{ANY}{{{lo},{hi}}}"),
        None => format!("{ANY}{{{lo},}}"),
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
}
