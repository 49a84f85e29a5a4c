//! The sandbox brokerage's business rules, pure: what a name, an ID number, a password, a
//! bank card and an amount must be, how the risk questionnaire scores, and what each trading
//! agreement asks of its customer. No IO and no clock: the day is a parameter.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::construct::generate::{CARD_BINS, DEPOSITORY_BANKS, luhn_ok};
use crate::domain::validate::is_id_number;

/// A business refusal: the call was understood and the system says no (HTTP 200, a code
/// other than "0", a message for the person at the counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

pub type Checked<T> = Result<T, Refusal>;

/// Age at which a person may open an account alone.
pub const ADULT_AGE: i32 = 18;

/// A customer name: 2–20 Chinese characters or Latin letters, with `·` between parts of a
/// transliterated name (阿卜杜·热合曼).
pub fn check_name(name: &str) -> Checked<()> {
    let bad = || {
        Refusal::new(
            "E_NAME",
            "姓名不合规：须为 2–20 个汉字或字母，少数民族或外文姓名可用“·”分隔",
        )
    };
    let count = name.chars().count();
    if !(2..=20).contains(&count) || name.starts_with('·') || name.ends_with('·') {
        return Err(bad());
    }
    if name.contains("··") {
        return Err(bad());
    }
    if name
        .chars()
        .all(|c| is_cjk(c) || c.is_ascii_alphabetic() || c == '·')
    {
        Ok(())
    } else {
        Err(bad())
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{3134F}')
}

/// A resident ID number of an adult on `today`: its format, date and check character, and
/// the holder's age. Answers the birth date.
pub fn check_id_number(id: &str, today: NaiveDate) -> Checked<NaiveDate> {
    if !is_id_number(id) {
        return Err(Refusal::new(
            "E_ID_CHECK",
            "证件号码校验失败：须为 18 位居民身份证号码，出生日期有效，末位校验码正确",
        ));
    }
    let born = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d")
        .map_err(|_| Refusal::new("E_ID_CHECK", "证件号码中的出生日期无效"))?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if born > today || born < earliest {
        return Err(Refusal::new("E_ID_CHECK", "证件号码中的出生日期不合理"));
    }
    if age_on(born, today) < ADULT_AGE {
        return Err(Refusal::new(
            "E_UNDERAGE",
            format!("客户未满 {ADULT_AGE} 周岁，不能自行开立证券账户"),
        ));
    }
    Ok(born)
}

/// Whole years from `born` to `today`.
pub fn age_on(born: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

/// A mainland mobile number.
pub fn check_phone(phone: &str) -> Checked<()> {
    let ok = phone.len() == 11
        && phone.starts_with('1')
        && phone.bytes().all(|b| b.is_ascii_digit())
        && phone.as_bytes()[1] >= b'3';
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(
            "E_PHONE",
            "手机号码不合规：须为 11 位大陆手机号码",
        ))
    }
}

/// A trading or fund password: six digits, not one digit six times, not a straight run up or
/// down (123456, 654321).
pub fn check_password(what: &str, password: &str) -> Checked<()> {
    let b = password.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return Err(Refusal::new("E_PASSWORD", format!("{what}须为 6 位数字")));
    }
    if b.iter().all(|&d| d == b[0]) {
        return Err(Refusal::new(
            "E_PASSWORD",
            format!("{what}过于简单：不能是 6 个相同的数字"),
        ));
    }
    let steps: Vec<i16> = b
        .windows(2)
        .map(|w| i16::from(w[1]) - i16::from(w[0]))
        .collect();
    if steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1) {
        return Err(Refusal::new(
            "E_PASSWORD",
            format!("{what}过于简单：不能是连续的数字"),
        ));
    }
    Ok(())
}

