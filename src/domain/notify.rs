//! Notifications: which events notify whom, what each channel's message says, and when a
//! failed delivery is tried again.
//!
//! Pure: the service hands in a [`Notice`] (the ticket as [`TicketView`] shows it, the message,
//! the clock) and gets back the exact payload the worker will send later; the worker hands in
//! attempt counts and instants and gets back the next attempt. Nothing here does IO.
//!
//! Customer data never leaves in full. The ticket's customer block is the masked one, and free
//! text (title, description, messages, resolution) goes through a [`Redactor`] that replaces
//! the ticket's own customer values and any long run of digits (accounts, phones, ID numbers a
//! submitter typed into the description) with their masked forms.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backoff::Backoff;
pub use super::mask::Redactor;
use super::message::Message;
use super::people::Role;
use super::ticket::{MaskedCustomer, Priority, Status, TicketId};
use super::view::TicketView;

/// WeCom refuses robot messages whose content is longer than this many bytes.
pub const WECOM_MAX_BYTES: usize = 4096;
/// Free text in a notification is cut to this many characters: a notice points at the
/// ticket, it does not replace it.
const EXCERPT_CHARS: usize = 300;

/// What happened, named as the webhook's `event` field names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A new ticket: tells the handlers.
    Created,
    /// A handler's public reply: tells the submitter.
    Replied,
    /// The ticket was resolved: tells the submitter.
    Resolved,
    /// The submitter wrote again: tells the handlers.
    FollowUp,
}

/// Who an event is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Handlers,
    Submitter,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::Created,
        Event::Replied,
        Event::Resolved,
        Event::FollowUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Created => "ticket.created",
            Event::Replied => "ticket.replied",
            Event::Resolved => "ticket.resolved",
            Event::FollowUp => "ticket.follow_up",
        }
    }

    pub fn audience(self) -> Audience {
        match self {
            Event::Created | Event::FollowUp => Audience::Handlers,
            Event::Replied | Event::Resolved => Audience::Submitter,
        }
    }

    /// The headline, as people read it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Event::Created => "新工单",
            Event::Replied => "处理人回复",
            Event::Resolved => "工单已解决",
            Event::FollowUp => "提交人追问",
        }
    }

    /// Whether this event goes out on `channel`. Every event does on every channel; mail for
    /// the submitter goes to their own address, and only when they have one.
    pub fn uses(self, channel: ChannelKind) -> bool {
        match channel {
            ChannelKind::Smtp | ChannelKind::Wecom | ChannelKind::Webhook => true,
        }
    }
}

/// A delivery channel, as the queue's `channel` column names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    Smtp,
    Wecom,
    Webhook,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Smtp => "smtp",
            ChannelKind::Wecom => "wecom",
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        match s {
            "smtp" => Some(ChannelKind::Smtp),
            "wecom" => Some(ChannelKind::Wecom),
            "webhook" => Some(ChannelKind::Webhook),
            _ => None,
        }
    }
}

/// The first `max` characters of `text`, trimmed, with `…` when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// Everything a notification is rendered from.
#[derive(Clone, Debug)]
pub struct Notice<'a> {
    pub event: Event,
    pub ticket: &'a TicketView,
    /// The configured display name of the ticket's system (交易 for `trading`).
    pub system_name: &'a str,
    /// The reply or follow-up, for those events.
    pub message: Option<&'a Message>,
    /// Who caused the event.
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    /// `notify.public_url`, without a trailing slash.
    pub public_url: Option<&'a str>,
    pub redactor: &'a Redactor,
}

