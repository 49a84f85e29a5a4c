//! The demo's twelve weeks of history (`fixtures/demo/history.toml`): the tickets a real team's
//! week holds besides the hand-written ones, so the service-center reports open on a 12-week
//! trend, and the knowledge sessions whose before and after that trend shows.
//!
//! Everything is drawn deterministically (a splitmix64 sequence seeded by the week and the
//! ticket's place in it) from the hand-written tickets of the same system and category, their
//! customers and the demo's people, anchored to "now" like the rest of the demo; the tickets
//! then go through the same use cases as live traffic, as the hand-written ones do.
//!
//! The plan ([`plan`]) is pure, so the tests read the weeks' shapes without a store.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::Deserialize;

use super::DeskError;
use super::messages::insert_in;
use super::submissions::confirm_in;
use super::tickets::{create_in, record_facts, transition_in};
use crate::api::TransitionBody;
use crate::config::Settings;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::report::NewSession;
use crate::domain::sla::{ClockKind, SlaPolicy};
use crate::domain::ticket::{Category, Channel, Customer, Priority, Status, TransferTarget};
use crate::domain::validate::NewTicket;
use crate::store::users::{self, User};
use crate::store::{Rejected, StoreError, WriteCtx, tickets};

const HISTORY: &str = include_str!("../../fixtures/demo/history.toml");
const TICKETS: &str = include_str!("../../fixtures/demo/tickets.json");
const USERS: &str = include_str!("../../fixtures/demo/users.toml");

/// The `[base]` columns, in order.
const CATEGORIES: [Category; 3] = [Category::Consultation, Category::Data, Category::Program];
/// The account the call-centre script posts `api` tickets with.
const CALL_CENTRE: &str = "cm_callcenter";
/// Tickets are created during business hours, or in the evening.
const OPENS: u32 = 9;
const CLOSES: u32 = 18;
const EVENING_ENDS: u32 = 22;
/// The current week's tickets stop this long before now.
const SETTLE_MINUTES: i64 = 5;
/// ITSM numbers of the history start here each day, clear of the hand-written ones.
const ITSM_FIRST: u32 = 1000;

