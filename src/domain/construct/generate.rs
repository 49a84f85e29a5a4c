//! Test identities for UAT accounts that the business systems accept as real: resident ID
//! numbers (a real administrative-division code, a birth date that exists, the ISO 7064
//! MOD 11-2 check character), plausible Chinese names, mainland mobile numbers on carriers'
//! prefixes and bank card numbers on banks' BIN prefixes with a valid Luhn digit.
//!
//! Pure: randomness comes from a [`Draw`] the caller seeds (a fixed seed repeats a batch), and
//! a batch's values are unique.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};

use crate::domain::validate::id_check_char;

/// County-level administrative divisions (GB/T 2260) an ID number can be issued in.
pub const DIVISIONS: &[(&str, &str)] = &[
    ("110101", "北京市东城区"),
    ("110102", "北京市西城区"),
    ("110105", "北京市朝阳区"),
    ("110108", "北京市海淀区"),
    ("120101", "天津市和平区"),
    ("130102", "石家庄市长安区"),
    ("140105", "太原市小店区"),
    ("150102", "呼和浩特市新城区"),
    ("210102", "沈阳市和平区"),
    ("220102", "长春市南关区"),
    ("230102", "哈尔滨市道里区"),
    ("310101", "上海市黄浦区"),
    ("310104", "上海市徐汇区"),
    ("310115", "上海市浦东新区"),
    ("320102", "南京市玄武区"),
    ("330106", "杭州市西湖区"),
    ("340102", "合肥市瑶海区"),
    ("350203", "厦门市思明区"),
    ("360102", "南昌市东湖区"),
    ("370102", "济南市历下区"),
    ("370202", "青岛市市南区"),
    ("410105", "郑州市金水区"),
    ("420106", "武汉市武昌区"),
    ("430102", "长沙市芙蓉区"),
    ("440104", "广州市越秀区"),
    ("440106", "广州市天河区"),
    ("440303", "深圳市罗湖区"),
    ("440304", "深圳市福田区"),
    ("440305", "深圳市南山区"),
    ("450102", "南宁市兴宁区"),
    ("460105", "海口市秀英区"),
    ("500103", "重庆市渝中区"),
    ("510104", "成都市锦江区"),
    ("510107", "成都市武侯区"),
    ("520102", "贵阳市南明区"),
    ("530102", "昆明市五华区"),
    ("610103", "西安市碑林区"),
    ("620102", "兰州市城关区"),
];

/// Mainland mobile prefixes by carrier (China Mobile, China Unicom, China Telecom).
pub const MOBILE_PREFIXES: &[&str] = &[
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159",
    "178", "182", "183", "184", "187", "188", "195", "198", // China Mobile
    "130", "131", "132", "145", "155", "156", "166", "175", "176", "185", "186",
    "196", // Unicom
    "133", "149", "153", "173", "177", "180", "181", "189", "190", "191", "193",
    "199", // Telecom
];

/// Debit-card BIN prefixes: (prefix, card length, bank).
pub const CARD_BINS: &[(&str, usize, &str)] = &[
    ("622202", 19, "工商银行"),
    ("621226", 19, "工商银行"),
    ("622848", 19, "农业银行"),
    ("621700", 19, "建设银行"),
    ("621661", 19, "中国银行"),
    ("622262", 19, "交通银行"),
    ("622588", 16, "招商银行"),
    ("621483", 16, "招商银行"),
];

/// Depository banks (三方存管银行) by the code the depository system knows them by, with the
/// bank name [`CARD_BINS`] uses, so a card can be drawn on the bound bank's BINs.
pub const DEPOSITORY_BANKS: &[(&str, &str)] = &[
    ("ICBC", "工商银行"),
    ("ABC", "农业银行"),
    ("CCB", "建设银行"),
    ("BOC", "中国银行"),
    ("BOCOM", "交通银行"),
    ("CMB", "招商银行"),
];

/// Risk levels of the suitability questionnaire (适当性), from the most cautious.
pub const RISK_LEVELS: &[&str] = &["C1", "C2", "C3", "C4", "C5"];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "文", "玉", "兰", "建", "国", "晨", "宇", "欣",
    "怡", "浩", "然", "子", "轩", "梓", "涵", "博", "思", "雨", "嘉", "俊", "婷",
];

/// A seeded source of numbers (splitmix64: small, fast, and the same batch from the same seed).
#[derive(Debug, Clone)]
pub struct Draw(u64);