impl Notice<'_> {
    /// Where the ticket is, for machines (the webhook's `url`): the submitter's own page for
    /// submitter-directed events, the API resource for handler-directed ones.
    pub fn url(&self) -> Option<String> {
        let base = self.public_url?;
        let id = self.ticket.id;
        Some(match self.event.audience() {
            Audience::Submitter => format!("{base}/mss/tickets/{id}"),
            Audience::Handlers => format!("{base}/api/v1/tickets/{id}"),
        })
    }

    /// Where the ticket is, for people: the submitter's page, or for handlers (who work in
    /// the terminal, where an API link would only answer 401) the command that opens it.
    fn pointer(&self) -> Pointer {
        match self.event.audience() {
            Audience::Submitter => match self.url() {
                Some(url) => Pointer::Link(url),
                None => Pointer::Nothing,
            },
            Audience::Handlers => {
                Pointer::Command(format!("opsdesk ticket show {}", self.ticket.id))
            }
        }
    }

    /// The person an event is for, when it is one person.
    pub fn recipient(&self) -> Option<&str> {
        (self.event.audience() == Audience::Submitter).then_some(self.ticket.submitter.as_str())
    }

    fn title(&self) -> String {
        one_line(&self.redactor.redact(&self.ticket.title))
    }

    /// The text worth reading in the notice: the message, the resolution, or the description.
    fn text(&self) -> String {
        let raw = match (self.event, self.message) {
            (_, Some(m)) => m.body.as_str(),
            (Event::Resolved, None) => self.ticket.resolution.as_deref().unwrap_or_default(),
            _ => self.ticket.description.as_str(),
        };
        excerpt(&self.redactor.redact(raw), EXCERPT_CHARS)
    }
}

enum Pointer {
    Link(String),
    Command(String),
    Nothing,
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The generic webhook's body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookBody {
    pub event: &'static str,
    pub audience: Audience,
    /// The submitter's username for submitter-directed events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub ticket: WebhookTicket,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<WebhookMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookTicket {
    pub id: TicketId,
    pub title: String,
    pub system: String,
    pub system_name: String,
    pub priority: Priority,
    pub status: Status,
    pub submitter: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub customer: MaskedCustomer,
    /// The start of the description, redacted.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookMessage {
    pub id: i64,
    pub author: String,
    pub author_role: Role,
    /// Redacted and cut to a few hundred characters.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub fn webhook_body(n: &Notice<'_>) -> WebhookBody {
    let t = n.ticket;
    let r = n.redactor;
    WebhookBody {
        event: n.event.as_str(),
        audience: n.event.audience(),
        recipient: n.recipient().map(str::to_string),
        actor: n.actor.to_string(),
        at: n.at,
        ticket: WebhookTicket {
            id: t.id,
            title: n.title(),
            system: t.system.clone(),
            system_name: n.system_name.to_string(),
            priority: t.priority,
            status: t.status,
            submitter: t.submitter.clone(),
            assignee: t.assignee.clone(),
            customer: t.customer.clone(),
            summary: excerpt(&r.redact(&t.description), EXCERPT_CHARS),
            resolution: t
                .resolution
                .as_deref()
                .map(|s| excerpt(&r.redact(s), EXCERPT_CHARS)),
            created_at: t.created_at,
        },
        message: n.message.map(|m| WebhookMessage {
            id: m.id,
            author: m.author.clone(),
            author_role: m.author_role,
            body: excerpt(&r.redact(&m.body), EXCERPT_CHARS),
            created_at: m.created_at,
        }),
        url: n.url(),
    }
}

/// Makes user text inert in WeCom markdown: no links, tags, code or quotes of its own.
pub(crate) fn md_inert(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '<' => '＜',
            '>' => '＞',
            '`' => '\'',
            '*' => '＊',
            '#' => '＃',
            c => c,
        })
        .collect()
}

fn customer_line(c: &MaskedCustomer) -> String {
    let parts: Vec<&str> = [&c.name, &c.account, &c.phone, &c.id_number]
        .into_iter()
        .filter_map(|v| v.as_deref())
        .collect();
    if parts.is_empty() {
        "未填写".into()
    } else {
        parts.join(" ")
    }
}

/// The longest prefix of `s` that fits in `max` bytes, cut at a character boundary.
pub(crate) fn fit_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A WeCom user id as the robot's `<@userid>` mention takes it: 1–64 of letters, digits and
/// `_ . @ -` (anything else could break out of the mention).
pub fn valid_wecom_userid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.@-".contains(&b))
}

