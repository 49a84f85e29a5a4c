//! The sandbox's trading system (交易体系), `/uat-sandbox/trading/...`: the day-end
//! settlement that makes funds withdrawable, and the trading agreements (交易权限), each
//! signed only by a customer who meets its conditions.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::answer::{Body, Done, Failure, optional_text};
use super::depository::amount;
use super::rules::{self, AgreementKind, Standing, format_amount};
use super::{Find, change, look};
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{fund_account}/withdrawable", put(withdrawable))
        .route(
            "/accounts/{fund_account}/agreements",
            post(sign).get(agreements),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Withdrawable {
    amount: Value,
}

/// A simulated day-end settlement: sets (does not add to) the withdrawable funds.
async fn withdrawable(
    State(s): State<AppState>,
    Path(fund_account): Path<String>,
    Body(req): Body<Withdrawable>,
) -> Result<Done, Failure> {
    let cents = amount("amount", &req.amount)?;
    change(&s, Find::FundAccount(fund_account), move |c, _| {
        if cents > c.available_cents {
            return Err(Failure::business(
                "E_WITHDRAWABLE",
                format!(
                    "可取资金不能超过可用资金（可用 {} 元，申请 {} 元）",
                    format_amount(c.available_cents),
                    format_amount(cents)
                ),
            ));
        }
        c.withdrawable_cents = cents;
        Ok(json!({
            "available": format_amount(c.available_cents),
            "withdrawable": format_amount(cents),
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sign {
    kind: String,
}

async fn sign(
    State(s): State<AppState>,
    Path(fund_account): Path<String>,
    Body(req): Body<Sign>,
) -> Result<Done, Failure> {
    optional_text("kind", Some(&req.kind), 20)?;
    let Some(kind) = AgreementKind::parse(req.kind.trim()) else {
        let all: Vec<&str> = AgreementKind::ALL.iter().map(|k| k.code()).collect();
        return Err(Failure::bad_request(format!(
            "字段 kind 取值无效（可选：{}）",
            all.join("、")
        )));
    };
    change(&s, Find::FundAccount(fund_account), move |c, now| {
        if !c.is_active() {
            return Err(Failure::business(
                "E_STATE",
                "客户尚未激活，不能签署交易权限协议",
            ));
        }
        if let Some(at) = c.trading_agreements.get(&kind) {
            return Ok(agreement(kind, at));
        }
        rules::check_agreement(
            kind,
            &Standing {
                level: c.confirmed_level(),
                years: c.experience_years,
                assets_cents: c.available_cents,
            },
        )?;
        let at = now.stamp();
        c.trading_agreements.insert(kind, at.clone());
        Ok(agreement(kind, &at))
    })
    .await
}

fn agreement(kind: AgreementKind, signed_at: &str) -> Value {
    json!({ "kind": kind, "name": kind.name_zh(), "signed_at": signed_at })
}

async fn agreements(
    State(s): State<AppState>,
    Path(fund_account): Path<String>,
) -> Result<Done, Failure> {
    look(&s, Find::FundAccount(fund_account), |c| {
        let list: Vec<Value> = c
            .trading_agreements
            .iter()
            .map(|(k, at)| agreement(*k, at))
            .collect();
        Ok(json!({ "agreements": list }))
    })
    .await
}
