//! Searching articles: what the matcher reads of each, how hot and helpful ones go up, and a
//! search that reads a sentence for what it is about when it matches nothing whole. The server
//! and the workstation's offline copy search with these, so both rank alike.

use super::kb::Article;
use super::matcher::{self, Corpus, FieldKind, Found, Query};

/// The fields the matcher reads from an article, title first (highlights index them).
fn fields(a: &Article, system_name: &str) -> Vec<(FieldKind, String)> {
    let mut f = vec![(FieldKind::Title, a.title.clone())];
    f.extend(a.tags.iter().map(|t| (FieldKind::Tag, t.clone())));
    f.extend(a.symptoms.iter().map(|s| (FieldKind::Symptom, s.clone())));
    f.push((FieldKind::System, format!("{system_name} {}", a.system)));
    f.push((FieldKind::Body, format!("{}\n{}", a.cause, a.steps)));
    f
}

/// Hot articles and those often found helpful go up among equals.
fn boost(a: &Article) -> i16 {
    let helpful = (a.helpful.min(1000) as f64 + 1.0).log2() as i16 * 20;
    if a.hot { 150 + helpful } else { helpful }
}

/// The matcher's corpus of `articles`, one entry an article in their order; `system_name`
/// gives a system's name, searchable beside its key.
pub fn corpus<'a>(
    articles: impl IntoIterator<Item = &'a Article>,
    system_name: impl Fn(&str) -> String,
) -> Corpus {
    let mut corpus = Corpus::new();
    for a in articles {
        let f = fields(a, &system_name(&a.system));
        let refs: Vec<(FieldKind, &str)> = f.iter().map(|(k, t)| (*k, t.as_str())).collect();
        corpus.push(&refs, boost(a));
    }
    corpus
}

/// What `query` finds in `corpus`, best `limit` first; when it finds nothing and is plain
/// words with no operators (a ticket's title, a sentence), what `text` is about instead. The
/// query that found them, what it found, and whether that is the fallback.
pub fn find(corpus: &Corpus, query: Query, text: &str, limit: usize) -> (Query, Found, bool) {
    let found = matcher::search(corpus, &query, limit);
    if found.total > 0 || query.is_empty() || query.text_has_operators() {
        return (query, found, false);
    }
    let about = Query::about(text);
    let found = matcher::search(corpus, &about, limit);
    (about, found, true)
}

/// Where `query` matched in entry `entry`'s title (its first field), as character ranges.
pub fn title_highlights(corpus: &Corpus, entry: usize, query: &Query) -> Vec<(usize, usize)> {
    corpus
        .highlights(entry, query)
        .into_iter()
        .next()
        .unwrap_or_default()
}
