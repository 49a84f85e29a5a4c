//! The problems that came back within a period: candidates for help-center articles, training
//! topics and monitors.
//!
//! Tickets linked to one knowledge-base article are one problem. The others are put together
//! by their titles, compared the way the desk finds duplicates ([`similar::terms`]: Chinese
//! character pairs and ASCII words, customer numbers left out): titles with the same terms
//! are one group at once, and the largest groups then absorb the ones whose terms mostly
//! overlap theirs. Only the [`MERGED_GROUPS`] largest groups are compared pairwise, which
//! keeps a week of a busy desk to a few milliseconds; the long tail of one-off titles cannot
//! make the top ten anyway.

use std::collections::{BTreeSet, HashMap};

use super::facts::TicketFacts;
use super::sheet::{Recurring, Topic};
use crate::domain::mask::mask_long_numbers;
use crate::domain::similar;
use crate::domain::ticket::Category;

/// Groups compared pairwise for merging (the rest stay as they are).
const MERGED_GROUPS: usize = 300;
/// The share of the smaller title's terms the larger group must hold to absorb it.
const OVERLAP: f64 = 0.6;
/// Ticket ids kept per problem for a drill-down.
const EXAMPLES: usize = 5;

struct Group<'a> {
    terms: BTreeSet<String>,
    kb_article: Option<i64>,
    members: Vec<&'a TicketFacts>,
}

fn overlap(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / smaller as f64
}

/// The most frequent of `values`, ties to the first seen.
fn most_common<T: Eq + std::hash::Hash + Clone>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    let mut index: HashMap<T, usize> = HashMap::new();
    for v in values {
        match index.get(&v) {
            Some(&i) => counts[i].1 += 1,
            None => {
                index.insert(v.clone(), counts.len());
                counts.push((v, 1));
            }
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.into_iter().map(|(v, _)| v).collect()
}

fn what_it_suggests(category: Category, kb_article: Option<i64>) -> &'static str {
    match (category, kb_article) {
        (Category::Consultation, None) => "help_article",
        (Category::Consultation, Some(_)) => "training",
        _ => "monitor",
    }
}

/// The period's recurring problems (two tickets or more), most tickets first, at most
/// `limit`; `kb_titles` names the linked articles.
pub fn recurring(
    facts: &[TicketFacts],
    kb_titles: &HashMap<i64, String>,
    limit: usize,
) -> Vec<Recurring> {
    let mut by_article: HashMap<i64, Group<'_>> = HashMap::new();
    let mut titled: Vec<Group<'_>> = Vec::new();
    let mut group_of_terms: HashMap<Vec<String>, usize> = HashMap::new();
    // Titles repeat: each is read into terms once, and later tickets with it go straight to
    // its group.
    let mut group_of_title: HashMap<&str, usize> = HashMap::new();
    for f in facts {
        if let Some(id) = f.kb_article {
            by_article
                .entry(id)
                .or_insert_with(|| Group {
                    terms: BTreeSet::new(),
                    kb_article: Some(id),
                    members: Vec::new(),
                })
                .members
                .push(f);
            continue;
        }
        let at = *group_of_title.entry(f.title.as_str()).or_insert_with(|| {
            let terms = similar::terms(&f.title);
            *group_of_terms.entry(terms.clone()).or_insert_with(|| {
                titled.push(Group {
                    terms: terms.into_iter().collect(),
                    kb_article: None,
                    members: Vec::new(),
                });
                titled.len() - 1
            })
        });
        titled[at].members.push(f);
    }
    titled.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then_with(|| a.terms.cmp(&b.terms))
    });
    let tail = titled.split_off(titled.len().min(MERGED_GROUPS));
    let mut merged: Vec<Group<'_>> = Vec::new();
    for g in titled {
        match merged
            .iter_mut()
            .find(|m| overlap(&m.terms, &g.terms) >= OVERLAP)
        {
            Some(m) => m.members.extend(g.members),
            None => merged.push(g),
        }
    }
    let mut groups: Vec<Group<'_>> = by_article.into_values().chain(merged).chain(tail).collect();
    groups.retain(|g| g.members.len() >= 2);
    groups.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            // A problem with an article first: its title is the article's.
            .then_with(|| a.kb_article.is_none().cmp(&b.kb_article.is_none()))
            .then_with(|| a.kb_article.cmp(&b.kb_article))
            .then_with(|| a.terms.cmp(&b.terms))
    });
    groups.truncate(limit);
    groups.into_iter().map(|g| summary(g, kb_titles)).collect()
}