/// A customer's risk tolerance from the questionnaire, C1 (conservative) to C5 (aggressive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RiskLevel {
    C1,
    C2,
    C3,
    C4,
    C5,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 5] = [
        RiskLevel::C1,
        RiskLevel::C2,
        RiskLevel::C3,
        RiskLevel::C4,
        RiskLevel::C5,
    ];

    pub fn parse(s: &str) -> Option<RiskLevel> {
        RiskLevel::ALL.into_iter().find(|l| l.code() == s)
    }

    pub fn code(self) -> &'static str {
        match self {
            RiskLevel::C1 => "C1",
            RiskLevel::C2 => "C2",
            RiskLevel::C3 => "C3",
            RiskLevel::C4 => "C4",
            RiskLevel::C5 => "C5",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            RiskLevel::C1 => "保守型",
            RiskLevel::C2 => "谨慎型",
            RiskLevel::C3 => "稳健型",
            RiskLevel::C4 => "积极型",
            RiskLevel::C5 => "激进型",
        }
    }

    /// The level a questionnaire total (10–50) gives.
    pub fn from_score(score: u32) -> RiskLevel {
        match score {
            0..=17 => RiskLevel::C1,
            18..=25 => RiskLevel::C2,
            26..=33 => RiskLevel::C3,
            34..=41 => RiskLevel::C4,
            _ => RiskLevel::C5,
        }
    }

    /// The product risk ratings (R1–R5) a customer of this level may buy.
    pub fn products(self) -> Vec<String> {
        (1..=self as usize + 1).map(|r| format!("R{r}")).collect()
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One question of the risk questionnaire: options A–E score 1–5.
pub struct Question {
    pub text: &'static str,
    pub options: [&'static str; 5],
}

pub const QUESTIONS: [Question; 10] = [
    Question {
        text: "您的年龄处于哪个区间？",
        options: ["65 岁以上", "56–65 岁", "46–55 岁", "36–45 岁", "18–35 岁"],
    },
    Question {
        text: "您的家庭年收入（折合人民币）为？",
        options: [
            "10 万元以下",
            "10–30 万元",
            "30–50 万元",
            "50–100 万元",
            "100 万元以上",
        ],
    },
    Question {
        text: "您可用于证券投资的资产占家庭总资产的比例为？",
        options: ["10% 以下", "10%–25%", "25%–50%", "50%–70%", "70% 以上"],
    },
    Question {
        text: "您有多少年投资股票、基金、期货等风险资产的经验？",
        options: ["没有经验", "1 年以下", "1–3 年", "3–5 年", "5 年以上"],
    },
    Question {
        text: "您对金融产品及其风险的了解程度是？",
        options: [
            "几乎不了解",
            "了解很少",
            "一般了解",
            "比较了解",
            "非常了解，能独立判断",
        ],
    },
    Question {
        text: "您投资的主要目的是？",
        options: [
            "保本，确保资产不缩水",
            "获得稳定的利息收入",
            "资产稳健增长",
            "资产较快增长",
            "追求高收益，愿承担高风险",
        ],
    },
    Question {
        text: "您能承受的最大投资亏损是？",
        options: ["不能亏损", "5% 以内", "5%–15%", "15%–30%", "30% 以上"],
    },
    Question {
        text: "您计划的投资期限是？",
        options: ["1 年以内", "1–2 年", "2–3 年", "3–5 年", "5 年以上"],
    },
    Question {
        text: "您的收入来源是否稳定？",
        options: [
            "无固定收入",
            "收入不稳定",
            "收入一般稳定",
            "收入稳定",
            "收入稳定且持续增长",
        ],
    },
    Question {
        text: "您打算重点投资哪类产品？",
        options: [
            "存款、国债等",
            "债券、货币基金",
            "混合型基金、蓝筹股",
            "股票、股票型基金",
            "期货、期权、私募等高风险品种",
        ],
    },
];

/// Scores ten answers (each A–E); answers the total and the level.
pub fn score_answers(answers: &[String]) -> Checked<(u32, RiskLevel)> {
    let bad = || {
        Refusal::new(
            "E_RISK_ANSWERS",
            format!(
                "风险测评答案不完整：须回答全部 {} 题，每题为 A–E 之一",
                QUESTIONS.len()
            ),
        )
    };
    if answers.len() != QUESTIONS.len() {
        return Err(bad());
    }
    let mut total = 0;
    for a in answers {
        let points = match a.as_str() {
            "A" => 1,
            "B" => 2,
            "C" => 3,
            "D" => 4,
            "E" => 5,
            _ => return Err(bad()),
        };
        total += points;
    }
    Ok((total, RiskLevel::from_score(total)))
}

/// The trading permissions (交易权限协议) the trading system signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    Chinext,
    Star,
    RiskWarning,
    Delisting,
    Bond,
}

/// What an agreement asks of a customer: a risk level, years of experience, assets (cents).
pub struct Requirement {
    pub level: RiskLevel,
    pub years: u32,
    pub assets_cents: i64,
}

impl AgreementKind {
    pub const ALL: [AgreementKind; 5] = [
        AgreementKind::Chinext,
        AgreementKind::Star,
        AgreementKind::RiskWarning,
        AgreementKind::Delisting,
        AgreementKind::Bond,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AgreementKind::Chinext => "chinext",
            AgreementKind::Star => "star",
            AgreementKind::RiskWarning => "risk_warning",
            AgreementKind::Delisting => "delisting",
            AgreementKind::Bond => "bond",
        }
    }

    pub fn parse(s: &str) -> Option<AgreementKind> {
        AgreementKind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            AgreementKind::Chinext => "创业板交易权限",
            AgreementKind::Star => "科创板交易权限",
            AgreementKind::RiskWarning => "风险警示板交易权限",
            AgreementKind::Delisting => "退市整理板交易权限",
            AgreementKind::Bond => "债券合格投资者",
        }
    }

    pub fn requirement(self) -> Requirement {
        let (level, years, yuan) = match self {
            AgreementKind::Chinext => (RiskLevel::C4, 2, 100_000),
            AgreementKind::Star => (RiskLevel::C4, 2, 500_000),
            AgreementKind::RiskWarning => (RiskLevel::C3, 0, 0),
            AgreementKind::Delisting => (RiskLevel::C4, 0, 0),
            AgreementKind::Bond => (RiskLevel::C3, 0, 3_000_000),
        };
        Requirement {
            level,
            years,
            assets_cents: yuan * 100,
        }
    }
}

