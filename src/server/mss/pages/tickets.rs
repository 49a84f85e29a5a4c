//! My tickets, one ticket, its conversation and its end (confirm or reopen).

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::Markup;
use serde::Deserialize;

use crate::domain::ticket::{Status, TicketId};
use crate::server::AppState;
use crate::server::mss::error::{PageError, PageResult};
use crate::server::mss::form;
use crate::server::mss::session::Submitter;
use crate::server::mss::views::{self, Detail, ListItem};
use crate::service::submissions::SentForm;
use crate::store::tickets::TicketFilter;

use super::submit::{follow_up_form, render_new};
use super::{frame, fresh_id, path_id};

/// The submitter's list shows this many of their latest tickets.
const LIST_LIMIT: usize = 200;

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
    let closings = s.desk.closings(&who.user).await?;
    let items: Vec<ListItem> = page
        .tickets
        .into_iter()
        .map(|t| ListItem {
            unread: unread.get(&t.id).copied().unwrap_or(0),
            system_name: s.desk.settings.system_name(&t.system).to_string(),
            closing: closings.get(&t.id).map(|confirmed| {
                if *confirmed {
                    views::Closing::Confirmed
                } else {
                    views::Closing::ByHandler
                }
            }),
            ticket: t,
        })
        .collect();
    Ok(views::list(&frame(&s, &who), &items, tab, &counts))
}

#[derive(Default)]
struct ReplyState<'a> {
    error: Option<&'a str>,
    body: &'a str,
    /// Pictures of a refused reply, kept: (stored name, file name).
    staged: &'a [(String, String)],
    confirm_error: Option<&'a str>,
    confirm_body: &'a str,
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
            state: &state_of(ticket.version, messages.len()),
            reply_error: reply.error,
            reply_body: reply.body,
            reply_staged: reply.staged,
            confirm_error: reply.confirm_error,
            confirm_body: reply.confirm_body,
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
    let id = path_id(&raw)?;
    let reply = ReplyState {
        notice: n.words(),
        ..Default::default()
    };
    render_detail(&s, &who, id, reply, StatusCode::OK).await
}

pub async fn reply(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    mp: Multipart,
) -> PageResult<Response> {
    let id = path_id(&raw)?;
    // The ticket must be theirs before any file is processed.
    let ticket = s.desk.ticket(&who.user, id).await?;
    let max = s.desk.settings.mss.max_screenshots;
    let mut posted = form::read(&s.desk, &who, mp, max).await?;
    let body = posted.text("body");
    let form_id = posted.text("form_id");
    let form_id = if form_id.is_empty() {
        fresh_id()?
    } else {
        form_id
    };
    // Sent before (a retry after a dropped connection): its pictures are attached already.
    if s.desk.submitted_form(&who.user, &form_id).await? == Some(SentForm::Message { ticket: id }) {
        s.desk
            .discard_staged(std::mem::take(&mut posted.screenshots))
            .await;
        return Ok(Redirect::to(&format!("/mss/tickets/{id}?replied=1")).into_response());
    }
    let screenshots = form::screenshots(&s.desk, &mut posted, max).await;
    // Closed while the page was open: nothing is lost, the reply becomes a new ticket's form.
    if ticket.status == Status::Closed {
        let mut form = follow_up_form(&ticket, fresh_id()?, body, form::staged_names(&screenshots));
        form.notice = Some(format!(
            "事件 #{id} 已关闭，消息没有发送。可以把它提交为接续 #{id} 的新事件："
        ));
        form.errors = posted
            .problems
            .iter()
            .map(|p| ("screenshots".to_string(), p.clone()))
            .collect();
        return Ok(render_new(&s, &who, &form, StatusCode::CONFLICT));
    }
    let problem = if let Some(p) = posted.problems.first() {
        Some(p.clone())
    } else if body.trim().is_empty() && screenshots.is_empty() {
        Some("请填写要补充的内容或选择截图".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        // The good pictures stay, ticked, so the phone need not send them again.
        let staged = form::staged_names(&screenshots);
        let state = ReplyState {
            error: Some(&problem),
            body: &body,
            staged: &staged,
            ..Default::default()
        };
        return render_detail(&s, &who, id, state, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let text = if body.trim().is_empty() {
        "（补充截图）".to_string()
    } else {
        body.clone()
    };
    match s
        .desk
        .follow_up(&who.user, id, text, screenshots, &form_id)
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
                ..Default::default()
            };
            render_detail(&s, &who, id, state, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// "问题已解决" and "仍未解决" share one form: `reason` is the submitter's optional words with
/// the first, their required reason with the second.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerBody {
    csrf_token: String,
    reason: String,
}

pub async fn confirm(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    Form(body): Form<AnswerBody>,
) -> PageResult<Response> {
    who.check_csrf(&body.csrf_token)?;
    let id = path_id(&raw)?;
    let note = Some(body.reason).filter(|r| !r.trim().is_empty());
    s.desk.confirm_resolved(&who.user, id, note).await?;
    Ok(Redirect::to(&format!("/mss/tickets/{id}?confirmed=1")).into_response())
}

pub async fn reopen(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
    Form(body): Form<AnswerBody>,
) -> PageResult<Response> {
    who.check_csrf(&body.csrf_token)?;
    let id = path_id(&raw)?;
    if body.reason.trim().is_empty() {
        let state = ReplyState {
            confirm_error: Some("请写明现在的情况，处理人才能继续跟进"),
            ..Default::default()
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

fn state_of(version: i64, messages: usize) -> String {
    format!("{version}:{messages}")
}

/// The ticket's version and message count: the page polls this and offers a refresh when a
/// handler has answered, without reloading under the submitter's typing.
pub async fn ticket_state(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Path(raw): axum::extract::Path<String>,
) -> PageResult<Response> {
    let id = path_id(&raw)?;
    let (version, messages) = s.desk.change_mark(&who.user, id).await?;
    let state = TicketState {
        state: state_of(version, messages as usize),
    };
    Ok(Json(state).into_response())
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
    let id = path_id(&raw)?;
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