const ASK: &str = "您好，麻烦补充一下客户的报错截图和操作时间，我们再进一步核查。";
const HANDOFF: &str = "已确认可复现：附客户资金账号、操作时间和报错截图，请研发排查根因。";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct History {
    base: BTreeMap<String, [u32; 3]>,
    mix: Mix,
    week: Vec<WeekShape>,
    #[serde(default)]
    session: Vec<SessionShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mix {
    in_time: f64,
    confirmed: f64,
    evening: f64,
    consultation_priority: BTreeMap<Priority, u32>,
    other_priority: BTreeMap<Priority, u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeekShape {
    ago: u32,
    volume: f64,
    mss: f64,
    api: f64,
    #[serde(default)]
    consultation: BTreeMap<String, f64>,
    #[serde(default)]
    open: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionShape {
    weeks_ago: u32,
    weekday: String,
    topic: String,
    systems: Vec<String>,
    #[serde(default)]
    articles: Vec<String>,
    live_viewers: i64,
    total_views: i64,
    recorded_by: String,
}

/// A hand-written ticket, as far as the history draws on it.
#[derive(Debug, Deserialize)]
struct Written {
    #[serde(rename = "ref")]
    reference: String,
    created_minutes_ago: i64,
    channel: Channel,
    system: String,
    category: Category,
    #[serde(default)]
    subcategory: Option<String>,
    title: String,
    description: String,
    customer: Customer,
    #[serde(default)]
    events: Vec<WrittenEvent>,
}

#[derive(Debug, Deserialize)]
struct WrittenEvent {
    kind: String,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UsersFile {
    user: Vec<Person>,
}

#[derive(Debug, Deserialize)]
struct Person {
    username: String,
    role: String,
}

/// Who the history's tickets come from and go to.
struct People {
    submitters: Vec<String>,
    handlers: Vec<String>,
    call_centre: Option<String>,
}

/// One step of a generated ticket's life, by its assignee unless said otherwise.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Taken into triage: the first response.
    Take,
    /// A public question, then waiting on the submitter.
    Ask(String),
    Transfer(TransferTarget, String),
    Resolve(String),
    /// The submitter confirms the resolution, with their words.
    Confirm(String),
    Close,
}

/// A generated ticket and its life up to now.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    ago: u32,
    new: NewTicket,
    submitter: String,
    assignee: String,
    created: DateTime<Utc>,
    steps: Vec<(DateTime<Utc>, Step)>,
}

/// splitmix64: a small, fixed sequence, so every run draws the same history.
struct Rng(u64);

impl Rng {
    fn new(a: u64, b: u64) -> Rng {
        let mut r = Rng(a.wrapping_mul(0xA076_1D64_78BD_642F) ^ b.wrapping_add(0xE703_7ED1));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In `[0, n)`; 0 when `n` is 0.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// In `[lo, hi]`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1).max(1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A key of `weights`, drawn by weight.
    fn weighted<K: Copy>(&mut self, weights: &BTreeMap<K, u32>) -> Option<K> {
        let total: u64 = weights.values().map(|&w| u64::from(w)).sum();
        let mut left = self.next() % total.max(1);
        for (&k, &w) in weights {
            if left < u64::from(w) {
                return Some(k);
            }
            left -= u64::from(w);
        }
        None
    }
}

fn history() -> Result<History, StoreError> {
    toml::from_str(HISTORY)
        .map_err(|e| StoreError::Corrupt(format!("fixtures/demo/history.toml: {e}")))
}

fn written() -> Result<Vec<Written>, StoreError> {
    serde_json::from_str(TICKETS)
        .map_err(|e| StoreError::Corrupt(format!("fixtures/demo/tickets.json: {e}")))
}

fn people() -> Result<People, StoreError> {
    let users = toml::from_str::<UsersFile>(USERS)
        .map_err(|e| StoreError::Corrupt(format!("fixtures/demo/users.toml: {e}")))?
        .user;
    let named = |role: &str| -> Vec<String> {
        users
            .iter()
            .filter(|u| u.role == role && u.username != CALL_CENTRE)
            .map(|u| u.username.clone())
            .collect()
    };
    let people = People {
        submitters: named("submitter"),
        handlers: named("handler"),
        call_centre: users
            .iter()
            .any(|u| u.username == CALL_CENTRE)
            .then(|| CALL_CENTRE.to_string()),
    };
    if people.submitters.is_empty() || people.handlers.is_empty() {
        return Err(StoreError::Corrupt(
            "the demo history needs submitters and handlers".into(),
        ));
    }
    Ok(people)
}

/// `date` at `hour:minute` local time, in UTC.
fn local(cal: &BusinessCalendar, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default());
    cal.tz()
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

/// The Monday of the ISO week `ago` weeks before the one holding `now`.
fn monday(cal: &BusinessCalendar, now: DateTime<Utc>, ago: u32) -> NaiveDate {
    let today = cal.local_date(now);
    today
        - Duration::days(i64::from(today.weekday().num_days_from_monday()))
        - Duration::weeks(i64::from(ago))
}

/// A week's target counts by system and category, scaled by `fraction` (the share of its
/// working hours gone by).
fn targets<'h>(
    history: &'h History,
    week: &WeekShape,
    fraction: f64,
) -> BTreeMap<(&'h str, Category), u32> {
    let mut out = BTreeMap::new();
    for (system, counts) in &history.base {
        for (category, &count) in CATEGORIES.iter().zip(counts) {
            let factor = match category {
                Category::Consultation => week.consultation.get(system).copied().unwrap_or(1.0),
                _ => 1.0,
            };
            let n = (f64::from(count) * week.volume * factor * fraction).round();
            if n >= 1.0 {
                out.insert((system.as_str(), *category), n as u32);
            }
        }
    }
    out
}

/// The spans of a week tickets are created in, business hours and evenings, before `until`:
/// its working days (Monday to Friday should a holiday take them all).
type Spans = Vec<(DateTime<Utc>, DateTime<Utc>)>;

fn spans(cal: &BusinessCalendar, monday: NaiveDate, until: DateTime<Utc>) -> (Spans, Spans) {
    let days: Vec<NaiveDate> = (0..7).map(|d| monday + Duration::days(d)).collect();
    let mut working: Vec<NaiveDate> = days
        .iter()
        .copied()
        .filter(|&d| cal.is_working_day(d))
        .collect();
    if working.is_empty() {
        working = days[..5].to_vec();
    }
    let clip = |spans: &mut Spans, from: DateTime<Utc>, to: DateTime<Utc>| {
        let to = to.min(until);
        if from < to {
            spans.push((from, to));
        }
    };
    let (mut business, mut evening) = (Vec::new(), Vec::new());
    for d in working {
        clip(
            &mut business,
            local(cal, d, OPENS, 0),
            local(cal, d, CLOSES, 0),
        );
        clip(
            &mut evening,
            local(cal, d, CLOSES, 0),
            local(cal, d, EVENING_ENDS, 0),
        );
    }
    (business, evening)
}

fn length(spans: &Spans) -> i64 {
    spans.iter().map(|(a, b)| (*b - *a).num_seconds()).sum()
}

/// An instant drawn evenly from `spans` (which are not empty).
fn instant_in(rng: &mut Rng, spans: &Spans) -> DateTime<Utc> {
    let mut left = rng.range(0, (length(spans) - 1).max(0));
    for (a, b) in spans {
        let n = (*b - *a).num_seconds();
        if left < n {
            return *a + Duration::seconds(left);
        }
        left -= n;
    }
    spans.last().map_or(DateTime::<Utc>::MIN_UTC, |s| s.0)
}

/// A customer's values, as the text of a ticket can mention them.
fn values(c: &Customer) -> [Option<&str>; 4] {
    [
        c.name.as_ref().map(|v| v.expose()),
        c.account.as_ref().map(|v| v.expose()),
        c.phone.as_ref().map(|v| v.expose()),
        c.id_number.as_ref().map(|v| v.expose()),
    ]
}

/// A customer with at least the details `like` has (so the text can name them), drawn from
/// the demo's customers; `like` itself when none turns up.
fn customer_like(rng: &mut Rng, customers: &[&Customer], like: &Customer) -> Customer {
    let needs = values(like).map(|v| v.is_some());
    for _ in 0..8 {
        let c = *rng.pick(customers);
        let has = values(c).map(|v| v.is_some());
        if needs.iter().zip(has).all(|(need, has)| !need || has) {
            return c.clone();
        }
    }
    like.clone()
}

/// `text` with the template customer's details replaced by the new customer's.
fn retold(text: &str, from: &Customer, to: &Customer) -> String {
    let mut out = text.to_string();
    for (old, new) in values(from).into_iter().zip(values(to)) {
        if let (Some(old), Some(new)) = (old, new)
            && !old.is_empty()
        {
            out = out.replace(old, new);
        }
    }
    out
}

/// A description without the channel's own prefix (`【ITSM】`, `【客服热线转入 …】`).
fn bare(description: &str) -> &str {
    let rest = if let Some(rest) = description.strip_prefix("【ITSM】") {
        rest
    } else if let Some(rest) = description.strip_prefix("【客服热线转入") {
        rest.split_once('】').map_or(rest, |(_, after)| after)
    } else {
        description
    };
    rest.trim_start()
}

/// What the generator draws on: the hand-written tickets by system and category (monitor
/// alerts and the hostile samples aside), their customers, resolutions and confirmations.
struct Sources<'a> {
    pool: HashMap<(&'a str, Category), Vec<&'a Written>>,
    resolutions: HashMap<(&'a str, Category), Vec<&'a str>>,
    customers: Vec<&'a Customer>,
    confirmations: Vec<&'a str>,
}

impl<'a> Sources<'a> {
    fn of(written: &'a [Written]) -> Sources<'a> {
        let mut s = Sources {
            pool: HashMap::new(),
            resolutions: HashMap::new(),
            customers: Vec::new(),
            confirmations: Vec::new(),
        };
        for w in written {
            if w.channel == Channel::Monitor || w.reference.starts_with("demo-hostile") {
                continue;
            }
            let key = (w.system.as_str(), w.category);
            s.pool.entry(key).or_default().push(w);
            s.customers.push(&w.customer);
            for e in &w.events {
                if let Some(r) = e.resolution.as_deref() {
                    s.resolutions.entry(key).or_default().push(r);
                }
                if e.kind == "confirm"
                    && let Some(b) = e.body.as_deref()
                    && !s.confirmations.contains(&b)
                {
                    s.confirmations.push(b);
                }
            }
        }
        if s.confirmations.is_empty() {
            s.confirmations.push("收到，谢谢。");
        }
        s
    }

    fn resolution(&self, rng: &mut Rng, template: &Written) -> String {
        let own = template.events.iter().find_map(|e| e.resolution.as_deref());
        let key = (template.system.as_str(), template.category);
        let text = own.or_else(|| self.resolutions.get(&key).map(|r| *rng.pick(r)));
        text.map(str::to_string).unwrap_or_else(|| {
            match template.category {
                Category::Program => "问题已定位并修复发布，客户重试后恢复正常。",
                Category::Data => "数据已核对并更正，客户刷新后显示正常。",
                Category::Consultation => "已向提交人解释处理方法，客户按步骤操作后正常。",
            }
            .to_string()
        })
    }
}

/// Every generated ticket, oldest week first and in order of creation within a week.
fn plan(
    history: &History,
    written: &[Written],
    people: &People,
    cal: &BusinessCalendar,
    policy: &SlaPolicy,
    now: DateTime<Utc>,
) -> Vec<Planned> {
    let sources = Sources::of(written);
    let world = World {
        sources: &sources,
        history,
        people,
        cal,
        policy,
        now,
    };
    let written_at: Vec<DateTime<Utc>> = written
        .iter()
        .map(|w| now - Duration::minutes(w.created_minutes_ago))
        .collect();
    let mut itsm_numbers: HashMap<NaiveDate, u32> = HashMap::new();
    let mut weeks: Vec<&WeekShape> = history.week.iter().collect();
    weeks.sort_by_key(|w| std::cmp::Reverse(w.ago));
    let mut out = Vec::new();
    for week in weeks {
        let first_day = monday(cal, now, week.ago);
        let start = local(cal, first_day, 0, 0);
        let end = local(cal, first_day + Duration::days(7), 0, 0);
        let until = end.min(now - Duration::minutes(SETTLE_MINUTES));
        let (business, evening) = spans(cal, first_day, until);
        let (full, _) = spans(cal, first_day, end);
        if business.is_empty() {
            continue;
        }
        let fraction = length(&business) as f64 / length(&full).max(1) as f64;

        // What the hand-written tickets of the week already make up.
        let mut have: HashMap<(&str, Category), u32> = HashMap::new();
        let mut have_channel: HashMap<Channel, u32> = HashMap::new();
        for (w, at) in written.iter().zip(&written_at) {
            if start <= *at && *at < end {
                *have.entry((w.system.as_str(), w.category)).or_default() += 1;
                *have_channel.entry(w.channel).or_default() += 1;
            }
        }
        let mut entries: Vec<(&str, Category)> = Vec::new();
        for ((system, category), n) in targets(history, week, fraction) {
            let Some((&key, _)) = sources.pool.get_key_value(&(system, category)) else {
                continue;
            };
            let more = n.saturating_sub(have.get(&key).copied().unwrap_or(0));
            entries.extend(std::iter::repeat_n(key, more as usize));
        }
        let mut rng = Rng::new(u64::from(week.ago), 0);
        rng.shuffle(&mut entries);
        let mut times: Vec<DateTime<Utc>> = entries
            .iter()
            .map(|_| {
                if !evening.is_empty() && rng.unit() < history.mix.evening {
                    instant_in(&mut rng, &evening)
                } else {
                    instant_in(&mut rng, &business)
                }
            })
            .collect();
        times.sort();

        // The week's channel mix, counting the hand-written tickets in.
        let made = entries.len() as u32;
        let total = f64::from(made + have_channel.values().sum::<u32>());
        let share = |channel: Channel, s: f64| -> u32 {
            ((s * total).round() as u32)
                .saturating_sub(have_channel.get(&channel).copied().unwrap_or(0))
        };
        let mss = share(Channel::Mss, week.mss).min(made);
        let api = share(Channel::Api, week.api).min(made - mss);
        let mut channels: Vec<Channel> = std::iter::repeat_n(Channel::Mss, mss as usize)
            .chain(std::iter::repeat_n(Channel::Api, api as usize))
            .chain(std::iter::repeat_n(
                Channel::Itsm,
                (made - mss - api) as usize,
            ))
            .collect();
        rng.shuffle(&mut channels);

        // The backlog: tickets that need another team first, or an answer from their submitter.
        let mut candidates: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].1 != Category::Consultation)
            .collect();
        rng.shuffle(&mut candidates);
        let mut rest: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].1 == Category::Consultation)
            .collect();
        rng.shuffle(&mut rest);
        candidates.extend(rest);
        candidates.truncate(week.open as usize);
        // Which tickets miss their SLA: the mix's share of the week, exactly.
        let late = ((1.0 - history.mix.in_time) * f64::from(made)).round() as usize;
        let mut missed: Vec<bool> = (0..entries.len()).map(|i| i < late).collect();
        rng.shuffle(&mut missed);

        for (i, ((key, created), channel)) in entries.iter().zip(times).zip(channels).enumerate() {
            let mut rng = Rng::new(u64::from(week.ago), i as u64 + 1);
            let template = *rng.pick(&sources.pool[key]);
            let draw = TicketDraw {
                ago: week.ago,
                template,
                created,
                channel,
                open: candidates.contains(&i),
                late: missed[i],
            };
            out.push(world.ticket(&mut rng, draw, &mut itsm_numbers));
        }
    }
    out
}