impl Draw {
    pub fn new(seed: u64) -> Draw {
        Draw(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    IdNumber,
    Name,
    Phone,
    BankCard,
}

/// What narrows an ID number: its division and the span its holder was born in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdSpec {
    pub region: Option<String>,
    pub born: (NaiveDate, NaiveDate),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("'{0}' is not a division code opsdesk knows (6 digits, e.g. 440305 深圳市南山区)")]
    Region(String),
    #[error("the birth range {0} – {1} is empty or outside 1900 to today")]
    Born(NaiveDate, NaiveDate),
    #[error("only {made} distinct values fit these constraints, not {asked}")]
    TooFew { made: usize, asked: usize },
}

impl IdSpec {
    /// Adults of 20 to 60 on `today`, anywhere.
    pub fn adults(today: NaiveDate) -> IdSpec {
        let years_ago = |y: i32| {
            today
                .with_year(today.year() - y)
                .unwrap_or(today - Duration::days(365 * y as i64))
        };
        IdSpec {
            region: None,
            born: (years_ago(60), years_ago(20)),
        }
    }

    /// Refuses a region not in [`DIVISIONS`] and a birth range that is empty or not in
    /// 1900..=`today`.
    pub fn check(&self, today: NaiveDate) -> Result<(), GenerateError> {
        if let Some(r) = &self.region
            && !DIVISIONS.iter().any(|(code, _)| code == r)
        {
            return Err(GenerateError::Region(r.chars().take(20).collect()));
        }
        let (from, to) = self.born;
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a day");
        if from > to || from < earliest || to > today {
            return Err(GenerateError::Born(from, to));
        }
        Ok(())
    }
}

/// The Luhn check digit of `body` (the card number without its last digit).
pub fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Whether a whole card number passes the Luhn check.
pub fn luhn_ok(card: &str) -> bool {
    card.len() >= 2
        && card.bytes().all(|b| b.is_ascii_digit())
        && card.ends_with(luhn_digit(&card[..card.len() - 1]))
}

fn id_number(draw: &mut Draw, spec: &IdSpec) -> String {
    let region = match &spec.region {
        Some(r) => r.clone(),
        None => draw.pick(DIVISIONS).0.to_string(),
    };
    let (from, to) = spec.born;
    let span = (to - from).num_days().max(0) as u64 + 1;
    let born = from + Duration::days(draw.below(span) as i64);
    let first17 = format!("{region}{}{}", born.format("%Y%m%d"), draw.digits(3));
    let check = char::from(id_check_char(first17.as_bytes()));
    format!("{first17}{check}")
}

fn name(draw: &mut Draw) -> String {
    let mut out = draw.pick(SURNAMES).to_string();
    for _ in 0..1 + draw.below(2) {
        let given: &&str = draw.pick(GIVEN);
        out.push_str(given);
    }
    out
}

fn phone(draw: &mut Draw) -> String {
    format!("{}{}", draw.pick(MOBILE_PREFIXES), draw.digits(8))
}

fn bank_card(draw: &mut Draw) -> String {
    bank_card_of(draw, None)
}

/// A Luhn-valid card number on a BIN of `bank` (a code of [`DEPOSITORY_BANKS`]); on any bank's
/// BIN when `bank` is `None` or a code opsdesk does not know (a UAT system may know more banks).
pub fn bank_card_of(draw: &mut Draw, bank: Option<&str>) -> String {
    let name = bank.and_then(|code| {
        DEPOSITORY_BANKS
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, name)| *name)
    });
    let bins: Vec<&(&str, usize, &str)> = CARD_BINS
        .iter()
        .filter(|(_, _, b)| name.is_none_or(|n| n == *b))
        .collect();
    let (bin, len, _) = if bins.is_empty() {
        draw.pick(CARD_BINS)
    } else {
        *draw.pick(&bins)
    };
    let body = format!("{bin}{}", draw.digits(len - bin.len() - 1));
    let check = luhn_digit(&body);
    format!("{body}{check}")
}

/// A depository bank code of [`DEPOSITORY_BANKS`].
pub fn depository_bank(draw: &mut Draw) -> &'static str {
    draw.pick(DEPOSITORY_BANKS).0
}

/// A risk level, C1 to C5.
pub fn risk_level(draw: &mut Draw) -> &'static str {
    RISK_LEVELS[draw.below(RISK_LEVELS.len() as u64) as usize]
}

/// Available funds in yuan: a round amount (whole ten thousands) from 50,000 to 2,000,000.
pub fn funds(draw: &mut Draw) -> u64 {
    (5 + draw.below(196)) * 10_000
}

