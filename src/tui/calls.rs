//! The effect runner's IO for ticket writes: each [`Call`] turned into the requests it sends
//! (or queued in the outbox when the link is down), what to say about it, and attachments
//! saved to disk.

use super::*;
use crate::client::outbox::{self, Write};

/// The requests a call sends, in the form the outbox keeps.
pub(super) fn write_of(call: &Call) -> Write {
    match call {
        Call::Take {
            id,
            version,
            me,
            start,
        } => Write::take(*id, *version, me, *start),
        Call::Transition { id, body } => {
            let draft = match (&body.resolution, body.transfer_to) {
                (Some(_), _) => Some(format!("{id}/resolution")),
                (None, Some(to)) => Some(format!("{id}/handoff-{to}")),
                _ => None,
            };
            let write = Write::transition(*id, body);
            match draft {
                Some(key) => write.with_draft(key),
                None => write,
            }
        }
        Call::Message {
            id,
            body,
            internal,
            key,
        } => Write::message(*id, body, *internal, key)
            .with_draft(format!("{id}/{}", if *internal { "note" } else { "reply" })),
        Call::Patch { id, body } => Write::patch(*id, body),
        Call::Link {
            id,
            kind,
            target,
            version,
        } => Write::link(*id, *kind, *target, *version),
        Call::ApproveScript { id, version } => Write::approve_script(*id, *version),
    }
}

/// Puts a write in the outbox and says so.
pub(super) async fn queue(cache: &CacheThread, write: Write, offline: bool) -> Loaded {
    let label = write.label.clone();
    match cache.ask(move |c| c.enqueue(&write)).await.and_then(|r| r) {
        Ok(_) => Loaded::Queued { label, offline },
        Err(e) => Loaded::App(Event::Done(
            label,
            Err(format!("未能离线保存 · could not queue it: {e}")),
        )),
    }
}

/// Sends a write now; one the server cannot be reached for goes to the outbox.
pub(super) async fn perform(
    client: &ApiClient,
    cache: Option<&CacheThread>,
    write: Write,
) -> Loaded {
    let (label, done) = (write.label.clone(), write.done.clone());
    match outbox::send(client, write).await {
        Ok(sent) => Loaded::App(Event::Done(done, Ok(sent.ticket))),
        // Not reached, the token refused, or the server unable to write for now (503, 507):
        // the write waits in the outbox (a refused token is fixed by a new one, a full disk by
        // its admin, never by dropping what the handler wrote).
        Err(outbox::NotSent { error, rest })
            if error.try_later()
                || matches!(
                    error,
                    ClientError::Unreachable { .. } | ClientError::Api { status: 401, .. }
                ) =>
        {
            match cache {
                Some(cache) => queue(cache, rest, true).await,
                None => Loaded::App(Event::Done(label, Err(explain(&error)))),
            }
        }
        Err(outbox::NotSent { error, rest }) => Loaded::Declined {
            label,
            error: explain(&error),
            kept: rest.kept_text(),
        },
    }
}

/// The server's refusal in plain words; a version conflict says that nothing was overwritten.
pub(crate) fn explain(error: &ClientError) -> String {
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
pub(crate) async fn save_attachment(
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
