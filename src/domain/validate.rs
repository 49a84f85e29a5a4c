//! Validation of what submitters and scripts send, with field-level messages in Chinese and
//! English.
//!
//! The seed's complaint is one-line reports such as "股票交易不了": handlers cannot look anything
//! up without the customer, the time and the exact message on screen. So a new ticket needs a
//! customer identifier, a known system and a description of real length, and the refusal says
//! what handlers need.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ticket::{Category, Channel, Customer, Priority};

/// Shortest description, in characters (not bytes), that can carry the account, the time and
/// the on-screen message.
pub const MIN_DESCRIPTION_CHARS: usize = 20;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MIN_TITLE_CHARS: usize = 4;
pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_SHORT_TEXT_CHARS: usize = 64;

/// A new ticket as the API, the import and the MSS form deliver it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub title: String,
    pub description: String,
    /// A configured system key (`GET /api/v1/systems`).
    pub system: String,
    #[serde(default)]
    pub customer: Customer,
    /// Defaults to consultation, the bulk of all tickets; handlers re-categorise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    /// Defaults to P3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Defaults to `api` for API clients; the MSS pages and the import set their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The ticket number in the originating system (ITSM); unique per channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

/// One refused field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub zh: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Every refused field of one input, so a form can mark them all at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.en)).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn one(field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, zh, en)])
    }
}

fn char_len(s: &str) -> usize {
    s.trim().chars().count()
}

