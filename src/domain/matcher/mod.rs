//! The one matcher behind every search box: the workstation's KB pane, `opsdesk kb search` and
//! `kb filter`, the server's KB API, the help center and the MSS suggestions.
//!
//! A [`Corpus`] holds every entry's fields folded once ([`fold`]) into one UTF-16 arena, so a
//! search reads memory and compares numbers; pinyin readings come from tables built once
//! ([`pinyin`]), not from the text. A [`Query`] is terms that must all match; each term scores
//! its best field ([`score`]), weighed by the field's kind. A [`Search`] remembers the matches
//! of the queries just typed, so a keystroke that narrows the query looks only at them.

pub mod fold;
pub mod pinyin;
pub mod query;
pub mod score;

pub use query::{Query, QueryError, Term, TermKind};

/// What a field of an entry is, for weighing its matches and for `sys:`/`tag:` filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FieldKind {
    Title,
    Symptom,
    Tag,
    System,
    Body,
}

impl FieldKind {
    /// A title match outweighs the same match anywhere else.
    fn weight(self) -> i32 {
        match self {
            FieldKind::Title => 4,
            FieldKind::Tag => 3,
            FieldKind::Symptom | FieldKind::System => 2,
            FieldKind::Body => 1,
        }
    }
}

/// Every entry's fields, folded into one arena.
#[derive(Debug, Default)]
pub struct Corpus {
    units: Vec<u16>,
    /// Where each field starts in `units` (it ends where the next starts), and its kind.
    fields: Vec<(u32, FieldKind)>,
    /// Where each entry's fields start in `fields`; one more at the end.
    entries: Vec<u32>,
    /// Added to an entry's score when it matches (hot, often helpful).
    boosts: Vec<i16>,
    /// Per entry, what its text holds, for ruling it out without reading it.
    marks: Vec<Marks>,
}

/// What an entry's text holds, noted as it is folded: a search rules out most entries by
/// these masks alone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Marks {
    /// The letters and digits its ASCII words hold ([`score::word_bit`]): a term missing
    /// more of them than its typo allowance is near no word of the entry.
    letters: u64,
    /// What its ASCII words begin with ([`score::word_bit`]): a near spelling keeps a word's
    /// first letter, or swaps its first two.
    word_starts: u64,
    /// What a term can begin with there ([`start_bit`]): the ASCII letters it holds and the
    /// initials of its Han characters (a bit a letter), and its Han characters themselves
    /// (hashed into the other bits). An exact term whose first character has no bit here
    /// matches nowhere in the entry.
    firsts: u64,
}

impl Marks {
    /// Whether a near spelling of a term may be in the entry: the term has a typo allowance,
    /// a word of the entry begins with its first or second letter, and the entry's words lack
    /// no more of its letters than the allowance (each one missing costs an edit). Most
    /// entries are out of reach without reading their text.
    fn reached_by(self, near: &Near) -> bool {
        near.typos > 0
            && self.word_starts & near.begins != 0
            && near
                .letters
                .iter()
                .filter(|&&bit| self.letters & bit == 0)
                .nth(near.typos)
                .is_none()
    }
}

/// What a term's near spellings need of an entry's [`Marks`], worked out once a scan.
#[derive(Debug)]
struct Near {
    typos: usize,
    /// The bits of its first two letters: a near word begins with one of them.
    begins: u64,
    /// The bit of each of its letters.
    letters: Vec<u64>,
}

impl Near {
    fn of(term: &Term) -> Near {
        let letters: Vec<u64> = term.text.iter().map(|&u| score::word_bit(u)).collect();
        Near {
            typos: term.typos(),
            begins: letters.iter().take(2).fold(0, |m, &b| m | b),
            letters,
        }
    }
}

/// What every entry must hold for a query to match it, worked out once a scan.
#[derive(Debug)]
struct Needs {
    /// The [`Marks::firsts`] bits its terms begin with ([`first_units`]).
    firsts: u64,
    /// Each term's [`Near`], in the terms' order.
    near: Vec<Near>,
}

impl Needs {
    fn of(query: &Query) -> Needs {
        Needs {
            firsts: first_units(query),
            near: query.terms.iter().map(Near::of).collect(),
        }
    }
}

