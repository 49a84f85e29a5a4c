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

/// A way to name the customer: handlers look logs and data up by one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identifier {
    Account,
    Phone,
    IdNumber,
}

impl Identifier {
    /// Every identifier: what the API, the import and the CLI can carry.
    pub const ALL: [Identifier; 3] = [Identifier::Account, Identifier::Phone, Identifier::IdNumber];

    /// The name it goes by on the wire, in configuration and in SQL placeholders
    /// (`:account`): `account`, `phone`, `id_number`.
    pub fn field(self) -> &'static str {
        match self {
            Identifier::Account => "account",
            Identifier::Phone => "phone",
            Identifier::IdNumber => "id_number",
        }
    }

    /// The identifier [`Identifier::field`] names.
    pub fn from_field(field: &str) -> Option<Identifier> {
        Identifier::ALL.into_iter().find(|i| i.field() == field)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Identifier::Account => "资金账号",
            Identifier::Phone => "手机号",
            Identifier::IdNumber => "身份证号",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Identifier::Account => "account",
            Identifier::Phone => "phone",
            Identifier::IdNumber => "ID number",
        }
    }
}

/// "A、B或C" / "A, B or C": the identifiers a refusal asks for.
fn one_of(ids: &[Identifier], word: fn(Identifier) -> &'static str, sep: &str, or: &str) -> String {
    let words: Vec<&str> = ids.iter().map(|i| word(*i)).collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{}{or}{last}", rest.join(sep)),
    }
}

/// A number as typed, without its separators, full-width digits and letters made ASCII.
fn compact_number(s: &str) -> String {
    s.chars()
        .filter(|c| !super::rules::is_number_separator(*c))
        .map(|c| match c {
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '＋' => '+',
            _ => c,
        })
        .collect()
}

/// A mobile number as typed ("138 1234 5678", "138-1234-5678", "+86 138 1234 5678") as its
/// 11 digits; anything else is left for validation to refuse.
fn normalize_phone(s: &str) -> String {
    let n = compact_number(s);
    for prefix in ["+86", "0086", "86"] {
        if let Some(rest) = n.strip_prefix(prefix)
            && is_mobile(rest)
        {
            return rest.to_string();
        }
    }
    n
}

/// A new ticket with its customer numbers as validation and matching expect them: spaces and
/// dashes taken out of account, phone and ID numbers, full-width digits made ASCII, a +86
/// dropped from a mobile number, an ID number's check letter upper-case. Every channel (API,
/// import, CLI, the pages) goes through this before [`new_ticket`], so they agree on what is
/// the same customer. A value that was only separators is no value.
pub fn normalized(mut t: NewTicket) -> NewTicket {
    use super::mask::{AccountNo, IdNumber, Phone};
    let c = &mut t.customer;
    c.account = c
        .account
        .take()
        .map(|a| compact_number(a.expose()))
        .filter(|a| !a.is_empty())
        .map(AccountNo::new);
    c.phone = c
        .phone
        .take()
        .map(|p| normalize_phone(p.expose()))
        .filter(|p| !p.is_empty())
        .map(Phone::new);
    c.id_number = c
        .id_number
        .take()
        .map(|i| compact_number(i.expose()).to_ascii_uppercase())
        .filter(|i| !i.is_empty())
        .map(IdNumber::new);
    t
}

/// Checks a new ticket against the configured systems. Returns every problem, not the first.
pub fn new_ticket(t: &NewTicket, systems: &[&str]) -> Result<(), ValidationErrors> {
    new_ticket_offering(t, systems, &Identifier::ALL)
}

/// [`new_ticket`] for an input that offers only some identifiers (the MSS form has no ID
/// number field): a missing customer is asked for by the fields there are.
pub fn new_ticket_offering(
    t: &NewTicket,
    systems: &[&str],
    offered: &[Identifier],
) -> Result<(), ValidationErrors> {
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
    } else if !systems.contains(&t.system.as_str()) {
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

    // A monitor's incident is about every customer its alert lists, not one of them.
    let needs_customer = t.channel != Some(Channel::Monitor);
    customer(&t.customer, offered, needs_customer, &mut errs);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errs))
    }
}

