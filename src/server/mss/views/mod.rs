//! The pages' markup (maud: compiled, every interpolation HTML-escaped). Mobile first: one
//! column, large touch targets, no external asset; `/mss/static/` serves the CSS and the
//! little JavaScript (drafts, help suggestions), and every page works without the script.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use crate::config::SystemDef;
use crate::domain::mask::mask_long_numbers;
use crate::domain::message::{Attachment, Message};
use crate::domain::ticket::{Category, Status};
use crate::domain::validate::Identifier;
use crate::domain::view::TicketView;
use crate::service::submissions::OpenTicket;
use crate::store::audit::AuditEntry;
use crate::store::users::User;

mod help;
pub use help::{SystemShelf, Vote, help_article, help_home, help_results};

/// What every page needs to know about its viewer.
pub struct Frame<'a> {
    /// The business time zone (Asia/Shanghai unless configured), in which times are shown.
    pub tz: Tz,
    /// When the page is made: what "this year" means for the dates on it.
    pub now: DateTime<Utc>,
    pub user: Option<&'a User>,
    pub csrf: &'a str,
}

/// Percent-encodes a query value (a `next` path keeps its slashes).
pub fn query_escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, crate::server::QUERY_VALUE_ENCODE).to_string()
}

/// A time as the pages show it, in the business time zone: "11-24 10:05" within the current
/// year there, "2025-12-31 23:00" from an earlier (or later) one, so a ticket from last
/// winter never reads as this year's.
pub fn when(tz: Tz, now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let (t, now) = (t.with_timezone(&tz), now.with_timezone(&tz));
    let format = if t.year() == now.year() {
        "%m-%d %H:%M"
    } else {
        "%Y-%m-%d %H:%M"
    };
    t.format(format).to_string()
}

fn local(f: &Frame<'_>, t: DateTime<Utc>) -> String {
    when(f.tz, f.now, t)
}