impl std::ops::BitOrAssign for Marks {
    fn bitor_assign(&mut self, other: Marks) {
        self.letters |= other.letters;
        self.word_starts |= other.word_starts;
        self.firsts |= other.firsts;
    }
}

/// One entry's place in the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The entry's position in the corpus, in the order it was added.
    pub entry: u32,
    pub score: i32,
}

impl Corpus {
    pub fn new() -> Corpus {
        Corpus {
            entries: vec![0],
            ..Corpus::default()
        }
    }

    /// A corpus of lines, one single-field entry each (what `kb filter` reads), folded on
    /// every core.
    pub fn from_lines(lines: &[&str]) -> Corpus {
        let n = lines.len();
        let shares = shares(n);
        // A line folds to one unit a character, so counting characters first lets each core
        // fold its share straight into its own stretch of one arena: nothing is copied after.
        let counts = in_parallel(n, |share| {
            lines[share]
                .iter()
                .map(|l| l.chars().count())
                .sum::<usize>()
        });
        let mut units = vec![0u16; counts.iter().sum()];
        let mut starts = vec![0u32; n];
        let mut marks = vec![Marks::default(); n];
        let fold_share = |lines: &[&str], base: usize, out: Share| {
            let mut at = 0;
            for (k, line) in lines.iter().enumerate() {
                out.starts[k] = (base + at) as u32;
                let units = &mut out.units[at..];
                let mut written = 0;
                out.marks[k] = fold_noting(line, |u| {
                    units[written] = u;
                    written += 1;
                });
                at += written;
            }
        };
        let mut rest = Share {
            units: &mut units,
            starts: &mut starts,
            marks: &mut marks,
        };
        let mut work = Vec::with_capacity(shares.len());
        let mut base = 0;
        for (share, count) in shares.into_iter().zip(&counts) {
            let (this, after) = rest.split(share.len(), *count);
            work.push((&lines[share], base, this));
            base += count;
            rest = after;
        }
        if work.len() == 1 {
            for (lines, base, out) in work {
                fold_share(lines, base, out);
            }
        } else {
            std::thread::scope(|s| {
                for (lines, base, out) in work {
                    s.spawn(move || fold_share(lines, base, out));
                }
            });
        }
        Corpus {
            units,
            fields: starts.into_iter().map(|s| (s, FieldKind::Title)).collect(),
            entries: (0..=n as u32).collect(),
            boosts: vec![0; n],
            marks,
        }
    }

    /// Adds an entry; its number is the count of entries before it.
    pub fn push(&mut self, fields: &[(FieldKind, &str)], boost: i16) {
        let mut marks = Marks::default();
        for (kind, text) in fields {
            self.fields.push((self.units.len() as u32, *kind));
            self.units.reserve(text.len());
            marks |= fold_noting(text, |u| self.units.push(u));
        }
        self.marks.push(marks);
        self.entries.push(self.fields.len() as u32);
        self.boosts.push(boost);
    }

    pub fn len(&self) -> usize {
        self.boosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.boosts.is_empty()
    }

    /// Bytes held beyond the entries' own text: for the memory budget.
    pub fn heap_bytes(&self) -> usize {
        self.units.capacity() * 2
            + self.fields.capacity() * std::mem::size_of::<(u32, FieldKind)>()
            + self.entries.capacity() * 4
            + self.boosts.capacity() * 2
            + self.marks.capacity() * std::mem::size_of::<Marks>()
    }

    fn field(&self, f: usize) -> (&[u16], FieldKind) {
        let (start, kind) = self.fields[f];
        let end = self
            .fields
            .get(f + 1)
            .map_or(self.units.len(), |&(s, _)| s as usize);
        (&self.units[start as usize..end], kind)
    }

    fn fields_of(&self, entry: usize) -> impl Iterator<Item = (&[u16], FieldKind)> {
        let (a, b) = (self.entries[entry], self.entries[entry + 1]);
        (a as usize..b as usize).map(|f| self.field(f))
    }

    /// The entry's score for `query`, or `None` when a term matches none of its fields.
    pub fn score(&self, entry: usize, query: &Query) -> Option<i32> {
        self.score_needing(entry, query, &Needs::of(query))
    }