/// What a customer brings to an agreement.
pub struct Standing {
    pub level: Option<RiskLevel>,
    pub years: Option<u32>,
    pub assets_cents: i64,
}

/// Whether `standing` may sign `kind`; a refusal names every condition it misses.
pub fn check_agreement(kind: AgreementKind, standing: &Standing) -> Checked<()> {
    let need = kind.requirement();
    let mut missing = Vec::new();
    match standing.level {
        Some(l) if l >= need.level => {}
        Some(l) => missing.push(format!(
            "风险承受能力须为 {} 及以上（当前 {l} {}）",
            need.level,
            l.name_zh()
        )),
        None => missing.push(format!(
            "风险承受能力须为 {} 及以上（尚未完成风险测评确认）",
            need.level
        )),
    }
    if need.years > 0 {
        match standing.years {
            Some(y) if y >= need.years => {}
            Some(y) => missing.push(format!("证券交易经验须满 {} 年（当前 {y} 年）", need.years)),
            None => missing.push(format!(
                "证券交易经验须满 {} 年（尚未登记投资经验）",
                need.years
            )),
        }
    }
    if standing.assets_cents < need.assets_cents {
        missing.push(format!(
            "资产须不低于 {} 元（当前 {} 元）",
            format_amount(need.assets_cents),
            format_amount(standing.assets_cents)
        ));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Refusal::new(
            "E_NOT_ELIGIBLE",
            format!("不满足{}开通条件：{}", kind.name_zh(), missing.join("；")),
        ))
    }
}

/// The most an amount may be (ten billion yuan), in cents: far beyond any test account, far
/// below overflow.
pub const MAX_AMOUNT_CENTS: i64 = 1_000_000_000_000;

/// Reads an amount of yuan with at most two decimals ("500000.00", "12.5", "300") into cents.
pub fn parse_amount(text: &str) -> Option<i64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty()
        || whole.len() > 13
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let cents = whole.checked_mul(100)?.checked_add(frac)?;
    (cents <= MAX_AMOUNT_CENTS).then_some(cents)
}

/// Cents as yuan with two decimals: `50000000` → `"500000.00"`.
pub fn format_amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// The name of the bank a depository bank code stands for.
pub fn bank_name(code: &str) -> Option<&'static str> {
    DEPOSITORY_BANKS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// The BIN prefixes a bank's debit cards start with.
pub fn bank_bins(code: &str) -> Vec<&'static str> {
    let Some(name) = bank_name(code) else {
        return Vec::new();
    };
    CARD_BINS
        .iter()
        .filter(|(_, _, bank)| *bank == name)
        .map(|(bin, _, _)| *bin)
        .collect()
}