/// The page around `body`. `new_link`: the bar offers "提交事件" (not on the list, which has
/// its own button, nor on the form itself).
fn layout(f: &Frame<'_>, title: &str, new_link: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                meta name="format-detection" content="telephone=no";
                title { (title) " · MSS 事件反馈" }
                link rel="stylesheet" href="/mss/static/mss.css";
                script src="/mss/static/mss.js" defer {}
            }
            body {
                header.bar {
                    a.brand href="/mss/" { "MSS 事件反馈" }
                    @if let Some(u) = f.user {
                        nav {
                            a href="/mss/help/" { "帮助" }
                            @if new_link { a href="/mss/new" { "提交事件" } }
                            form.inline method="post" action="/mss/logout" {
                                input type="hidden" name="csrf_token" value=(f.csrf);
                                button.link type="submit" title=(format!("退出 {}", u.display_name)) { "退出" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn error(status: axum::http::StatusCode, message: &str) -> Markup {
    let f = Frame {
        tz: chrono_tz::Asia::Shanghai,
        now: Utc::now(),
        user: None,
        csrf: "",
    };
    layout(
        &f,
        "出错了",
        true,
        html! {
            section.card.error-page {
                h1 { "出错了" }
                p.lead { (message) }
                p.muted { "状态码 " (status.as_u16()) }
                p { a.button href="/mss/" { "返回我的事件" } }
            }
        },
    )
}

pub struct LoginForm<'a> {
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub next: &'a str,
}

pub fn login(f: &Frame<'_>, form: &LoginForm<'_>) -> Markup {
    layout(
        f,
        "登录",
        true,
        html! {
            section.card.narrow {
                h1 { "登录" }
                p.muted { "客户经理提交和跟进生产事件。" }
                @if let Some(n) = form.notice { p.notice role="status" { (n) } }
                @if let Some(e) = form.error { p.error role="alert" { (e) } }
                form method="post" action="/mss/login" {
                    input type="hidden" name="csrf_token" value=(f.csrf);
                    input type="hidden" name="next" value=(form.next);
                    label for="username" { "用户名" }
                    input #username name="username" value=(form.username) autocomplete="username"
                        autocapitalize="none" required;
                    label for="password" { "密码" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button.primary type="submit" { "登录" }
                }
                p.muted { "忘记密码或账号被锁定，请联系事件处理组重置。" }
            }
        },
    )
}

/// The ticket's place on the submitter's path: submitted → being handled → answered → confirmed.
fn step(status: Status) -> usize {
    match status {
        Status::New => 0,
        Status::Triaging | Status::WaitingSubmitter | Status::Transferred => 1,
        Status::Resolved => 2,
        Status::Closed => 3,
    }
}

const STEPS: [&str; 4] = ["已提交", "处理中", "已答复", "已确认"];

/// How a closed ticket ended, as its submitter reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    /// The submitter confirmed the answer ("问题已解决").
    Confirmed,
    /// A handler closed the answered ticket without the submitter's word.
    ByHandler,
}

impl Closing {
    fn step(self) -> &'static str {
        match self {
            Closing::Confirmed => "已确认",
            Closing::ByHandler => "已关闭",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Closing::Confirmed => "您已确认问题解决",
            Closing::ByHandler => "由处理人关闭",
        }
    }
}

/// How a ticket was closed, from its progress: the last closing entry, with its time.
fn closing_of(progress: &[AuditEntry]) -> Option<(Closing, &str)> {
    progress.iter().rev().find_map(|e| match e.action.as_str() {
        "ticket.confirmed" => Some((Closing::Confirmed, e.at.as_str())),
        "ticket.transitioned" if e.detail.get("to").and_then(|v| v.as_str()) == Some("closed") => {
            Some((Closing::ByHandler, e.at.as_str()))
        }
        _ => None,
    })
}

fn progress(status: Status, closing: Option<Closing>) -> Markup {
    let at = step(status);
    html! {
        ol.steps aria-label="进度" {
            @for (i, name) in STEPS.iter().enumerate() {
                @let name = match (i, status, closing) {
                    (3, Status::Closed, c) => c.map_or("已关闭", Closing::step),
                    _ => name,
                };
                li class=(if i < at { "done" } else if i == at { "current" } else { "todo" }) { (name) }
            }
        }
    }
}

/// The status in the submitter's words.
pub fn status_words(t: &TicketView) -> String {
    match (t.status, t.transfer_to) {
        (Status::Transferred, Some(to)) => format!("已转交{}处理", to.label_zh()),
        (Status::WaitingSubmitter, _) => "待您补充信息".into(),
        (Status::Resolved, _) => "已答复，待您确认".into(),
        (s, _) => s.label_zh().into(),
    }
}

fn chip(t: &TicketView) -> Markup {
    html! { span class=(format!("chip s-{}", t.status.as_str())) { (status_words(t)) } }
}

pub struct ListItem {
    pub ticket: TicketView,
    pub unread: u32,
    pub system_name: String,
    /// How it was closed, when it is.
    pub closing: Option<Closing>,
}

/// The list's tabs: everything, still being handled, answered and waiting for the
/// submitter's word, closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    All,
    Open,
    Answered,
    Closed,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::All, Tab::Open, Tab::Answered, Tab::Closed];

    pub fn parse(s: Option<&str>) -> Tab {
        match s {
            Some("open") => Tab::Open,
            Some("answered") => Tab::Answered,
            Some("closed") => Tab::Closed,
            _ => Tab::All,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Tab::All => "all",
            Tab::Open => "open",
            Tab::Answered => "answered",
            Tab::Closed => "closed",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::All => "全部",
            Tab::Open => "处理中",
            Tab::Answered => "待确认",
            Tab::Closed => "已关闭",
        }
    }

    pub fn holds(self, s: Status) -> bool {
        match self {
            Tab::All => true,
            Tab::Open => s.is_open(),
            Tab::Answered => s == Status::Resolved,
            Tab::Closed => s == Status::Closed,
        }
    }
}

pub fn list(f: &Frame<'_>, items: &[ListItem], tab: Tab, counts: &[usize]) -> Markup {
    layout(
        f,
        "我的事件",
        false,
        html! {
            div.heading {
                h1 { "我的事件" }
                a.button.primary href="/mss/new" { "提交事件" }
            }
            nav.tabs aria-label="筛选" {
                @for (i, t) in Tab::ALL.iter().enumerate() {
                    a href=(format!("/mss/?show={}", t.key())) aria-current=[(*t == tab).then_some("page")] {
                        (t.label()) " " span.count { (counts.get(i).copied().unwrap_or(0)) }
                    }
                }
            }
            @if items.is_empty() {
                section.card.empty {
                    @if tab == Tab::All {
                        p { "还没有提交过事件。" }
                        p.muted { "客户遇到问题时，点“提交事件”，写明客户账号、发生时间和屏幕上的提示，附上截图。" }
                    } @else {
                        p.muted { "这里没有事件。" }
                    }
                }
            }
            ul.tickets {
                @for item in items {
                    @let t = &item.ticket;
                    li.card.ticket {
                        a.cover href=(format!("/mss/tickets/{}", t.id)) {
                            div.row {
                                span.id { "#" (t.id) }
                                (chip(t))
                                @if item.unread > 0 {
                                    span.badge aria-label=(format!("{} 条新回复", item.unread)) { (item.unread) " 条新回复" }
                                }
                            }
                            h2 { (mask_long_numbers(&t.title)) }
                            div.meta {
                                span { (item.system_name) }
                                span { "提交于 " (local(f, t.created_at)) }
                                span { "更新于 " (local(f, t.updated_at)) }
                            }
                            (progress(t.status, item.closing))
                        }
                    }
                }
            }
        },
    )
}

/// The customer identifiers the submission form has fields for (no ID number: field staff
/// rarely have it at hand, and a phone or account is enough to look the customer up).
pub const FORM_IDENTIFIERS: [Identifier; 2] = [Identifier::Account, Identifier::Phone];

/// The submission form as shown (again): values kept, problems beside their fields.
#[derive(Debug, Clone, Default)]
pub struct NewForm {
    pub form_id: String,
    pub customer_name: String,
    pub customer_account: String,
    pub customer_phone: String,
    pub system: String,
    pub category_hint: String,
    pub title: String,
    pub description: String,
    /// Screenshots already received and processed: (stored name, file name).
    pub staged: Vec<(String, String)>,
    pub viewed_articles: String,
    /// The submitter's earlier ticket this one takes up again, and its customer masked (taken
    /// over when the customer fields are left empty).
    pub follows: String,
    pub follows_customer: Option<String>,
    /// Why the form is shown (a reply that could not be sent, turned into a new ticket).
    pub notice: Option<String>,
    /// (field, message in Chinese).
    pub errors: Vec<(String, String)>,
    /// Open tickets of the same customer on the same system, shown before saving.
    pub duplicates: Vec<OpenTicket>,
}

impl NewForm {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// "补充到 #N" (when one of the open tickets is the submitter's own) or "仍然提交新事件".
fn duplicate_choice(form: &NewForm) -> Markup {
    html! {
        div.choice {
            @if let Some(mine) = form.duplicates.iter().find(|d| d.mine) {
                button.primary type="submit" form="new-ticket" name="add_to" value=(mine.id) { "补充到 #" (mine.id) }
            }
            button type="submit" form="new-ticket" name="confirm_new" value="1" { "仍然提交新事件" }
        }
    }
}

fn field_error(form: &NewForm, field: &str) -> Markup {
    html! {
        @if let Some(e) = form.error(field) { p.field-error role="alert" { (e) } }
    }
}

fn text_input(
    form: &NewForm,
    name: &str,
    label: &str,
    value: &str,
    attrs: (&str, &str, &str),
) -> Markup {
    let (kind, mode, hint) = attrs;
    let invalid = form.error(name).is_some()
        || (name.starts_with("customer_") && form.error("customer").is_some());
    html! {
        label for=(name) { (label) }
        input id=(name) name=(name) type=(kind) inputmode=(mode) value=(value) placeholder=(hint)
            data-draft aria-invalid=(if invalid { "true" } else { "false" });
        (field_error(form, &name.replacen("customer_", "customer.", 1)))
    }
}

pub fn new_ticket(
    f: &Frame<'_>,
    systems: &[SystemDef],
    form: &NewForm,
    max_screenshots: usize,
) -> Markup {
    let categories = [Category::Consultation, Category::Data, Category::Program];
    layout(
        f,
        "提交事件",
        false,
        html! {
            h1 { "提交事件" }
            @if let Some(n) = &form.notice { p.notice role="status" { (n) } }
            @if !form.errors.is_empty() {
                div.error role="alert" {
                    p { "还不能提交，请补充以下内容：" }
                    ul { @for (_, m) in &form.errors { li { (m) } } }
                }
            }
            @if !form.duplicates.is_empty() {
                section.card.duplicate role="alert" {
                    @let system = systems.iter().find(|s| s.key == form.system).map_or(form.system.as_str(), |s| s.name.as_str());
                    h2 { "该客户在" (system) "已有处理中的事件" }
                    ul {
                        @for d in &form.duplicates {
                            li {
                                @if d.mine {
                                    a href=(format!("/mss/tickets/{}", d.id)) { "#" (d.id) " " (mask_long_numbers(&d.title)) }
                                    " · " (d.status.label_zh())
                                } @else {
                                    "#" (d.id) " （由其他同事提交，" (d.status.label_zh()) "）"
                                }
                            }
                        }
                    }
                    p.muted { "如果是同一个问题，把新情况补充到已有事件里，处理人能更快看到完整经过。" }
                    // The choice sits with the warning; the buttons submit the form below
                    // (`form=`), so the phone need not scroll past the whole form to answer.
                    (duplicate_choice(form))
                }
            }
            form #new-ticket method="post" action="/mss/new" enctype="multipart/form-data"
                data-draft-key=(format!("opsdesk.mss.draft.{}", f.user.map_or("", |u| u.username.as_str()))) {
                input type="hidden" name="csrf_token" value=(f.csrf);
                input type="hidden" name="form_id" value=(form.form_id) data-draft;
                input type="hidden" name="viewed_articles" value=(form.viewed_articles) data-draft;
                @if !form.follows.is_empty() {
                    input type="hidden" name="follows" value=(form.follows);
                }
                fieldset {
                    legend { "客户信息" }
                    @if let Some(c) = &form.follows_customer {
                        p.notice { "接续事件 #" (form.follows) "：客户沿用 " (c) "。是其他客户请填写下面的字段。" }
                    }
                    (field_error(form, "customer"))
                    (text_input(form, "customer_name", "客户姓名", &form.customer_name, ("text", "text", "如 张三")))
                    (text_input(form, "customer_account", "资金账号", &form.customer_account, ("text", "numeric", "6–20 位数字")))
                    (text_input(form, "customer_phone", "手机号", &form.customer_phone, ("tel", "tel", "11 位手机号")))
                }
                fieldset {
                    legend { "问题" }
                    label for="system" { "所属系统" }
                    select #system name="system" data-draft aria-invalid=(if form.error("system").is_some() { "true" } else { "false" }) {
                        option value="" { "请选择" }
                        @for s in systems {
                            option value=(s.key) selected[s.key == form.system] { (s.name) }
                        }
                    }
                    (field_error(form, "system"))
                    label for="category_hint" { "问题类型（可不选）" }
                    select #category_hint name="category_hint" data-draft {
                        option value="" { "不确定" }
                        @for c in categories {
                            option value=(c.as_str()) selected[c.as_str() == form.category_hint] { (c.label_zh()) }
                        }
                    }
                    (field_error(form, "category_hint"))
                    (text_input(form, "title", "标题", &form.title, ("text", "text", "如 客户委托买入提示资金不足")))
                    label for="description" { "问题描述" }
                    textarea #description name="description" rows="6" data-draft data-suggest
                        placeholder="请写明：客户账号、发生时间、屏幕上的原始提示、已经尝试过的操作"
                        aria-invalid=(if form.error("description").is_some() { "true" } else { "false" }) { (form.description) }
                    (field_error(form, "description"))
                    div #suggestions.suggestions hidden aria-live="polite" {}
                }
                fieldset {
                    legend { "截图（最多 " (max_screenshots) " 张）" }
                    (staged_boxes(&form.staged))
                    input #screenshots type="file" name="screenshots" accept="image/jpeg,image/png,image/webp" multiple
                        data-max=(max_screenshots);
                    // No HEIC in `accept`: iPhones then send their photos as JPEG.
                    p.muted { "支持 JPG、PNG、WebP，每张不超过 10 MB。照片中的位置信息会被去除。" }
                    (field_error(form, "screenshots"))
                }
                @if !form.duplicates.is_empty() {
                    (duplicate_choice(form))
                } @else {
                    button.primary type="submit" { "提交" }
                }
            }
        },
    )
}

/// Pictures already received with a refused form, ticked: sent again by name, not bytes.
fn staged_boxes(staged: &[(String, String)]) -> Markup {
    html! {
        @for (stored, name) in staged {
            label.staged {
                input type="checkbox" name="staged" value=(format!("{stored}:{name}")) checked;
                " 已上传：" (name)
            }
        }
    }
}

fn attachment_thumbs(list: &[&Attachment]) -> Markup {
    html! {
        @if !list.is_empty() {
            div.thumbs {
                @for a in list {
                    @if a.content_type.starts_with("image/") {
                        a href=(format!("/mss/attachments/{}", a.id)) target="_blank" rel="noopener" {
                            img src=(format!("/mss/attachments/{}?size=thumb", a.id)) alt=(a.filename) loading="lazy";
                        }
                    } @else {
                        a href=(format!("/mss/attachments/{}", a.id)) { (a.filename) }
                    }
                }
            }
        }
    }
}

/// A progress entry in words; None for entries the submitter need not see.
fn progress_words(e: &AuditEntry) -> Option<String> {
    let to = e
        .detail
        .get("to")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Status>().ok());
    Some(match e.action.as_str() {
        "ticket.created" => "事件已提交".into(),
        "ticket.assigned" => match e.detail.get("assignee").and_then(|v| v.as_str()) {
            Some(_) => "处理人已受理".into(),
            None => return None,
        },
        "ticket.confirmed" => "您已确认问题解决".into(),
        "ticket.reopened" if e.detail.get("message").is_some() => {
            "您在答复后又发了消息，事件已重新交给处理人".into()
        }
        "ticket.reopened" => "您反馈仍未解决，已重新处理".into(),
        "ticket.followed_up" => match e.detail.get("follow_up").and_then(|v| v.as_i64()) {
            Some(id) => format!("您提交了接续事件 #{id}"),
            None => return None,
        },
        "ticket.transitioned" => match to? {
            Status::Triaging => "开始处理".into(),
            Status::WaitingSubmitter => "需要您补充信息".into(),
            Status::Transferred => {
                let team = e
                    .detail
                    .get("transfer_to")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse::<crate::domain::ticket::TransferTarget>().ok())
                    .map_or("", |t| t.label_zh());
                format!("已转交{team}协助处理")
            }
            Status::Resolved => "处理人已答复解决方案".into(),
            Status::Closed => "处理人关闭了事件".into(),
            Status::New => return None,
        },
        _ => return None,
    })
}