/// The WeCom group robot's markdown message (its documented `msgtype: markdown` form),
/// never longer than [`WECOM_MAX_BYTES`]. `mention` is the recipient's WeCom user id: the
/// group robot cannot write to one person, but `<@userid>` makes WeCom notify them.
pub fn wecom_body(n: &Notice<'_>, mention: Option<&str>) -> serde_json::Value {
    let t = n.ticket;
    let mut head = format!(
        "**【{}】#{} {}**\n> 系统：{}　优先级：{}　状态：{}\n> 客户：{}\n",
        n.event.label_zh(),
        t.id,
        md_inert(&n.title()),
        md_inert(n.system_name),
        t.priority,
        t.status.label_zh(),
        md_inert(&customer_line(&t.customer)),
    );
    match (n.recipient(), mention.filter(|m| valid_wecom_userid(m))) {
        (Some(who), Some(id)) => head.push_str(&format!("> 提交人：{} <@{id}>\n", md_inert(who))),
        (Some(who), None) => head.push_str(&format!("> 请告知提交人：{}\n", md_inert(who))),
        (None, _) => head.push_str(&format!("> 提交人：{}\n", md_inert(&t.submitter))),
    }
    if n.message.is_some() {
        head.push_str(&format!("> 留言人：{}\n", md_inert(n.actor)));
    }
    let tail = match n.pointer() {
        Pointer::Link(url) => format!("\n\n[查看工单]({url})"),
        Pointer::Command(cmd) => format!("\n\n> 工作台：`{cmd}`"),
        Pointer::Nothing => String::new(),
    };
    let text = md_inert(&n.text());
    // The link and the header matter more than the end of the text: the text gives way.
    let room = WECOM_MAX_BYTES.saturating_sub(head.len() + tail.len() + 1);
    let content = format!("{head}\n{}{tail}", fit_bytes(&text, room));
    let content = fit_bytes(&content, WECOM_MAX_BYTES).to_string();
    serde_json::json!({"msgtype": "markdown", "markdown": {"content": content}})
}

/// A plain-text e-mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Email {
    /// Who it is for; empty means the handlers' configured address(es) (`notify.smtp.to`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub fn email(n: &Notice<'_>) -> Email {
    let t = n.ticket;
    let subject = format!(
        "[opsdesk] {} #{} {} {}：{}",
        n.event.label_zh(),
        t.id,
        t.priority,
        n.system_name,
        excerpt(&n.title(), 60)
    );
    let mut body = format!(
        "{} #{}\n\n标题：{}\n系统：{}\n优先级：{}\n状态：{}\n客户：{}\n提交人：{}\n",
        n.event.label_zh(),
        t.id,
        n.title(),
        n.system_name,
        t.priority,
        t.status.label_zh(),
        customer_line(&t.customer),
        t.submitter,
    );
    if n.message.is_some() {
        body.push_str(&format!("留言人：{}\n", n.actor));
    }
    body.push_str(&format!("\n{}\n", n.text()));
    match n.pointer() {
        Pointer::Link(url) => body.push_str(&format!("\n查看工单：{url}\n")),
        Pointer::Command(cmd) => body.push_str(&format!("\n在工作台打开：{cmd}\n")),
        Pointer::Nothing => {}
    }
    body.push_str("\n-- \nopsdesk 自动通知，请勿直接回复。\n");
    Email {
        to: Vec::new(),
        subject: one_line(&subject),
        body,
    }
}

