//! Which open tickets look like the same problem: the same customer, or titles and descriptions
//! that share their telling words, the same system counting for a little more. Handlers link
//! such reports as duplicates or to one parent incident.
//!
//! Text is compared as sets of terms: character pairs of Chinese runs (Chinese has no word
//! boundaries, and shared pairs such as "闪退" "行情" carry most of a short text's meaning),
//! and whole ASCII words ("vivo", "y78", "9.3.0", "e-2031"). Long digit runs (accounts, phones,
//! hotline numbers) and masked values say who, not what, and are left out. Each term weighs by
//! how rare it is among the open tickets compared (inverse document frequency), so "客户" and
//! "提示", which every ticket has, count for little. The workstation (masked customers) and the
//! server (full values) rank with this one function over the same set, the open tickets.

use std::collections::HashMap;

use super::mask::MIN_SECRET_DIGITS;
use super::ticket::{Ticket, TicketId};
use super::view::TicketView;

/// What the matching looks at in a ticket: its view (masked customer, in the workstation) or
/// the ticket itself (full customer, on the server).
pub trait Comparable {
    fn id(&self) -> TicketId;
    fn is_open(&self) -> bool;
    fn system(&self) -> &str;
    fn title(&self) -> &str;
    fn description(&self) -> &str;
    /// Whether both tickets name the same customer by account or phone.
    fn same_customer(&self, other: &Self) -> bool;
}

