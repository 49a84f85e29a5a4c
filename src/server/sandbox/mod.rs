//! The sandbox brokerage under `/uat-sandbox/`: three small business systems (account,
//! depository, trading) that behave like a brokerage's real interfaces, so the demo and the
//! tests have something to construct accounts against. It is not a real system and says so.
//!
//! Mounted by [`crate::server::router`] only when `construct.sandbox` is on. Every system call
//! needs `Authorization: Bearer <sandbox key>` (a random key kept in the database, see [`key`]);
//! the outage switch (`/uat-sandbox/admin/outage`, a handler's or an admin's opsdesk token)
//! makes chosen systems answer 503 as if being deployed. State lives in the server's database
//! (`store::sandbox`); the rules are pure (`rules`, `model`). See docs/sandbox.md.

pub mod account;
mod admin;
pub mod answer;
pub mod depository;
pub mod model;
mod page;
pub mod rules;
pub mod trading;

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::server::AppState;
use crate::service::{Desk, DeskError};
use crate::store::sandbox as store;
use answer::{Done, Failure};
use model::Customer;

/// Where the sandbox is mounted.
pub const PREFIX: &str = "/uat-sandbox";

/// Customers the sandbox keeps at most: a demo's, a load test's, never a real book.
pub const MAX_CUSTOMERS: i64 = 200_000;

/// The longest outage the switch sets, in seconds.
pub const MAX_OUTAGE_SECS: u64 = 3600;

/// The sandbox's business systems, by the name recipes call them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    Account,
    Depository,
    Trading,
}

impl System {
    pub const ALL: [System; 3] = [System::Account, System::Depository, System::Trading];

    pub fn code(self) -> &'static str {
        match self {
            System::Account => "account",
            System::Depository => "depository",
            System::Trading => "trading",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            System::Account => "帐户体系",
            System::Depository => "三方存管",
            System::Trading => "交易体系",
        }
    }
}

/// The outage switch as kept in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub until: DateTime<Utc>,
    pub systems: Vec<System>,
    pub set_by: String,
}

impl Outage {
    /// Seconds left for `system` at `now`, when it is down.
    pub fn remaining(&self, system: System, now: DateTime<Utc>) -> Option<u64> {
        if now >= self.until || !self.systems.contains(&system) {
            return None;
        }
        let ms = (self.until - now).num_milliseconds().max(0) as u64;
        Some(ms.div_ceil(1000).max(1))
    }

    /// Whether it is still on for some system at `now`.
    pub fn is_on(&self, now: DateTime<Utc>) -> bool {
        now < self.until && !self.systems.is_empty()
    }
}

/// The outage switch from its stored text; one that does not read counts as off (and is
/// logged), so a bad row cannot take the sandbox down for good.
fn read_outage(text: Option<String>) -> Option<Outage> {
    let text = text?;
    serde_json::from_str(&text)
        .map_err(|e| tracing::warn!(error = %e, "the sandbox outage switch does not read"))
        .ok()
}

/// The sandbox key, made the first time it is asked for. Recipes run against the demo
/// environment with it; nothing else opens the sandbox's systems.
pub async fn key(desk: &Desk) -> Result<String, DeskError> {
    if let Some(k) = desk.store.read(store::key).await? {
        return Ok(k);
    }
    desk.write(|ctx| Ok(store::ensure_key(ctx.conn)?)).await
}

/// The sandbox's routes with the limits every API route has: body size, time, and the shared
/// budget of requests in flight.
pub fn routes(state: &AppState) -> Router<AppState> {
    let cfg = &state.desk.settings.server;
    let system = |routes: Router<AppState>, system: System| {
        Router::new().nest(
            &format!("{PREFIX}/{}", system.code()),
            routes.layer(middleware::from_fn_with_state(
                (state.clone(), system),
                gate,
            )),
        )
    };
    Router::new()
        .merge(system(account::routes(), System::Account))
        .merge(system(depository::routes(), System::Depository))
        .merge(system(trading::routes(), System::Trading))
        .merge(admin::routes())
        .route(
            PREFIX,
            get(|| async { axum::response::Redirect::permanent("/uat-sandbox/") }),
        )
        .route(&format!("{PREFIX}/"), get(page::index))
        .route(
            &format!("{PREFIX}/{{*rest}}"),
            any(|| async { answer::layer_error(StatusCode::NOT_FOUND) }),
        )
        .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(cfg.request_timeout_secs),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), bounded))
}

/// The API's load shedding over the same budget, and the envelope on what the layers inside
/// answer on their own (413, 405, 408), so a caller always gets `{"code", "message"}`.
async fn bounded(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = state.requests.clone().try_acquire_owned() else {
        state
            .metrics
            .shed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return axum::response::IntoResponse::into_response(Failure::Busy {
            message: "系统繁忙，请稍后再试".into(),
            retry_after: 1,
        });
    };
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json || is_html {
        return response;
    }
    let mut answer = answer::layer_error(status);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}