/// What the week decided of one ticket.
struct TicketDraw<'a> {
    ago: u32,
    template: &'a Written,
    created: DateTime<Utc>,
    channel: Channel,
    /// Still open today.
    open: bool,
    /// Resolved after its SLA target.
    late: bool,
}

/// What every ticket of the plan is drawn against.
struct World<'a> {
    sources: &'a Sources<'a>,
    history: &'a History,
    people: &'a People,
    cal: &'a BusinessCalendar,
    policy: &'a SlaPolicy,
    now: DateTime<Utc>,
}

impl World<'_> {
    /// One ticket and its life up to now; `itsm_numbers` counts each day's ITSM numbers.
    fn ticket(
        &self,
        rng: &mut Rng,
        draw: TicketDraw<'_>,
        itsm_numbers: &mut HashMap<NaiveDate, u32>,
    ) -> Planned {
        let World {
            sources,
            history,
            people,
            cal,
            policy,
            now,
        } = *self;
        let TicketDraw {
            ago,
            template,
            created,
            channel,
            open,
            late,
        } = draw;
        let day = cal.local_date(created);
        let customer = customer_like(rng, &sources.customers, &template.customer);
        let title = retold(&template.title, &template.customer, &customer);
        let mut description = retold(bare(&template.description), &template.customer, &customer);
        let mut submitter = rng.pick(&people.submitters).clone();
        let mut external_ref = None;
        match channel {
            Channel::Api => {
                let kf = format!("KF{}{:03}", day.format("%Y%m%d"), rng.range(100, 999));
                description = format!("【客服热线转入 {kf}】{description}");
                if let Some(c) = &people.call_centre {
                    submitter = c.clone();
                }
            }
            Channel::Itsm => {
                let n = itsm_numbers.entry(day).or_insert(ITSM_FIRST);
                *n += 1;
                external_ref = Some(format!("ITSM{}{:04}", day.format("%Y%m%d"), n));
            }
            Channel::Mss | Channel::Monitor => {}
        }
        let weights = match template.category {
            Category::Consultation => &history.mix.consultation_priority,
            _ => &history.mix.other_priority,
        };
        let priority = rng.weighted(weights).unwrap_or(Priority::P3);
        let assignee = rng.pick(&people.handlers).clone();

        let minutes = |rng: &mut Rng, lo: i64, hi: i64| Duration::minutes(rng.range(lo, hi));
        let first = created
            + match priority {
                Priority::P1 => minutes(rng, 3, 15),
                _ => minutes(rng, 5, 60),
            };
        let mut steps = vec![(first, Step::Take)];
        if open {
            match template.category {
                Category::Consultation => {
                    steps.push((first + minutes(rng, 10, 90), Step::Ask(ASK.to_string())));
                }
                _ => steps.push((
                    first + minutes(rng, 30, 240),
                    Step::Transfer(TransferTarget::Dev, HANDOFF.to_string()),
                )),
            }
        } else {
            let target = policy.target(priority);
            let u = rng.unit();
            // Most answers come within the hour or two, a few take days.
            let used = if late {
                1.1 + 0.9 * u
            } else {
                0.01 + 0.89 * u.powi(4)
            };
            let after = |secs: i64| match target.clock {
                ClockKind::Business => cal.add_business_seconds(created, secs),
                ClockKind::Continuous => created + Duration::seconds(secs),
            };
            let mut resolved = after((target.resolve_secs as f64 * used) as i64);
            if resolved < first + Duration::minutes(3) {
                resolved = first + minutes(rng, 3, 25);
            }
            // A week gone by is done with, but for the backlog: what would still be running is
            // resolved by now instead, late if it is overdue already.
            let latest = now - Duration::minutes(SETTLE_MINUTES);
            if ago > 0 && resolved > latest && latest > first + Duration::minutes(2) {
                let due = after(target.resolve_secs + 600);
                let from = if late && due < latest { due } else { first };
                let span = (latest - from).num_seconds();
                resolved =
                    from + Duration::seconds((span as f64 * (0.2 + 0.7 * rng.unit())) as i64);
            }
            steps.push((resolved, Step::Resolve(sources.resolution(rng, template))));
            if rng.unit() < history.mix.confirmed {
                let words = rng.pick(&sources.confirmations).to_string();
                steps.push((resolved + minutes(rng, 5, 480), Step::Confirm(words)));
            } else {
                steps.push((
                    resolved + Duration::days(3) + minutes(rng, 0, 600),
                    Step::Close,
                ));
            }
        }
        let taken = steps.iter().take_while(|(at, _)| *at <= now).count();
        steps.truncate(taken);
        Planned {
            ago,
            new: NewTicket {
                title,
                description,
                system: template.system.clone(),
                customer,
                category: Some(template.category),
                subcategory: template.subcategory.clone(),
                priority: Some(priority),
                channel: Some(channel),
                external_ref,
            },
            submitter,
            assignee,
            created,
            steps,
        }
    }
}

