//! The help center's pages: home (systems and hot issues), search results, an article.

use maud::{Markup, html};

use super::{Frame, layout, query_escape};
use crate::api::{KbArticle, KbPage, KbSummary};
use crate::server::mss::markdown;

/// A system on the help center's home: its key, its name and how many articles it has.
pub struct SystemShelf<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub articles: usize,
}

/// How the submitter answered "did this help?", just now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Helped,
    DidNotHelp,
}

/// `title` with the matched character ranges in `<mark>`.
fn marked(title: &str, ranges: &[[usize; 2]]) -> Markup {
    let chars: Vec<char> = title.chars().collect();
    let mut parts: Vec<(bool, String)> = Vec::new();
    let mut at = 0;
    for &[start, end] in ranges {
        let (start, end) = (start.min(chars.len()), end.min(chars.len()));
        if start < at || start >= end {
            continue;
        }
        parts.push((false, chars[at..start].iter().collect()));
        parts.push((true, chars[start..end].iter().collect()));
        at = end;
    }
    parts.push((false, chars[at..].iter().collect()));
    html! {
        @for (hit, text) in parts {
            @if hit { mark { (text) } } @else { (text) }
        }
    }
}

fn search_box(q: &str, system: Option<&str>) -> Markup {
    html! {
        form.search role="search" method="get" action="/mss/help/" {
            @if let Some(key) = system { input type="hidden" name="system" value=(key); }
            label.sr-only for="q" { "搜索帮助" }
            input #q type="search" name="q" value=(q) maxlength="200" enterkeyhint="search"
                placeholder="搜索问题，如：开户失败、khsb、银证转账";
            button.primary type="submit" { "搜索" }
        }
    }
}

fn article_link(a: &KbSummary, systems: &dyn Fn(&str) -> String) -> Markup {
    html! {
        li {
            a href=(format!("/mss/help/{}", a.id)) { (marked(&a.title, &a.highlights)) }
            span.muted { " · " (systems(&a.system)) }
            @if let Some(first) = a.symptoms.first() {
                p.muted.symptom { (first) }
            }
        }
    }
}

fn ask_instead() -> Markup {
    html! {
        p.ask { "没找到答案？" a href="/mss/new" { "提交事件" } "，处理人会尽快答复。" }
    }
}

/// The home: search, the systems with their articles, and the issues read most.
pub fn help_home(
    f: &Frame<'_>,
    shelves: &[SystemShelf<'_>],
    hot: &[KbSummary],
    systems: &dyn Fn(&str) -> String,
) -> Markup {
    layout(
        f,
        "帮助中心",
        true,
        html! {
            h1 { "帮助中心" }
            (search_box("", None))
            @if !hot.is_empty() {
                section.card {
                    h2 { "热门问题" }
                    ol.articles { @for a in hot { (article_link(a, systems)) } }
                }
            }
            section.card {
                h2 { "按系统查看" }
                ul.shelves {
                    @for s in shelves {
                        li { a href=(format!("/mss/help/?system={}", query_escape(s.key))) { (s.name) } span.muted { " " (s.articles) " 篇" } }
                    }
                }
            }
            (ask_instead())
        },
    )
}

/// Search results, or a system's articles when there is no query.
pub fn help_results(
    f: &Frame<'_>,
    q: &str,
    system: Option<(&str, &str)>,
    page: &KbPage,
    systems: &dyn Fn(&str) -> String,
) -> Markup {
    let heading = match (q.trim().is_empty(), system) {
        (true, Some((_, name))) => name.to_string(),
        _ => "搜索结果".to_string(),
    };
    layout(
        f,
        &heading,
        true,
        html! {
            p.back { a href="/mss/help/" { "‹ 帮助中心" } }
            h1 { (heading) }
            (search_box(q, system.map(|(key, _)| key)))
            @if let Some((_, name)) = system {
                @if !q.trim().is_empty() {
                    p.muted { "只在“" (name) "”中搜索。" a href=(format!("/mss/help/?q={}", query_escape(q))) { "搜索全部" } }
                }
            }
            @if page.articles.is_empty() {
                p.lead { "没有找到相关文章。换个说法试试，比如报错的原话或业务名称。" }
            } @else {
                p.muted {
                    @if page.related { "没有完全匹配的文章，以下内容可能相关：" }
                    @else { "共 " (page.total) " 篇" }
                }
                ol.articles.card { @for a in &page.articles { (article_link(a, systems)) } }
            }
            (ask_instead())
        },
    )
}

/// An article: what the customer sees, why, and the steps; then "did this help?".
pub fn help_article(f: &Frame<'_>, a: &KbArticle, system: &str, vote: Option<Vote>) -> Markup {
    layout(
        f,
        &a.title,
        true,
        html! {
            p.back { a href="/mss/help/" { "‹ 帮助中心" } }
            article.card.kb {
                h1 { (a.title) }
                p.muted { (system) " · 更新于 " (super::local(f, a.updated_at)) " · " (a.views) " 次阅读" }
                @if !a.symptoms.is_empty() {
                    h2 { "常见现象" }
                    ul { @for s in &a.symptoms { li { (s) } } }
                }
                @if !a.cause.trim().is_empty() {
                    h2 { "原因" }
                    p.cause { (a.cause.trim()) }
                }
                h2 { "处理步骤" }
                div.article-body { (markdown::html(&a.steps)) }
            }
            section.card.vote #vote {
                @match vote {
                    Some(Vote::Helped) => p role="status" { "谢谢反馈，很高兴帮上忙。" },
                    Some(Vote::DidNotHelp) => {
                        p role="status" { "抱歉没能解决。请提交事件，写明报错原话和操作时间，处理人会尽快答复。" }
                        a.button.primary href="/mss/new" { "提交事件" }
                    },
                    None => {
                        h2 { "这篇文章解决了你的问题吗？" }
                        form.votes method="post" action=(format!("/mss/help/{}/vote", a.id)) {
                            input type="hidden" name="csrf_token" value=(f.csrf);
                            button.primary type="submit" name="helpful" value="yes" { "已解决" }
                            button type="submit" name="helpful" value="no" { "没有解决" }
                        }
                    },
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_fall_on_characters_not_bytes_and_bad_ranges_are_ignored() {
        let page = marked("开户失败<b>", &[[0, 2], [1, 3], [5, 99]]).into_string();
        assert_eq!(page, "<mark>开户</mark>失败&lt;<mark>b&gt;</mark>");
    }
}
