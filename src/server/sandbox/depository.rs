//! The sandbox's third-party depository (三方存管), `/uat-sandbox/depository/...`: the bank
//! list, binding a debit card to a fund account, the bank's verification of the holder,
//! activation, transfers from the bank into the securities account, and the balance.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::answer::{Body, Done, Failure, text};
use super::model::Binding;
use super::rules::{self, MAX_AMOUNT_CENTS, format_amount};
use super::{Find, change, look};
use crate::domain::construct::generate::DEPOSITORY_BANKS;
use crate::server::AppState;
use crate::store::sandbox as store;

/// The most one transfer may move (one hundred million yuan), in cents.
pub const MAX_TRANSFER_CENTS: i64 = 10_000_000_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/banks", get(banks))
        .route("/bindings", post(bind))
        .route("/bindings/{binding_id}/verify", post(verify))
        .route("/bindings/{binding_id}/activate", post(activate))
        .route("/transfers/in", post(transfer_in))
        .route("/accounts/{fund_account}/balance", get(balance))
}

/// A binding's id names its fund account (one binding per account).
fn binding_id(fund_account: &str) -> String {
    format!("BD{fund_account}")
}

/// The fund account behind a binding id, for the lookup; one that does not parse finds
/// nothing.
fn binding_account(id: &str) -> Find {
    Find::FundAccount(id.strip_prefix("BD").unwrap_or("").to_string())
}

fn no_binding() -> Failure {
    Failure::NotFound("存管绑定关系不存在".into())
}

