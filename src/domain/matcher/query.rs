//! What a search box holds, read as terms: plain words, `"exact phrases"`, and field filters
//! (`sys:交易`, `tag:开户`, each also quotable: `tag:"open account"`).

use super::FieldKind;
use super::fold::fold_str;

/// A query longer than this is refused rather than searched: no article is found by a page
/// of text, and a bound keeps every search's cost bounded.
pub const MAX_QUERY_CHARS: usize = 1000;

/// How a term must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// Characters, pinyin (full or initials), a subsequence, or a near spelling of a word.
    Fuzzy,
    /// The exact characters, in a row.
    Phrase,
}

/// One term of a query: every term must match an entry for the entry to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Folded, as the index holds text.
    pub text: Vec<u16>,
    pub kind: TermKind,
    /// Only fields of this kind are searched for it (a `sys:` or `tag:` filter).
    pub field: Option<FieldKind>,
}

impl Term {
    /// How many edits a word may be away and still match: none for short words, where one
    /// edit is most of the word; one from four letters, two from eight.
    pub fn typos(&self) -> usize {
        if self.kind == TermKind::Phrase || !self.text.iter().all(|&u| is_word_unit(u)) {
            return 0;
        }
        match self.text.len() {
            0..=3 => 0,
            4..=7 => 1,
            _ => 2,
        }
    }
}

/// ASCII letters and digits: what a typo-tolerant word is made of.
#[inline]
pub fn is_word_unit(u: u16) -> bool {
    u < 0x80 && (u as u8).is_ascii_alphanumeric()
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub terms: Vec<Term>,
    /// When set, an entry matches with at least this many of the terms, not all: a passage
    /// of text (a ticket's title, what a submitter is typing) read for what it is about.
    pub at_least: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is {0} characters long; at most {MAX_QUERY_CHARS} are searched")]
    TooLong(usize),
}