    /// [`Corpus::score`], with what `query` needs of an entry ([`Needs`]) worked out once for
    /// a whole scan: an entry missing it is ruled out, or spared the search for near
    /// spellings, without reading it.
    fn score_needing(&self, entry: usize, query: &Query, needs: &Needs) -> Option<i32> {
        let marks = self.marks[entry];
        if marks.firsts & needs.firsts != needs.firsts {
            return None;
        }
        let mut total = 0;
        let mut matched = 0;
        for (term, near) in query.terms.iter().zip(&needs.near) {
            let typos = if marks.reached_by(near) {
                near.typos
            } else {
                0
            };
            let best = self
                .fields_of(entry)
                .filter(|(_, kind)| term.field.is_none_or(|k| k == *kind))
                .filter_map(|(text, kind)| {
                    score::match_field_within(term, text, typos).map(|m| m.score * kind.weight())
                })
                .max();
            match (best, query.at_least) {
                (Some(best), _) => {
                    total += best;
                    matched += 1;
                }
                (None, None) => return None,
                (None, Some(_)) => {}
            }
        }
        if query.at_least.is_some_and(|n| matched < n) {
            return None;
        }
        Some(total + i32::from(self.boosts[entry]))
    }

    /// Where `query` matched in each field of `entry`, as character ranges, for highlighting.
    pub fn highlights(&self, entry: usize, query: &Query) -> Vec<Vec<(usize, usize)>> {
        self.fields_of(entry)
            .map(|(text, kind)| {
                let mut spans: Vec<(usize, usize)> = query
                    .terms
                    .iter()
                    .filter(|t| t.field.is_none_or(|k| k == kind))
                    .filter_map(|t| score::match_field(t, text))
                    .filter(|m| m.end > m.start)
                    .map(|m| (m.start, m.end))
                    .collect();
                spans.sort_unstable();
                spans.dedup();
                spans
            })
            .collect()
    }

    /// Scores `candidates` (every entry when `None`) in parallel chunks on big corpora.
    fn matches(&self, query: &Query, candidates: Option<&[u32]>) -> Vec<Hit> {
        let needs = Needs::of(query);
        self.each(candidates, |e| {
            self.score_needing(e as usize, query, &needs)
                .map(|score| Hit { entry: e, score })
        })
    }

    /// The entries outside `matched` (ascending) that `term` reaches by a near spelling,
    /// merged with `matched`: what a query that grew into more typo allowance must look at.
    fn widened(&self, term: &Term, matched: &[u32]) -> Vec<u32> {
        // A bit an entry: asked of every entry in reach, where a search of `matched` costs.
        let mut had = vec![0u64; self.len().div_ceil(64)];
        for &e in matched {
            had[e as usize / 64] |= 1 << (e % 64);
        }
        let reach = Near::of(term);
        let near = self.each(None, |e| {
            (self.marks[e as usize].reached_by(&reach)
                && had[e as usize / 64] & (1 << (e % 64)) == 0
                && self.fields_of(e as usize).any(|(text, kind)| {
                    term.field.is_none_or(|k| k == kind) && score::near(term, text)
                }))
            .then_some(e)
        });
        let mut all = Vec::with_capacity(matched.len() + near.len());
        all.extend_from_slice(matched);
        all.extend_from_slice(&near);
        all.sort_unstable();
        all
    }