/// When failed deliveries are tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The longest wait after the first failure.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// Undelivered this long after it was queued: given up.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (1 = the first): drawn by `random` from
    /// the upper half of `base × 2^(failures−1)` capped at `max` (see [`Backoff`]).
    pub fn delay(&self, failures: u32, random: u64) -> Duration {
        Backoff::new(self.base, self.max).delay(failures, random)
    }

    /// After the `failures`-th failure at `now` of a notification queued at `queued_at`: the
    /// next attempt, or None when it is given up. Never later than the give-up instant, so
    /// the last try happens then rather than not at all.
    pub fn next_attempt(
        &self,
        failures: u32,
        queued_at: DateTime<Utc>,
        now: DateTime<Utc>,
        random: u64,
    ) -> Option<DateTime<Utc>> {
        let give_up_at = queued_at + chrono::Duration::from_std(self.give_up_after).ok()?;
        let next = now + chrono::Duration::from_std(self.delay(failures, random)).ok()?;
        (now < give_up_at).then_some(next.min(give_up_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::BusinessCalendar;
    use crate::domain::mask::{AccountNo, CustomerName, IdNumber, Phone};
    use crate::domain::sla::SlaPolicy;
    use crate::domain::ticket::{Channel, Customer, Ticket};
    use crate::domain::validate::NewTicket;
    use crate::domain::view::{SlaContext, ticket_view};
    use chrono::TimeZone;

    const PHONE: &str = "13812341234";
    const ACCOUNT: &str = "310012345678";
    const ID: &str = "11010519491231002X";

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
    }

    fn ticket(description: &str) -> (Ticket, TicketView) {
        let new = NewTicket {
            title: "客户 13812341234 买入失败".into(),
            description: description.into(),
            system: "trading".into(),
            customer: Customer {
                name: Some(CustomerName::new("张三")),
                account: Some(AccountNo::new(ACCOUNT)),
                phone: Some(Phone::new(PHONE)),
                id_number: Some(IdNumber::new(ID)),
            },
            category: None,
            subcategory: None,
            priority: None,
            channel: Some(Channel::Mss),
            external_ref: None,
        };
        let mut t = Ticket::open(new, Channel::Mss, "cm_wang".into(), at());
        t.id = 42;
        let policy = SlaPolicy::default();
        let calendar =
            BusinessCalendar::new(chrono_tz::Asia::Shanghai, BusinessCalendar::default_hours())
                .unwrap();
        let ctx = SlaContext {
            policy: &policy,
            calendar: &calendar,
        };
        let view = ticket_view(&t, Vec::new(), &ctx, at());
        (t, view)
    }

    fn message(body: &str) -> Message {
        Message {
            id: 7,
            ticket_id: 42,
            author: "h_chen".into(),
            author_role: Role::Handler,
            internal: false,
            body: body.into(),
            created_at: at(),
        }
    }

    fn rendered(n: &Notice<'_>) -> Vec<String> {
        let webhook = serde_json::to_string(&webhook_body(n)).unwrap();
        let wecom = wecom_body(n, None).to_string();
        let mail = email(n);
        vec![webhook, wecom, mail.subject, mail.body]
    }

    #[test]
    fn no_full_customer_value_in_any_channel() {
        let description = format!(
            "张三 资金账号 {ACCOUNT}，手机 {PHONE}，身份证 {ID}，全角 １３８１２３４１２３４，委托 600519 于 10:05"
        );
        let (t, view) = ticket(&description);
        let redactor = Redactor::for_customer(&t.customer);
        let reply = message(&format!("已联系 {PHONE}，请客户用 {ACCOUNT} 重新登录"));
        for event in Event::ALL {
            let message = matches!(event, Event::Replied | Event::FollowUp).then_some(&reply);
            let n = Notice {
                event,
                ticket: &view,
                system_name: "交易",
                message,
                actor: "h_chen",
                at: at(),
                public_url: Some("http://desk.example:7878"),
                redactor: &redactor,
            };
            let texts = rendered(&n);
            for text in &texts {
                for secret in [PHONE, ACCOUNT, ID, "张三", "１３８１２３４１２３４"] {
                    assert!(!text.contains(secret), "{event:?} leaks {secret}: {text}");
                }
            }
            // Short numbers are not customer data and stay readable; masked forms show.
            assert!(texts[0].contains("600519"), "{}", texts[0]);
            assert!(texts[0].contains("138****1234"), "{}", texts[0]);
        }
    }

    #[test]
    fn digit_runs_are_masked_and_short_numbers_kept() {
        let r = Redactor::default();
        let cases: &[(&str, &str)] = &[
            ("手机13812341234", "手机138****1234"),
            ("证件 11010519491231002X 号", "证件 110***********002X 号"),
            ("全角１３８１２３４１２３４", "全角１３８****１２３４"),
            (
                "股票 600519 价格 1800 时间 10:05",
                "股票 600519 价格 1800 时间 10:05",
            ),
            // Seven digits: too short for first 3 and last 4, masked whole but the last.
            ("1234567", "******7"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(r.redact(input), *want, "{input}");
        }
    }

    #[test]
    fn wecom_content_stays_under_its_limit() {
        let long = "行情延迟<a href=x>[点](http://evil)</a>".repeat(2000);
        let (t, mut view) = ticket(&long);
        view.title = "标".repeat(200);
        let redactor = Redactor::for_customer(&t.customer);
        let reply = message(&long);
        let mut n = Notice {
            event: Event::FollowUp,
            ticket: &view,
            system_name: "交易",
            message: Some(&reply),
            actor: "cm_wang",
            at: at(),
            public_url: Some("http://desk.example:7878"),
            redactor: &redactor,
        };
        let body = wecom_body(&n, None);
        assert_eq!(body["msgtype"], "markdown");
        let content = body["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= WECOM_MAX_BYTES, "{}", content.len());
        assert!(
            content.ends_with("> 工作台：`opsdesk ticket show 42`"),
            "{content}"
        );
        // A follow-up is for the handlers: no one is mentioned.
        let content = wecom_body(&n, Some("wang.lei"))["markdown"]["content"].to_string();
        assert!(!content.contains("<@"), "{content}");
        n.event = Event::Replied;
        let content = wecom_body(&n, None)["markdown"]["content"].to_string();
        assert!(content.contains("[查看工单](http://desk.example:7878/mss/tickets/42)"));
        assert!(!content.contains("<a") && !content.contains("](http://evil"));
        assert!(content.contains("请告知提交人"));
        // The submitter's own WeCom id is mentioned, so WeCom tells them; a malformed one is not.
        let content = wecom_body(&n, Some("wang.lei"))["markdown"]["content"].to_string();
        assert!(content.contains("<@wang.lei>"), "{content}");
        let content = wecom_body(&n, Some("x> <a href=y"))["markdown"]["content"].to_string();
        assert!(
            !content.contains("<@") && !content.contains("<a"),
            "{content}"
        );
    }

    #[test]
    fn events_go_to_their_audience() {
        let (t, view) = ticket("描述");
        let redactor = Redactor::for_customer(&t.customer);
        let mut n = Notice {
            event: Event::Resolved,
            ticket: &view,
            system_name: "交易",
            message: None,
            actor: "h_chen",
            at: at(),
            public_url: Some("http://d"),
            redactor: &redactor,
        };
        let body = webhook_body(&n);
        assert_eq!(body.recipient.as_deref(), Some("cm_wang"));
        assert_eq!(body.url.as_deref(), Some("http://d/mss/tickets/42"));
        assert!(Event::Resolved.uses(ChannelKind::Smtp));
        n.event = Event::Created;
        let body = serde_json::to_value(webhook_body(&n)).unwrap();
        assert_eq!(body["event"], "ticket.created");
        assert_eq!(body["audience"], "handlers");
        assert!(body.get("recipient").is_none());
        assert_eq!(body["ticket"]["customer"]["phone"], "138****1234");
        assert!(Event::Created.uses(ChannelKind::Smtp));
        assert!(Event::FollowUp.uses(ChannelKind::Smtp));
        assert!(Event::Replied.uses(ChannelKind::Smtp));
    }

    #[test]
    fn backoff_doubles_caps_and_gives_up() {
        let p = RetryPolicy {
            base: Duration::from_secs(5),
            max: Duration::from_secs(600),
            give_up_after: Duration::from_secs(24 * 3600),
        };
        // failures, the longest wait; the shortest is half of it.
        let cases: &[(u32, u64)] = &[
            (0, 5),
            (1, 5),
            (2, 10),
            (3, 20),
            (7, 320),
            (8, 600),
            (40, 600),
            (u32::MAX, 600),
        ];
        for &(failures, secs) in cases {
            let longest = Duration::from_secs(secs);
            assert_eq!(p.delay(failures, 0), longest / 2, "{failures}");
            assert_eq!(p.delay(failures, 1 << 63), longest * 3 / 4, "{failures}");
            assert!(p.delay(failures, u64::MAX) <= longest, "{failures}");
        }
        let queued = at();
        let now = queued + chrono::Duration::minutes(1);
        // The instant stored is the one drawn: between 5 and 10 s after the second failure.
        assert_eq!(
            p.next_attempt(2, queued, now, 0),
            Some(now + chrono::Duration::seconds(5))
        );
        assert_eq!(
            p.next_attempt(2, queued, now, 1 << 63),
            Some(now + chrono::Duration::milliseconds(7_500))
        );
        // The last attempt is not scheduled past the give-up instant …
        let late = queued + chrono::Duration::hours(24) - chrono::Duration::seconds(30);
        for random in [0, u64::MAX] {
            assert_eq!(
                p.next_attempt(20, queued, late, random),
                Some(queued + chrono::Duration::hours(24))
            );
        }
        // … and a failure at or after it gives up, whatever the draw.
        let end = queued + chrono::Duration::hours(24);
        for random in [0, u64::MAX] {
            assert_eq!(p.next_attempt(21, queued, end, random), None);
        }
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("  你好世界  ", 2), "你好…");
        assert_eq!(excerpt("短", 5), "短");
        assert_eq!(fit_bytes("你好", 4), "你");
    }
}
