//! A recipe's inputs: their kinds and generators, and filling them for one account from what
//! was typed, the defaults and the generators, with the checks the business systems would
//! make (a real ID number of an adult, a mobile number, a Luhn-valid card, …) done first, so a
//! run does not stop halfway on a typo.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::{Months, NaiveDate};
use serde_json::Value;

use super::{Location, Vars};
use crate::domain::construct::generate::{self, Draw, IdSpec, RISK_LEVELS};
use crate::domain::validate::is_id_number;

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    String,
    Integer,
    Decimal,
    Bool,
    List,
}

impl InputKind {
    pub const NAMES: &'static str = "string, integer, decimal, bool, list";

    pub fn parse(s: &str) -> Option<InputKind> {
        Some(match s {
            "string" => InputKind::String,
            "integer" => InputKind::Integer,
            "decimal" => InputKind::Decimal,
            "bool" => InputKind::Bool,
            "list" => InputKind::List,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::String => "string",
            InputKind::Integer => "integer",
            InputKind::Decimal => "decimal",
            InputKind::Bool => "bool",
            InputKind::List => "list",
        }
    }
}

/// How an input's value can be drawn when nothing is given. It also says what kind of
/// customer data the input holds, which decides its checks and its mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generator {
    Name,
    IdNumber,
    Phone,
    BankCard,
    Funds,
    Withdrawable,
    RiskLevel,
    DepositoryBank,
    Agreements,
    Password,
}

impl Generator {
    pub const ALL: [Generator; 10] = [
        Generator::Name,
        Generator::IdNumber,
        Generator::Phone,
        Generator::BankCard,
        Generator::Funds,
        Generator::Withdrawable,
        Generator::RiskLevel,
        Generator::DepositoryBank,
        Generator::Agreements,
        Generator::Password,
    ];

    pub fn parse(s: &str) -> Option<Generator> {
        Generator::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Generator::Name => "name",
            Generator::IdNumber => "id_number",
            Generator::Phone => "phone",
            Generator::BankCard => "bank_card",
            Generator::Funds => "funds",
            Generator::Withdrawable => "withdrawable",
            Generator::RiskLevel => "risk_level",
            Generator::DepositoryBank => "depository_bank",
            Generator::Agreements => "agreements",
            Generator::Password => "password",
        }
    }

    /// Whether the generator's values fit an input of `kind`.
    pub fn fits(self, kind: InputKind) -> bool {
        match self {
            Generator::Funds | Generator::Withdrawable => {
                matches!(kind, InputKind::Decimal | InputKind::Integer)
            }
            Generator::Agreements => kind == InputKind::List,
            _ => kind == InputKind::String,
        }
    }

    /// The kinds the generator fits, for messages.
    pub fn kinds(self) -> &'static str {
        match self {
            Generator::Funds | Generator::Withdrawable => "decimal or integer",
            Generator::Agreements => "list",
            _ => "string",
        }
    }

    /// Identities a batch must not repeat.
    fn is_identity(self) -> bool {
        matches!(
            self,
            Generator::Name | Generator::IdNumber | Generator::Phone | Generator::BankCard
        )
    }
}

impl fmt::Display for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One input of a recipe.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub label: Option<String>,
    pub kind: InputKind,
    /// As the recipe wrote it (a list's default is an array).
    pub default: Option<Value>,
    pub generate: Option<Generator>,
    pub choices: Vec<String>,
    pub required: bool,
    pub secret: bool,
    pub at: Location,
}

impl Input {
    /// What customer data the input holds: its generator, else the generator its name is
    /// (an input called `id_number` is an ID number) when that fits its kind.
    pub fn role(&self) -> Option<Generator> {
        self.generate.or_else(|| {
            Generator::parse(&self.name).filter(|g| g.fits(self.kind) && self.choices.is_empty())
        })
    }

    /// The input's default as a value of its kind, or why it is not one.
    pub fn default_value(&self) -> Option<Result<Value, String>> {
        let d = self.default.as_ref()?;
        Some(from_default(self.kind, d).and_then(|v| {
            in_choices(&self.choices, &v)?;
            Ok(v)
        }))
    }
}

/// A problem with one input's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub input: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

impl std::error::Error for FieldError {}

