//! Queues the notifications of a change inside the change's own write transaction: a committed
//! change always has its notifications, a rolled-back one never has, and a restart loses none
//! (the server's notify worker delivers them later; nothing here waits for an endpoint).
//!
//! One row per channel endpoint, each holding the exact payload it will send. Endpoints are
//! named by a fingerprint of their configured URL rather than the URL: a WeCom robot URL carries
//! its key, which has no business in the database or its backups, and the worker only ever
//! sends to URLs that are in the configuration at the time of sending.

use sha2::{Digest, Sha256};

use super::DeskError;
use crate::config::Settings;
use crate::domain::message::Message;
use crate::domain::notify::{self, ChannelKind, Event, Notice, Redactor};
use crate::domain::ticket::Customer;
use crate::domain::view::TicketView;
use crate::store::notifications::{self, NewNotification};
use crate::store::{StoreError, WriteCtx, users};

/// The `target` of the SMTP channel: there is one relay, and its recipients are configuration.
pub const SMTP_TARGET: &str = "smtp";

/// The name a configured webhook or WeCom URL goes by in the queue.
pub fn fingerprint(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..8])
}

/// Whether `event` goes out on any configured channel; callers skip building a view otherwise.
pub(crate) fn wanted(settings: &Settings, event: Event) -> bool {
    let n = &settings.notify;
    (n.smtp.is_some() && event.uses(ChannelKind::Smtp))
        || (n.wecom.is_some() && event.uses(ChannelKind::Wecom))
        || (!n.webhooks.is_empty() && event.uses(ChannelKind::Webhook))
}

