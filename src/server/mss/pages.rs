//! The page handlers: each reads the request, calls one use case of the desk and renders.

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::Markup;
use serde::Deserialize;

use super::error::{PageError, PageResult};
use super::form::{self, Posted};
use super::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, Submitter, cookie, safe_next, same_secret, set_cookie,
};
use super::views::{self, Detail, Frame, ListItem, LoginForm, NewForm};
use crate::domain::mask::{AccountNo, CustomerName, Phone};
use crate::domain::ticket::{Category, Channel, Customer, TicketId};
use crate::domain::validate::{self, NewTicket};
use crate::server::AppState;
use crate::server::throttle::ClientAddr;
use crate::service::sessions::{LoginError, SessionState};
use crate::service::submissions::Submission;
use crate::store::help::Outcome;
use crate::store::random_hex;
use crate::store::tickets::TicketFilter;

/// The submitter's list shows this many of their latest tickets.
const LIST_LIMIT: usize = 200;

fn frame<'a>(s: &AppState, who: &'a Submitter) -> Frame<'a> {
    Frame {
        tz: s.desk.settings.calendar.tz(),
        user: Some(&who.user),
        csrf: &who.csrf_token,
    }
}

fn fresh_id() -> PageResult<String> {
    random_hex(16).map_err(|e| crate::service::DeskError::from(e).into())
}

fn ticket_id(raw: &str) -> PageResult<TicketId> {
    raw.parse::<TicketId>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::NotFound)
}

pub async fn root() -> Redirect {
    Redirect::permanent("/mss/")
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    out: Option<String>,
}

fn login_response(s: &AppState, status: StatusCode, form: &LoginForm<'_>) -> PageResult<Response> {
    // Before login the CSRF token is a random value matched against a short-lived cookie.
    let token = fresh_id()?;
    let page = views::login(
        &Frame {
            tz: s.desk.settings.calendar.tz(),
            user: None,
            csrf: &token,
        },
        form,
    );
    let cookie = set_cookie(
        LOGIN_CSRF_COOKIE,
        &token,
        Some(3600),
        s.desk.settings.mss.secure_cookies,
    );
    Ok((status, [(header::SET_COOKIE, cookie)], page).into_response())
}

pub async fn login_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> PageResult<Response> {
    let next = safe_next(q.next.as_deref());
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let SessionState::Live(_) = s.desk.session(&id).await?
    {
        return Ok(Redirect::to(&next).into_response());
    }
    let notice = if q.expired.is_some() {
        Some("登录已过期，请重新登录。未提交的内容已保存在本机。")
    } else if q.out.is_some() {
        Some("已退出登录。")
    } else {
        None
    };
    login_response(
        &s,
        StatusCode::OK,
        &LoginForm {
            username: "",
            error: None,
            notice,
            next: &next,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginBody {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

/// Where a login attempt comes from: the peer, or behind a proxy the address it appended.
fn client_ip(
    s: &AppState,
    peer: Option<ClientAddr>,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    if s.desk.settings.mss.behind_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.0.ip())
}

pub async fn login(
    State(s): State<AppState>,
    peer: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    Form(body): Form<LoginBody>,
) -> PageResult<Response> {
    let ip = client_ip(&s, peer.map(|p| p.0), &headers);
    let next = safe_next(body.next.as_deref());
    let refuse = |status, error: &str| {
        login_response(
            &s,
            status,
            &LoginForm {
                username: &body.username,
                error: Some(error),
                notice: None,
                next: &next,
            },
        )
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &body.csrf_token) {
        return refuse(StatusCode::FORBIDDEN, "页面已过期，请重新输入密码登录");
    }
    if body.username.trim().is_empty() || body.password.is_empty() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "请输入用户名和密码");
    }
    let now = std::time::Instant::now();
    if let Some(wait) = ip.and_then(|ip| s.login_throttle.wait(ip, now)) {
        let minutes = wait.as_secs().div_ceil(60);
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("这个网络的登录失败次数过多，请 {minutes} 分钟后再试"),
        );
    }
    let result = s.desk.login(&body.username, &body.password).await;
    if matches!(result, Err(LoginError::Wrong | LoginError::Locked { .. }))
        && let Some(ip) = ip
    {
        s.login_throttle.failed(ip, now);
    }
    match result {
        Ok((session, _)) => {
            let secure = s.desk.settings.mss.secure_cookies;
            let max_age = s.desk.settings.mss.session_max.num_seconds();
            let mut r = Redirect::to(&next).into_response();
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session.id, Some(max_age), secure),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, "", None, secure),
            );
            Ok(r)
        }
        Err(LoginError::Desk(e)) => Err(e.into()),
        Err(e @ LoginError::Locked { .. }) => refuse(StatusCode::TOO_MANY_REQUESTS, &e.to_string()),
        Err(e @ LoginError::NotSubmitter) => refuse(StatusCode::FORBIDDEN, &e.to_string()),
        Err(e @ LoginError::Wrong) => refuse(StatusCode::UNAUTHORIZED, &e.to_string()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf_token: String,
}