impl Comparable for TicketView {
    fn id(&self) -> TicketId {
        self.id
    }
    fn is_open(&self) -> bool {
        self.status.is_open()
    }
    fn system(&self) -> &str {
        &self.system
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn description(&self) -> &str {
        &self.description
    }
    /// Masked values: two customers sharing the masked prefix and suffix look alike here,
    /// which is why the server's answer (on full values) is preferred when there is one.
    fn same_customer(&self, o: &Self) -> bool {
        let (a, b) = (&self.customer, &o.customer);
        (a.account.is_some() && a.account == b.account) || (a.phone.is_some() && a.phone == b.phone)
    }
}

impl Comparable for Ticket {
    fn id(&self) -> TicketId {
        self.id
    }
    fn is_open(&self) -> bool {
        self.status.is_open()
    }
    fn system(&self) -> &str {
        &self.system
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn same_customer(&self, o: &Self) -> bool {
        let (a, b) = (&self.customer, &o.customer);
        let same = |x: Option<&str>, y: Option<&str>| x.is_some() && x == y;
        same(
            a.account.as_ref().map(|v| v.expose()),
            b.account.as_ref().map(|v| v.expose()),
        ) || same(
            a.phone.as_ref().map(|v| v.expose()),
            b.phone.as_ref().map(|v| v.expose()),
        )
    }
}

/// Tickets scoring at least this much are offered as similar (text alone can reach it; the
/// same customer always does).
pub const THRESHOLD: f64 = 0.3;
/// At most this many are offered, most alike first.
pub const LIMIT: usize = 10;
/// How the score is made: the titles' likeness, the whole texts' likeness, the same system,
/// the same customer.
const TITLE_WEIGHT: f64 = 0.4;
const TEXT_WEIGHT: f64 = 0.6;
const SAME_SYSTEM: f64 = 0.1;
const SAME_CUSTOMER: f64 = 1.0;

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// Full-width letters and digits (typed with a Chinese input method) as ASCII, lowercased.
fn ascii_word_char(c: char) -> Option<char> {
    let c = match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => char::from_u32(c as u32 - 0xFEE0)?,
        _ => c,
    };
    (c.is_ascii_alphanumeric() || c == '*').then(|| c.to_ascii_lowercase())
}

/// The terms of a text, sorted and without repeats: character pairs of each Chinese run (the
/// character itself when it stands alone) and ASCII words, where `.`, `-` and `_` between
/// letters or digits join ("9.3.0", "e-2031"). Words with a mask (`*`) or with
/// [`MIN_SECRET_DIGITS`] digits or more are left out.
pub fn terms(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_cjk(c) {
            let start = i;
            while i < chars.len() && is_cjk(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() == 1 {
                out.push(run[0].to_string());
            }
            out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
        } else if ascii_word_char(c).is_some() {
            let mut word = String::new();
            while i < chars.len() {
                if let Some(a) = ascii_word_char(chars[i]) {
                    word.push(a);
                    i += 1;
                } else if matches!(chars[i], '.' | '-' | '_')
                    && chars.get(i + 1).and_then(|n| ascii_word_char(*n)).is_some()
                    && !word.is_empty()
                {
                    word.push(chars[i]);
                    i += 1;
                } else {
                    break;
                }
            }
            let digits = word.bytes().filter(u8::is_ascii_digit).count();
            if !word.contains('*') && digits < MIN_SECRET_DIGITS {
                out.push(word);
            }
        } else {
            i += 1;
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A ticket's terms, ready for comparing.
struct Doc<'a, T> {
    ticket: &'a T,
    title: Vec<String>,
    text: Vec<String>,
}

impl<'a, T: Comparable> Doc<'a, T> {
    fn new(ticket: &'a T) -> Self {
        let title = terms(ticket.title());
        let mut text = terms(ticket.description());
        text.extend(title.iter().cloned());
        text.sort_unstable();
        text.dedup();
        Doc {
            ticket,
            title,
            text,
        }
    }
}

/// Words of every submitter's writing ("客户说…", "一直提示…", "怎么办") and the pairs that
/// straddle them: they say nothing about which problem a ticket is, whatever the queue holds.
const EVERYDAY: &[&str] = &[
    "客户", "户说", "户问", "户开", "户手", "户反", "户的", "户在", "户用", "户要", "户今", "户是",
    "资金", "金账", "账号", "手机", "机号", "提示", "显示", "反映", "一直", "什么", "怎么", "为什",
    "么时", "时候", "今天", "不是", "是不", "没有", "不能", "能不", "一样", "但是", "其他", "还是",
    "现在", "重新", "已经", "问题", "好几", "说她", "说他", "一个", "不了", "不到", "不上", "可以",
    "麻烦", "一下", "请问",
];
/// How much an everyday word counts against another word as rare.
const EVERYDAY_WEIGHT: f64 = 0.15;
/// A queue shorter than this says little about which words are common: it is weighed as if
/// it were this long, so a burst of reports of one outage still matches on the outage's words.
const MIN_CORPUS: f64 = 50.0;

/// Term weights over a set of texts: rarer terms weigh more (smoothed inverse document
/// frequency, never below 1), everyday words little.
struct Weights {
    df: HashMap<String, u32>,
    n: f64,
}

impl Weights {
    fn new<'s>(texts: impl Iterator<Item = &'s [String]>) -> Self {
        let mut df: HashMap<String, u32> = HashMap::new();
        let mut n = 0.0;
        for text in texts {
            n += 1.0;
            for term in text {
                *df.entry(term.clone()).or_default() += 1;
            }
        }
        Weights {
            df,
            n: f64::max(n, MIN_CORPUS),
        }
    }

    fn of(&self, term: &str) -> f64 {
        let df = f64::from(self.df.get(term).copied().unwrap_or(0));
        let idf = ((self.n + 1.0) / (df + 1.0)).ln() + 1.0;
        if EVERYDAY.contains(&term) {
            idf * EVERYDAY_WEIGHT
        } else {
            idf
        }
    }

    /// Cosine of two term sets, each term weighing [`Weights::of`]; 0.0 when either is empty.
    fn cosine(&self, a: &[String], b: &[String]) -> f64 {
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        let norm = |s: &[String]| s.iter().map(|t| self.of(t).powi(2)).sum::<f64>().sqrt();
        let shared: f64 = a
            .iter()
            .filter(|t| b.binary_search(t).is_ok())
            .map(|t| self.of(t).powi(2))
            .sum();
        shared / (norm(a) * norm(b))
    }
}

/// Open tickets other than `t` that are probably about the same problem, with their scores,
/// most alike first, at most `limit`. The term weights come from `t` and the open tickets
/// among `others`.
pub fn rank<'a, T: Comparable + 'a>(
    t: &T,
    others: impl Iterator<Item = &'a T>,
    limit: usize,
) -> Vec<(TicketId, f64)> {
    let me = Doc::new(t);
    let docs: Vec<Doc<'a, T>> = others
        .filter(|o| o.id() != t.id() && o.is_open())
        .map(Doc::new)
        .collect();
    let weights = Weights::new(
        std::iter::once(me.text.as_slice()).chain(docs.iter().map(|d| d.text.as_slice())),
    );
    let mut found: Vec<(TicketId, f64)> = docs
        .iter()
        .filter_map(|d| {
            let o = d.ticket;
            let customer = t.same_customer(o);
            let score = TITLE_WEIGHT * weights.cosine(&me.title, &d.title)
                + TEXT_WEIGHT * weights.cosine(&me.text, &d.text)
                + if o.system() == t.system() {
                    SAME_SYSTEM
                } else {
                    0.0
                }
                + if customer { SAME_CUSTOMER } else { 0.0 };
            (score >= THRESHOLD).then_some((o.id(), score))
        })
        .collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    found.dedup_by_key(|(id, _)| *id);
    found.truncate(limit);
    found
}

/// Open tickets other than `t` that are probably about the same problem, most alike first (at
/// most [`LIMIT`]); see [`rank`].
pub fn similar<'a, T: Comparable + 'a>(t: &T, all: impl Iterator<Item = &'a T>) -> Vec<TicketId> {
    rank(t, all, LIMIT).into_iter().map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ticket as the matching sees it.
    #[derive(Debug, Clone)]
    struct T {
        id: TicketId,
        open: bool,
        system: String,
        title: String,
        description: String,
        account: Option<String>,
        phone: Option<String>,
    }

    impl Comparable for T {
        fn id(&self) -> TicketId {
            self.id
        }
        fn is_open(&self) -> bool {
            self.open
        }
        fn system(&self) -> &str {
            &self.system
        }
        fn title(&self) -> &str {
            &self.title
        }
        fn description(&self) -> &str {
            &self.description
        }
        fn same_customer(&self, o: &Self) -> bool {
            (self.account.is_some() && self.account == o.account)
                || (self.phone.is_some() && self.phone == o.phone)
        }
    }

    fn t(id: TicketId, system: &str, title: &str, description: &str) -> T {
        T {
            id,
            open: true,
            system: system.into(),
            title: title.into(),
            description: description.into(),
            account: Some(format!("3100{id:08}")),
            phone: None,
        }
    }

    #[test]
    fn terms_are_pairs_words_and_no_secrets() {
        let cases: &[(&str, &[&str])] = &[
            ("行情延迟", &["延迟", "情延", "行情"]),
            ("卡", &["卡"]),
            ("APP 闪退", &["app", "闪退"]),
            ("ＡＰＰ闪退", &["app", "闪退"]),
            ("vivo Y78，版本9.3.0", &["9.3.0", "vivo", "y78", "版本"]),
            ("报错E-2031。", &["e-2031", "报错"]),
            ("资金账号321146947880", &["账号", "资金", "金账"]),
            ("手机138****1234", &["手机"]),
            ("KF20261001503 转入", &["转入"]),
            ("买入 600519", &["600519", "买入"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(terms(text), *want, "{text}");
        }
    }

    /// A small queue: two reports of one crash worded differently, the same customer twice,
    /// and tickets that share only the everyday words.
    fn queue() -> Vec<T> {
        let mut same_customer = t(
            5,
            "depository",
            "银证转账未到账",
            "客户转出资金提示成功，银行卡没收到钱。",
        );
        same_customer.account = Some("310000000001".into());
        let mut closed = t(
            7,
            "app",
            "华为手机APP一打开就闪退",
            "客户华为手机升级APP后打开就闪退。",
        );
        closed.open = false;
        vec![
            T {
                account: Some("310000000001".into()),
                ..t(
                    1,
                    "app",
                    "升级后APP一打开就闪退",
                    "客户手机vivo Y78（Android 13，OriginOS 3），今天APP自动更新后一打开就闪退，根本进不去，客户要卖股票。手机号18379037254",
                )
            },
            t(
                2,
                "app",
                "APP点开自选股就闪退",
                "客户说APP点自选股就闪退，手机是vivo Y78（Android 13，OriginOS 3），版本9.3.0，其他功能正常。",
            ),
            t(
                3,
                "app",
                "面容ID登录提示需要重新开启",
                "客户面容登录用不了，每次都要输密码，客户嫌麻烦。",
            ),
            t(
                4,
                "trading",
                "账户有钱但下单提示可用资金不足",
                "客户下单买海康威视提示“可用资金不足”，客户说她刚从银行转进来了5万。",
            ),
            same_customer,
            t(
                6,
                "market_data",
                "vivo手机打开行情页APP闪退",
                "客户用vivo Y78（Android 13，OriginOS 3），APP升级到9.3.0后，点开行情页面就闪退，卸载重装也一样。",
            ),
            closed,
        ]
    }

    #[test]
    fn the_same_problem_and_the_same_customer_are_found_and_nothing_else() {
        let q = queue();
        let cases: &[(TicketId, &[TicketId])] = &[
            // The same customer ranks first; the crash reports follow, the other system last.
            (1, &[5, 2, 6]),
            (2, &[1, 6]),
            (6, &[1, 2]),
            (3, &[]),
            (4, &[]),
            (5, &[1]),
        ];
        for (id, want) in cases {
            let me = q.iter().find(|x| x.id == *id).unwrap();
            assert_eq!(similar(me, q.iter()), *want, "similar to #{id}");
        }
    }

    #[test]
    fn closed_tickets_itself_and_the_limit() {
        let q = queue();
        let me = &q[0];
        let found = similar(me, q.iter());
        assert!(!found.contains(&7), "closed tickets are not offered");
        assert!(!found.contains(&1), "never itself");
        assert_eq!(rank(me, q.iter(), 1).len(), 1);
        let mut many: Vec<T> = (10..40)
            .map(|id| t(id, "app", "APP一打开就闪退", "vivo Y78 升级后一打开就闪退"))
            .collect();
        many.push(me.clone());
        assert_eq!(similar(me, many.iter()).len(), LIMIT);
    }

    /// The demo data (`fixtures/demo/tickets.json`): its open tickets, as the server sees them.
    fn demo_open() -> Vec<T> {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/demo/tickets.json")).unwrap();
        let mut out = Vec::new();
        for (i, d) in all.as_array().unwrap().iter().enumerate() {
            let last = d["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "status")
                .filter_map(|e| e["to"].as_str())
                .next_back()
                .unwrap_or("new");
            let text = |k: &str| d[k].as_str().unwrap().to_string();
            let customer = |k: &str| d["customer"][k].as_str().map(str::to_string);
            out.push(T {
                id: i as TicketId + 1,
                open: !matches!(last, "resolved" | "closed"),
                system: text("system"),
                title: text("title"),
                description: text("description"),
                account: customer("account"),
                phone: customer("phone"),
            });
        }
        out
    }

    #[test]
    fn the_demo_vivo_crashes_find_each_other_and_nothing_unrelated() {
        let demo = demo_open();
        let find = |id: TicketId| {
            let me = demo.iter().find(|t| t.id == id).unwrap();
            assert!(me.open, "#{id} is open in the demo");
            similar(me, demo.iter())
        };
        let vivo = [168, 185, 199];
        for id in vivo {
            let found = find(id);
            let mut want: Vec<TicketId> = vivo.iter().copied().filter(|v| *v != id).collect();
            want.sort_unstable();
            let mut got: Vec<TicketId> = found.iter().take(2).copied().collect();
            got.sort_unstable();
            assert_eq!(
                got, want,
                "#{id} finds the other vivo crashes first: {found:?}"
            );
        }
        // Unrelated open tickets: an iPhone stuck at start-up, face-ID login, the hotline,
        // funds for an order, a blank asset page.
        for id in [174, 200, 182, 189, 164] {
            let found = find(id);
            assert!(
                found.iter().all(|f| !vivo.contains(f)),
                "#{id} is not a vivo crash: {found:?}"
            );
            for v in vivo {
                assert!(!find(v).contains(&id), "#{v} does not offer #{id}");
            }
        }
    }
}