pub struct Detail<'a> {
    pub ticket: &'a TicketView,
    pub system_name: &'a str,
    pub progress: &'a [AuditEntry],
    pub messages: &'a [Message],
    pub reply_form_id: &'a str,
    /// The ticket's version and message count, which the page polls for changes.
    pub state: &'a str,
    pub reply_error: Option<&'a str>,
    pub reply_body: &'a str,
    /// Pictures of a refused reply, kept for the next try: (stored name, file name).
    pub reply_staged: &'a [(String, String)],
    /// A refused "问题已解决" / "仍未解决" and what was typed with it.
    pub confirm_error: Option<&'a str>,
    pub confirm_body: &'a str,
    pub notice: Option<&'a str>,
    pub max_screenshots: usize,
}

/// A resolved ticket's answer, then the question it raises: solved (with optional words,
/// which reopen nothing) or not (the reason goes to the handler, the ticket back to work).
fn answer_card(f: &Frame<'_>, t: &TicketView, d: &Detail<'_>) -> Markup {
    html! {
        section.card.confirm #answer aria-labelledby="answer-title" {
            h2 #answer-title { "处理人的答复" }
            @if let Some(r) = &t.resolution { p.resolution { (r) } }
            @if let Some(at) = t.resolved_at { p.muted { "答复于 " (local(f, at)) } }
            form method="post" action=(format!("/mss/tickets/{}/confirm", t.id)) {
                input type="hidden" name="csrf_token" value=(f.csrf);
                h2 #question { "问题解决了吗？" }
                @if let Some(e) = d.confirm_error { p.field-error role="alert" { (e) } }
                label for="reason" { "想说的话（可不填）；没解决请写明现在的情况" }
                textarea #reason name="reason" rows="3" { (d.confirm_body) }
                button.primary type="submit" { "问题已解决" }
                button type="submit" formaction=(format!("/mss/tickets/{}/reopen", t.id)) { "仍未解决" }
            }
        }
    }
}