/// A withdrawable amount: a round part (whole hundreds) of `funds`, from a tenth to all of it.
pub fn withdrawable(draw: &mut Draw, funds: f64) -> f64 {
    if !funds.is_finite() || funds <= 0.0 {
        return 0.0;
    }
    let share = (10 + draw.below(91)) as f64 / 100.0;
    let part = ((funds * share) / 100.0).floor() * 100.0;
    part.min(funds)
}

/// A six-digit trading password the systems' weak-password rules accept: no digit twice in a
/// row and not a straight run (123456, 654321).
pub fn password(draw: &mut Draw) -> String {
    loop {
        let mut digits: Vec<u8> = Vec::with_capacity(6);
        while digits.len() < 6 {
            let d = draw.below(10) as u8;
            if digits.last() != Some(&d) {
                digits.push(d);
            }
        }
        let step = |up: bool| {
            digits.windows(2).all(|w| {
                if up {
                    w[1] == w[0] + 1
                } else {
                    w[0] == w[1] + 1
                }
            })
        };
        if !step(true) && !step(false) {
            return digits.iter().map(|d| char::from(b'0' + d)).collect();
        }
    }
}

/// Whether a password is one [`password`] could have made.
pub fn password_ok(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() == 6
        && b.iter().all(u8::is_ascii_digit)
        && b.windows(2).all(|w| w[0] != w[1])
        && !b.windows(2).all(|w| w[1] == w[0] + 1)
        && !b.windows(2).all(|w| w[0] == w[1] + 1)
}

/// A non-empty part of `choices`, in their order (the agreements a customer signs).
pub fn some_of(draw: &mut Draw, choices: &[String]) -> Vec<String> {
    if choices.is_empty() {
        return Vec::new();
    }
    loop {
        let picked: Vec<String> = choices
            .iter()
            .filter(|_| draw.below(2) == 1)
            .cloned()
            .collect();
        if !picked.is_empty() {
            return picked;
        }
    }
}

/// A name as [`generate`] draws them (surname and one or two given characters).
pub fn person_name(draw: &mut Draw) -> String {
    name(draw)
}

/// A mainland mobile number on a carrier's prefix.
pub fn mobile(draw: &mut Draw) -> String {
    phone(draw)
}

/// A resident ID number within `spec`.
pub fn id_number_in(draw: &mut Draw, spec: &IdSpec) -> String {
    id_number(draw, spec)
}