    /// `f` over `ids` (every entry when `None`), in order, on every core for big sets.
    fn each<T: Send>(&self, ids: Option<&[u32]>, f: impl Fn(u32) -> Option<T> + Sync) -> Vec<T> {
        let entry = |i: usize| ids.map_or(i as u32, |ids| ids[i]);
        let n = ids.map_or(self.len(), <[u32]>::len);
        in_parallel(n, |range| {
            range.filter_map(|i| f(entry(i))).collect::<Vec<T>>()
        })
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Folds `text` into `put`, a unit a character, noting in the same pass its ASCII words'
/// letters and what a term can begin with in it ([`Marks`]).
fn fold_noting(text: &str, mut put: impl FnMut(u16)) -> Marks {
    let initials = pinyin::Initials::get();
    let mut marks = Marks::default();
    let mut in_word = false;
    for c in text.chars() {
        let u = fold::fold_char(c);
        let word = query::is_word_unit(u);
        if word {
            marks.letters |= score::word_bit(u);
            marks.firsts |= start_bit(u);
            if !in_word {
                marks.word_starts |= score::word_bit(u);
            }
        } else if pinyin::is_han(u) {
            marks.firsts |= start_bit(u) | u64::from(initials.of(u));
        }
        in_word = word;
        put(u);
    }
    marks
}

/// One core's stretch of the arrays [`Corpus::from_lines`] fills.
struct Share<'a> {
    units: &'a mut [u16],
    starts: &'a mut [u32],
    marks: &'a mut [Marks],
}

impl<'a> Share<'a> {
    /// The first `entries` entries and `units` units, and the rest.
    fn split(self, entries: usize, units: usize) -> (Share<'a>, Share<'a>) {
        let (u, u_rest) = self.units.split_at_mut(units);
        let (s, s_rest) = self.starts.split_at_mut(entries);
        let (m, m_rest) = self.marks.split_at_mut(entries);
        (
            Share {
                units: u,
                starts: s,
                marks: m,
            },
            Share {
                units: u_rest,
                starts: s_rest,
                marks: m_rest,
            },
        )
    }
}

/// `0..n` split into one contiguous range a core (one range when `n` is small).
fn shares(n: usize) -> Vec<std::ops::Range<usize>> {
    let threads = cores();
    if n < PARALLEL_FROM || threads < 2 {
        return std::iter::once(0..n).collect();
    }
    let chunk = n.div_ceil(threads);
    (0..n)
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(n))
        .collect()
}

/// `work` over each of [`shares`]`(n)` on its own core, the results in the shares' order.
fn in_parallel<T: Send + Default>(
    n: usize,
    work: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    let shares = shares(n);
    if shares.len() == 1 {
        return shares.into_iter().map(work).collect();
    }
    let work = &work;
    std::thread::scope(|s| {
        let parts: Vec<_> = shares
            .into_iter()
            .map(|share| s.spawn(move || work(share)))
            .collect();
        parts
            .into_iter()
            .map(|p| p.join().unwrap_or_default())
            .collect()
    })
}

/// The bits an entry's [`Marks::firsts`] must hold for every term of `query` to match in
/// it: each exact term's first character's (a typo allowance could change a word's first
/// letter; a term starting with a digit or a sign says nothing). None when `query` needs
/// only some of its terms to match.
fn first_units(query: &Query) -> u64 {
    if query.at_least.is_some() {
        return 0;
    }
    query
        .terms
        .iter()
        .filter(|t| t.typos() == 0)
        .filter_map(|t| t.text.first())
        .fold(0, |needs, &u| needs | start_bit(u))
}

/// Bits of [`Marks::firsts`] below this are letters (`l - 'a'`, as [`pinyin::Initials`]
/// numbers them); from it up, Han characters hashed.
const HAN_BITS_FROM: u32 = 26;

/// The bit a folded unit sets in [`Marks::firsts`]: its own for an ASCII letter, a hashed
/// one for a Han character (a Han term matches only the character itself), none otherwise.
#[inline]
fn start_bit(u: u16) -> u64 {
    if (u16::from(b'a')..=u16::from(b'z')).contains(&u) {
        1 << (u - u16::from(b'a'))
    } else if pinyin::is_han(u) {
        // Fibonacci hashing spreads neighbouring code points over the bits left.
        let hash = u64::from(u).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        1 << (u64::from(HAN_BITS_FROM) + hash % u64::from(64 - HAN_BITS_FROM))
    } else {
        0
    }
}