fn field_error(input: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        input: input.to_string(),
        message: message.into(),
    }
}

/// Text from a user, short enough to quote.
pub(crate) fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).flat_map(char::escape_debug).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// A value of `kind` from text as typed (not empty).
pub(crate) fn parse_text(kind: InputKind, text: &str) -> Result<Value, String> {
    let t = text.trim();
    match kind {
        InputKind::String => Ok(Value::String(t.to_string())),
        InputKind::Integer => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{}` is not a whole number", shown(t))),
        InputKind::Decimal => parse_decimal(t).map(decimal_value),
        InputKind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "on" | "是" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" | "off" | "否" => Ok(Value::Bool(false)),
            _ => Err(format!("`{}` is not true or false", shown(t))),
        },
        InputKind::List => Ok(Value::Array(
            t.split([',', '，'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
    }
}

/// An amount: digits with at most two decimal places, not negative.
fn parse_decimal(t: &str) -> Result<f64, String> {
    if t.starts_with('-') {
        return Err(format!(
            "`{}` is negative; an amount is 0 or more",
            shown(t)
        ));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(whole) && (!t.contains('.') || (digits(frac) && frac.len() <= 2));
    if !ok {
        return Err(format!(
            "`{}` is not an amount (digits with at most 2 decimal places)",
            shown(t)
        ));
    }
    // Past 15 digits an f64 no longer holds every cent.
    if whole.trim_start_matches('0').len() > 13 {
        return Err(format!("`{}` is too large an amount", shown(t)));
    }
    t.parse::<f64>()
        .map_err(|_| format!("`{}` is not an amount", shown(t)))
}

/// An amount as the systems take money: text with two decimal places (`"500000.00"`), never a
/// binary fraction.
fn decimal_value(f: f64) -> Value {
    Value::String(format!("{f:.2}"))
}

/// An amount's value, written as text (`"500000.00"`) or as a number.
pub(crate) fn amount(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        other => other.as_f64(),
    }
}

/// A recipe's default (TOML turned JSON) as a value of `kind`.
pub(crate) fn from_default(kind: InputKind, d: &Value) -> Result<Value, String> {
    match (kind, d) {
        (InputKind::List, Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(Value::String(s.clone())),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err("a list's default holds strings".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (InputKind::Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (InputKind::Decimal, Value::Number(n)) => n
            .as_f64()
            .filter(|f| *f >= 0.0)
            .map(decimal_value)
            .ok_or_else(|| format!("`{n}` is not an amount of 0 or more")),
        (_, Value::String(s)) => parse_text(kind, s),
        (InputKind::String | InputKind::Integer, Value::Number(n)) => {
            parse_text(kind, &n.to_string())
        }
        (_, other) => Err(format!(
            "a {} input's default cannot be {}",
            kind.as_str(),
            json_type(other)
        )),
    }
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

fn in_choices(choices: &[String], v: &Value) -> Result<(), String> {
    if choices.is_empty() {
        return Ok(());
    }
    let allowed = |s: &str| choices.iter().any(|c| c == s);
    let bad: Vec<&str> = match v {
        Value::String(s) if !allowed(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !allowed(s))
            .collect(),
        _ => Vec::new(),
    };
    match bad.first() {
        None => Ok(()),
        Some(first) => Err(format!(
            "`{}` is not one of: {}",
            shown(first),
            choices.join(", ")
        )),
    }
}

fn empty(kind: InputKind) -> Value {
    match kind {
        InputKind::String => Value::String(String::new()),
        InputKind::List => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

/// A name the systems accept: 2 to 20 Chinese characters or letters, `·` between parts.
pub fn is_person_name(s: &str) -> bool {
    let n = s.chars().count();
    (2..=20).contains(&n) && s.chars().all(|c| c.is_alphabetic() || c == '·')
}

/// An 11-digit mainland mobile number.
pub fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// Whether the holder of a valid ID number is 18 or older on `today`.
fn is_adult(id: &str, today: NaiveDate) -> bool {
    id.get(6..14)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .and_then(|born| born.checked_add_months(Months::new(18 * 12)))
        .is_some_and(|eighteen| eighteen <= today)
}

/// The checks an input's role makes of a value (the cross-input one, withdrawable within
/// funds, is made by [`fill`]).
fn check_role(role: Generator, v: &Value, today: NaiveDate) -> Result<(), String> {
    if matches!(role, Generator::Funds | Generator::Withdrawable)
        && amount(v).is_some_and(|n| n < 0.0)
    {
        return Err("an amount is 0 or more".into());
    }
    let Some(s) = v.as_str() else {
        return Ok(());
    };
    if s.is_empty() {
        return Ok(());
    }
    match role {
        Generator::Name if !is_person_name(s) => {
            Err("a name is 2 to 20 Chinese characters or letters (· allowed)".into())
        }
        Generator::IdNumber if !is_id_number(s) => Err(
            "not a resident ID number (18 characters: a division, a real birth date, the check character)"
                .into(),
        ),
        Generator::IdNumber if !is_adult(s, today) => {
            Err(format!("the holder is under 18 on {today}"))
        }
        Generator::Phone if !is_mobile(s) => Err("not an 11-digit mainland mobile number".into()),
        Generator::BankCard if !(12..=19).contains(&s.len()) || !generate::luhn_ok(s) => {
            Err("not a bank card number (12 to 19 digits passing the Luhn check)".into())
        }
        Generator::RiskLevel if !RISK_LEVELS.contains(&s) => {
            Err(format!("`{}` is not a risk level (C1 to C5)", shown(s)))
        }
        _ => Ok(()),
    }
}

/// How many draws may find a value not yet taken before giving up.
const DRAWS: usize = 1_000;

/// What a generator draws, or why it could not.
fn draw_value(
    input: &Input,
    role: Generator,
    vars: &Vars,
    inputs: &[Input],
    draw: &mut Draw,
    free: &dyn Fn(&str) -> bool,
    today: NaiveDate,
) -> Result<Value, String> {
    let of_role = |g: Generator| {
        inputs
            .iter()
            .find(|i| i.role() == Some(g))
            .and_then(|i| vars.get(&i.name))
    };
    let number = |f: f64| match input.kind {
        InputKind::Integer => Value::from(f as i64),
        _ => decimal_value(f),
    };
    let identity = |draw: &mut Draw, make: &dyn Fn(&mut Draw) -> String| {
        (0..DRAWS)
            .map(|_| make(draw))
            .find(|v| free(v))
            .map(Value::String)
            .ok_or_else(|| format!("could not draw a {role} not already taken"))
    };
    Ok(match role {
        Generator::Name => return identity(draw, &generate::person_name),
        Generator::Phone => return identity(draw, &generate::mobile),
        Generator::IdNumber => {
            let spec = IdSpec::adults(today);
            return identity(draw, &|d| generate::id_number_in(d, &spec));
        }
        Generator::BankCard => {
            let bank = of_role(Generator::DepositoryBank).and_then(Value::as_str);
            return identity(draw, &|d| generate::bank_card_of(d, bank));
        }
        Generator::Funds => number(generate::funds(draw) as f64),
        Generator::Withdrawable => {
            let funds = of_role(Generator::Funds)
                .and_then(amount)
                .ok_or("there is no funds value to draw a part of")?;
            number(generate::withdrawable(draw, funds))
        }
        Generator::RiskLevel => Value::from(generate::risk_level(draw)),
        Generator::DepositoryBank => Value::from(generate::depository_bank(draw)),
        Generator::Password => Value::from(generate::password(draw)),
        Generator::Agreements => Value::Array(
            generate::some_of(draw, &input.choices)
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
    })
}

/// Fills `inputs` (see [`super::Recipe::fill_inputs`]).
pub(crate) fn fill(
    inputs: &[Input],
    given: &BTreeMap<String, String>,
    draw: &mut Draw,
    taken: &HashSet<String>,
    today: NaiveDate,
) -> Result<Vars, Vec<FieldError>> {
    let mut errors = Vec::new();
    for key in given.keys() {
        if !inputs.iter().any(|i| &i.name == key) {
            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            errors.push(field_error(
                key,
                format!(
                    "the recipe has no such input (it has: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut vars = Vars::new();
    let mut pending = Vec::new();
    for input in inputs {
        // A blank field is nothing set: forms send every field, filled or not.
        let typed = given
            .get(&input.name)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty());
        let value = match (typed, input.default_value(), input.generate) {
            (Some(t), _, _) => parse_text(input.kind, t).and_then(|v| {
                in_choices(&input.choices, &v)?;
                Ok(v)
            }),
            (None, Some(default), _) => default,
            (None, None, Some(g)) => {
                pending.push((input, g));
                continue;
            }
            (None, None, None) if input.required => Err("is required".to_string()),
            (None, None, None) => Ok(empty(input.kind)),
        };
        match value {
            Ok(v) => {
                vars.insert(input.name.clone(), v);
            }
            Err(e) => errors.push(field_error(&input.name, e)),
        }
    }
    generate_pending(inputs, pending, &mut vars, &mut errors, draw, taken, today);
    check_values(inputs, &vars, &mut errors, today);
    if errors.is_empty() {
        Ok(vars)
    } else {
        Err(errors)
    }
}

/// Draws the inputs nothing filled; a card after its bank, withdrawable after funds.
fn generate_pending(
    inputs: &[Input],
    mut pending: Vec<(&Input, Generator)>,
    vars: &mut Vars,
    errors: &mut Vec<FieldError>,
    draw: &mut Draw,
    taken: &HashSet<String>,
    today: NaiveDate,
) {
    pending.sort_by_key(|(_, g)| matches!(g, Generator::BankCard | Generator::Withdrawable));
    // `taken` may hold a long history of accounts: it is consulted, not copied.
    let mut seen: HashSet<String> = vars
        .values()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    for (input, g) in pending {
        let free = |v: &str| !taken.contains(v) && !seen.contains(v);
        match draw_value(input, g, vars, inputs, draw, &free, today) {
            Ok(v) => {
                if g.is_identity()
                    && let Some(s) = v.as_str()
                {
                    seen.insert(s.to_string());
                }
                vars.insert(input.name.clone(), v);
            }
            Err(e) => errors.push(field_error(&input.name, e)),
        }
    }
}

/// The role checks of every filled value, and withdrawable within funds.
fn check_values(inputs: &[Input], vars: &Vars, errors: &mut Vec<FieldError>, today: NaiveDate) {
    let funds = inputs
        .iter()
        .find(|i| i.role() == Some(Generator::Funds))
        .and_then(|i| vars.get(&i.name))
        .and_then(amount);
    for input in inputs {
        let (Some(role), Some(v)) = (input.role(), vars.get(&input.name)) else {
            continue;
        };
        if let Err(e) = check_role(role, v, today) {
            errors.push(field_error(&input.name, e));
        }
        if role == Generator::Withdrawable
            && let (Some(w), Some(f)) = (amount(v), funds)
            && w > f
        {
            errors.push(field_error(
                &input.name,
                format!("{w:.2} is more than the funds, {f:.2}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_the_input_kind() {
        assert_eq!(parse_text(InputKind::Integer, " 42 "), Ok(Value::from(42)));
        assert!(parse_text(InputKind::Integer, "4.2").is_err());
        assert_eq!(
            parse_text(InputKind::Decimal, "500000.00"),
            Ok(serde_json::json!("500000.00"))
        );
        assert_eq!(
            parse_text(InputKind::Decimal, "0.5"),
            Ok(serde_json::json!("0.50"))
        );
        for bad in ["1.234", "-1", "1.", ".5", "1e5", "abc", "99999999999999999"] {
            assert!(parse_text(InputKind::Decimal, bad).is_err(), "{bad}");
        }
        assert_eq!(parse_text(InputKind::Bool, "是"), Ok(Value::Bool(true)));
        assert!(parse_text(InputKind::Bool, "maybe").is_err());
        assert_eq!(
            parse_text(InputKind::List, "a, b，,c"),
            Ok(serde_json::json!(["a", "b", "c"]))
        );
    }

    #[test]
    fn names_phones_and_adults() {
        assert!(is_person_name("张三") && is_person_name("阿依古丽·买买提"));
        assert!(is_person_name("John"));
        assert!(!is_person_name("张") && !is_person_name("张3") && !is_person_name("张 三"));
        assert!(is_mobile("13812345678") && !is_mobile("12812345678") && !is_mobile("1381234567"));
        let today: NaiveDate = "2026-03-01".parse().unwrap();
        assert!(is_adult("11010520080301002X", today));
        assert!(!is_adult("110105200803020020", today));
    }
}