/// A system's door: the sandbox key, then the outage switch.
async fn gate(
    State((state, system)): State<(AppState, System)>,
    req: Request,
    next: Next,
) -> Response {
    match admit(&state, system, req.headers()).await {
        Ok(()) => next.run(req).await,
        Err(f) => axum::response::IntoResponse::into_response(f),
    }
}

async fn admit(state: &AppState, system: System, headers: &HeaderMap) -> Result<(), Failure> {
    let (key, outage) = state
        .desk
        .store
        .read(|conn| Ok((store::key(conn)?, store::outage(conn)?)))
        .await?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return Err(Failure::Unauthorized(
            "缺少沙箱密钥：请在 Authorization 头中携带 Bearer <sandbox key>".into(),
        ));
    };
    let right = key.is_some_and(|k| bool::from(k.as_bytes().ct_eq(given.as_bytes())));
    if !right {
        return Err(Failure::Unauthorized("沙箱密钥错误".into()));
    }
    if let Some(secs) = read_outage(outage).and_then(|o| o.remaining(system, Utc::now())) {
        return Err(Failure::Deploying { retry_after: secs });
    }
    Ok(())
}

/// How a call names its customer.
#[derive(Debug, Clone)]
pub enum Find {
    Customer(String),
    FundAccount(String),
}

impl Find {
    fn not_found(&self) -> Failure {
        Failure::NotFound(match self {
            Find::Customer(_) => "客户不存在".into(),
            Find::FundAccount(_) => "资金账户不存在".into(),
        })
    }

    /// The row, or 404. A key that could never have been issued is not looked up.
    fn row(&self, conn: &Connection) -> Result<store::CustomerRow, Failure> {
        let (Find::Customer(value) | Find::FundAccount(value)) = self;
        let plausible =
            (1..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric());
        if !plausible {
            return Err(self.not_found());
        }
        let row = match self {
            Find::Customer(no) => store::by_customer_no(conn, no)?,
            Find::FundAccount(fa) => store::by_fund_account(conn, fa)?,
        };
        row.ok_or_else(|| self.not_found())
    }
}

fn decode(row: &store::CustomerRow) -> Result<Customer, Failure> {
    serde_json::from_str(&row.doc).map_err(|e| {
        tracing::error!(customer = row.id, error = %e, "a sandbox customer does not read");
        Failure::Internal
    })
}

/// What a change to a customer sees: the connection (for uniqueness checks), the time, and
/// today's date in the business time zone.
pub struct Now<'a> {
    pub conn: &'a Connection,
    pub at: DateTime<Utc>,
    pub today: NaiveDate,
}

impl Now<'_> {
    pub fn stamp(&self) -> String {
        crate::store::ts(self.at)
    }
}

/// Runs `f` on a customer in one write: the document is saved when `f` succeeds and changed
/// it; on a refusal nothing is written.
pub async fn change<F>(state: &AppState, find: Find, f: F) -> Result<Done, Failure>
where
    F: FnOnce(&mut Customer, &Now<'_>) -> Result<Value, Failure> + Send + 'static,
{
    let tz = state.desk.settings.calendar.tz();
    state
        .desk
        .store
        .write(move |ctx| {
            let row = find.row(ctx.conn)?;
            let mut customer = decode(&row)?;
            let before = customer.clone();
            let now = Now {
                conn: ctx.conn,
                at: ctx.now,
                today: ctx.now.with_timezone(&tz).date_naive(),
            };
            let data = f(&mut customer, &now)?;
            if customer != before {
                let doc = serde_json::to_string(&customer).map_err(|_| Failure::Internal)?;
                store::save_customer(
                    ctx.conn,
                    row.id,
                    &doc,
                    customer.fund_account.as_deref(),
                    customer.depository.as_ref().map(|b| b.card_no.as_str()),
                    ctx.now,
                )?;
            }
            Ok(Done(data))
        })
        .await
}

/// Reads a customer and answers what `f` makes of them.
pub async fn look<F>(state: &AppState, find: Find, f: F) -> Result<Done, Failure>
where
    F: FnOnce(&Customer) -> Result<Value, Failure> + Send + 'static,
{
    state
        .desk
        .store
        .read(move |conn| Ok(find.row(conn).and_then(|row| decode(&row))))
        .await?
        .and_then(|c| f(&c))
        .map(Done)
}

/// The sandbox's state for the status call and the page.
pub(crate) async fn outage_now(state: &AppState) -> Result<Option<Outage>, Failure> {
    let text = state.desk.store.read(store::outage).await?;
    Ok(read_outage(text).filter(|o| o.is_on(Utc::now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_covers_its_systems_until_its_end() {
        let now = Utc::now();
        let o = Outage {
            until: now + chrono::Duration::milliseconds(90_500),
            systems: vec![System::Account],
            set_by: "h".into(),
        };
        assert_eq!(o.remaining(System::Account, now), Some(91));
        assert_eq!(o.remaining(System::Trading, now), None);
        assert_eq!(
            o.remaining(System::Account, now + chrono::Duration::seconds(91)),
            None
        );
        assert!(o.is_on(now));
        assert!(read_outage(Some("not json".into())).is_none());
        let text = serde_json::to_string(&o).unwrap();
        assert_eq!(read_outage(Some(text)), Some(o));
    }
}
