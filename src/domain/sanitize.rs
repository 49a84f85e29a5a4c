//! Making untrusted text inert for a terminal.
//!
//! Ticket text comes from phones, ITSM and scripts. Before it reaches a terminal every escape
//! sequence (CSI, OSC such as the OSC 52 clipboard write, DCS, …), every other C0/C1 control
//! character and every bidi override is removed; newlines and tabs are kept. The server stores
//! what was sent; clients apply this where text enters them.

use std::borrow::Cow;

/// Bidirectional formatting characters that can make text display in another order than it
/// is stored ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// What [`terminal_safe`] removes: control characters but `\n` and `\t`, and bidi overrides.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// Returns `text` with escape sequences, control characters (but `\n` and `\t`) and bidi
/// overrides removed. `\r\n` becomes `\n`. Borrowed when nothing needed removing.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 introducers that start a string or control sequence on 8-bit terminals.
            '\u{90}' | '\u{9d}' | '\u{9e}' | '\u{9f}' | '\u{98}' => skip_string(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: skip the whole sequence, whatever its kind.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        // OSC, DCS, SOS, PM, APC: a string up to BEL or ST.
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // Two-character sequences with intermediates (ESC ( B, ESC # 8, …).
        Some(' '..='/') => {
            while let Some(&c) = chars.peek() {
                chars.next();
                if !(' '..='/').contains(&c) {
                    break;
                }
            }
        }
        // ESC followed by one final character (ESC c, ESC 7, …): both dropped.
        _ => {}
    }
}

/// A control sequence: parameters and intermediates, then one final byte in `@`..=`~`.
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// A string sequence, ended by BEL, ST (ESC \) or the 8-bit ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_sequences_are_removed() {
        let cases: &[(&str, &str)] = &[
            (
                "clipboard \u{1b}]52;c;ZXZpbA==\u{7}write",
                "clipboard write",
            ),
            ("title \u{1b}]0;pwned\u{1b}\\change", "title change"),
            ("ask \u{1b}[6n position", "ask  position"),
            ("move \u{1b}[2J\u{1b}[H cursor", "move  cursor"),
            ("colour \u{1b}[31mred\u{1b}[0m", "colour red"),
            ("8-bit \u{9b}31m csi", "8-bit  csi"),
            ("bell\u{7} and nul\u{0}", "bell and nul"),
            ("bidi \u{202E}evil\u{202C}", "bidi evil"),
            ("dcs \u{1b}Pq#0;2;0;0;0\u{1b}\\end", "dcs end"),
            ("charset \u{1b}(Bok", "charset ok"),
            ("windows\r\nline", "windows\nline"),
            ("dangling \u{1b}", "dangling "),
            ("unterminated \u{1b}]52;c;AAAA", "unterminated "),
        ];
        for (input, want) in cases {
            assert_eq!(terminal_safe(input), *want, "{input:?}");
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let text = "客户反馈：\n\t行情延迟 3 秒，APP 版本 8.2.1";
        assert!(matches!(terminal_safe(text), Cow::Borrowed(_)));
    }
}