/// Below this many entries one thread is quicker than starting more.
const PARALLEL_FROM: usize = 20_000;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Best first: higher score, then the earlier entry (the caller's order: newer, or as read).
fn best_first(hits: &mut [Hit], limit: usize) -> Vec<Hit> {
    let order = |a: &Hit, b: &Hit| b.score.cmp(&a.score).then(a.entry.cmp(&b.entry));
    if hits.len() > limit && limit > 0 {
        hits.select_nth_unstable_by(limit - 1, order);
    }
    let n = limit.min(hits.len());
    let top = &mut hits[..n];
    top.sort_unstable_by(order);
    top.to_vec()
}

/// A search box's memory: the queries just typed, most recent last.
#[derive(Debug, Default)]
pub struct Search {
    history: Vec<Typed>,
}

/// A query typed into a search box and what it found.
#[derive(Debug)]
struct Typed {
    query: Query,
    /// Every matching entry, ascending: what a narrower query need look at.
    ids: Vec<u32>,
    /// The result shown, kept so that backspacing to this query costs nothing.
    found: Found,
    limit: usize,
}

/// What one search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The best `limit` entries, best first.
    pub hits: Vec<Hit>,
    /// How many entries matched in all.
    pub total: usize,
}

/// How many past queries a search box remembers (one per keystroke).
const HISTORY: usize = 64;

impl Search {
    pub fn new() -> Search {
        Search::default()
    }

    /// Searches `corpus` for `query`, looking only at an earlier query's matches when `query`
    /// narrows it (typing on), and remembering this one's.
    pub fn run(&mut self, corpus: &Corpus, query: &Query, limit: usize) -> Found {
        // Backspacing returns to an earlier query: drop what it narrowed.
        let mut widened = None;
        while let Some(typed) = self.history.last() {
            if typed.query == *query && typed.limit == limit {
                // Back to a query just shown (a backspace, or the same query asked again).
                return typed.found.clone();
            }
            if query.narrows(&typed.query) {
                break;
            }
            if query.grows_from(&typed.query) && !typed.query.is_empty() {
                // Typed on into more typo allowance: the earlier matches, and whatever the
                // grown term reaches by a near spelling.
                let grown = &query.terms[typed.query.terms.len() - 1];
                widened = Some(corpus.widened(grown, &typed.ids));
                self.history.pop();
                break;
            }
            self.history.pop();
        }
        let base = match &widened {
            Some(ids) => Some(ids.as_slice()),
            None => self.history.last().map(|typed| typed.ids.as_slice()),
        };
        let mut hits = corpus.matches(query, base);
        // Candidates are scored in entry order, chunk after chunk, so the matches come out
        // ascending: the next narrowing can binary-search them with no sort.
        debug_assert!(hits.windows(2).all(|w| w[0].entry < w[1].entry));
        let ids = hits.iter().map(|h| h.entry).collect();
        let total = hits.len();
        let found = Found {
            hits: best_first(&mut hits, limit),
            total,
        };
        if self.history.len() == HISTORY {
            self.history.remove(0);
        }
        self.history.push(Typed {
            query: query.clone(),
            ids,
            found: found.clone(),
            limit,
        });
        found
    }
}

