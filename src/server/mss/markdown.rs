//! An article's steps (markdown) as a page shows them, and as plain text for a suggestion.
//!
//! Articles are written by handlers and imported from files, so their markdown is treated as
//! untrusted: raw HTML in it becomes visible text, and a link or image keeps its address only
//! when it is a page of this site or an http(s)/mailto address (no `javascript:`, no `data:`).
//! A picture the server keeps (`/kb/images/{id}`) is shown from where the help center serves
//! it to submitters.

use maud::{Markup, PreEscaped};
use pulldown_cmark::{CowStr, Event, Parser, Tag, TagEnd};

use crate::domain::kb_images;

/// Where the help center serves the server's pictures (`/kb/images/{id}` in an article).
const HELP_IMAGES: &str = "/mss/help/images/";

/// Whether a link or image address may stay: this site's own paths, or web and mail
/// addresses elsewhere.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
    {
        return true;
    }
    // A relative address: no scheme before its first slash, query or fragment.
    let head = lower.split(['/', '?', '#']).next().unwrap_or("");
    !head.contains(':') && !lower.starts_with("//")
}

/// `url` when it may stay, else `instead`.
fn kept<'a>(url: CowStr<'a>, instead: &'static str) -> CowStr<'a> {
    if safe_url(&url) {
        url
    } else {
        CowStr::Borrowed(instead)
    }
}

fn inert(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // A link keeps its words and loses an address it may not have; an image loses its
        // picture (its alt text stays).
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: kept(dest_url, "#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            // The server's pictures are served to submitters beside the help center's pages.
            dest_url: match kb_images::stored_id(&dest_url) {
                Some(picture) => CowStr::from(format!("{HELP_IMAGES}{picture}")),
                None => kept(dest_url, ""),
            },
            title,
            id,
        }),
        other => other,
    }
}

/// `markdown` as HTML safe to put in a page.
pub fn html(markdown: &str) -> Markup {
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(
        &mut out,
        Parser::new_ext(markdown, kb_images::steps_markdown()).map(inert),
    );
    PreEscaped(out)
}

/// `markdown` as plain text: the words, one line per paragraph, item or heading.
pub fn plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut item = 0usize;
    for event in Parser::new_ext(markdown, kb_images::steps_markdown()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::Start(Tag::List(first)) => item = first.unwrap_or(0) as usize,
            Event::Start(Tag::Item) => {
                if item > 0 {
                    out.push_str(&format!("{item}. "));
                    item += 1;
                } else {
                    out.push_str("· ");
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_))
                if !out.ends_with('\n') =>
            {
                out.push('\n')
            }
            _ => {}
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_script_addresses_reach_the_page_as_text_only() {
        let page = html(
            "<script>alert(1)</script>\n\n请点 <b onclick=x>这里</b> \
             [看看](javascript:alert(1)) [帮助](/help/) [官网](https://example.com) \
             ![图](data:image/png;base64,xx) ![流程](/kb/flow.png) <https://ok.example>",
        )
        .into_string();
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(!page.contains("<b "), "{page}");
        assert!(!page.contains("javascript:"), "{page}");
        assert!(!page.contains("data:image"), "{page}");
        assert!(
            html("![流程](/kb/images/3)")
                .into_string()
                .contains(r#"<img src="/mss/help/images/3" alt="流程""#)
        );
        assert!(page.contains(r#"href="/help/""#), "{page}");
        assert!(page.contains(r#"href="https://example.com""#), "{page}");
        assert!(page.contains(r#"src="/kb/flow.png""#), "{page}");
    }

    #[test]
    fn addresses_with_a_scheme_hidden_in_case_or_space_are_refused() {
        for url in [
            " JavaScript:x",
            "vbscript:x",
            "//evil.example/x",
            "data:text/html,x",
        ] {
            assert!(!safe_url(url), "{url}");
        }
        for url in [
            "/help/1",
            "flow.png",
            "a/b?c=d:e",
            "#steps",
            "HTTPS://x.example",
        ] {
            assert!(safe_url(url), "{url}");
        }
    }

    #[test]
    fn plain_text_keeps_the_steps_in_order() {
        let text = plain("1. 请确认**预留手机号**。\n2. 检查 `拦截`\n\n> 仍收不到请提交事件");
        assert_eq!(
            text,
            "1. 请确认预留手机号。\n2. 检查 拦截\n仍收不到请提交事件"
        );
    }
}