/// A closed ticket takes no more messages: what came back (or what is new) becomes a new
/// ticket that names this one and keeps its customer.
fn follow_up_card(t: &TicketView) -> Markup {
    html! {
        div #follow-up {
            p.muted { "事件已关闭，不能再追加消息。问题又出现了，或有新问题？提交新事件，会注明接续 #" (t.id) "，客户信息沿用。" }
            a.button.primary href=(format!("/mss/new?follow={}", t.id)) { "提交新事件（接续 #" (t.id) "）" }
        }
    }
}

pub fn detail(f: &Frame<'_>, d: &Detail<'_>) -> Markup {
    let t = d.ticket;
    let ticket_files: Vec<&Attachment> = t
        .attachments
        .iter()
        .filter(|a| a.message_id.is_none())
        .collect();
    let me = f.user.map_or("", |u| u.username.as_str());
    let closing = closing_of(d.progress);
    layout(
        f,
        &format!("#{} {}", t.id, t.title),
        true,
        html! {
            p.back { a href="/mss/" { "‹ 我的事件" } }
            @if let Some(n) = d.notice { p.notice role="status" data-clear-draft { (n) } }
            // Fixed to the bottom of the screen (CSS alone), so it is seen wherever the reader
            // is on a long conversation; the script shows it when the ticket changes.
            div #changed.notice.floating role="status" hidden data-watch=(format!("/mss/tickets/{}/state", t.id)) data-state=(d.state) {
                span { "处理人有新的进展。" }
                a href=(format!("/mss/tickets/{}", t.id)) { "刷新查看" }
                button.dismiss type="button" aria-label="关闭提示" { "×" }
            }
            section.card {
                div.row { span.id { "#" (t.id) } (chip(t)) }
                h1 { (t.title) }
                (progress(t.status, closing.map(|(c, _)| c)))
                dl.facts {
                    dt { "系统" } dd { (d.system_name) }
                    @if let Some(n) = &t.customer.name { dt { "客户" } dd { (n) } }
                    @if let Some(a) = &t.customer.account { dt { "资金账号" } dd { (a) } }
                    @if let Some(p) = &t.customer.phone { dt { "手机号" } dd { (p) } }
                    dt { "提交于" } dd { (local(f, t.created_at)) }
                    @if let (Status::Closed, Some((how, at))) = (t.status, closing) {
                        dt { "关闭" }
                        dd { (how.words()) @if let Ok(at) = at.parse::<DateTime<Utc>>() { " · " (local(f, at)) } }
                    }
                }
                p.description { (t.description) }
                (attachment_thumbs(&ticket_files))
            }
            @if t.status == Status::Resolved { (answer_card(f, t, d)) }
            section.card {
                h2 { "进度" }
                ol.timeline {
                    @for e in d.progress {
                        @if let Some(words) = progress_words(e) {
                            li {
                                time { (e.at.parse::<DateTime<Utc>>().map(|t| local(f, t)).unwrap_or_default()) }
                                " " (words)
                            }
                        }
                    }
                }
            }
            section.card {
                h2 { "沟通记录" }
                @if d.messages.is_empty() { p.muted { "还没有消息。处理人回复后会在这里显示，并通知您。" } }
                ul.conversation {
                    @for m in d.messages {
                        @let files: Vec<&Attachment> = t.attachments.iter().filter(|a| a.message_id == Some(m.id)).collect();
                        li class=(if m.author == me { "mine" } else { "theirs" }) {
                            div.who {
                                @if m.author == me { "我" } @else if m.author_role.works_tickets() { "处理人" } @else { (m.author) }
                                " · " time { (local(f, m.created_at)) }
                            }
                            p { (m.body) }
                            (attachment_thumbs(&files))
                        }
                    }
                }
                @if t.status != Status::Closed {
                    form #reply method="post" action=(format!("/mss/tickets/{}/reply", t.id)) enctype="multipart/form-data"
                        data-draft-key=(format!("opsdesk.mss.reply.{}.{}", me, t.id)) {
                        input type="hidden" name="csrf_token" value=(f.csrf);
                        input type="hidden" name="form_id" value=(d.reply_form_id) data-draft;
                        label for="body" { "补充或追问" }
                        @if t.status == Status::Resolved {
                            p.muted { "发送后，事件会重新交给处理人处理；问题已解决请点上面的“问题已解决”。" }
                        }
                        @if let Some(e) = d.reply_error { p.field-error role="alert" { (e) } }
                        textarea #body name="body" rows="3" data-draft placeholder="补充信息或继续追问" { (d.reply_body) }
                        (staged_boxes(d.reply_staged))
                        input type="file" name="screenshots" accept="image/jpeg,image/png,image/webp" multiple
                            data-max=(d.max_screenshots) aria-label=(format!("附图（最多 {} 张）", d.max_screenshots));
                        button.primary type="submit" { "发送" }
                    }
                } @else {
                    (follow_up_card(t))
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_name_the_year_when_it_is_not_this_one_in_shanghai() {
        let tz = chrono_tz::Asia::Shanghai;
        let utc = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        // Now: 2026-01-01 00:30 in Shanghai, still 2025 in UTC.
        let now = utc(2025, 12, 31, 16, 30);
        let cases = [
            // 2025-12-31 23:00 in Shanghai: last year there.
            (utc(2025, 12, 31, 15, 0), "2025-12-31 23:00"),
            // 2026-01-01 00:10 in Shanghai: this year, though 2025 in UTC.
            (utc(2025, 12, 31, 16, 10), "01-01 00:10"),
            (utc(2024, 6, 1, 2, 5), "2024-06-01 10:05"),
            (utc(2026, 3, 2, 1, 0), "03-02 09:00"),
            (utc(2027, 1, 5, 1, 0), "2027-01-05 09:00"),
        ];
        for (t, want) in cases {
            assert_eq!(when(tz, now, t), want, "{t}");
        }
    }
}
