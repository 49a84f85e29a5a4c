//! The knowledge base matcher's benchmarks (issue 12): `cargo bench --bench kb`.
//!
//! On the lines `benches/kb_lines.py` writes (KB titles and symptoms, mixed Chinese and
//! English; 100,000 and 1,000,000 of them, or `OPSDESK_KB_SIZES=…`), printed first:
//! - the index build (folding every line into the corpus) and its memory per entry;
//! - per-keystroke latency as a handler types each query one character at a time through a
//!   `Search` (each keystroke narrows the previous matches), and backspaces it away again:
//!   median, p99 and worst over every keystroke of every query, repeated.
//!
//! Then timed by criterion: one full search (no earlier matches to narrow) at 100,000 lines
//! for a Chinese, a pinyin-initials and a misspelt English query.

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use opsdesk::domain::matcher::{Corpus, Query, Search, search};

const QUERIES: &[&str] = &[
    "开户失败",
    "khsb",
    "kaihushibai",
    "yinhangka",
    "opne acount",
    "app crash",
    "资金 不一致",
];

fn lines(n: usize) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/kb_lines.py");
    let out = Command::new("python3")
        .args([script, &n.to_string()])
        .output()
        .expect("python3 runs benches/kb_lines.py");
    String::from_utf8(out.stdout).expect("UTF-8 lines")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn typing(corpus: &Corpus, rounds: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        for q in QUERIES {
            let mut search = Search::new();
            let chars: Vec<char> = q.chars().collect();
            let typed = (1..=chars.len()).chain((1..chars.len()).rev());
            for n in typed {
                let text: String = chars[..n].iter().collect();
                let query = Query::parse(&text).unwrap();
                let start = Instant::now();
                let found = search.run(corpus, &query, 50);
                let took = start.elapsed();
                if std::env::var_os("OPSDESK_KB_SLOW").is_some() && took > Duration::from_millis(40)
                {
                    eprintln!("slow keystroke: {text:?} {took:?} ({} found)", found.total);
                }
                times.push(took);
                std::hint::black_box(found);
            }
        }
    }
    times.sort_unstable();
    times
}

fn report() {
    let sizes: Vec<usize> = std::env::var("OPSDESK_KB_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    println!(
        "| entries | index build | index bytes per entry (text folded + offsets) | beyond the folded text | keystroke p50 | p99 | worst |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let text = lines(n);
        let lines: Vec<&str> = text.lines().collect();
        let start = Instant::now();
        let corpus = Corpus::from_lines(&lines);
        let build = start.elapsed();
        let chars: usize = lines.iter().map(|l| l.chars().count()).sum();
        let per_entry = corpus.heap_bytes() as f64 / n as f64;
        let beyond = (corpus.heap_bytes() - chars * 2) as f64 / n as f64;
        let rounds = if n > 200_000 { 3 } else { 10 };
        let times = typing(&corpus, rounds);
        println!(
            "| {n} | {:.0} ms | {per_entry:.0} | {beyond:.0} | {:.2} ms | {:.2} ms | {:.2} ms |",
            build.as_secs_f64() * 1e3,
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
        );
    }
}

fn main() {
    report();
    let text = lines(100_000);
    let lines: Vec<&str> = text.lines().collect();
    let corpus = Corpus::from_lines(&lines);
    let mut c = Criterion::default().configure_from_args();
    for q in ["开户失败", "khsb", "opne acount"] {
        let query = Query::parse(q).unwrap();
        c.bench_function(&format!("kb/full_search/100k/{q}"), |b| {
            b.iter(|| search(&corpus, &query, 50))
        });
    }
    c.final_summary();
}
