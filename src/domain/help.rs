//! Help-center suggestions while a submitter describes a problem: a plain title match.
//!
//! Chinese has no spaces, so text is compared as overlapping character pairs (bigrams) of each
//! CJK run, plus whole ASCII words ("APP", "T+1" → "app", "t"). An article is suggested when
//! its title shares at least two such grams with what the submitter wrote. The knowledge base
//! brings ranked fuzzy and pinyin search; this is the floor it replaces.

use std::collections::HashSet;

/// At most this many suggestions are shown under the description.
pub const MAX_SUGGESTIONS: usize = 3;
/// Grams an article title must share with the text to be suggested.
const MIN_SHARED: usize = 2;

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// The comparable grams of `text`.
pub fn grams(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, out: &mut HashSet<String>| {
        if run.len() == 1 {
            out.insert(run[0].to_string());
        }
        for pair in run.windows(2) {
            out.insert(pair.iter().collect());
        }
        run.clear();
    };
    let flush_word = |word: &mut String, out: &mut HashSet<String>| {
        if word.len() >= 2 {
            out.insert(std::mem::take(word));
        }
        word.clear();
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            run.push(c);
        } else if c.is_ascii_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c.to_ascii_lowercase());
        } else {
            flush_run(&mut run, &mut out);
            flush_word(&mut word, &mut out);
        }
    }
    flush_run(&mut run, &mut out);
    flush_word(&mut word, &mut out);
    out
}

/// How well `title` matches `text`: shared grams, or None when too few to suggest.
pub fn title_score(text: &HashSet<String>, title: &str) -> Option<usize> {
    let shared = grams(title).intersection(text).count();
    (shared >= MIN_SHARED).then_some(shared)
}

/// The best titles for `text` among `(id, title)` pairs, best first, at most
/// [`MAX_SUGGESTIONS`]; ties keep the given order.
pub fn suggest<'a>(text: &str, titles: impl IntoIterator<Item = (i64, &'a str)>) -> Vec<i64> {
    let wanted = grams(text);
    if wanted.len() < MIN_SHARED {
        return Vec::new();
    }
    let mut scored: Vec<(usize, usize, i64)> = titles
        .into_iter()
        .enumerate()
        .filter_map(|(i, (id, title))| title_score(&wanted, title).map(|s| (s, i, id)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, id)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLES: &[(i64, &str)] = &[
        (1, "委托下单提示“可用资金不足”，但账户里明明有钱"),
        (2, "APP 登录收不到短信验证码"),
        (3, "银证转账失败：提示“银行余额不足”或“银行密码错误”"),
        (4, "行情不刷新、分时图不动"),
    ];

    #[test]
    fn chinese_text_matches_by_character_pairs() {
        let got = suggest("客户下单时提示资金不足，账户有钱", TITLES.iter().copied());
        assert_eq!(got.first(), Some(&1));
        assert!(!got.contains(&4));
    }

    #[test]
    fn ascii_words_match_case_insensitively() {
        let got = suggest("客户的app登录一直收不到验证码", TITLES.iter().copied());
        assert_eq!(got, vec![2]);
    }

    #[test]
    fn too_little_text_suggests_nothing() {
        assert!(suggest("钱", TITLES.iter().copied()).is_empty());
        assert!(suggest("", TITLES.iter().copied()).is_empty());
        assert!(suggest("<script>alert(1)</script>", TITLES.iter().copied()).is_empty());
    }

    #[test]
    fn at_most_three_best_first() {
        let many: Vec<(i64, String)> = (0..10).map(|i| (i, format!("资金不足问题 {i}"))).collect();
        let got = suggest("资金不足", many.iter().map(|(i, t)| (*i, t.as_str())));
        assert_eq!(got, vec![0, 1, 2]);
    }
}
