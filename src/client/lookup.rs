//! Lookups through the server: the sources it offers, and a lookup's finds read line by line
//! as the server sends them. Every text of a log line is made terminal-safe here.

use bytes::{Buf, BytesMut};
use futures::StreamExt;

use super::{ApiClient, ClientError, make_safe, scrub};
use crate::api::{DataLookupRequest, DataRows, Found, LookupRequest, QueryInfo, SourceInfo};

/// The most one line of the answer may hold: a log line's fields with room to spare.
const MAX_FOUND_BYTES: usize = 8 << 20;

impl ApiClient {
    pub async fn lookup_sources(&self) -> Result<Vec<SourceInfo>, ClientError> {
        let mut sources: Vec<SourceInfo> = self
            .send(self.http.get(self.url("/api/v1/lookups/sources")))
            .await?;
        for s in &mut sources {
            make_safe(&mut s.name);
        }
        Ok(sources)
    }

    pub async fn lookup_queries(&self) -> Result<Vec<QueryInfo>, ClientError> {
        let mut queries: Vec<QueryInfo> = self
            .send(self.http.get(self.url("/api/v1/lookups/queries")))
            .await?;
        for q in &mut queries {
            for text in [&mut q.source, &mut q.name, &mut q.by]
                .into_iter()
                .chain(q.title.as_mut())
            {
                make_safe(text);
            }
        }
        Ok(queries)
    }

    /// Runs a data source's named query; every value made terminal-safe.
    pub async fn data_lookup(&self, req: &DataLookupRequest) -> Result<DataRows, ClientError> {
        let rows: DataRows = self
            .send(self.http.post(self.url("/api/v1/lookups/data")).json(req))
            .await?;
        Ok(inert_rows(rows))
    }

    /// Starts a lookup; its finds are read with [`Finds::next`]. Dropping the [`Finds`]
    /// cancels the lookup on the server.
    pub async fn lookup(&self, req: &LookupRequest) -> Result<Finds, ClientError> {
        // The stream client: no whole-request deadline, as a search over many files or pages
        // may run past one; a silent link still times out between reads.
        let request = self.stream_http.post(self.url("/api/v1/lookups")).json(req);
        let response = self.dispatch(request).await?;
        Ok(Finds {
            body: Box::pin(response.bytes_stream()),
            pending: BytesMut::new(),
            ended: false,
        })
    }
}

type Body = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + Sync>,
>;

/// A lookup's finds as they arrive.
pub struct Finds {
    body: Body,
    pending: BytesMut,
    ended: bool,
}

impl Finds {
    /// Whether the next find needs more of the answer than has arrived (a reader may flush
    /// what it printed before waiting).
    pub fn is_waiting(&self) -> bool {
        !self.pending.contains(&b'\n')
    }

    /// The next find; `None` once the server has sent them all.
    pub async fn next(&mut self) -> Option<Result<Found, ClientError>> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line = self.pending.split_to(end + 1);
                let line = &line[..end];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(
                    serde_json::from_slice::<Found>(line)
                        .map(inert)
                        .map_err(|e| ClientError::Protocol(format!("a lookup's line: {e}"))),
                );
            }
            if self.ended {
                if self.pending.has_remaining() {
                    self.pending.clear();
                    return Some(Err(ClientError::Protocol(
                        "the lookup's answer ended mid-line".into(),
                    )));
                }
                return None;
            }
            if self.pending.len() > MAX_FOUND_BYTES {
                self.ended = true;
                self.pending.clear();
                return Some(Err(ClientError::Protocol(format!(
                    "a lookup's line is over {} MiB",
                    MAX_FOUND_BYTES >> 20
                ))));
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.pending.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    self.ended = true;
                    self.pending.clear();
                    return Some(Err(ClientError::Protocol(format!(
                        "the lookup's answer broke off: {e}"
                    ))));
                }
                None => self.ended = true,
            }
        }
    }
}

/// A find with every text made terminal-safe (log lines are whatever an app wrote).
pub fn inert(mut found: Found) -> Found {
    match &mut found {
        Found::Line(line) => {
            for text in [&mut line.source, &mut line.message, &mut line.origin] {
                make_safe(text);
            }
            for text in [&mut line.level, &mut line.trace].into_iter().flatten() {
                make_safe(text);
            }
            // The fields' names are the app's as much as their values.
            let mut fields = serde_json::Value::Object(std::mem::take(&mut line.fields));
            scrub(&mut fields);
            if let serde_json::Value::Object(safe) = fields {
                line.fields = safe;
            }
        }
        Found::Minutes { source, .. } | Found::Done { source, .. } => make_safe(source),
        Found::Warning { source, message } | Found::Failed { source, message } => {
            make_safe(source);
            make_safe(message);
        }
    }
    found
}

/// A data lookup's rows with every text made terminal-safe (values are whatever the database
/// holds).
pub fn inert_rows(mut rows: DataRows) -> DataRows {
    for text in [&mut rows.source, &mut rows.query]
        .into_iter()
        .chain(rows.columns.iter_mut())
        .chain(rows.rows.iter_mut().flatten().flatten())
    {
        make_safe(text);
    }
    rows
}