/// A debit card of bank `code`: digits, the Luhn check, and a BIN (and length) of that bank.
pub fn check_card(code: &str, card: &str) -> Checked<()> {
    let Some(name) = bank_name(code) else {
        return Err(Refusal::new(
            "E_BANK",
            "不支持的存管银行：请先查询银行列表（GET /banks）",
        ));
    };
    if !(12..=19).contains(&card.len()) || !luhn_ok(card) {
        return Err(Refusal::new(
            "E_CARD",
            "银行卡号校验失败：须为 12–19 位数字且校验位正确",
        ));
    }
    let ours = CARD_BINS
        .iter()
        .any(|(bin, len, bank)| *bank == name && card.starts_with(bin) && card.len() == *len);
    if ours {
        Ok(())
    } else {
        Err(Refusal::new(
            "E_CARD_BANK",
            format!("银行卡号与所选存管银行不符：该卡不是{name}的借记卡"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::id_check_char;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn id(first17: &str) -> String {
        format!("{first17}{}", char::from(id_check_char(first17.as_bytes())))
    }

    fn answers(s: &str) -> Vec<String> {
        s.chars().map(String::from).collect()
    }

    #[test]
    fn the_questionnaire_scores_into_five_bands() {
        for (a, total, level) in [
            ("AAAAAAAAAA", 10, RiskLevel::C1),
            ("BBBBBBBAAA", 17, RiskLevel::C1),
            ("BBBBBBBBAA", 18, RiskLevel::C2),
            ("BBBBBBBBBB", 20, RiskLevel::C2),
            ("CCCCCBBBBB", 25, RiskLevel::C2),
            ("CCCCCCBBBB", 26, RiskLevel::C3),
            ("CCCCCCCCCC", 30, RiskLevel::C3),
            ("DDDCCCCCCC", 33, RiskLevel::C3),
            ("DDDDCCCCCC", 34, RiskLevel::C4),
            ("DDDDDDDDDD", 40, RiskLevel::C4),
            ("EDDDDDDDDD", 41, RiskLevel::C4),
            ("EEDDDDDDDD", 42, RiskLevel::C5),
            ("EEEEEEEEEE", 50, RiskLevel::C5),
        ] {
            assert_eq!(score_answers(&answers(a)).unwrap(), (total, level), "{a}");
        }
        for bad in ["AAAAAAAAA", "AAAAAAAAAAA", "AAAAAAAAAF", "aaaaaaaaaa", ""] {
            assert_eq!(
                score_answers(&answers(bad)).unwrap_err().code,
                "E_RISK_ANSWERS",
                "{bad}"
            );
        }
        assert_eq!(RiskLevel::C3.products(), ["R1", "R2", "R3"]);
        assert!(RiskLevel::C4 > RiskLevel::C3);
    }

    #[test]
    fn passwords_are_six_digits_and_not_trivial() {
        for ok in ["135790", "112233", "902468", "123457", "000001", "987653"] {
            assert!(check_password("交易密码", ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("12345", "6 位数字"),
            ("1234567", "6 位数字"),
            ("12a456", "6 位数字"),
            ("１２３４５６", "6 位数字"),
            ("000000", "相同"),
            ("888888", "相同"),
            ("123456", "连续"),
            ("456789", "连续"),
            ("654321", "连续"),
            ("987654", "连续"),
        ] {
            let r = check_password("资金密码", bad).unwrap_err();
            assert_eq!(r.code, "E_PASSWORD");
            assert!(
                r.message.contains(says) && r.message.starts_with("资金密码"),
                "{bad}: {}",
                r.message
            );
        }
    }

    #[test]
    fn agreements_name_every_missing_condition() {
        let standing = |level, years, yuan: i64| Standing {
            level,
            years,
            assets_cents: yuan * 100,
        };
        let c4 = Some(RiskLevel::C4);
        let c3 = Some(RiskLevel::C3);
        assert!(check_agreement(AgreementKind::Chinext, &standing(c4, Some(2), 100_000)).is_ok());
        assert!(check_agreement(AgreementKind::Star, &standing(c4, Some(3), 500_000)).is_ok());
        assert!(check_agreement(AgreementKind::RiskWarning, &standing(c3, None, 0)).is_ok());
        assert!(check_agreement(AgreementKind::Delisting, &standing(c4, None, 0)).is_ok());
        assert!(check_agreement(AgreementKind::Bond, &standing(c3, None, 3_000_000)).is_ok());

        let r =
            check_agreement(AgreementKind::Chinext, &standing(c3, Some(3), 500_000)).unwrap_err();
        assert_eq!(r.code, "E_NOT_ELIGIBLE");
        assert!(
            r.message.contains("创业板")
                && r.message.contains("C4")
                && r.message.contains("当前 C3"),
            "{}",
            r.message
        );
        assert!(!r.message.contains("资产"), "{}", r.message);

        let r = check_agreement(AgreementKind::Star, &standing(c4, Some(1), 499_999)).unwrap_err();
        assert!(
            r.message.contains("科创板")
                && r.message.contains("500000.00")
                && r.message.contains("满 2 年"),
            "{}",
            r.message
        );
        assert!(!r.message.contains("风险承受"), "{}", r.message);

        let r = check_agreement(AgreementKind::Delisting, &standing(None, None, 0)).unwrap_err();
        assert!(r.message.contains("尚未完成风险测评"), "{}", r.message);
        let r = check_agreement(
            AgreementKind::Bond,
            &standing(Some(RiskLevel::C5), None, 10),
        )
        .unwrap_err();
        assert!(r.message.contains("3000000.00"), "{}", r.message);
        let r = check_agreement(
            AgreementKind::RiskWarning,
            &standing(Some(RiskLevel::C2), None, 0),
        )
        .unwrap_err();
        assert!(r.message.contains("C3"), "{}", r.message);
    }

    #[test]
    fn names_ids_and_phones() {
        for ok in ["张三", "欧阳娜娜", "阿卜杜·热合曼", "Li", "王Anna"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "张",
            "张 三",
            "·张三",
            "张三·",
            "张··三",
            "<b>x</b>",
            "张3",
            &"张".repeat(21),
        ] {
            assert_eq!(check_name(bad).unwrap_err().code, "E_NAME", "{bad}");
        }
        let today = day("2026-12-07");
        assert_eq!(
            check_id_number("11010519491231002X", today).unwrap(),
            day("1949-12-31")
        );
        assert_eq!(
            check_id_number("110105194912310021", today)
                .unwrap_err()
                .code,
            "E_ID_CHECK"
        );
        assert_eq!(
            check_id_number("11010519491231002", today)
                .unwrap_err()
                .code,
            "E_ID_CHECK"
        );
        // Eighteen on the day itself is adult; a day short is not.
        assert!(check_id_number(&id("11010520081207123"), today).is_ok());
        assert_eq!(
            check_id_number(&id("11010520081208123"), today)
                .unwrap_err()
                .code,
            "E_UNDERAGE"
        );
        assert_eq!(
            check_id_number(&id("11010520301208123"), today)
                .unwrap_err()
                .code,
            "E_ID_CHECK"
        );
        assert!(check_phone("13812341234").is_ok());
        for bad in ["12812341234", "1381234123", "138123412345", "1381234123a"] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_and_cards() {
        assert_eq!(parse_amount("500000.00"), Some(50_000_000));
        assert_eq!(parse_amount("12.5"), Some(1250));
        assert_eq!(parse_amount("300"), Some(30_000));
        assert_eq!(parse_amount("0.01"), Some(1));
        for bad in [
            "",
            ".5",
            "5.",
            "1.234",
            "-1",
            "1e5",
            "abc",
            "10000000000.01",
            "99999999999999",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
        assert_eq!(format_amount(50_000_000), "500000.00");
        assert_eq!(format_amount(5), "0.05");

        let body = "622202000000000000";
        let card = format!(
            "{body}{}",
            crate::domain::construct::generate::luhn_digit(body)
        );
        assert!(check_card("ICBC", &card).is_ok());
        assert_eq!(check_card("CMB", &card).unwrap_err().code, "E_CARD_BANK");
        assert_eq!(check_card("XYZ", &card).unwrap_err().code, "E_BANK");
        let mut broken = card.clone();
        broken.pop();
        broken.push(if card.ends_with('0') { '1' } else { '0' });
        assert_eq!(check_card("ICBC", &broken).unwrap_err().code, "E_CARD");
        assert_eq!(bank_bins("CMB"), ["622588", "621483"]);
        for (code, _) in DEPOSITORY_BANKS {
            assert!(!bank_bins(code).is_empty(), "{code} has BINs");
        }
    }
}