/// `count` distinct values of `kind`, none of them in `taken` (values made before, such as
/// accounts already constructed).
pub fn generate(
    kind: Kind,
    count: usize,
    spec: &IdSpec,
    taken: &HashSet<String>,
    draw: &mut Draw,
) -> Result<Vec<String>, GenerateError> {
    let mut seen: HashSet<String> = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    // Repeats are drawn again, within a budget: constraints that leave too few values end
    // with an error rather than a loop.
    let mut budget = count.saturating_mul(20).max(1_000);
    while out.len() < count && budget > 0 {
        budget -= 1;
        let value = match kind {
            Kind::IdNumber => id_number(draw, spec),
            Kind::Name => name(draw),
            Kind::Phone => phone(draw),
            Kind::BankCard => bank_card(draw),
        };
        if !taken.contains(&value) && seen.insert(value.clone()) {
            out.push(value);
        }
    }
    if out.len() < count {
        return Err(GenerateError::TooFew {
            made: out.len(),
            asked: count,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::is_id_number;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn id_numbers_keep_every_official_rule() {
        let today = day("2026-12-07");
        let spec = IdSpec::adults(today);
        let ids = generate(
            Kind::IdNumber,
            5_000,
            &spec,
            &HashSet::new(),
            &mut Draw::new(7),
        )
        .unwrap();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5_000, "unique");
        for id in &ids {
            assert!(is_id_number(id), "{id}");
            assert!(DIVISIONS.iter().any(|(c, _)| *c == &id[..6]), "{id}");
            let born = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").unwrap();
            assert!(spec.born.0 <= born && born <= spec.born.1, "{id}");
        }
        // A region and a birth range narrow them.
        let narrow = IdSpec {
            region: Some("440305".into()),
            born: (day("1990-01-01"), day("1990-12-31")),
        };
        for id in generate(
            Kind::IdNumber,
            500,
            &narrow,
            &HashSet::new(),
            &mut Draw::new(1),
        )
        .unwrap()
        {
            assert!(id.starts_with("4403051990"), "{id}");
        }
    }

    #[test]
    fn the_check_character_is_iso_7064_mod_11_2() {
        // The standard's worked example (GB 11643-1999).
        assert_eq!(id_check_char(b"11010519491231002"), b'X');
        assert!(is_id_number("11010519491231002X"));
    }

    #[test]
    fn cards_pass_luhn_on_real_bins_and_phones_use_carrier_prefixes() {
        assert_eq!(luhn_digit("7992739871"), '3');
        assert!(luhn_ok("79927398713") && !luhn_ok("79927398714"));
        let cards = generate(
            Kind::BankCard,
            5_000,
            &IdSpec::adults(day("2026-12-07")),
            &HashSet::new(),
            &mut Draw::new(3),
        )
        .unwrap();
        for c in &cards {
            let (_, len, _) = CARD_BINS
                .iter()
                .find(|(bin, _, _)| c.starts_with(bin))
                .expect("a known BIN");
            assert_eq!(c.len(), *len, "{c}");
            assert!(luhn_ok(c), "{c}");
        }
        let phones = generate(
            Kind::Phone,
            5_000,
            &IdSpec::adults(day("2026-12-07")),
            &HashSet::new(),
            &mut Draw::new(4),
        )
        .unwrap();
        for p in &phones {
            assert_eq!(p.len(), 11, "{p}");
            assert!(MOBILE_PREFIXES.contains(&&p[..3]), "{p}");
        }
    }

    #[test]
    fn names_look_like_names_and_batches_repeat_from_a_seed() {
        let spec = IdSpec::adults(day("2026-12-07"));
        let names = generate(Kind::Name, 200, &spec, &HashSet::new(), &mut Draw::new(9)).unwrap();
        for n in &names {
            let chars = n.chars().count();
            assert!((2..=4).contains(&chars), "{n}");
        }
        let again = generate(Kind::Name, 200, &spec, &HashSet::new(), &mut Draw::new(9)).unwrap();
        assert_eq!(names, again);
    }

    #[test]
    fn cards_of_a_bank_use_its_bins_and_the_small_generators_keep_their_rules() {
        let mut draw = Draw::new(11);
        for _ in 0..500 {
            let card = bank_card_of(&mut draw, Some("CMB"));
            assert!(
                card.starts_with("622588") || card.starts_with("621483"),
                "{card}"
            );
            assert!(luhn_ok(&card), "{card}");
            let any = bank_card_of(&mut draw, Some("NOPE"));
            assert!(luhn_ok(&any), "{any}");
            let f = funds(&mut draw);
            assert!(
                (50_000..=2_000_000).contains(&f) && f.is_multiple_of(10_000),
                "{f}"
            );
            let w = withdrawable(&mut draw, f as f64);
            assert!(w >= 0.0 && w <= f as f64 && w % 100.0 == 0.0, "{w} of {f}");
            let p = password(&mut draw);
            assert!(password_ok(&p), "{p}");
            assert!(RISK_LEVELS.contains(&risk_level(&mut draw)));
            let code = depository_bank(&mut draw);
            assert!(DEPOSITORY_BANKS.iter().any(|(c, _)| *c == code));
        }
        assert!(!password_ok("123456") && !password_ok("112233") && !password_ok("12345"));
        let choices: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        for _ in 0..100 {
            let part = some_of(&mut draw, &choices);
            assert!(!part.is_empty() && part.iter().all(|p| choices.contains(p)));
        }
        assert!(some_of(&mut draw, &[]).is_empty());
    }

    #[test]
    fn what_cannot_be_made_is_said() {
        let today = day("2026-12-07");
        let bad_region = IdSpec {
            region: Some("999999".into()),
            born: (day("1990-01-01"), day("1990-01-01")),
        };
        assert!(matches!(
            bad_region.check(today),
            Err(GenerateError::Region(_))
        ));
        let backwards = IdSpec {
            region: None,
            born: (day("1990-01-02"), day("1990-01-01")),
        };
        assert!(matches!(
            backwards.check(today),
            Err(GenerateError::Born(..))
        ));
        // One region and one day hold 1,000 sequence numbers at most.
        let one_day = IdSpec {
            region: Some("110101".into()),
            born: (day("1990-01-01"), day("1990-01-01")),
        };
        let too_many = generate(
            Kind::IdNumber,
            1_001,
            &one_day,
            &HashSet::new(),
            &mut Draw::new(5),
        );
        assert!(matches!(
            too_many,
            Err(GenerateError::TooFew { asked: 1_001, .. })
        ));
        // Values already taken are not made again.
        let first = generate(
            Kind::Phone,
            10,
            &one_day,
            &HashSet::new(),
            &mut Draw::new(6),
        )
        .unwrap();
        let taken: HashSet<String> = first.iter().cloned().collect();
        let next = generate(Kind::Phone, 10, &one_day, &taken, &mut Draw::new(6)).unwrap();
        assert!(next.iter().all(|p| !taken.contains(p)));
    }
}