pub async fn logout(
    State(s): State<AppState>,
    who: Submitter,
    Form(body): Form<CsrfOnly>,
) -> PageResult<Response> {
    who.check_csrf(Some(&body.csrf_token))?;
    s.desk.logout(&who.session_id).await?;
    let mut r = Redirect::to("/mss/login?out=1").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", None, s.desk.settings.mss.secure_cookies),
    );
    Ok(r)
}

#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    submitted: Option<String>,
    added: Option<String>,
    replied: Option<String>,
    confirmed: Option<String>,
    reopened: Option<String>,
}

impl Notice {
    fn words(&self) -> Option<&'static str> {
        if self.submitted.is_some() {
            Some("事件已提交，处理人会尽快受理；有回复时会通知您。")
        } else if self.added.is_some() {
            Some("已把新情况补充到这个事件。")
        } else if self.replied.is_some() {
            Some("已发送。")
        } else if self.confirmed.is_some() {
            Some("感谢确认，事件已关闭。")
        } else if self.reopened.is_some() {
            Some("已反馈仍未解决，处理人会继续跟进。")
        } else {
            None
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    show: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> PageResult<Markup> {
    let filter = TicketFilter {
        limit: LIST_LIMIT,
        ..Default::default()
    };
    let mut page = s.desk.tickets(&who.user, filter).await?;
    page.tickets
        .sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let tab = views::Tab::parse(q.show.as_deref());
    let mut counts = [0usize; views::Tab::ALL.len()];
    for t in &page.tickets {
        for (i, tab) in views::Tab::ALL.iter().enumerate() {
            counts[i] += usize::from(tab.holds(t.status));
        }
    }
    page.tickets.retain(|t| tab.holds(t.status));
    let ids = page.tickets.iter().map(|t| t.id).collect();
    let unread = s.desk.unread(&who.user, ids).await?;
    let items: Vec<ListItem> = page
        .tickets
        .into_iter()
        .map(|t| ListItem {
            unread: unread.get(&t.id).copied().unwrap_or(0),
            system_name: s.desk.settings.system_name(&t.system).to_string(),
            ticket: t,
        })
        .collect();
    Ok(views::list(&frame(&s, &who), &items, tab, &counts))
}

fn render_new(s: &AppState, who: &Submitter, form: &NewForm, status: StatusCode) -> Response {
    let page = views::new_ticket(
        &frame(s, who),
        &s.desk.settings.systems,
        form,
        s.desk.settings.mss.max_screenshots,
    );
    (status, page).into_response()
}

pub async fn new_page(State(s): State<AppState>, who: Submitter) -> PageResult<Response> {
    let form = NewForm {
        form_id: fresh_id()?,
        ..Default::default()
    };
    Ok(render_new(&s, &who, &form, StatusCode::OK))
}

fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The form's fields as the page shows them again.
fn form_of(p: &Posted) -> NewForm {
    NewForm {
        form_id: p.text("form_id"),
        customer_name: p.text("customer_name"),
        customer_account: p.text("customer_account"),
        customer_phone: p.text("customer_phone"),
        system: p.text("system"),
        category_hint: p.text("category_hint"),
        title: p.text("title"),
        description: p.text("description"),
        viewed_articles: p.text("viewed_articles"),
        ..Default::default()
    }
}

pub async fn new_submit(
    State(s): State<AppState>,
    who: Submitter,
    mp: Multipart,
) -> PageResult<Response> {
    let max = s.desk.settings.mss.max_screenshots;
    let mut posted = form::read(&s.desk, &who, mp, max).await?;
    let mut form = form_of(&posted);
    let form_id_ok = (8..=64).contains(&form.form_id.len())
        && form.form_id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !form_id_ok {
        s.desk
            .discard_staged(std::mem::take(&mut posted.screenshots))
            .await;
        return Err(PageError::Refused(
            StatusCode::BAD_REQUEST,
            "表单缺少编号，请刷新“提交事件”页面后重试（已填写的内容会保留）".into(),
        ));
    }
    // A form that was already saved (a retry after a dropped connection) goes to its ticket.
    if let Some(id) = s.desk.submitted_form(&who.user, &form.form_id).await? {
        s.desk
            .discard_staged(std::mem::take(&mut posted.screenshots))
            .await;
        return Ok(Redirect::to(&format!("/mss/tickets/{id}?submitted=1")).into_response());
    }

    let mut screenshots = Vec::new();
    for kept in posted.repeated.get("staged").into_iter().flatten() {
        let (stored, name) = kept.split_once(':').unwrap_or((kept.as_str(), ""));
        match s.desk.restage(stored, name).await {
            Ok(f) => screenshots.push(f),
            Err(_) => posted
                .problems
                .push(format!("之前上传的「{name}」已失效，请重新选择")),
        }
    }
    screenshots.append(&mut posted.screenshots);
    if screenshots.len() > max {
        posted
            .problems
            .push(format!("最多上传 {max} 张截图，请取消勾选多余的"));
    }

    let category = match form.category_hint.trim() {
        "" => None,
        c => match c.parse::<Category>() {
            Ok(c) => Some(c),
            Err(_) => {
                form.errors
                    .push(("category_hint".into(), "问题类型请从列表中选择".into()));
                None
            }
        },
    };
    let new = NewTicket {
        title: form.title.clone(),
        description: form.description.clone(),
        system: form.system.trim().to_string(),
        customer: Customer {
            name: optional(&form.customer_name).map(CustomerName::new),
            account: optional(&form.customer_account).map(AccountNo::new),
            phone: optional(&form.customer_phone).map(Phone::new),
            id_number: None,
        },
        category,
        channel: Some(Channel::Mss),
        ..Default::default()
    };
    if let Err(v) = validate::new_ticket(&new, &s.desk.settings.system_keys()) {
        form.errors.extend(v.0.into_iter().map(|e| (e.field, e.zh)));
    }
    form.errors.extend(
        posted
            .problems
            .iter()
            .map(|p| ("screenshots".to_string(), p.clone())),
    );
    form.staged = screenshots
        .iter()
        .map(|f| (f.stored.stored_name.clone(), f.filename.clone()))
        .collect();
    if !form.errors.is_empty() {
        return Ok(render_new(
            &s,
            &who,
            &form,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }

    // Adding to the customer's open ticket instead of opening another.
    if let Some(target) = optional(&posted.text("add_to")) {
        let id = ticket_id(&target)?;
        let body = format!("【补充】{}\n{}", new.title.trim(), new.description.trim());
        s.desk
            .follow_up(&who.user, id, body, screenshots, &form.form_id)
            .await?;
        return Ok(Redirect::to(&format!("/mss/tickets/{id}?added=1")).into_response());
    }
    if posted.text("confirm_new") != "1" {
        let open = s
            .desk
            .open_tickets_for_customer(
                &who.user,
                &new.system,
                new.customer
                    .account
                    .as_ref()
                    .map(|a| a.expose().to_string()),
                new.customer.phone.as_ref().map(|p| p.expose().to_string()),
            )
            .await?;
        if !open.is_empty() {
            form.duplicates = open;
            return Ok(render_new(&s, &who, &form, StatusCode::OK));
        }
    }

    let viewed = form
        .viewed_articles
        .split(',')
        .filter_map(|v| v.trim().parse::<i64>().ok())
        .take(10)
        .collect();
    let created = s
        .desk
        .submit(
            &who.user,
            Submission {
                form_id: form.form_id.clone(),
                new,
                screenshots,
                viewed_articles: viewed,
            },
        )
        .await;
    match created {
        Ok(c) => {
            Ok(Redirect::to(&format!("/mss/tickets/{}?submitted=1", c.value.id)).into_response())
        }
        Err(crate::service::DeskError::Validation(v)) => {
            form.errors = v.0.into_iter().map(|e| (e.field, e.zh)).collect();
            form.staged.clear();
            Ok(render_new(
                &s,
                &who,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

struct ReplyState<'a> {
    error: Option<&'a str>,
    body: &'a str,
    notice: Option<&'a str>,
}

async fn render_detail(
    s: &AppState,
    who: &Submitter,
    id: TicketId,
    reply: ReplyState<'_>,
    status: StatusCode,
) -> PageResult<Response> {
    let ticket = s.desk.ticket(&who.user, id).await?;
    let messages = s.desk.messages(&who.user, id).await?;
    let progress = s.desk.progress(&who.user, id).await?;
    if let Some(last) = messages.last() {
        s.desk.mark_read(&who.user, id, last.id).await?;
    }
    let form_id = fresh_id()?;
    let page = views::detail(
        &frame(s, who),
        &Detail {
            ticket: &ticket,
            system_name: s.desk.settings.system_name(&ticket.system),
            progress: &progress,
            messages: &messages,
            reply_form_id: &form_id,
            state: &state_of(&ticket, messages.len()),
            reply_error: reply.error,
            reply_body: reply.body,
            notice: reply.notice,
            max_screenshots: s.desk.settings.mss.max_screenshots,
        },
    );
    Ok((status, page).into_response())
}

pub async fn ticket(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    axum::extract::Query(n): axum::extract::Query<Notice>,
) -> PageResult<Response> {
    let id = ticket_id(&raw)?;
    let reply = ReplyState {
        error: None,
        body: "",
        notice: n.words(),
    };
    render_detail(&s, &who, id, reply, StatusCode::OK).await
}

pub async fn reply(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    mp: Multipart,
) -> PageResult<Response> {
    let id = ticket_id(&raw)?;
    // The ticket must be theirs before any file is processed.
    s.desk.ticket(&who.user, id).await?;
    let max = s.desk.settings.mss.max_screenshots;
    let mut posted = form::read(&s.desk, &who, mp, max).await?;
    let body = posted.text("body");
    let problem = if let Some(p) = posted.problems.first() {
        Some(p.clone())
    } else if body.trim().is_empty() && posted.screenshots.is_empty() {
        Some("请填写要补充的内容或选择截图".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        s.desk
            .discard_staged(std::mem::take(&mut posted.screenshots))
            .await;
        let state = ReplyState {
            error: Some(&problem),
            body: &body,
            notice: None,
        };
        return render_detail(&s, &who, id, state, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let text = if body.trim().is_empty() {
        "（补充截图）".to_string()
    } else {
        body.clone()
    };
    let form_id = posted.text("form_id");
    let form_id = if form_id.is_empty() {
        fresh_id()?
    } else {
        form_id
    };
    match s
        .desk
        .follow_up(
            &who.user,
            id,
            text,
            std::mem::take(&mut posted.screenshots),
            &form_id,
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/mss/tickets/{id}?replied=1")).into_response()),
        Err(crate::service::DeskError::Validation(v)) => {
            let why =
                v.0.iter()
                    .map(|e| e.zh.as_str())
                    .collect::<Vec<_>>()
                    .join("；");
            let state = ReplyState {
                error: Some(&why),
                body: &body,
                notice: None,
            };
            render_detail(&s, &who, id, state, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    Form(body): Form<CsrfOnly>,
) -> PageResult<Response> {
    who.check_csrf(Some(&body.csrf_token))?;
    let id = ticket_id(&raw)?;
    s.desk.confirm_resolved(&who.user, id).await?;
    Ok(Redirect::to(&format!("/mss/tickets/{id}?confirmed=1")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReopenBody {
    csrf_token: String,
    reason: String,
}

pub async fn reopen(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    Form(body): Form<ReopenBody>,
) -> PageResult<Response> {
    who.check_csrf(Some(&body.csrf_token))?;
    let id = ticket_id(&raw)?;
    if body.reason.trim().is_empty() {
        let state = ReplyState {
            error: Some("请说明现在的情况，处理人才能继续跟进"),
            body: "",
            notice: None,
        };
        return render_detail(&s, &who, id, state, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    s.desk.reopen(&who.user, id, body.reason).await?;
    Ok(Redirect::to(&format!("/mss/tickets/{id}?reopened=1")).into_response())
}

/// What changes when a handler acts on a ticket, for the open page to notice.
#[derive(Debug, serde::Serialize)]
pub struct TicketState {
    state: String,
}

fn state_of(t: &crate::domain::view::TicketView, messages: usize) -> String {
    format!("{}:{}", t.version, messages)
}

/// The ticket's version and message count: the page polls this and offers a refresh when a
/// handler has answered, without reloading under the submitter's typing.
pub async fn ticket_state(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
) -> PageResult<Response> {
    let id = ticket_id(&raw)?;
    let ticket = s.desk.ticket(&who.user, id).await?;
    let messages = s.desk.messages(&who.user, id).await?;
    let state = TicketState {
        state: state_of(&ticket, messages.len()),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(state)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct FileQuery {
    size: Option<String>,
}

pub async fn attachment(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
) -> PageResult<Response> {
    let id = raw.parse::<i64>().map_err(|_| PageError::NotFound)?;
    let (mut a, mut path) = s.desk.attachment(&who.user, id).await?;
    if q.size.as_deref() == Some("thumb") {
        let thumb = path.with_file_name(crate::service::messages::thumbnail_name(&a.stored_name));
        if let Ok(head) = tokio::fs::read(&thumb).await {
            a.content_type = if head.starts_with(b"\x89PNG") {
                "image/png"
            } else {
                "image/jpeg"
            }
            .into();
            path = thumb;
        }
    }
    crate::server::api::attachments::serve_file(&a, &path)
        .await
        .map_err(|_| PageError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    q: String,
}

#[derive(Debug, serde::Serialize)]
pub struct Suggestion {
    id: i64,
    title: String,
    body: String,
}

/// Up to three help articles for what the submitter has typed so far.
pub async fn suggest(
    State(s): State<AppState>,
    _who: Submitter,
    axum::extract::Query(q): axum::extract::Query<SuggestQuery>,
) -> PageResult<Response> {
    let text: String = q.q.chars().take(2000).collect();
    let found = s.desk.help_suggestions(&text).await?;
    let out: Vec<Suggestion> = found
        .into_iter()
        .map(|a| Suggestion {
            id: a.id,
            title: a.title,
            body: a.body,
        })
        .collect();
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(out)).into_response())
}

pub async fn help_article(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
) -> PageResult<Markup> {
    let id = raw.parse::<i64>().map_err(|_| PageError::NotFound)?;
    let article = s.desk.help_article(id).await?;
    Ok(views::help_article(&frame(&s, &who), &article))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OutcomeBody {
    csrf_token: String,
    outcome: String,
}

/// Records that a suggested article was opened, or that the submitter left without
/// submitting after reading it (sent by the page as it closes).
pub async fn help_outcome(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    Form(body): Form<OutcomeBody>,
) -> PageResult<Response> {
    who.check_csrf(Some(&body.csrf_token))?;
    let id = raw.parse::<i64>().map_err(|_| PageError::NotFound)?;
    let outcome = match Outcome::parse(&body.outcome) {
        Some(o @ (Outcome::Viewed | Outcome::Deflected)) => o,
        _ => {
            return Err(PageError::Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "outcome 只能是 viewed 或 deflected".into(),
            ));
        }
    };
    s.desk.record_help_outcome(&who.user, id, outcome).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
