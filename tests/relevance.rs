//! Relevance of the knowledge-base matcher beside `ib-matcher` (the best pinyin matcher in
//! Rust): both over the demo knowledge base's titles, for the queries handlers type. ib-matcher
//! says whether a title matches, not how well, so its order is the input's; ours must put the
//! articles meant first. Prints the table the README quotes (`cargo test --test relevance --
//! --nocapture`).

use ib_matcher::matcher::{IbMatcher, PinyinMatchConfig};
use ib_matcher::pinyin::PinyinNotation;
use opsdesk::domain::kb;
use opsdesk::domain::matcher::{self, Corpus, Query};

/// Every demo article as one line, its title, tags and symptoms (what `kb filter` is given), in
/// the order they were written (as a knowledge base grows: not grouped by what they are about).
fn titles() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("fixtures/kb")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures/kb") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut articles: Vec<kb::Article> = files
        .iter()
        .map(|p| kb::parse_file(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    articles.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)));
    articles
        .into_iter()
        .map(|a| {
            format!(
                "{}  {}  {}",
                a.title,
                a.tags.join(" "),
                a.symptoms.join(" ")
            )
        })
        .collect()
}

/// A query and what a handler typing it is looking for.
struct Case {
    query: &'static str,
    wanted: fn(&str) -> bool,
}

fn account_opening_failure(t: &str) -> bool {
    t.starts_with("开户失败")
}

const CASES: &[Case] = &[
    Case {
        query: "khsb",
        wanted: account_opening_failure,
    },
    Case {
        query: "kaihushibai",
        wanted: account_opening_failure,
    },
    Case {
        query: "kaihu",
        wanted: |t| t.contains("开户"),
    },
    Case {
        query: "开户失败",
        wanted: account_opening_failure,
    },
    Case {
        query: "yzzz",
        wanted: |t| t.contains("银证转账"),
    },
    Case {
        query: "yinzheng",
        wanted: |t| t.contains("银证"),
    },
    Case {
        query: "xiumianhu",
        wanted: |t| t.contains("休眠户"),
    },
    Case {
        query: "mmcw",
        wanted: |t| t.contains("密码错误"),
    },
    Case {
        query: "hangqing",
        wanted: |t| t.starts_with("行情"),
    },
    Case {
        query: "zhuanzhang",
        wanted: |t| t.contains("转账"),
    },
];

/// The rank (from 1) of the first wanted title in `order`, if any.
fn first_wanted(order: &[usize], titles: &[String], wanted: fn(&str) -> bool) -> Option<usize> {
    order
        .iter()
        .position(|&i| wanted(&titles[i]))
        .map(|p| p + 1)
}

/// How many of the first five are wanted.
fn wanted_in_top5(order: &[usize], titles: &[String], wanted: fn(&str) -> bool) -> usize {
    order
        .iter()
        .take(5)
        .filter(|&&i| wanted(&titles[i]))
        .count()
}

#[test]
fn the_matcher_ranks_what_is_meant_first_where_ib_matcher_only_says_it_matches() {
    let titles = titles();
    assert!(titles.len() >= 150, "{}", titles.len());
    let lines: Vec<&str> = titles.iter().map(String::as_str).collect();
    let corpus = Corpus::from_lines(&lines);
    let (mut ours_rr, mut theirs_rr) = (0.0, 0.0);
    println!(
        "| query | ours: first wanted at | ours: wanted in top 5 | ib-matcher: first wanted at | ib-matcher: wanted in top 5 | ib-matcher matches |"
    );
    println!("|---|---|---|---|---|---|");
    for case in CASES {
        let found = matcher::search(&corpus, &Query::parse(case.query).unwrap(), titles.len());
        let ours: Vec<usize> = found.hits.iter().map(|h| h.entry as usize).collect();
        let ib = IbMatcher::builder(case.query)
            .pinyin(PinyinMatchConfig::notations(
                PinyinNotation::Ascii | PinyinNotation::AsciiFirstLetter,
            ))
            .build();
        let theirs: Vec<usize> = (0..titles.len())
            .filter(|&i| ib.is_match(titles[i].as_str()))
            .collect();
        let (o, t) = (
            first_wanted(&ours, &titles, case.wanted),
            first_wanted(&theirs, &titles, case.wanted),
        );
        let (o5, t5) = (
            wanted_in_top5(&ours, &titles, case.wanted),
            wanted_in_top5(&theirs, &titles, case.wanted),
        );
        let show = |r: Option<usize>| r.map_or("—".to_string(), |r| r.to_string());
        println!(
            "| `{}` | {} | {o5} | {} | {t5} | {} |",
            case.query,
            show(o),
            show(t),
            theirs.len()
        );
        assert_eq!(o, Some(1), "{}: ours puts a wanted title first", case.query);
        assert!(
            o5 >= t5,
            "{}: ours has no fewer wanted titles on top",
            case.query
        );
        ours_rr += o.map_or(0.0, |r| 1.0 / r as f64);
        theirs_rr += t.map_or(0.0, |r| 1.0 / r as f64);
    }
    let n = CASES.len() as f64;
    println!(
        "\nmean reciprocal rank: ours {:.2}, ib-matcher {:.2}",
        ours_rr / n,
        theirs_rr / n
    );
    assert!(ours_rr > theirs_rr, "ours ranks better overall");
    // Near spellings are ours alone: ib-matcher matches nothing for a typo.
    let typo = Query::parse("opne acount").unwrap();
    let found = matcher::search(&corpus, &typo, 3);
    assert!(
        found
            .hits
            .first()
            .is_some_and(|h| account_opening_failure(&titles[h.entry as usize])),
        "opne acount"
    );
}