/// An amount as a JSON string (`"500000.00"`) or number; 400 when it is neither.
pub fn amount(field: &str, value: &Value) -> Result<i64, Failure> {
    let text = match value {
        Value::String(s) if s.len() <= 24 => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    // A whole number written as a float (`500000.0`) is still two decimals at most.
    rules::parse_amount(&text).ok_or_else(|| {
        Failure::bad_request(format!(
            "字段 {field} 须为金额：非负，至多两位小数，如 \"500000.00\""
        ))
    })
}

async fn banks() -> Done {
    let banks: Vec<Value> = DEPOSITORY_BANKS
        .iter()
        .map(|(code, name)| json!({ "code": code, "name": name, "bins": rules::bank_bins(code) }))
        .collect();
    Done(json!({ "banks": banks }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bind {
    fund_account: String,
    bank: String,
    card_no: String,
}

async fn bind(State(s): State<AppState>, Body(req): Body<Bind>) -> Result<Done, Failure> {
    text("fund_account", &req.fund_account, 32)?;
    text("bank", &req.bank, 16)?;
    text("card_no", &req.card_no, 32)?;
    let card = req.card_no.trim().to_string();
    let bank = req.bank.trim().to_string();
    rules::check_card(&bank, &card)?;
    change(&s, Find::FundAccount(req.fund_account), move |c, now| {
        let fund_account = c.fund_account.clone().unwrap_or_default();
        if !c.is_active() {
            return Err(Failure::business(
                "E_STATE",
                "客户尚未激活，不能绑定三方存管",
            ));
        }
        if let Some(b) = &c.depository {
            if b.card_no == card && b.bank == bank {
                return Ok(binding_answer(b));
            }
            return Err(Failure::business(
                "E_ALREADY_BOUND",
                "该资金账户已绑定存管银行卡，须先解绑",
            ));
        }
        if store::card_bound_to(now.conn, &card)?.is_some_and(|other| other != fund_account) {
            return Err(Failure::business(
                "E_CARD_TAKEN",
                "该银行卡已绑定其他资金账户",
            ));
        }
        let binding = Binding {
            binding_id: binding_id(&fund_account),
            bank,
            card_no: card,
            verified: false,
            active: false,
            bound_at: now.stamp(),
        };
        let answer = binding_answer(&binding);
        c.depository = Some(binding);
        Ok(answer)
    })
    .await
}

fn binding_answer(b: &Binding) -> Value {
    let status = if b.active {
        "active"
    } else if b.verified {
        "verified"
    } else {
        "bound"
    };
    json!({
        "binding_id": b.binding_id,
        "bank": b.bank,
        "bank_name": rules::bank_name(&b.bank),
        "card_tail": &b.card_no[b.card_no.len().saturating_sub(4)..],
        "status": status,
        "bound_at": b.bound_at,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Holder {
    holder_name: String,
    id_number: String,
}

async fn verify(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(req): Body<Holder>,
) -> Result<Done, Failure> {
    text("holder_name", &req.holder_name, 40)?;
    text("id_number", &req.id_number, 32)?;
    change(&s, binding_account(&id), move |c, _| {
        let (name, id_number) = (c.name.clone(), c.id_number.clone());
        let Some(b) = c.depository.as_mut().filter(|b| b.binding_id == id) else {
            return Err(no_binding());
        };
        let same =
            name == req.holder_name.trim() && id_number.eq_ignore_ascii_case(req.id_number.trim());
        if !same {
            return Err(Failure::business(
                "E_BANK_VERIFY",
                "银行验证未通过：持卡人姓名或证件号码与客户不一致",
            ));
        }
        b.verified = true;
        Ok(binding_answer(b))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

async fn activate(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, binding_account(&id), move |c, _| {
        let Some(b) = c.depository.as_mut().filter(|b| b.binding_id == id) else {
            return Err(no_binding());
        };
        if !b.verified {
            return Err(Failure::business(
                "E_STATE",
                "存管绑定须先经银行验证才能激活",
            ));
        }
        b.active = true;
        Ok(binding_answer(b))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferIn {
    fund_account: String,
    amount: Value,
    fund_password: String,
}

/// Bank → securities. Not idempotent: every call moves the money again.
async fn transfer_in(
    State(s): State<AppState>,
    Body(req): Body<TransferIn>,
) -> Result<Done, Failure> {
    text("fund_account", &req.fund_account, 32)?;
    text("fund_password", &req.fund_password, 12)?;
    let cents = amount("amount", &req.amount)?;
    if cents == 0 {
        return Err(Failure::business("E_AMOUNT", "转入金额须大于 0"));
    }
    if cents > MAX_TRANSFER_CENTS {
        return Err(Failure::business(
            "E_AMOUNT",
            format!("单笔转入不能超过 {} 元", format_amount(MAX_TRANSFER_CENTS)),
        ));
    }
    let password = crate::store::secret_hash(&req.fund_password);
    change(&s, Find::FundAccount(req.fund_account), move |c, _| {
        if !c.depository.as_ref().is_some_and(|b| b.active) {
            return Err(Failure::business(
                "E_STATE",
                "三方存管未激活，不能银行转证券",
            ));
        }
        if c.fund_password.as_deref() != Some(password.as_str()) {
            return Err(Failure::business("E_PASSWORD", "资金密码错误"));
        }
        let available = c
            .available_cents
            .checked_add(cents)
            .filter(|v| *v <= MAX_AMOUNT_CENTS)
            .ok_or_else(|| Failure::business("E_AMOUNT", "转入后资金超出沙箱上限"))?;
        c.available_cents = available;
        c.transfers += 1;
        let fa = c.fund_account.clone().unwrap_or_default();
        Ok(json!({
            "serial_no": format!("TF{fa}{:05}", c.transfers),
            "amount": format_amount(cents),
            "available": format_amount(available),
        }))
    })
    .await
}

async fn balance(
    State(s): State<AppState>,
    Path(fund_account): Path<String>,
) -> Result<Done, Failure> {
    look(&s, Find::FundAccount(fund_account), |c| {
        Ok(json!({
            "fund_account": c.fund_account,
            "currency": "CNY",
            "available": format_amount(c.available_cents),
            "withdrawable": format_amount(c.withdrawable_cents),
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_come_as_text_or_numbers() {
        assert_eq!(amount("a", &json!("500000.00")).unwrap(), 50_000_000);
        assert_eq!(amount("a", &json!(500000)).unwrap(), 50_000_000);
        assert_eq!(amount("a", &json!(500000.5)).unwrap(), 50_000_050);
        for bad in [
            json!(-1),
            json!("1.001"),
            json!(true),
            json!(null),
            json!("x"),
        ] {
            assert!(
                matches!(amount("a", &bad), Err(Failure::BadRequest(_))),
                "{bad}"
            );
        }
        assert!(
            matches!(binding_account("BD318800000001"), Find::FundAccount(f) if f == "318800000001")
        );
        assert!(matches!(binding_account("318800000001"), Find::FundAccount(f) if f.is_empty()));
    }
}
