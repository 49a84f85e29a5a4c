//! The submission form.

use std::sync::atomic::Ordering;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::mask::{AccountNo, CustomerName, Phone};
use crate::domain::ticket::{Category, Channel, Customer, MaskedCustomer};
use crate::domain::validate::{self, NewTicket};
use crate::domain::view::TicketView;
use crate::server::AppState;
use crate::server::mss::error::{PageError, PageResult};
use crate::server::mss::form::{self, Posted};
use crate::server::mss::session::Submitter;
use crate::server::mss::views::{self, NewForm};
use crate::service::submissions::{SentForm, Submission};

use super::{frame, fresh_id, path_id};

pub(super) fn render_new(
    s: &AppState,
    who: &Submitter,
    form: &NewForm,
    status: StatusCode,
) -> Response {
    let page = views::new_ticket(
        &frame(s, who),
        &s.desk.settings.systems,
        form,
        s.desk.settings.mss.max_screenshots,
    );
    (status, page).into_response()
}

/// `/mss/new?follow=N`: a new ticket taking up the submitter's closed ticket N (its system,
/// its title named, its customer kept unless other fields are filled). What was typed never
/// travels in the address: a reply refused because the ticket closed arrives here by
/// [`follow_up_form`] instead.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewQuery {
    follow: Option<String>,
}

pub async fn new_page(
    State(s): State<AppState>,
    who: Submitter,
    axum::extract::Query(q): axum::extract::Query<NewQuery>,
) -> PageResult<Response> {
    let form = match q.follow.filter(|f| !f.is_empty()) {
        Some(raw) => {
            let earlier = s.desk.ticket(&who.user, path_id(&raw)?).await?;
            follow_up_form(&earlier, fresh_id()?, String::new(), Vec::new())
        }
        None => NewForm {
            form_id: fresh_id()?,
            ..Default::default()
        },
    };
    Ok(render_new(&s, &who, &form, StatusCode::OK))
}

/// The form for a new ticket that takes up `earlier` (the submitter's own closed ticket),
/// with what was already typed and the pictures already received.
pub(super) fn follow_up_form(
    earlier: &TicketView,
    form_id: String,
    description: String,
    staged: Vec<(String, String)>,
) -> NewForm {
    NewForm {
        form_id,
        title: format!("接续 #{}：{}", earlier.id, earlier.title)
            .chars()
            .take(validate::MAX_TITLE_CHARS)
            .collect(),
        system: earlier.system.clone(),
        description,
        staged,
        follows: earlier.id.to_string(),
        follows_customer: Some(customer_words(&earlier.customer)),
        ..Default::default()
    }
}

/// A customer as the pages may show it: masked.
fn customer_words(m: &MaskedCustomer) -> String {
    [&m.name, &m.account, &m.phone, &m.id_number]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The form's fields as the page shows them again.
pub(super) fn form_of(p: &Posted) -> NewForm {
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
        follows: p.text("follows"),
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
    // A form that was already saved (a retry after a dropped connection, a restored draft)
    // goes where the first post went: its new ticket, or the ticket it was added to.
    if let Some(sent) = s.desk.submitted_form(&who.user, &form.form_id).await? {
        s.desk
            .discard_staged(std::mem::take(&mut posted.screenshots))
            .await;
        let to = match sent {
            SentForm::Ticket(id) => format!("/mss/tickets/{id}?submitted=1"),
            SentForm::Message { ticket } => format!("/mss/tickets/{ticket}?added=1"),
        };
        return Ok(Redirect::to(&to).into_response());
    }

    let screenshots = form::screenshots(&s.desk, &mut posted, max).await;

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
    // A follow-up of a closed ticket keeps its customer unless the form names another.
    let follows = match optional(&form.follows) {
        Some(raw) => Some(s.desk.own_ticket(&who.user, path_id(&raw)?).await?),
        None => None,
    };
    let typed_customer = [
        &form.customer_name,
        &form.customer_account,
        &form.customer_phone,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    let customer = match &follows {
        Some(earlier) if !typed_customer => earlier.customer.clone(),
        _ => Customer {
            name: optional(&form.customer_name).map(CustomerName::new),
            account: optional(&form.customer_account).map(AccountNo::new),
            phone: optional(&form.customer_phone).map(Phone::new),
            id_number: None,
        },
    };
    form.follows_customer = follows
        .as_ref()
        .map(|e| customer_words(&e.customer.masked()));
    let new = validate::normalized(NewTicket {
        title: form.title.clone(),
        description: form.description.clone(),
        system: form.system.trim().to_string(),
        customer,
        category,
        channel: Some(Channel::Mss),
        ..Default::default()
    });
    if let Err(v) = validate::new_ticket_offering(
        &new,
        &s.desk.settings.system_keys(),
        &views::FORM_IDENTIFIERS,
    ) {
        form.errors.extend(v.0.into_iter().map(|e| (e.field, e.zh)));
    }
    form.errors.extend(
        posted
            .problems
            .iter()
            .map(|p| ("screenshots".to_string(), p.clone())),
    );
    form.staged = form::staged_names(&screenshots);
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
        let id = path_id(&target)?;
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
                follows: follows.map(|e| e.id),
            },
        )
        .await;
    match created {
        Ok(c) => {
            if !c.replayed {
                s.metrics.mss_submissions.fetch_add(1, Ordering::Relaxed);
            }
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