/// The user `name`, read once.
fn user(
    ctx: &WriteCtx<'_>,
    cache: &mut HashMap<String, User>,
    name: &str,
) -> Result<User, DeskError> {
    if let Some(u) = cache.get(name) {
        return Ok(u.clone());
    }
    let u = users::by_username(ctx.conn, name)?.ok_or_else(|| {
        StoreError::Corrupt(format!("demo history: no user '{name}' in users.toml"))
    })?;
    cache.insert(name.to_string(), u.clone());
    Ok(u)
}

/// Creates one planned ticket and replays its life, as the hand-written ones are.
fn replay(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    cache: &mut HashMap<String, User>,
    mut p: Planned,
) -> Result<(), DeskError> {
    let submitter = user(ctx, cache, &p.submitter)?;
    let assignee = user(ctx, cache, &p.assignee)?;
    // A number the hand-written tickets took already moves on.
    if let Some(r) = p.new.external_ref.clone() {
        let mut n = 0;
        let mut candidate = r.clone();
        while tickets::by_external_ref(ctx.conn, Channel::Itsm.as_str(), &candidate)?.is_some() {
            n += 1;
            candidate = format!("{r}-{n}");
        }
        p.new.external_ref = Some(candidate);
    }
    let label = format!("{} week(s) ago, '{}'", p.ago, p.new.title);
    let context = |e: DeskError| -> DeskError {
        StoreError::Corrupt(format!("demo history {label}: {e}")).into()
    };
    let (mut t, _) = create_in(ctx, settings, &submitter, p.new, p.created).map_err(context)?;
    t.assignee = Some(assignee.username.clone());
    t.version += 1;
    tickets::update(ctx.conn, &t)?;
    record_facts(ctx.conn, settings, &t)?;
    let id = t.id;
    let move_to = |ctx: &mut WriteCtx<'_>,
                   to: Status,
                   transfer_to: Option<TransferTarget>,
                   note: Option<String>,
                   resolution: Option<String>,
                   at: DateTime<Utc>|
     -> Result<(), DeskError> {
        let current = tickets::get(ctx.conn, id)?
            .ok_or_else(|| Rejected::NotFound(format!("ticket {id}")))?;
        let body = TransitionBody {
            to,
            transfer_to,
            note,
            resolution,
            version: None,
        };
        transition_in(ctx, settings, &assignee, current, &body, at).map_err(context)?;
        Ok(())
    };
    for (at, step) in p.steps {
        match step {
            Step::Take => move_to(ctx, Status::Triaging, None, None, None, at)?,
            Step::Ask(question) => {
                insert_in(ctx, settings, &assignee, id, question, false, at).map_err(context)?;
                move_to(ctx, Status::WaitingSubmitter, None, None, None, at)?;
            }
            Step::Transfer(to, note) => {
                move_to(ctx, Status::Transferred, Some(to), Some(note), None, at)?;
            }
            Step::Resolve(resolution) => {
                move_to(ctx, Status::Resolved, None, None, Some(resolution), at)?;
            }
            Step::Confirm(words) => {
                confirm_in(ctx, settings, &submitter, id, Some(&words), at).map_err(context)?;
            }
            Step::Close => move_to(ctx, Status::Closed, None, None, None, at)?,
        }
    }
    Ok(())
}

