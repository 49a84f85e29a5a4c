//! How well one term matches one field, and where.
//!
//! Three ways, tried best first:
//! 1. **In a row**: each query character is the text's character, or a run of letters that
//!    starts a reading of the text's Han character (`kaihu`, `khsb`, `kaihusb`, `开户sb` all
//!    find 开户失败). Readings are taken whole or by their start, one character at a time, so a
//!    pinyin query keeps to syllable and initial boundaries instead of wandering through the
//!    romanised line. Bonuses for the field's start, a word's start and end, literal characters
//!    and whole syllables.
//! 2. **Near spelling** (a word of four letters or more): a text word, or its start, within
//!    one edit (two from eight letters), transpositions counting one (`opne` finds `open`).
//!    The word begins as the term does, or with its second letter (`poen` finds `open`): a
//!    slip is seldom in the first letter, and a search for near spellings then reads only the
//!    words that could hold one (the prefix length of Lucene's fuzzy queries).
//! 3. **In order**: the query's characters appear in order (`acount` in `account`), scored
//!    low and lower the more they are spread.
//!
//! Every way matches fewer fields as the term grows (the typo allowance aside, which
//! [`super::Query::narrows`] watches), so a search as one types may look only at the previous
//! matches.

use super::pinyin;
use super::query::{Term, TermKind, is_word_unit};

/// Score and matched character positions of a term in a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMatch {
    pub score: i32,
    pub start: usize,
    pub end: usize,
}

const IN_A_ROW: i32 = 100;
const NEAR: i32 = 60;
const IN_ORDER: i32 = 30;

fn is_alnum(u: u16) -> bool {
    match u {
        0..0x80 => is_word_unit(u),
        // General and CJK punctuation and arrows, none a letter or a digit: spared the
        // Unicode tables.
        0x2000..=0x206F | 0x2190..=0x23FF | 0x3000..=0x3004 | 0x3008..=0x3020 => false,
        0xFE30..=0xFE4F => false,
        _ => pinyin::is_han(u) || char::from_u32(u32::from(u)).is_some_and(char::is_alphanumeric),
    }
}

/// A word starts at `i`: the field's start, after a separator, or where letters meet Han.
fn starts_word(text: &[u16], i: usize) -> bool {
    i == 0 || !is_alnum(text[i - 1]) || (is_word_unit(text[i - 1]) != is_word_unit(text[i]))
}

fn ends_word(text: &[u16], end: usize) -> bool {
    end == text.len()
        || !is_alnum(text[end])
        || (is_word_unit(text[end - 1]) != is_word_unit(text[end]))
}

/// What a match in a row was made of.
#[derive(Default, Clone, Copy)]
struct Path {
    literal: i32,
    syllables: i32,
}

/// Matches `term[j..]` from `text[i..]`, in a row; the end in the text.
fn in_a_row(
    initials: pinyin::Initials,
    term: &[u16],
    text: &[u16],
    i: usize,
    j: usize,
    path: &mut Path,
) -> Option<usize> {
    if j == term.len() {
        return Some(i);
    }
    let t = *text.get(i)?;
    let q = term[j];
    if q == t {
        let before = *path;
        path.literal += 1;
        if let Some(end) = in_a_row(initials, term, text, i + 1, j + 1, path) {
            return Some(end);
        }
        *path = before;
    }
    if q < 0x80 && (q as u8).is_ascii_lowercase() {
        if initials.of(t) & (1 << (q as u8 - b'a')) == 0 {
            return None;
        }
        for reading in pinyin::readings_at(text, i) {
            let reading = reading.as_bytes();
            let typed = term[j..]
                .iter()
                .zip(reading)
                .take_while(|&(&q, &r)| q == u16::from(r))
                .count();
            // Whole syllable first, then shorter starts of it.
            for k in (1..=typed).rev() {
                let before = *path;
                if k == reading.len() {
                    path.syllables += 1;
                }
                if let Some(end) = in_a_row(initials, term, text, i + 1, j + k, path) {
                    return Some(end);
                }
                *path = before;
            }
        }
    }
    None
}

