//! The effect runner's IO: each `Call` the app asks for, performed against the API (or
//! queued in the outbox when the link is down), and attachments saved to disk.

use super::*;

/// Puts a call in the outbox and says so.
pub(super) async fn queue(cache: &CacheThread, call: Call, label: String, offline: bool) -> Loaded {
    match cache.ask(move |c| c.enqueue(&call)).await.and_then(|r| r) {
        Ok(_) => Loaded::Queued { label, offline },
        Err(e) => Loaded::Done(
            label,
            Err(format!("未能离线保存 · could not queue it: {e}")),
        ),
    }
}

/// A message carries the key the server deduplicates it by; a transition or a patch carries
/// the version it was made against, so its content is its key (see [`Outgoing`]).
impl Outgoing for Call {
    fn idempotency_key(&self) -> Option<String> {
        match self {
            Call::Message { key, .. } => Some(key.clone()),
            _ => None,
        }
    }
}

/// Writes can wait in the outbox; a read (the customer reveal) is only worth doing now.
pub(super) fn is_write(call: &Call) -> bool {
    !matches!(call, Call::Reveal(_))
}

/// What a call is, for toasts about it.
pub(super) fn label(call: &Call) -> String {
    match call {
        Call::Take { id, .. } => format!("#{id} 受理 take"),
        Call::Transition { id, body } => format!("#{id} → {}", body.to.label_zh()),
        Call::Message {
            id, internal: true, ..
        } => format!("#{id} 备注 note"),
        Call::Message { id, .. } => format!("#{id} 回复 reply"),
        Call::Patch { id, .. } => format!("#{id} 修改 update"),
        Call::Link {
            id,
            target: Some(t),
            ..
        } => format!("#{id} 关联 link → #{t}"),
        Call::Link { id, .. } => format!("#{id} 取消关联 unlink"),
        Call::ApproveScript { id, .. } => format!("#{id} 脚本已审批 script approved"),
        Call::Reveal(id) => format!("#{id} 客户信息 customer"),
    }
}

/// What to say when a call went through.
pub(super) fn success(call: &Call) -> String {
    match call {
        Call::Take { id, .. } => format!("#{id} 已受理 taken"),
        Call::Message {
            id, internal: true, ..
        } => format!("#{id} 备注已保存 note saved"),
        Call::Message { id, .. } => format!("#{id} 回复已发送 reply sent"),
        Call::Patch { id, .. } => format!("#{id} 已更新 updated"),
        Call::Transition { .. }
        | Call::Link { .. }
        | Call::ApproveScript { .. }
        | Call::Reveal(_) => label(call),
    }
}

/// The server's refusal in plain words; a version conflict says that nothing was overwritten.
pub(super) fn explain(error: &ClientError) -> String {
    match error {
        ClientError::Api {
            status: 409, code, ..
        } if code == "version_conflict" => {
            // The gist first: a toast is narrow at 80 columns.
            "版本冲突，他人已修改，未覆盖 · version conflict: someone changed it meanwhile; \
             nothing was overwritten"
                .to_string()
        }
        ClientError::Api { fields, .. } if !fields.is_empty() => {
            format!("{error}: {}", fields.join("; "))
        }
        other => other.to_string(),
    }
}

/// What a call achieved.
pub(super) enum Performed {
    /// The ticket as the server now has it, when the call answers with one.
    Ticket(Option<Box<TicketView>>),
    /// A public reply was posted; the ticket now, and whether that reply was its first
    /// response (which moved its version by one).
    Replied(Box<TicketView>, bool),
    Revealed(TicketId, Customer),
}

/// A call that did not go through, and what of it is still to send (`None` for a read).
pub(super) struct NotDone {
    pub(super) error: ClientError,
    pub(super) rest: Option<Call>,
}

/// Carries out a call against the server.
pub(super) async fn perform(client: &ApiClient, call: Call) -> Result<Performed, NotDone> {
    let unsent = |call: &Call| {
        let rest = is_write(call).then(|| call.clone());
        move |error| NotDone { error, rest }
    };
    let ticket = |t: TicketView| Performed::Ticket(Some(Box::new(t)));
    match &call {
        Call::Take {
            id,
            version,
            me,
            start,
        } => {
            let t = client
                .assign(*id, Some(me), Some(*version))
                .await
                .map_err(unsent(&call))?;
            if !start {
                return Ok(ticket(t));
            }
            // Assigned; what is left to send is the start of triage, at the new version.
            let rest = Call::Transition {
                id: *id,
                body: transition(Status::Triaging, t.version),
            };
            client
                .transition(*id, &transition(Status::Triaging, t.version))
                .await
                .map(ticket)
                .map_err(unsent(&rest))
        }
        Call::Transition { id, body } => client
            .transition(*id, body)
            .await
            .map(ticket)
            .map_err(unsent(&call)),
        Call::Message {
            id,
            body,
            internal,
            key,
        } => {
            let m = client
                .post_message(*id, body, *internal, key)
                .await
                .map_err(unsent(&call))?;
            if *internal {
                return Ok(Performed::Ticket(None));
            }
            // A first public reply is the first response and moves the ticket's version; the
            // ticket as it is now lets a write queued behind the reply follow that move.
            match client.ticket(*id).await {
                Ok(t) => {
                    // Stored times keep milliseconds; the answer's own may carry more.
                    let ours = t.first_responded_at.map(|at| at.timestamp_millis())
                        == Some(m.created_at.timestamp_millis());
                    Ok(Performed::Replied(Box::new(t), ours))
                }
                Err(_) => Ok(Performed::Ticket(None)),
            }
        }
        Call::Patch { id, body } => client
            .patch(*id, body)
            .await
            .map(ticket)
            .map_err(unsent(&call)),
        Call::Link {
            id,
            kind,
            target,
            version,
        } => client
            .link(*id, *kind, *target, *version)
            .await
            .map(ticket)
            .map_err(unsent(&call)),
        Call::ApproveScript { id, version } => client
            .approve_script(*id, *version)
            .await
            .map(ticket)
            .map_err(unsent(&call)),
        Call::Reveal(id) => client
            .reveal_customer(*id)
            .await
            .map(|c| Performed::Revealed(*id, c))
            .map_err(unsent(&call)),
    }
}

pub(super) fn transition(to: Status, version: i64) -> TransitionBody {
    TransitionBody {
        to,
        transfer_to: None,
        note: None,
        resolution: None,
        version: Some(version),
    }
}

/// Where saved attachments go: `OPSDESK_DOWNLOADS`, else the platform download dir, else the
/// current dir.
pub(super) fn download_dir() -> PathBuf {
    std::env::var_os("OPSDESK_DOWNLOADS")
        .map(PathBuf::from)
        .or_else(|| {
            directories::UserDirs::new().and_then(|d| d.download_dir().map(|p| p.to_path_buf()))
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Fetches an attachment and writes it as `<ticket>-<attachment>-<name>`, never overwriting.
pub(super) async fn save_attachment(
    client: &ApiClient,
    ticket: TicketId,
    attachment: i64,
    filename: &str,
) -> anyhow::Result<PathBuf> {
    let bytes = client.download(attachment).await?;
    let dir = download_dir();
    let name = format!(
        "{ticket}-{attachment}-{}",
        crate::domain::message::clean_filename(filename)
    );
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, &bytes)?;
    Ok(path)
}