/// The knowledge-base ids the demo's articles get: the demo seeds its knowledge base into
/// the empty store right after the tickets, in [`super::demo::kb_files`] order.
fn article_ids(paths: &[String]) -> Result<Vec<i64>, StoreError> {
    let files = super::demo::kb_files();
    paths
        .iter()
        .map(|p| {
            let name = format!("fixtures/kb/{p}");
            files
                .iter()
                .position(|f| f.name == name)
                .map(|i| i as i64 + 1)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("fixtures/demo/history.toml: no article {name}"))
                })
        })
        .collect()
}

/// The knowledge sessions, each recorded the evening it was held.
fn sessions(
    history: &History,
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Result<Vec<(NewSession, String, DateTime<Utc>)>, StoreError> {
    history
        .session
        .iter()
        .map(|s| {
            let weekday = Weekday::from_str(&s.weekday).map_err(|_| {
                StoreError::Corrupt(format!("history.toml: weekday '{}'", s.weekday))
            })?;
            let held_on = monday(cal, now, s.weeks_ago)
                + Duration::days(i64::from(weekday.num_days_from_monday()));
            let new = NewSession {
                held_on,
                topic: s.topic.clone(),
                systems: s.systems.clone(),
                kb_articles: article_ids(&s.articles)?,
                live_viewers: Some(s.live_viewers),
                total_views: Some(s.total_views),
            }
            .normalized();
            let at = local(cal, held_on, 20, 0).min(now);
            Ok((new, s.recorded_by.clone(), at))
        })
        .collect()
}

/// Adds the twelve weeks of history and the knowledge sessions to a demo being seeded (after
/// its hand-written tickets and users, before its knowledge base).
pub(crate) fn seed(
    ctx: &mut WriteCtx<'_>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(), DeskError> {
    let history = history()?;
    let written = written()?;
    let planned = plan(
        &history,
        &written,
        &people()?,
        &settings.calendar,
        &settings.sla,
        now,
    );
    let mut cache = HashMap::new();
    for p in planned {
        replay(ctx, settings, &mut cache, p)?;
    }
    let today = settings.calendar.local_date(now);
    for (new, by, at) in sessions(&history, &settings.calendar, now)? {
        new.check(&settings.system_keys(), today)?;
        crate::store::knowledge_sessions::insert(ctx.conn, &new, &by, at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::report::Period;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    /// A Tuesday morning in Shanghai, and a Friday evening.
    fn nows() -> [DateTime<Utc>; 2] {
        [
            "2026-12-08T07:03:00Z".parse().unwrap(),
            "2026-12-11T11:30:00Z".parse().unwrap(),
        ]
    }

    fn planned(now: DateTime<Utc>) -> Vec<Planned> {
        plan(
            &history().unwrap(),
            &written().unwrap(),
            &people().unwrap(),
            &BusinessCalendar::china_default(),
            &SlaPolicy::default(),
            now,
        )
    }

    /// Every ticket of the week `ago` weeks before now's, hand-written and generated:
    /// (system, category, channel).
    fn week_of(now: DateTime<Utc>, ago: u32) -> Vec<(String, Category, Channel)> {
        let mut week = Period::week_of(now, SHANGHAI);
        for _ in 0..ago {
            week = week.previous();
        }
        let mut out: Vec<(String, Category, Channel)> = written()
            .unwrap()
            .into_iter()
            .filter(|w| week.contains(now - Duration::minutes(w.created_minutes_ago), SHANGHAI))
            .map(|w| (w.system, w.category, w.channel))
            .collect();
        out.extend(
            planned(now)
                .into_iter()
                .filter(|p| week.contains(p.created, SHANGHAI))
                .map(|p| {
                    let n = p.new;
                    (n.system, n.category.unwrap(), n.channel.unwrap())
                }),
        );
        out
    }

    fn trading_app_consultation(week: &[(String, Category, Channel)]) -> usize {
        week.iter()
            .filter(|(s, c, _)| (s == "trading" || s == "app") && *c == Category::Consultation)
            .count()
    }

    #[test]
    fn the_history_file_parses_and_draws_only_on_what_the_demo_has() {
        let h = history().unwrap();
        let mut agos: Vec<u32> = h.week.iter().map(|w| w.ago).collect();
        agos.sort();
        assert_eq!(agos, (0..=12).collect::<Vec<_>>());
        let written = written().unwrap();
        let sources = Sources::of(&written);
        let systems: Vec<String> = crate::config::Settings::default()
            .system_keys()
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (system, counts) in &h.base {
            assert!(systems.contains(system), "{system} is a configured system");
            for (category, n) in CATEGORIES.iter().zip(counts) {
                if *n > 0 {
                    assert!(
                        sources.pool.contains_key(&(system.as_str(), *category)),
                        "tickets.json has {system}/{category} tickets to draw on"
                    );
                }
            }
        }
        for s in &h.session {
            assert_eq!(article_ids(&s.articles).unwrap().len(), s.articles.len());
            assert!(s.systems.iter().all(|x| systems.contains(x)));
        }
        let p = people().unwrap();
        assert!(p.handlers.len() >= 8 && p.call_centre.is_some());
    }

    #[test]
    fn the_plan_is_the_same_every_run() {
        for now in nows() {
            let a = planned(now);
            assert_eq!(a, planned(now));
            assert!(a.len() > 1500, "{}", a.len());
        }
    }

    #[test]
    fn weeks_hold_a_teams_scale_and_the_session_shows_its_before_and_after() {
        for now in nows() {
            let weeks: Vec<Vec<_>> = (0..=12).map(|ago| week_of(now, ago)).collect();
            for (ago, w) in weeks.iter().enumerate().skip(1) {
                assert!((120..=180).contains(&w.len()), "week -{ago}: {}", w.len());
                let mss = w.iter().filter(|t| t.2 == Channel::Mss).count();
                assert!(mss * 100 / w.len() >= 50, "week -{ago}: mss {mss}");
            }
            let share = |w: &Vec<(String, Category, Channel)>, ch: Channel| {
                w.iter().filter(|t| t.2 == ch).count() as f64 / w.len() as f64
            };
            assert!(share(&weeks[12], Channel::Mss) < 0.6);
            assert!(share(&weeks[1], Channel::Mss) > 0.75);
            assert!(share(&weeks[12], Channel::Itsm) > share(&weeks[1], Channel::Itsm) + 0.15);
            let consultation = |w: &Vec<(String, Category, Channel)>| {
                w.iter().filter(|t| t.1 == Category::Consultation).count() * 100 / w.len()
            };
            assert!(consultation(&weeks[12]) > 80);

            let before: Vec<usize> = (6..=12)
                .map(|a| trading_app_consultation(&weeks[a]))
                .collect();
            let after: Vec<usize> = (1..=4)
                .map(|a| trading_app_consultation(&weeks[a]))
                .collect();
            assert!(before.iter().all(|n| (84..=96).contains(n)), "{before:?}");
            assert!(after.iter().all(|n| (60..=70).contains(n)), "{after:?}");
            // The other systems stay flat.
            let others =
                |w: &Vec<(String, Category, Channel)>| w.len() - trading_app_consultation(w);
            let others: Vec<usize> = (1..=12).map(|a| others(&weeks[a])).collect();
            let (lo, hi) = (others.iter().min().unwrap(), others.iter().max().unwrap());
            assert!(hi - lo <= 8, "{others:?}");
        }
    }

    #[test]
    fn past_weeks_are_done_with_but_for_a_small_backlog() {
        let now = nows()[0];
        let policy = SlaPolicy::default();
        let cal = BusinessCalendar::china_default();
        let plan = planned(now);
        let done = |p: &Planned| p.steps.iter().any(|(_, s)| matches!(s, Step::Resolve(_)));
        let open: Vec<&Planned> = plan.iter().filter(|p| p.ago > 0 && !done(p)).collect();
        assert!((3..=10).contains(&open.len()), "{}", open.len());
        let mut in_time = 0;
        let mut resolved = 0;
        for p in plan.iter().filter(|p| p.ago > 0 && done(p)) {
            let at = p
                .steps
                .iter()
                .find_map(|(at, s)| matches!(s, Step::Resolve(_)).then_some(*at))
                .unwrap();
            let target = policy.target(p.new.priority.unwrap());
            let used = match target.clock {
                ClockKind::Business => cal.business_seconds(p.created, at),
                ClockKind::Continuous => (at - p.created).num_seconds(),
            };
            resolved += 1;
            in_time += usize::from(used < target.resolve_secs);
            let first = p.steps[0].0 - p.created;
            assert!((3..=60).contains(&first.num_minutes()), "{first}");
            assert!(p.steps.windows(2).all(|w| w[0].0 <= w[1].0));
            assert!(p.steps.iter().all(|(at, _)| *at <= now));
        }
        let share = in_time * 100 / resolved;
        assert!((85..=92).contains(&share), "{share}% in time");
        let itsm = plan.iter().filter(|p| p.new.channel == Some(Channel::Itsm));
        let refs: std::collections::HashSet<_> =
            itsm.map(|p| p.new.external_ref.clone().unwrap()).collect();
        assert!(refs.len() > 100);
        assert!(
            plan.iter()
                .all(|p| p.new.external_ref.is_some() == (p.new.channel == Some(Channel::Itsm)))
        );
    }

    #[test]
    fn a_retold_ticket_names_its_new_customer() {
        let written = written().unwrap();
        let w = written.iter().find(|w| w.reference == "demo-0002").unwrap();
        let c = written.iter().find(|w| w.reference == "demo-0003").unwrap();
        let text = retold(&w.description, &w.customer, &c.customer);
        assert!(
            text.contains("张建国") && text.contains("330202535583"),
            "{text}"
        );
        assert!(!text.contains("李秀英"));
        assert_eq!(bare("【客服热线转入 KF20261001503】客户来电"), "客户来电");
        assert_eq!(bare("【ITSM】客户说"), "客户说");
    }

    /// The whole demo, seeded into a scratch data dir: the generated tickets are what the plan
    /// says, and the sessions name the articles they went through.
    #[tokio::test]
    async fn the_seeded_demo_holds_the_history_and_its_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let desk = super::super::Desk::new(store, Arc::new(Settings::default()));
        let started = std::time::Instant::now();
        let creds = desk.seed_demo().await.unwrap();
        eprintln!(
            "seeded {} tickets in {:?}",
            creds.tickets,
            started.elapsed()
        );
        assert!(creds.tickets > 1700, "{}", creds.tickets);
        let (sessions, articles) = desk
            .store
            .read(|conn| {
                let all = crate::store::knowledge_sessions::held_between(
                    conn,
                    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
                    NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
                    10,
                )?;
                let mut systems = Vec::new();
                for s in &all {
                    for id in &s.kb_articles {
                        let a = crate::store::kb::get(conn, *id)?.unwrap();
                        systems.push((s.topic.clone(), a.article.system));
                    }
                }
                Ok((all, systems))
            })
            .await
            .unwrap();
        assert_eq!(sessions.len(), 2);

        // The reports see the drop in trading and app consultations after the first session.
        let now = Utc::now();
        let mut weeks = vec![Period::week_of(now, SHANGHAI)];
        for _ in 0..12 {
            let before = weeks.last().unwrap().previous();
            weeks.push(before);
        }
        let (counts, odd_refs) = desk
            .store
            .read(move |conn| {
                let systems = ["trading".to_string(), "app".to_string()];
                let counts = crate::store::reports::consultation_of(conn, &weeks, &systems)?;
                let odd: i64 = conn.query_row(
                    "SELECT count(*) FROM tickets \
                     WHERE (channel = 'itsm') != (external_ref IS NOT NULL)",
                    [],
                    |r| r.get(0),
                )?;
                Ok((counts, odd))
            })
            .await
            .unwrap();
        assert_eq!(odd_refs, 0, "external_ref on, and only on, itsm tickets");
        let mean = |agos: std::ops::RangeInclusive<usize>| {
            let n = agos.clone().count() as u64;
            agos.map(|a| counts[a].consultation).sum::<u64>() / n
        };
        let (before, after) = (mean(6..=9), mean(1..=4));
        assert!(before >= 84 && after <= 70, "{counts:?}");
        let first = sessions.last().unwrap();
        assert_eq!(first.held_on.weekday(), Weekday::Thu);
        assert_eq!(first.systems, ["trading", "app"]);
        assert!(!first.kb_articles.is_empty());
        for (topic, system) in articles {
            let session = sessions.iter().find(|s| s.topic == topic).unwrap();
            assert!(session.systems.contains(&system), "{topic}: {system}");
        }
    }
}