fn best_in_a_row(term: &[u16], text: &[u16], literal_only: bool) -> Option<FieldMatch> {
    let first = *term.first()?;
    let initials = pinyin::Initials::get();
    // The bit of the initial a Han character must have to begin a pinyin match; none for a
    // phrase or a first character that is not a letter.
    let bit = match first {
        q if !literal_only && q < 0x80 && (q as u8).is_ascii_lowercase() => 1 << (q as u8 - b'a'),
        _ => 0,
    };
    let mut best: Option<FieldMatch> = None;
    for i in 0..text.len() {
        if text[i] != first && initials.of(text[i]) & bit == 0 {
            continue;
        }
        let mut path = Path::default();
        let end = if literal_only {
            text[i..].starts_with(term).then_some(i + term.len())
        } else if term.len() == 1 {
            // The first keystroke: the character itself or an initial, nothing to walk.
            path.literal = i32::from(text[i] == first);
            Some(i + 1)
        } else {
            in_a_row(initials, term, text, i, 0, &mut path)
        };
        let Some(end) = end else { continue };
        if literal_only {
            path.literal = term.len() as i32;
        }
        let mut score = IN_A_ROW + 8 * (end - i) as i32 + 6 * path.literal + 4 * path.syllables;
        if i == 0 {
            score += 30;
        } else if starts_word(text, i) {
            score += 15;
        }
        if ends_word(text, end) {
            score += 10;
        }
        if best.as_ref().is_none_or(|b| score > b.score) {
            best = Some(FieldMatch {
                score,
                start: i,
                end,
            });
        }
        // Nothing later beats the field's start. The first two letters typed, which most
        // entries match and the whole corpus is scanned for, take the first place they match:
        // the list they show is a glimpse, and typing on ranks it properly.
        if (i == 0 && ends_word(text, end)) || first_keystrokes(term) {
            break;
        }
    }
    best
}

/// A term of one character, or of two letters (a pinyin syllable or an initial pair begun).
fn first_keystrokes(term: &[u16]) -> bool {
    term.len() == 1 || (term.len() == 2 && term.iter().all(|&u| is_word_unit(u)))
}

/// The longest word a near spelling is looked for in; longer ones are matched only in a row.
const MAX_NEAR: usize = 32;

/// Optimal string alignment distance of `a` to `b` (both at most [`MAX_NEAR`] long), or
/// `None` once it must exceed `limit`. Rows live on the stack: this runs for every word.
fn distance(a: &[u16], b: &[u16], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit || a.len() > MAX_NEAR || b.len() > MAX_NEAR {
        return None;
    }
    let n = b.len();
    let mut prev2 = [0usize; MAX_NEAR + 1];
    let mut prev = [0usize; MAX_NEAR + 1];
    let mut cur = [0usize; MAX_NEAR + 1];
    for (j, p) in prev.iter_mut().enumerate().take(n + 1) {
        *p = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
        prev2 = prev;
        prev = cur;
    }
    (prev[n] <= limit).then_some(prev[n])
}

/// A bit per ASCII letter or digit (all word units fall in 0x30..0x7A).
#[inline]
pub(super) fn word_bit(u: u16) -> u64 {
    1 << (u.saturating_sub(0x30) & 63)
}