fn customer(c: &Customer, offered: &[Identifier], required: bool, errs: &mut Vec<FieldError>) {
    if required && !c.has_identifier() {
        let (zh, en) = match offered {
            [one] => (
                format!("请填写客户的{}，以便查询日志", one.zh()),
                format!("the customer's {} is required", one.en()),
            ),
            _ => (
                format!(
                    "请至少填写客户的{}之一，以便查询日志",
                    one_of(offered, Identifier::zh, "、", "或")
                ),
                format!(
                    "at least one customer identifier is required: {}",
                    one_of(offered, Identifier::en, ", ", " or ")
                ),
            ),
        };
        errs.push(FieldError::new("customer", zh, en));
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
    fn a_missing_customer_is_asked_for_by_the_fields_the_input_has() {
        let t = NewTicket {
            customer: Customer::default(),
            ..good()
        };
        let cases: &[(&[Identifier], &str, &str)] = &[
            (
                &Identifier::ALL,
                "请至少填写客户的资金账号、手机号或身份证号之一，以便查询日志",
                "at least one customer identifier is required: account, phone or ID number",
            ),
            (
                &[Identifier::Account, Identifier::Phone],
                "请至少填写客户的资金账号或手机号之一，以便查询日志",
                "at least one customer identifier is required: account or phone",
            ),
            (
                &[Identifier::Phone],
                "请填写客户的手机号，以便查询日志",
                "the customer's phone is required",
            ),
        ];
        for (offered, zh, en) in cases {
            let err = new_ticket_offering(&t, SYSTEMS, offered).unwrap_err();
            assert_eq!(err.0.len(), 1);
            assert_eq!((err.0[0].zh.as_str(), err.0[0].en.as_str()), (*zh, *en));
        }
    }

    #[test]
    fn numbers_are_taken_as_people_type_them() {
        let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
            // account as typed, phone as typed, ID as typed → as stored
            (
                "3100 1234 5678",
                "138 1234 5678",
                "110105 19491231 002x",
                "310012345678",
                "13812345678",
                "11010519491231002X",
            ),
            (
                "3100-1234-5678",
                "138-1234-5678",
                "11010519491231002X",
                "310012345678",
                "13812345678",
                "11010519491231002X",
            ),
            (
                "３１００１２３４５６７８",
                "+86 138 1234 5678",
                "110105-19491231-002X",
                "310012345678",
                "13812345678",
                "11010519491231002X",
            ),
            (
                "310012345678",
                "0086-13812345678",
                "11010519491231002X",
                "310012345678",
                "13812345678",
                "11010519491231002X",
            ),
            (
                " 310012345678\u{3000}",
                "138\u{2014}1234\u{2014}5678",
                "11010519491231002X",
                "310012345678",
                "13812345678",
                "11010519491231002X",
            ),
        ];
        for (account, phone, id, want_account, want_phone, want_id) in cases {
            let t = normalized(NewTicket {
                customer: Customer {
                    account: Some(AccountNo::new(account)),
                    phone: Some(Phone::new(phone)),
                    id_number: Some(IdNumber::new(id)),
                    ..Default::default()
                },
                ..good()
            });
            let c = &t.customer;
            assert_eq!(
                c.account.as_ref().unwrap().expose(),
                *want_account,
                "{account}"
            );
            assert_eq!(c.phone.as_ref().unwrap().expose(), *want_phone, "{phone}");
            assert_eq!(c.id_number.as_ref().unwrap().expose(), *want_id, "{id}");
            assert_eq!(new_ticket(&t, SYSTEMS), Ok(()), "{account} {phone} {id}");
        }
        // What is still wrong stays wrong; a value of separators alone is no value.
        let t = normalized(NewTicket {
            customer: Customer {
                account: Some(AccountNo::new("3100 12ab")),
                phone: Some(Phone::new(" - ")),
                ..Default::default()
            },
            ..good()
        });
        assert_eq!(t.customer.phone, None);
        assert_eq!(fields(new_ticket(&t, SYSTEMS)), ["customer.account"]);
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

    /// The description's patterns accept exactly what the validators accept: for every string
    /// over an alphabet of digits (half- and full-width), separators, whitespace the languages
    /// disagree on, `+`, `X` and letters, the pattern matches if and only if the field is
    /// accepted (absent or valid). The ID number's date and check character are stated in
    /// words, so its pattern is held to the shape only.
    mod described {
        use super::super::*;
        use crate::domain::rules;
        use proptest::prelude::*;

        const NUMBER_CHARS: &[char] = &[
            '0', '1', '1', '3', '6', '8', '8', '9', '\u{ff10}', '\u{ff11}', '\u{ff16}', '\u{ff18}',
            ' ', '\n', '-', '\u{2013}', '\u{3000}', '+', '\u{ff0b}', 'x', 'X', '\u{ff58}', 'a',
            '\u{85}', '\u{1c}', '\u{feff}', '字',
        ];
        const TEXT_CHARS: &[char] = &[
            ' ', '\n', '\t', '\u{3000}', '\u{85}', '\u{a0}', '\u{1c}', '\u{feff}', '\u{200b}', 'a',
            '字',
        ];

        fn typed(chars: &'static [char], most: usize) -> impl Strategy<Value = String> {
            prop::collection::vec(prop::sample::select(chars), 0..most)
                .prop_map(|cs| cs.into_iter().collect())
        }

        /// A valid number with separators and full-width digits sprinkled in.
        fn dressed(digits: &'static str) -> impl Strategy<Value = String> {
            prop::collection::vec((0..4usize, any::<bool>()), digits.len()).prop_map(move |how| {
                digits
                    .chars()
                    .zip(how)
                    .map(|(d, (sep, wide))| {
                        let d = if wide {
                            char::from_u32(d as u32 + 0xFEE0).unwrap_or(d)
                        } else {
                            d
                        };
                        format!("{d}{}", [" ", "", "-", "\u{3000}"][sep])
                    })
                    .collect()
            })
        }

        fn pattern(p: &str) -> regex::Regex {
            regex::Regex::new(p).unwrap()
        }

        fn number_ok(n: String, valid: fn(&str) -> bool) -> bool {
            n.is_empty() || valid(&n)
        }

        fn id_shape(s: &str) -> bool {
            let b = s.as_bytes();
            b.len() == 18
                && b[..17].iter().all(u8::is_ascii_digit)
                && (b[17].is_ascii_digit() || b[17] == b'X')
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            #[test]
            fn account(s in prop_oneof![typed(NUMBER_CHARS, 24), dressed("310012345678"), dressed("12345")]) {
                prop_assert_eq!(
                    pattern(&rules::account()).is_match(&s),
                    number_ok(compact_number(&s), is_account),
                    "{:?}", s
                );
            }

            #[test]
            fn phone(s in prop_oneof![
                typed(NUMBER_CHARS, 20),
                dressed("13812345678"),
                dressed("8613812345678"),
                dressed("008613812345678"),
                dressed("86123456789"),
                Just("+86 138 1234 5678".to_string()),
                Just("＋86 138-1234-5678".to_string()),
                Just("+13812345678".to_string()),
            ]) {
                prop_assert_eq!(
                    pattern(&rules::phone()).is_match(&s),
                    number_ok(normalize_phone(&s), is_mobile),
                    "{:?}", s
                );
            }

            #[test]
            fn id_number(s in prop_oneof![
                typed(NUMBER_CHARS, 22),
                dressed("110105194912310021"),
                dressed("11010519491231002"),
                Just("11010519491231002x".to_string()),
                Just("1101 0519 4912 3100 2Ｘ".to_string()),
            ]) {
                prop_assert_eq!(
                    pattern(&rules::id_number()).is_match(&s),
                    number_ok(compact_number(&s).to_ascii_uppercase(), id_shape),
                    "{:?}", s
                );
            }

            #[test]
            fn texts(s in typed(TEXT_CHARS, 9), (min, max) in prop_oneof![
                Just((0usize, Some(3usize))), Just((1, Some(3))), Just((1, Some(1))), Just((0, Some(1))),
                Just((2, Some(5))), Just((4, Some(4))), Just((1, None)), Just((3, None)),
            ]) {
                let n = s.trim().chars().count();
                prop_assert_eq!(
                    pattern(&rules::text(min, max)).is_match(&s),
                    n >= min && max.is_none_or(|m| n <= m),
                    "{:?} {}..{:?}", s, min, max
                );
            }
        }
    }
}