/// Checks a new ticket against the configured systems. Returns every problem, not the first.
pub fn new_ticket(t: &NewTicket, systems: &[&str]) -> Result<(), ValidationErrors> {
    let mut errs = Vec::new();

    let title = char_len(&t.title);
    if title < MIN_TITLE_CHARS {
        errs.push(FieldError::new(
            "title",
            format!("请填写标题（至少 {MIN_TITLE_CHARS} 个字），概括是什么业务出了什么问题"),
            format!("a title of at least {MIN_TITLE_CHARS} characters is required"),
        ));
    } else if title > MAX_TITLE_CHARS {
        errs.push(FieldError::new(
            "title",
            format!("标题不能超过 {MAX_TITLE_CHARS} 个字"),
            format!("the title must be at most {MAX_TITLE_CHARS} characters"),
        ));
    }

    let description = char_len(&t.description);
    if description < MIN_DESCRIPTION_CHARS {
        errs.push(FieldError::new(
            "description",
            format!(
                "问题描述太短（至少 {MIN_DESCRIPTION_CHARS} 个字）。请写明：客户账号、发生时间、屏幕上的原始提示信息、已经尝试过的操作"
            ),
            format!(
                "the description needs at least {MIN_DESCRIPTION_CHARS} characters: the customer's account, when it happened, the exact message on screen, what was tried"
            ),
        ));
    } else if description > MAX_DESCRIPTION_CHARS {
        errs.push(FieldError::new(
            "description",
            format!("问题描述不能超过 {MAX_DESCRIPTION_CHARS} 个字，截图请作为附件上传"),
            format!("the description must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }

    if t.system.trim().is_empty() {
        errs.push(FieldError::new(
            "system",
            "请选择所属系统",
            "a system is required",
        ));
    } else if !systems.contains(&t.system.trim()) {
        errs.push(FieldError::new(
            "system",
            "所选系统不存在，请从列表中选择",
            format!("unknown system; expected one of: {}", systems.join(", ")),
        ));
    }

    if let Some(sub) = &t.subcategory
        && char_len(sub) > MAX_SHORT_TEXT_CHARS
    {
        errs.push(FieldError::new(
            "subcategory",
            format!("小类不能超过 {MAX_SHORT_TEXT_CHARS} 个字"),
            format!("the subcategory must be at most {MAX_SHORT_TEXT_CHARS} characters"),
        ));
    }
    if let Some(r) = &t.external_ref
        && (r.trim().is_empty() || char_len(r) > MAX_SHORT_TEXT_CHARS)
    {
        errs.push(FieldError::new(
            "external_ref",
            "外部单号为空或过长",
            format!("external_ref must be 1 to {MAX_SHORT_TEXT_CHARS} characters"),
        ));
    }

    customer(&t.customer, &mut errs);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errs))
    }
}

fn customer(c: &Customer, errs: &mut Vec<FieldError>) {
    if !c.has_identifier() {
        errs.push(FieldError::new(
            "customer",
            "请至少填写客户的资金账号、手机号或身份证号之一，以便查询日志",
            "at least one customer identifier is required: account, phone or ID number",
        ));
    }
    if let Some(name) = &c.name
        && char_len(name.expose()) > MAX_SHORT_TEXT_CHARS
    {
        errs.push(FieldError::new(
            "customer.name",
            "客户姓名过长",
            format!("the customer name must be at most {MAX_SHORT_TEXT_CHARS} characters"),
        ));
    }
    if let Some(account) = &c.account
        && !is_account(account.expose())
    {
        errs.push(FieldError::new(
            "customer.account",
            "资金账号应为 6–20 位数字",
            "the account must be 6 to 20 digits",
        ));
    }
    if let Some(phone) = &c.phone
        && !is_mobile(phone.expose())
    {
        errs.push(FieldError::new(
            "customer.phone",
            "手机号应为 11 位数字，以 1 开头",
            "the phone must be an 11-digit mobile number starting with 1",
        ));
    }
    if let Some(id) = &c.id_number
        && !is_id_number(id.expose())
    {
        errs.push(FieldError::new(
            "customer.id_number",
            "身份证号格式或校验位不正确",
            "the ID number is not a valid 18-character resident ID (check digit)",
        ));
    }
}

fn is_account(s: &str) -> bool {
    (6..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_mobile(s: &str) -> bool {
    s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit())
}

/// An 18-character resident ID number (GB 11643): 17 digits, a plausible birth date and the
/// ISO 7064 MOD 11-2 check character.
pub fn is_id_number(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let birth = &s[6..14];
    if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
        return false;
    }
    b[17].to_ascii_uppercase() == id_check_char(&b[..17])
}

/// The check character of the first 17 digits of an ID number.
pub fn id_check_char(first17: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.saturating_sub(b'0')) * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mask::{AccountNo, IdNumber, Phone};

    const SYSTEMS: &[&str] = &["trading", "account"];

    fn good() -> NewTicket {
        NewTicket {
            title: "委托下单提示资金不足".into(),
            description:
                "客户 310012345678 今天 10:05 买入 600519 提示“可用资金不足”，实际可用 5 万元"
                    .into(),
            system: "trading".into(),
            customer: Customer {
                account: Some(AccountNo::new("310012345678")),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn fields(r: Result<(), ValidationErrors>) -> Vec<String> {
        r.err()
            .map(|e| e.0.into_iter().map(|f| f.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_good_ticket_passes() {
        assert_eq!(new_ticket(&good(), SYSTEMS), Ok(()));
    }

    #[test]
    fn a_one_line_report_is_refused_with_what_handlers_need() {
        let t = NewTicket {
            description: "股票交易不了".into(),
            ..good()
        };
        let err = new_ticket(&t, SYSTEMS).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].field, "description");
        assert!(err.0[0].zh.contains("客户账号"), "{}", err.0[0].zh);
        assert!(err.0[0].en.contains("exact message"), "{}", err.0[0].en);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let t = NewTicket {
            title: " ".into(),
            description: "".into(),
            system: "nope".into(),
            customer: Customer::default(),
            ..Default::default()
        };
        assert_eq!(
            fields(new_ticket(&t, SYSTEMS)),
            ["title", "description", "system", "customer"]
        );
    }

    #[test]
    fn customer_fields_are_checked() {
        let cases: &[(Customer, &str)] = &[
            (
                Customer {
                    phone: Some(Phone::new("1381234")),
                    ..Default::default()
                },
                "customer.phone",
            ),
            (
                Customer {
                    account: Some(AccountNo::new("31a0")),
                    ..Default::default()
                },
                "customer.account",
            ),
            (
                Customer {
                    id_number: Some(IdNumber::new("310101199003071231")),
                    ..Default::default()
                },
                "customer.id_number",
            ),
            (
                Customer {
                    id_number: Some(IdNumber::new("310101199002301230")),
                    ..Default::default()
                },
                "customer.id_number",
            ),
        ];
        for (c, field) in cases {
            let t = NewTicket {
                customer: c.clone(),
                ..good()
            };
            assert_eq!(fields(new_ticket(&t, SYSTEMS)), [*field], "{c:?}");
        }
    }

    #[test]
    fn id_check_digits() {
        // 11010519491231002X is the standard's own worked example.
        assert!(is_id_number("11010519491231002X"));
        assert!(is_id_number("11010519491231002x"));
        assert!(!is_id_number("110105194912310021"));
        assert!(!is_id_number("11010519491231002"));
        assert!(!is_id_number("1101051949123100２X"));
    }

    #[test]
    fn lengths_count_characters() {
        let t = NewTicket {
            title: "开户失败".into(),
            ..good()
        };
        assert_eq!(new_ticket(&t, SYSTEMS), Ok(()));
        let t = NewTicket {
            title: "x".repeat(MAX_TITLE_CHARS + 1),
            ..good()
        };
        assert_eq!(fields(new_ticket(&t, SYSTEMS)), ["title"]);
    }
}