fn best_near(term: &[u16], text: &[u16], typos: usize) -> Option<FieldMatch> {
    let mut best: Option<FieldMatch> = None;
    let mut i = 0;
    while i < text.len() {
        if !is_word_unit(text[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && is_word_unit(text[i]) {
            i += 1;
        }
        let word = &text[start..i];
        if word[0] != term[0] && term.get(1) != Some(&word[0]) {
            continue;
        }
        // Each term character the word lacks costs an edit: most words are out of reach
        // before any distance is computed.
        let has = word.iter().fold(0u64, |m, &u| m | word_bit(u));
        if term.iter().filter(|&&u| has & word_bit(u) == 0).count() > typos {
            continue;
        }
        // The whole word, or its start as long as the term give or take the allowance.
        let lo = term.len().saturating_sub(typos).max(1);
        let hi = (term.len() + typos).min(word.len());
        let d = (lo..=hi)
            .rev()
            .filter_map(|len| distance(term, &word[..len], typos).map(|d| (d, len)))
            .min_by_key(|&(d, len)| (d, usize::from(len != word.len())));
        if let Some((d, len)) = d {
            let whole = len == word.len();
            let score = NEAR - 15 * d as i32 + 4 * len as i32 + if whole { 10 } else { 0 };
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(FieldMatch {
                    score,
                    start,
                    end: start + len,
                });
            }
        }
    }
    best
}

fn in_order(term: &[u16], text: &[u16]) -> Option<FieldMatch> {
    if term.len() < 2 {
        return None;
    }
    let start = text.iter().position(|&u| u == term[0])?;
    let mut at = start;
    for &q in &term[1..] {
        at += 1 + text[at + 1..].iter().position(|&u| u == q)?;
    }
    let end = at + 1;
    let spread = (end - start - term.len()) as i32;
    let mut score = IN_ORDER + 4 * term.len() as i32 - spread.min(25);
    if starts_word(text, start) {
        score += 5;
    }
    Some(FieldMatch { score, start, end })
}

/// Whether `term` matches `text` by a near spelling of a word (the one way a longer term can
/// match where its shorter self did not).
pub fn near(term: &Term, text: &[u16]) -> bool {
    match term.typos() {
        0 => false,
        typos => best_near(&term.text, text, typos).is_some(),
    }
}

/// The best match of `term` in `text`, if any.
pub fn match_field(term: &Term, text: &[u16]) -> Option<FieldMatch> {
    match_field_within(term, text, term.typos())
}

/// [`match_field`], looking for near spellings within `typos` edits (none when 0): the
/// caller may know that none is there.
pub fn match_field_within(term: &Term, text: &[u16], typos: usize) -> Option<FieldMatch> {
    if term.text.is_empty() {
        // A bare filter (`sys:`): any field of its kind.
        return Some(FieldMatch {
            score: 1,
            start: 0,
            end: 0,
        });
    }
    if term.kind == TermKind::Phrase {
        return best_in_a_row(&term.text, text, true);
    }
    best_in_a_row(&term.text, text, false)
        .or_else(|| match typos.min(term.typos()) {
            0 => None,
            typos => best_near(&term.text, text, typos),
        })
        .or_else(|| in_order(&term.text, text))
}

#[cfg(test)]
mod tests {
    use super::super::fold::fold_str;
    use super::super::query::Query;
    use super::*;

    fn score(q: &str, text: &str) -> Option<i32> {
        let term = &Query::parse(q).unwrap().terms[0];
        match_field(term, &fold_str(text)).map(|m| m.score)
    }

    fn span(q: &str, text: &str) -> Option<(usize, usize)> {
        let term = &Query::parse(q).unwrap().terms[0];
        match_field(term, &fold_str(text)).map(|m| (m.start, m.end))
    }

    #[test]
    fn pinyin_in_full_by_initials_and_mixed() {
        let t = "客户开户失败：提示身份证识别失败";
        for q in [
            "khsb",
            "kaihushibai",
            "kaihu",
            "kaihusb",
            "开户sb",
            "kaih",
            "开户失败",
        ] {
            assert_eq!(span(q, t).map(|s| s.0), Some(2), "{q}");
        }
        assert!(
            score("kaihushibai", t) > score("khsb", t),
            "whole syllables weigh more"
        );
        assert!(
            score("开户失败", t) > score("kaihushibai", t),
            "typed characters weigh more"
        );
    }

    #[test]
    fn pinyin_keeps_to_syllable_boundaries() {
        // A loose subsequence of "zhanghuxinxi" would find "kaihu" nowhere, and "anghu" in it;
        // syllables do not split in the middle.
        assert_eq!(score("anghu", "账户信息"), None);
        assert!(score("zhhxx", "账户信息").is_some());
        assert_eq!(score("yinxingka", "绑定银行卡失败"), None);
        assert!(score("yinhangka", "绑定银行卡失败").is_some());
        assert!(score("yhk", "绑定银行卡失败").is_some());
    }

    #[test]
    fn near_spellings_of_words() {
        assert!(score("opne", "open account").is_some());
        assert!(score("acount", "open account").is_some());
        assert!(score("acconut", "open account").is_some());
        assert!(
            score("poen", "open account").is_some(),
            "the first two swapped"
        );
        assert_eq!(
            score("xpen", "open"),
            None,
            "a near word begins as the term does"
        );
        assert_eq!(
            score("opn", "open account").map(|s| s >= IN_A_ROW),
            Some(false)
        );
        assert_eq!(score("xyzw", "open account"), None);
        assert_eq!(
            score("\"opne", "open account"),
            None,
            "a phrase takes no typos"
        );
    }

    #[test]
    fn the_field_start_and_word_boundaries_rank_first() {
        assert!(score("app", "APP 闪退") > score("app", "升级后 APP 闪退"));
        assert!(score("app", "升级后 APP 闪退") > score("app", "whatsapp 闪退"));
        assert!(score("open", "open account") > score("open", "reopened"));
    }

    #[test]
    fn the_punctuation_spared_the_unicode_tables_holds_no_letter_or_digit() {
        for u in (0x2000..=0x206F)
            .chain(0x2190..=0x23FF)
            .chain(0x3000..=0x3020)
        {
            let alnum = char::from_u32(u).is_some_and(char::is_alphanumeric);
            assert_eq!(is_alnum(u as u16), alnum, "{u:x}");
        }
        assert!(is_alnum(0x3007), "〇 is a number");
        assert!(is_alnum(u16::from(b'k')) && is_alnum(0x5F00));
    }

    #[test]
    fn edit_distance_counts_a_transposition_once() {
        let d = |a: &str, b: &str| distance(&fold_str(a), &fold_str(b), 2);
        assert_eq!(d("opne", "open"), Some(1));
        assert_eq!(d("acount", "account"), Some(1));
        assert_eq!(d("abcd", "abcd"), Some(0));
        assert_eq!(d("abcdef", "ab"), None);
    }
}
