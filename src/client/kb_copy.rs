//! A client's copy of the knowledge base, searched as the server searches it: what the
//! workstation and `kb search` fall back on when the server is out of reach.

use crate::api::{KbArticle, KbPage};
use crate::domain::kb_search;
use crate::domain::matcher::Query;

/// `text` searched in `list`, best `limit` first, with the server's matcher and ranking (a
/// system is searched by its key here: the names are the server's configuration).
pub fn search(list: &[KbArticle], text: &str, limit: usize) -> Result<KbPage, String> {
    let query = Query::parse(text).map_err(|e| e.to_string())?;
    let articles: Vec<_> = list.iter().map(KbArticle::article).collect();
    let corpus = kb_search::corpus(&articles, |key| key.to_string());
    let (query, found, related) = kb_search::find(&corpus, query, text, limit);
    Ok(KbPage::of(&found, &corpus, &query, related, |i| {
        (list[i].id, list[i].version, &articles[i])
    }))
}