impl Query {
    /// Reads `input`. Whitespace and control characters separate terms; an unclosed quote
    /// runs to the end; an unknown `word:` prefix is plain text (`http://…` stays a term).
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        let chars = input.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong(chars));
        }
        let mut terms = Vec::new();
        let mut rest = input;
        loop {
            rest = rest.trim_start_matches(is_separator);
            if rest.is_empty() {
                break;
            }
            let (field, after) = field_prefix(rest);
            let (raw, kind, next) = match after.strip_prefix('"') {
                Some(quoted) => {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    let next = quoted.get(end + 1..).unwrap_or("");
                    (&quoted[..end], TermKind::Phrase, next)
                }
                None => {
                    let end = after.find(is_separator).unwrap_or(after.len());
                    (&after[..end], TermKind::Fuzzy, &after[end..])
                }
            };
            let text = fold_str(raw);
            // An empty value only means something as a filter: "has such a field".
            if !text.is_empty() || field.is_some() {
                terms.push(Term { text, kind, field });
            }
            rest = next;
        }
        Ok(Query {
            terms,
            at_least: None,
        })
    }

    /// A passage read for what it is about: its ASCII words of two letters or more and the
    /// character pairs of its Chinese, each to be found as typed; an entry matches with a
    /// fifth of them (two to four), scored by those it shares. For text with no operators,
    /// where every word would otherwise have to match.
    pub fn about(text: &str) -> Query {
        let mut grams: Vec<Vec<u16>> = Vec::new();
        let mut push = |g: Vec<u16>| {
            if !grams.contains(&g) {
                grams.push(g);
            }
        };
        let folded: Vec<u16> = text
            .chars()
            .take(MAX_QUERY_CHARS)
            .map(super::fold::fold_char)
            .collect();
        let mut i = 0;
        while i < folded.len() {
            let u = folded[i];
            if is_word_unit(u) {
                let start = i;
                while i < folded.len() && is_word_unit(folded[i]) {
                    i += 1;
                }
                if i - start >= 2 {
                    push(folded[start..i].to_vec());
                }
            } else if super::pinyin::is_han(u) {
                if folded.get(i + 1).is_some_and(|&n| super::pinyin::is_han(n)) {
                    push(folded[i..i + 2].to_vec());
                }
                i += 1;
            } else {
                i += 1;
            }
        }
        // A fifth of a short passage's pairs, never fewer than two nor more than four: a long
        // description shares four telling pairs with its article, not a fifth of its words.
        let at_least = (grams.len() / 5).clamp(2, 4);
        Query {
            terms: grams
                .into_iter()
                .map(|text| Term {
                    text,
                    kind: TermKind::Phrase,
                    field: None,
                })
                .collect(),
            at_least: Some(at_least),
        }
    }

    /// Whether the query used a phrase or a field filter: it was written as a query, not as
    /// a passage of text.
    pub fn text_has_operators(&self) -> bool {
        self.terms
            .iter()
            .any(|t| t.kind == TermKind::Phrase || t.field.is_some())
    }

    /// Nothing asked: every entry answers. (A passage with nothing in it finds nothing.)
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.at_least.is_none()
    }

    /// Whether every entry matching `self` matches `base` too, so a search for `self` need
    /// only look at `base`'s matches: the query grew by typing, within its last term or by
    /// new terms, and no term became more tolerant of typos.
    pub fn narrows(&self, base: &Query) -> bool {
        self.at_least.is_none()
            && base.at_least.is_none()
            && self.grows_from(base)
            && self.typos_at(base.terms.len()) <= base.typos_at(base.terms.len())
    }

    /// Whether `self` is `base` typed on (its last term longer, or more terms after it),
    /// whatever that did to the typo allowance. When it raised it, an entry outside `base`'s
    /// matches can match only by a near spelling of the grown term.
    pub fn grows_from(&self, base: &Query) -> bool {
        if self.at_least.is_some() || base.at_least.is_some() {
            return false;
        }
        let Some((last, same)) = base.terms.split_last() else {
            return true;
        };
        if self.terms.len() < base.terms.len() || self.terms[..same.len()] != *same {
            return false;
        }
        let grown = &self.terms[same.len()];
        grown.kind == last.kind && grown.field == last.field && grown.text.starts_with(&last.text)
    }

    /// The typo allowance of the term `base_len` − 1 (the one a grown query may have grown).
    fn typos_at(&self, base_len: usize) -> usize {
        base_len
            .checked_sub(1)
            .and_then(|i| self.terms.get(i))
            .map_or(0, Term::typos)
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

fn field_prefix(s: &str) -> (Option<FieldKind>, &str) {
    for (prefix, kind) in [("sys:", FieldKind::System), ("tag:", FieldKind::Tag)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return (Some(kind), rest);
        }
    }
    (None, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &str) -> Vec<(String, TermKind, Option<FieldKind>)> {
        Query::parse(q)
            .unwrap()
            .terms
            .into_iter()
            .map(|t| (String::from_utf16(&t.text).unwrap(), t.kind, t.field))
            .collect()
    }

    #[test]
    fn terms_phrases_and_filters() {
        use FieldKind::*;
        use TermKind::*;
        assert_eq!(
            texts(r#"  开户 "Open Account"  sys:交易 tag:"open account" http://x "#),
            vec![
                ("开户".into(), Fuzzy, None),
                ("open account".into(), Phrase, None),
                ("交易".into(), Fuzzy, Some(System)),
                ("open account".into(), Phrase, Some(Tag)),
                ("http://x".into(), Fuzzy, None),
            ]
        );
        assert_eq!(
            texts(r#""unclosed phrase"#),
            vec![("unclosed phrase".into(), Phrase, None)]
        );
        assert_eq!(texts("a\u{0}b\tc"), texts("a b c"));
        assert!(texts("\"\" \u{7}").is_empty());
        assert_eq!(texts("ＫＨＳＢ"), texts("khsb"));
    }

    #[test]
    fn a_query_of_any_length_is_read_or_refused() {
        let long = "开".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(
            Query::parse(&long),
            Err(QueryError::TooLong(MAX_QUERY_CHARS + 1))
        );
        assert_eq!(Query::parse(&"x ".repeat(500)).unwrap().terms.len(), 500);
    }

    #[test]
    fn narrowing_is_typing_on_without_more_typo_tolerance() {
        let q = |s: &str| Query::parse(s).unwrap();
        assert!(q("kai").narrows(&q("ka")));
        assert!(q("kaihu").narrows(&q("kaih")));
        assert!(q("kai hu").narrows(&q("kai")));
        assert!(q("kai").narrows(&q("")));
        assert!(!q("ka").narrows(&q("kai")), "a deletion widens");
        assert!(
            !q("acco").narrows(&q("acc")),
            "four letters may be one typo away"
        );
        assert!(q("accou").narrows(&q("acco")));
        assert!(
            !q("\"kai").narrows(&q("kai")),
            "a phrase is another kind of term"
        );
        assert!(!q("sys:").narrows(&q("sys")));
    }
}