fn summary(mut g: Group<'_>, kb_titles: &HashMap<i64, String>) -> Recurring {
    g.members
        .sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let category = most_common(g.members.iter().map(|f| f.category))
        .first()
        .copied()
        .unwrap_or(Category::Consultation);
    let title = g
        .kb_article
        .and_then(|id| kb_titles.get(&id).cloned())
        .or_else(|| plainest_title(&g.members))
        .unwrap_or_default();
    Recurring {
        title,
        kb_article: g.kb_article,
        category: category.as_str().to_string(),
        systems: most_common(g.members.iter().map(|f| f.system.clone())),
        tickets: g.members.len() as u64,
        examples: g.members.iter().take(EXAMPLES).map(|f| f.id).collect(),
        suggests: what_it_suggests(category, g.kb_article).to_string(),
    }
}

/// The title most of the group's tickets carry (ties: the shortest, which says it plainest),
/// with customer numbers masked: a report is mailed beyond the desk.
fn plainest_title(members: &[&TicketFacts]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for f in members {
        *counts.entry(f.title.trim()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| b.0.chars().count().cmp(&a.0.chars().count()))
                .then_with(|| b.0.cmp(a.0))
        })
        .map(|(title, _)| mask_long_numbers(title))
}

/// Topics for the next knowledge session: the recurring consultation questions.
pub fn topics(recurring: &[Recurring], limit: usize) -> Vec<Topic> {
    recurring
        .iter()
        .filter(|r| r.category == Category::Consultation.as_str())
        .take(limit)
        .map(|r| Topic {
            title: r.title.clone(),
            tickets: r.tickets,
            kb_article: r.kb_article,
            systems: r.systems.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::domain::ticket::{Channel, Priority};

    fn facts(
        id: i64,
        title: &str,
        category: Category,
        system: &str,
        kb: Option<i64>,
    ) -> TicketFacts {
        let at: DateTime<Utc> = "2026-11-16T02:00:00Z".parse().unwrap();
        TicketFacts {
            id,
            created_at: at + Duration::minutes(id),
            category,
            subcategory: None,
            title: title.into(),
            system: system.into(),
            channel: Channel::Mss,
            priority: Priority::P3,
            assignee: None,
            resolved_at: None,
            first_response_secs: None,
            resolution_secs: None,
            resolved_in_time: None,
            kb_article: kb,
        }
    }

    #[test]
    fn articles_group_first_then_titles_that_say_the_same() {
        use Category::{Consultation, Data};
        let all = [
            facts(1, "委托提示可用资金不足", Consultation, "trading", Some(3)),
            facts(2, "下单失败", Consultation, "trading", Some(3)),
            facts(3, "下单失败", Consultation, "trading", Some(3)),
            facts(4, "App 行情刷新卡顿", Consultation, "app", None),
            facts(5, "App行情刷新很卡顿", Consultation, "app", None),
            facts(
                6,
                "行情刷新卡顿 客户 310012345678",
                Consultation,
                "app",
                None,
            ),
            facts(7, "担保比例与柜台不一致", Data, "margin", None),
            facts(8, "担保比例与柜台不一致", Data, "clearing", None),
            facts(9, "开户视频见证失败", Consultation, "account", None),
        ];
        let titles = HashMap::from([(3, "可用资金不足怎么办".to_string())]);
        let found = recurring(&all, &titles, 10);
        let shape: Vec<(&str, u64, Option<i64>, &str)> = found
            .iter()
            .map(|r| {
                (
                    r.title.as_str(),
                    r.tickets,
                    r.kb_article,
                    r.suggests.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("可用资金不足怎么办", 3, Some(3), "training"),
                ("App 行情刷新卡顿", 3, None, "help_article"),
                ("担保比例与柜台不一致", 2, None, "monitor"),
            ]
        );
        // Newest first, for the drill-down; systems most frequent first (ties: newest).
        assert_eq!(found[1].examples, [6, 5, 4]);
        assert_eq!(found[2].systems, ["clearing", "margin"]);
        // A customer's number in a title never reaches the report.
        let numbered = [
            facts(
                1,
                "客户 310012345678 无法登录",
                Category::Consultation,
                "app",
                None,
            ),
            facts(
                2,
                "客户 310012345678 无法登录",
                Category::Consultation,
                "app",
                None,
            ),
        ];
        let masked = &recurring(&numbered, &HashMap::new(), 10)[0].title;
        assert!(!masked.contains("310012345678"), "{masked}");
        let t = topics(&found, 5);
        assert_eq!(t.len(), 2, "consultation only: {t:?}");
        assert_eq!(t[0].kb_article, Some(3));
    }

    #[test]
    fn one_off_titles_are_not_recurring() {
        let all = [
            facts(
                1,
                "开户视频见证失败",
                Category::Consultation,
                "account",
                None,
            ),
            facts(2, "银证转账到账慢", Category::Consultation, "fund", None),
        ];
        assert!(recurring(&all, &HashMap::new(), 10).is_empty());
    }
}