/// Renders `event` for every configured channel it uses and queues the results.
pub(crate) fn enqueue(
    ctx: &WriteCtx<'_>,
    settings: &Settings,
    event: Event,
    customer: &Customer,
    ticket: &TicketView,
    message: Option<&Message>,
    actor: &str,
) -> Result<(), DeskError> {
    if !wanted(settings, event) {
        return Ok(());
    }
    let n = &settings.notify;
    let redactor = Redactor::for_customer(customer);
    let notice = Notice {
        event,
        ticket,
        system_name: settings.system_name(&ticket.system),
        message,
        actor,
        at: ctx.now,
        public_url: n.public_url.as_deref(),
        redactor: &redactor,
    };
    let mut queued: Vec<(ChannelKind, String, serde_json::Value)> = Vec::new();
    if n.smtp.is_some() && event.uses(ChannelKind::Smtp) {
        let mut mail = notify::email(&notice);
        // Handlers' mail goes to the configured address(es); the submitter's to their own,
        // when their account has one.
        let wanted = match notice.recipient() {
            None => true,
            Some(who) => {
                mail.to = users::email_of(ctx.conn, who)?.into_iter().collect();
                !mail.to.is_empty()
            }
        };
        if wanted {
            queued.push((ChannelKind::Smtp, SMTP_TARGET.into(), to_json(&mail)?));
        }
    }
    if let Some(url) = &n.wecom
        && event.uses(ChannelKind::Wecom)
    {
        let mention = match notice.recipient() {
            Some(who) => users::wecom_of(ctx.conn, who)?,
            None => None,
        };
        queued.push((
            ChannelKind::Wecom,
            fingerprint(url),
            notify::wecom_body(&notice, mention.as_deref()),
        ));
    }
    if event.uses(ChannelKind::Webhook) && !n.webhooks.is_empty() {
        let body = to_json(&notify::webhook_body(&notice))?;
        for url in &n.webhooks {
            queued.push((ChannelKind::Webhook, fingerprint(url), body.clone()));
        }
    }
    for (channel, target, payload) in &queued {
        notifications::enqueue(
            ctx.conn,
            &NewNotification {
                channel: *channel,
                target,
                event: event.as_str(),
                ticket_id: Some(ticket.id),
                payload,
            },
            ctx.now,
        )?;
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, DeskError> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::api::NewMessage;
    use crate::api::TransitionBody;
    use crate::config::Config;
    use crate::domain::people::Role;
    use crate::domain::ticket::Status;
    use crate::domain::validate::NewTicket;
    use crate::service::Desk;
    use crate::service::tickets::create_in;
    use crate::store::notifications::Row;
    use crate::store::users::{self, User};
    use crate::store::{Store, notifications};

    const CONFIG: &str = r#"
        [notify.smtp]
        host = "127.0.0.1"
        port = 9
        tls = "none"
        from = "opsdesk@example.com"
        to = ["oncall@example.com"]
        [notify.wecom]
        url = "http://127.0.0.1:9/wecom"
        [[notify.webhooks]]
        url = "http://127.0.0.1:9/hook"
    "#;

    fn settings() -> Settings {
        Config::parse(CONFIG, Path::new("t.toml"))
            .and_then(|c| c.settings(Path::new("t.toml")))
            .unwrap()
    }

    async fn user(desk: &Desk, name: &'static str, role: Role) -> User {
        desk.store
            .write(move |ctx| users::insert(ctx.conn, name, name, role, None, None, ctx.now))
            .await
            .unwrap()
    }

    fn new_ticket() -> NewTicket {
        serde_json::from_value(serde_json::json!({
            "title": "客户买入提示资金不足",
            "description": "客户 310012345678 10:05 买入 600519 提示可用资金不足，重新登录仍失败",
            "system": "trading",
            "customer": {"name": "张三", "account": "310012345678", "phone": "13812341234"}
        }))
        .unwrap()
    }

    async fn rows(desk: &Desk) -> Vec<Row> {
        desk.store.read(notifications::all).await.unwrap()
    }

    fn events(rows: &[Row]) -> Vec<(String, String)> {
        rows.iter()
            .map(|r| (r.event.clone(), r.channel.clone()))
            .collect()
    }

    #[tokio::test]
    async fn notifications_commit_and_roll_back_with_their_change() {
        let dir = tempfile::tempdir().unwrap();
        let desk = Desk::new(Store::open(dir.path()).unwrap(), Arc::new(settings()));
        let cm = user(&desk, "cm_wang", Role::Submitter).await;
        let handler = user(&desk, "h_chen", Role::Handler).await;

        // A change that fails after queueing leaves no notification behind.
        let (s, who) = (desk.settings.clone(), cm.clone());
        let refused: Result<(), DeskError> = desk
            .write(move |ctx| {
                let at = ctx.now;
                create_in(ctx, &s, &who, new_ticket(), at)?;
                Err(DeskError::Conflict("refused after the insert".into()))
            })
            .await;
        assert!(refused.is_err());
        assert!(rows(&desk).await.is_empty());

        let t = desk
            .create_ticket(&cm, new_ticket(), None)
            .await
            .unwrap()
            .value;
        let created = rows(&desk).await;
        assert_eq!(
            events(&created),
            [
                ("ticket.created".to_string(), "smtp".to_string()),
                ("ticket.created".into(), "wecom".into()),
                ("ticket.created".into(), "webhook".into()),
            ]
        );
        for r in &created {
            assert!(!r.payload.contains("13812341234") && !r.payload.contains("310012345678"));
            assert!(r.next_attempt_at.is_some() && r.sent_at.is_none());
            assert_eq!(r.ticket_id, Some(t.id));
        }
        // The queue names endpoints, never their URLs (a WeCom URL carries its key).
        let targets: Vec<String> = desk
            .store
            .read(|c| {
                let mut st = c.prepare("SELECT target FROM notifications")?;
                let v = st
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(v)
            })
            .await
            .unwrap();
        assert!(targets.iter().all(|t| !t.contains("http")), "{targets:?}");

        let say = |body: &str, internal: bool| NewMessage {
            body: body.into(),
            internal,
        };
        desk.add_message(&handler, t.id, say("内部备注", true), None)
            .await
            .unwrap();
        assert_eq!(rows(&desk).await.len(), 3, "an internal note tells no one");
        desk.add_message(&handler, t.id, say("请客户重新登录", false), None)
            .await
            .unwrap();
        desk.add_message(&cm, t.id, say("客户说还是不行", false), None)
            .await
            .unwrap();
        for to in [Status::Triaging, Status::Resolved] {
            let body = TransitionBody {
                to,
                transfer_to: None,
                note: None,
                resolution: (to == Status::Resolved).then(|| "已重置交易密码".to_string()),
                version: None,
            };
            desk.transition(&handler, t.id, body).await.unwrap();
        }
        let all = rows(&desk).await;
        assert_eq!(
            events(&all[3..]),
            [
                ("ticket.replied".to_string(), "wecom".to_string()),
                ("ticket.replied".into(), "webhook".into()),
                ("ticket.follow_up".into(), "smtp".into()),
                ("ticket.follow_up".into(), "wecom".into()),
                ("ticket.follow_up".into(), "webhook".into()),
                ("ticket.resolved".into(), "wecom".into()),
                ("ticket.resolved".into(), "webhook".into()),
            ],
            "the resolution note is carried by the resolve, not a reply of its own"
        );
    }

    #[tokio::test]
    async fn replayed_history_and_unconfigured_desks_queue_nothing() {
        for settings in [settings().without_notifications(), Settings::default()] {
            let dir = tempfile::tempdir().unwrap();
            let desk = Desk::new(Store::open(dir.path()).unwrap(), Arc::new(settings));
            let cm = user(&desk, "cm_wang", Role::Submitter).await;
            desk.create_ticket(&cm, new_ticket(), None).await.unwrap();
            assert!(rows(&desk).await.is_empty());
        }
    }
}
