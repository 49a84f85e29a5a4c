//! The paging loop: page after page of hits, newest first, each line handed over as its page
//! is read, until the query's limit, the last hit, or a receiver that went away; and the
//! hits that share the time at a page boundary.

use std::collections::HashSet;

use chrono::DateTime;
use hyper::Method;
use serde_json::Value;
use tokio::sync::mpsc;

use super::Cluster;
use super::answer::{Hit, HitsTotal, SearchAnswer, warn_once};
use super::http::json_bytes;
use super::pit::Pit;
use super::refusal::short;
use crate::lookups::{Found, LogQuery, Searched, SourceError};

impl Cluster {
    /// Pages through the hits, handing over each line that passes the regex.
    ///
    /// Ties at a page boundary: `search_after` skips every hit whose sort values equal the
    /// ones given, so hits of the same millisecond split across two pages would be lost.
    /// When the sort values are the time alone (a plain search, or a point in time without a
    /// tiebreaker), the next page starts one millisecond later instead (`search_after` of
    /// time + 1, which takes in the boundary's millisecond again) and the hits of that
    /// millisecond already handed over are skipped by index and id. Only when one
    /// millisecond holds more hits than a page does the search move past it, with a warning.
    /// Elasticsearch's point in time adds its own tiebreaker (`_shard_doc`); its sort values
    /// are passed back as they are.
    pub(super) async fn pages(
        &self,
        query: &LogQuery,
        wanted: &Value,
        regex: Option<&regex::Regex>,
        tx: &mpsc::Sender<Found>,
        mut pit: Option<&mut Pit>,
    ) -> Result<Searched, SourceError> {
        let mut done = Searched::default();
        let mut after: Option<Vec<Value>> = None;
        let mut boundary = Boundary::default();
        loop {
            if tx.is_closed() {
                return Ok(done);
            }
            let first = done.read == 0;
            let left = query.limit - done.lines;
            // With a regex an unknown share of the hits is dropped here: whole pages then,
            // or a rare match would cost a round trip per line.
            let want = if regex.is_some() {
                self.page_size
            } else {
                left.min(self.page_size)
            };
            let size = (want + boundary.seen.len()).min(self.page_size);
            let body = self.page_body(wanted, size, first, after.as_deref(), pit.as_deref());
            let page = self.page(&body, pit.is_some()).await?;
            done.read += 1;
            if let (Some(pit), Some(id)) = (pit.as_deref_mut(), &page.pit_id) {
                pit.id.clone_from(id);
            }
            self.note_warnings(&page, first, &mut done);
            if first {
                done.total = page.hits.total.map(HitsTotal::total);
                if let Some(minutes) = page.minutes() {
                    let found = Found::Minutes {
                        source: self.name.clone(),
                        minutes,
                    };
                    if tx.send(found).await.is_err() {
                        return Ok(done);
                    }
                }
            }
            let hits = page.hits.hits;
            let full = hits.len() >= size;
            let Some(last_sort) = hits.last().map(|h| h.sort.clone()) else {
                break;
            };
            let next = boundary.after(&hits);
            let fresh = match self
                .hand_over(hits, &boundary, regex, tx, query.limit, &mut done)
                .await
            {
                HandedOver::Some { fresh } => fresh,
                HandedOver::Enough => return Ok(done),
            };
            if !full {
                break;
            }
            boundary = next;
            after = Some(match boundary.time {
                Some(t) if fresh => vec![Value::from(t.saturating_add(1))],
                Some(t) => {
                    let at = DateTime::from_timestamp_millis(t)
                        .map_or_else(|| t.to_string(), |at| at.to_rfc3339());
                    warn_once(
                        &mut done,
                        format!(
                            "more than {size} hits share the time {at}; some of them were skipped"
                        ),
                    );
                    boundary = Boundary::default();
                    vec![Value::from(t)]
                }
                None => last_sort,
            });
        }
        Ok(done)
    }

    /// Hands over a page's lines not handed over before (`boundary`) that pass the regex.
    async fn hand_over(
        &self,
        hits: Vec<Hit>,
        boundary: &Boundary,
        regex: Option<&regex::Regex>,
        tx: &mpsc::Sender<Found>,
        limit: usize,
        done: &mut Searched,
    ) -> HandedOver {
        let mut fresh = false;
        for hit in hits {
            if boundary.holds(&hit) {
                continue;
            }
            fresh = true;
            let Some(line) = self.line(hit, done) else {
                continue;
            };
            if regex.is_some_and(|r| !r.is_match(&line.message)) {
                continue;
            }
            if tx.send(Found::Line(line)).await.is_err() {
                return HandedOver::Enough;
            }
            done.lines += 1;
            if done.lines == limit {
                return HandedOver::Enough;
            }
        }
        HandedOver::Some { fresh }
    }

    /// Reads one page; anything but a search response is a failure in words.
    async fn page(&self, body: &Value, on_pit: bool) -> Result<SearchAnswer, SourceError> {
        // On a point in time the index is the point's, and naming it again is refused.
        let path = if on_pit {
            "/_search".to_string()
        } else {
            format!("/{}/_search", self.index_path)
        };
        let answer = self.exchange(Method::POST, &path, json_bytes(body)).await?;
        if !answer.status.is_success() {
            return Err(self.refusal(&answer));
        }
        serde_json::from_slice(&answer.body).map_err(|e| {
            self.error(format!(
                "the answer is not an Elasticsearch search response: {}",
                short(&e.to_string())
            ))
        })
    }
}

/// What became of a page.
enum HandedOver {
    /// Its lines went out; `fresh` when any was new (not one of the boundary's).
    Some { fresh: bool },
    /// The limit is reached, or the receiver has gone.
    Enough,
}

/// The hits of the last page's last millisecond, already handed over (see `pages`).
#[derive(Debug, Default)]
struct Boundary {
    /// The sort value (epoch milliseconds), when the sort values are the time alone.
    time: Option<i64>,
    seen: HashSet<(String, String)>,
}

impl Boundary {
    fn holds(&self, hit: &Hit) -> bool {
        self.time.is_some()
            && sole_time(hit) == self.time
            && self.seen.contains(&(hit.index.clone(), hit.id.clone()))
    }

    /// The boundary once `page` is handed over: its last millisecond's hits (with those of
    /// this boundary when the page never left it).
    fn after(&self, page: &[Hit]) -> Boundary {
        let time = page.last().and_then(sole_time);
        if time.is_none() {
            return Boundary::default();
        }
        let mut seen = if time == self.time {
            self.seen.clone()
        } else {
            HashSet::new()
        };
        let tail = page.iter().rev().take_while(|h| sole_time(h) == time);
        seen.extend(tail.map(|h| (h.index.clone(), h.id.clone())));
        Boundary { time, seen }
    }
}

/// The hit's sort value when it is the time alone (no tiebreaker).
fn sole_time(hit: &Hit) -> Option<i64> {
    match hit.sort.as_slice() {
        [only] => only.as_i64(),
        _ => None,
    }
}