/// One search with no memory: `Search::new().run(…)`.
pub fn search(corpus: &Corpus, query: &Query, limit: usize) -> Found {
    Search::new().run(corpus, query, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<&'static str> {
        vec![
            "开户失败：视频见证提示网络异常",        // 0
            "客户开户失败，身份证识别不通过",        // 1
            "银证转账失败：银行卡状态异常",          // 2
            "快速开户流程说明",                      // 3
            "APP 闪退：升级到 9.3.0 后打开即退出",   // 4
            "open account failed: OTP not received", // 5
            "可用资金不足，委托被拒绝",              // 6
            "科创板权限开通后仍提示无权限",          // 7
        ]
    }

    fn top(q: &str) -> Vec<u32> {
        let c = Corpus::from_lines(&lines());
        search(&c, &Query::parse(q).unwrap(), 10)
            .hits
            .iter()
            .map(|h| h.entry)
            .collect()
    }

    #[test]
    fn the_failure_to_open_an_account_comes_first_however_typed() {
        for q in ["khsb", "kaihushibai", "开户失败"] {
            let found = top(q);
            assert_eq!(&found[..2], &[0, 1], "{q}: {found:?}");
        }
        let found = top("kaihu");
        assert!(
            found.starts_with(&[0]) && found.contains(&1) && found.contains(&3),
            "{found:?}"
        );
        assert!(!found.contains(&2), "银证转账 is not kaihu: {found:?}");
        assert_eq!(top("opne acount"), vec![5]);
    }

    #[test]
    fn every_term_must_match() {
        assert_eq!(top("开户 视频"), vec![0]);
        assert_eq!(top("app 9.3"), vec![4]);
        assert!(top("开户 转账").is_empty());
    }

    #[test]
    fn typing_on_narrows_and_backspace_widens_again() {
        let c = Corpus::from_lines(&lines());
        let mut s = Search::new();
        let mut steps = Vec::new();
        let typed = [
            "k", "kh", "khs", "khsb", "khs", "kh", "k", "", "kai", "", "o", "op", "opn",
        ];
        let more = [
            "opne",
            "opne a",
            "opne aco",
            "opne acou",
            "opne acount",
            "opne acountt",
        ];
        for q in typed.into_iter().chain(more) {
            let found = s.run(&c, &Query::parse(q).unwrap(), 100);
            let fresh = search(&c, &Query::parse(q).unwrap(), 100);
            assert_eq!(found, fresh, "{q}: as typed = searched afresh");
            steps.push(found.total);
        }
        assert!(steps[3] <= steps[2] && steps[2] <= steps[1], "{steps:?}");
        assert_eq!(steps[7], lines().len());
    }

    #[test]
    fn filters_look_only_at_their_fields() {
        let mut c = Corpus::new();
        c.push(
            &[
                (FieldKind::Title, "委托被拒绝"),
                (FieldKind::System, "交易 trading"),
            ],
            0,
        );
        c.push(
            &[
                (FieldKind::Title, "交易时间说明"),
                (FieldKind::System, "客服 service"),
            ],
            0,
        );
        c.push(
            &[(FieldKind::Title, "开户"), (FieldKind::Tag, "open account")],
            5,
        );
        let ids = |q: &str| -> Vec<u32> {
            search(&c, &Query::parse(q).unwrap(), 10)
                .hits
                .iter()
                .map(|h| h.entry)
                .collect()
        };
        assert_eq!(ids("sys:交易"), vec![0]);
        assert_eq!(ids("交易"), vec![1, 0], "the title outweighs the system");
        assert_eq!(ids("sys:jy"), vec![0]);
        assert_eq!(ids("tag:\"open account\""), vec![2]);
        assert_eq!(
            ids(""),
            vec![2, 0, 1],
            "boosted first when nothing is typed"
        );
    }

    #[test]
    fn a_corpus_folded_on_several_cores_is_the_one_folded_on_one() {
        let many: Vec<String> = (0..PARALLEL_FROM * 2 + 7)
            .map(|i| format!("{} #{i}", lines()[i % lines().len()]))
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let parallel = Corpus::from_lines(&refs);
        let mut serial = Corpus::new();
        for line in &refs {
            serial.push(&[(FieldKind::Title, line)], 0);
        }
        assert_eq!(parallel.units, serial.units);
        assert_eq!(parallel.fields, serial.fields);
        assert_eq!(parallel.entries, serial.entries);
        assert_eq!(parallel.marks, serial.marks);
        assert_eq!(parallel.boosts, serial.boosts);
        let q = Query::parse("khsb 7").unwrap();
        assert_eq!(search(&parallel, &q, 50), search(&serial, &q, 50));
    }

    #[test]
    fn a_passage_finds_what_it_is_about() {
        let c = Corpus::from_lines(&lines());
        let about = |text: &str| -> Vec<u32> {
            search(&c, &Query::about(text), 10)
                .hits
                .iter()
                .map(|h| h.entry)
                .collect()
        };
        // No article holds the whole sentence; the ones about failed openings share its pairs.
        let found = about("客户今天开户失败了，视频见证一直提示网络异常");
        assert_eq!(found.first(), Some(&0), "{found:?}");
        assert!(found.contains(&1) && !found.contains(&6), "{found:?}");
        assert!(about("今天天气").is_empty(), "too little in common");
        assert!(about("").is_empty());
    }

    #[test]
    fn highlights_are_character_ranges_of_the_original_text() {
        let c = Corpus::from_lines(&["客户开户失败 APP"]);
        let q = Query::parse("khsb app").unwrap();
        assert_eq!(c.highlights(0, &q), vec![vec![(2, 6), (7, 10)]]);
    }
}
