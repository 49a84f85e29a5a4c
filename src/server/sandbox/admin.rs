//! `/uat-sandbox/admin/...`: the outage switch and the status, for a handler's or an admin's
//! opsdesk token (not the sandbox key: the people who run the demo flip it, not the recipes).
//! The switch is kept in the database, so it holds across a restart, and audited.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::answer::{self, Done, Failure};
use super::{MAX_CUSTOMERS, MAX_OUTAGE_SECS, Outage, PREFIX, System, outage_now};
use crate::domain::people::User;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::store::{audit, sandbox as store};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{PREFIX}/admin/outage"),
            post(outage_on).delete(outage_off),
        )
        .route(&format!("{PREFIX}/admin/status"), get(status))
}

/// A handler or an admin, by their opsdesk API token.
async fn handler(s: &AppState, headers: &HeaderMap) -> Result<User, Failure> {
    let caller = Caller::from_headers(s, headers).await.map_err(|e| {
        if e.status == StatusCode::UNAUTHORIZED {
            Failure::Unauthorized(
                "需要 opsdesk 处理人或管理员的 API 令牌（Authorization: Bearer <token>）".into(),
            )
        } else if e.status.is_server_error() {
            Failure::Busy {
                message: "系统繁忙，请稍后再试".into(),
                retry_after: 1,
            }
        } else {
            Failure::bad_request("请求无法处理")
        }
    })?;
    caller
        .handler()
        .map_err(|_| Failure::Forbidden("只有处理人或管理员可以操作沙箱".into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutageReq {
    seconds: u64,
    #[serde(default)]
    systems: Option<Vec<System>>,
}

fn outage_data(o: &Outage) -> Value {
    let now = Utc::now();
    let remaining = o
        .systems
        .iter()
        .filter_map(|s| o.remaining(*s, now))
        .max()
        .unwrap_or(0);
    json!({
        "until": crate::store::ts(o.until),
        "systems": o.systems,
        "remaining_secs": remaining,
        "set_by": o.set_by,
    })
}

async fn outage_on(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Done, Failure> {
    // The token first: a caller without one learns nothing, not even what the body lacks.
    let user = handler(&s, &headers).await?;
    let req: OutageReq = answer::parse(&body)?;
    if !(1..=MAX_OUTAGE_SECS).contains(&req.seconds) {
        return Err(Failure::bad_request(format!(
            "字段 seconds 须在 1–{MAX_OUTAGE_SECS} 之间"
        )));
    }
    let mut systems = req.systems.unwrap_or_else(|| System::ALL.to_vec());
    systems.sort();
    systems.dedup();
    if systems.is_empty() {
        return Err(Failure::bad_request(
            "字段 systems 不能为空（省略则为全部系统）",
        ));
    }
    let seconds = req.seconds;
    s.desk
        .store
        .write(move |ctx| {
            let outage = Outage {
                until: ctx.now + chrono::Duration::seconds(seconds as i64),
                systems,
                set_by: user.username.clone(),
            };
            let text = serde_json::to_string(&outage).map_err(|_| Failure::Internal)?;
            store::set_outage(ctx.conn, &text)?;
            audit::record(
                ctx.conn,
                ctx.now,
                &user.username,
                "sandbox_outage_on",
                None,
                &json!({ "seconds": seconds, "systems": outage.systems }),
            )?;
            Ok(Done(outage_data(&outage)))
        })
        .await
}

async fn outage_off(State(s): State<AppState>, headers: HeaderMap) -> Result<Done, Failure> {
    let user = handler(&s, &headers).await?;
    s.desk
        .store
        .write(move |ctx| {
            let was_on = store::clear_outage(ctx.conn)?;
            audit::record(
                ctx.conn,
                ctx.now,
                &user.username,
                "sandbox_outage_off",
                None,
                &json!({ "was_set": was_on }),
            )?;
            Ok(Done(json!({ "outage": Value::Null, "was_set": was_on })))
        })
        .await
}

async fn status(State(s): State<AppState>, headers: HeaderMap) -> Result<Done, Failure> {
    handler(&s, &headers).await?;
    let outage = outage_now(&s).await?;
    let counts = s.desk.store.read(store::counts).await?;
    Ok(Done(json!({
        "outage": outage.as_ref().map(outage_data),
        "systems": System::ALL.iter().map(|sys| json!({
            "system": sys,
            "name": sys.name_zh(),
            "path": format!("{PREFIX}/{}/", sys.code()),
            "deploying": outage.as_ref().is_some_and(|o| o.remaining(*sys, Utc::now()).is_some()),
        })).collect::<Vec<_>>(),
        "customers": counts.customers,
        "fund_accounts": counts.fund_accounts,
        "bindings": counts.bindings,
        "max_customers": MAX_CUSTOMERS,
    })))
}
