//! Pictures in an article's steps. `![流程图](/kb/images/12)` names a picture the server keeps
//! (under [`PATH`]); a file being imported may name one lying beside it
//! (`![流程图](images/flow.png)`), which the import stores and renames the server's way, and
//! the export writes back beside the file.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};

/// Where the server's pictures are addressed in an article: `/kb/images/{id}`.
pub const PATH: &str = "/kb/images/";

/// The markdown an article's steps are written in: CommonMark with tables and strikethrough.
/// Pages render it and pictures are found in it with the same options, so both read an
/// image the same way.
pub fn steps_markdown() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// An image in markdown: its address, and where that address is written in the text (in
/// the image, or in the reference definition it names; none when escapes hide it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub url: String,
    pub span: Option<Range<usize>>,
}

/// Every image in `markdown`, in order.
pub fn refs(markdown: &str) -> Vec<ImageRef> {
    let parser = Parser::new_ext(markdown, steps_markdown());
    let definitions: Vec<(String, Range<usize>)> = parser
        .reference_definitions()
        .iter()
        .map(|(label, def)| (label.to_lowercase(), def.span.clone()))
        .collect();
    parser
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                id,
                ..
            }) => {
                let span = if link_type == LinkType::Inline {
                    address_in(markdown, range, "](", &dest_url)
                } else {
                    let label = id.to_lowercase();
                    definitions
                        .iter()
                        .find(|(l, _)| *l == label)
                        .and_then(|(_, def)| address_in(markdown, def.clone(), "]:", &dest_url))
                };
                Some(ImageRef {
                    url: dest_url.to_string(),
                    span,
                })
            }
            _ => None,
        })
        .collect()
}

/// Where `url` is written in `markdown[within]`, after the last `opener`: an inline image
/// (`![alt](url "title")`, opened by `](`) or a reference definition (`[label]: url`).
fn address_in(
    markdown: &str,
    within: Range<usize>,
    opener: &str,
    url: &str,
) -> Option<Range<usize>> {
    let text = markdown.get(within.clone())?;
    let open = text.rfind(opener)? + opener.len();
    let after = &text[open..];
    let skipped = after.len() - after.trim_start().len();
    let mut start = open + skipped;
    if text[start..].starts_with('<') {
        start += 1;
    }
    text[start..]
        .starts_with(url)
        .then(|| within.start + start..within.start + start + url.len())
}

/// The server's picture a `url` names, when it names one.
pub fn stored_id(url: &str) -> Option<i64> {
    let digits = url.strip_prefix(PATH)?;
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&id| id > 0)
}

/// The server's pictures `markdown` shows, ascending, each once.
pub fn stored_ids(markdown: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = refs(markdown)
        .iter()
        .filter_map(|r| stored_id(&r.url))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether `url` names a file beside the article (a relative path), not an address.
pub fn is_beside(url: &str) -> bool {
    let head = url.split(['/', '?', '#']).next().unwrap_or("");
    !url.is_empty() && !url.starts_with('/') && !url.starts_with('#') && !head.contains(':')
}

/// `markdown` with each image address `f` gives a new one for replaced; the first address
/// that must change but is written where a rewrite cannot follow is the error.
pub fn rewrite(markdown: &str, f: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = markdown.to_string();
    let mut changes = Vec::new();
    for r in refs(markdown) {
        if let Some(new) = f(&r.url) {
            let span = r.span.ok_or_else(|| r.url.clone())?;
            // Images sharing one reference definition share its address: changed once.
            if !changes.iter().any(|(s, _)| *s == span) {
                changes.push((span, new));
            }
        }
    }
    changes.sort_by_key(|(span, _)| span.start);
    // From the end, so earlier spans stay where they were.
    for (span, new) in changes.into_iter().rev() {
        out.replace_range(span, &new);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_found_with_where_their_addresses_are() {
        let md = "先看流程：![流程图](/kb/images/12 \"标题\")\n\n然后 ![截图]( <shots/a b.png> ) \
                  与 [链接](/kb/images/3) 和 ![远处](https://example.com/x.png)";
        let found = refs(md);
        let urls: Vec<&str> = found.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "/kb/images/12",
                "shots/a b.png",
                "https://example.com/x.png"
            ]
        );
        for r in &found {
            assert_eq!(&md[r.span.clone().unwrap()], r.url, "{r:?}");
        }
        assert_eq!(stored_ids(md), vec![12], "a link is not a picture");
    }

    #[test]
    fn only_a_plain_number_under_the_path_names_a_stored_picture() {
        assert_eq!(stored_id("/kb/images/7"), Some(7));
        for url in [
            "/kb/images/",
            "/kb/images/0",
            "/kb/images/7x",
            "/kb/images/-7",
            "/kb/images/7/../8",
            "/kb/images/99999999999999999999",
            "kb/images/7",
        ] {
            assert_eq!(stored_id(url), None, "{url}");
        }
    }

    #[test]
    fn files_beside_the_article_are_relative_paths() {
        for url in ["flow.png", "images/flow.png", "../images/3.png"] {
            assert!(is_beside(url), "{url}");
        }
        for url in [
            "/kb/images/3",
            "https://x/y.png",
            "data:image/png;base64,x",
            "#top",
            "",
        ] {
            assert!(!is_beside(url), "{url}");
        }
    }

    #[test]
    fn rewriting_replaces_addresses_and_nothing_else() {
        let md = "![a](x.png) 文字 x.png ![b](<y.png> \"t\") ![c](/kb/images/1)";
        let out = rewrite(md, |url| {
            is_beside(url).then(|| format!("/kb/images/{}", url.len()))
        })
        .unwrap();
        assert_eq!(
            out,
            "![a](/kb/images/5) 文字 x.png ![b](</kb/images/5> \"t\") ![c](/kb/images/1)"
        );
        let by_reference = "![a][Flow] ![b][flow]\n\n[flow]:\n  <flow.png> \"t\"\n";
        assert_eq!(
            rewrite(by_reference, |url| is_beside(url)
                .then(|| "/kb/images/1".into())),
            Ok("![a][Flow] ![b][flow]\n\n[flow]:\n  </kb/images/1> \"t\"\n".to_string())
        );
        let escaped = "![a](fl\\_ow.png)";
        assert_eq!(
            rewrite(escaped, |url| is_beside(url).then(|| "/kb/images/1".into())),
            Err("fl_ow.png".to_string()),
            "an address written with escapes is not where its text is"
        );
    }
}
