//! Customer data that must not leak: phone, ID number, account and name.
//!
//! Each field is a newtype whose `Debug` and `Display` print only the masked form, so a stray
//! `tracing` field, a `{:?}` in an error or a list view can never show the full value. The full
//! value is reachable only through `expose()`, which the handler's detail view and storage use.
//! Serde carries the full value (storage and the audited reveal need it); views that leave the
//! handler's detail go through `Customer::masked()`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::validate::Identifier;

/// Replace every character but the first `head` and last `tail` with `*`. Short values are
/// masked whole but for their last character, so a masked value never equals the original.
fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = if n > head + tail {
        (head, tail)
    } else {
        (0, usize::from(n > 1))
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

macro_rules! masked_newtype {
    ($(#[$meta:meta])* $name:ident, $mask:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value, trimming surrounding whitespace.
            pub fn new(value: impl AsRef<str>) -> Self {
                Self(value.as_ref().trim().to_string())
            }

            /// The full value, for storage and the handler's audited detail view only.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The masked form, as lists, logs and notifications show it.
            pub fn masked(&self) -> String {
                let mask: fn(&str) -> String = $mask;
                mask(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.masked())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.masked())
            }
        }
    };
}

masked_newtype!(
    /// A mobile number: `138****1234`.
    Phone,
    |v| mask_middle(v, 3, 4)
);

masked_newtype!(
    /// A resident ID number (居民身份证号): first 3 and last 4 shown.
    IdNumber,
    |v| mask_middle(v, 3, 4)
);

masked_newtype!(
    /// A brokerage fund account (资金账号): first 4 and last 4 shown.
    AccountNo,
    |v| mask_middle(v, 4, 4)
);

masked_newtype!(
    /// A customer's name: the family name shown, the rest starred (张**).
    CustomerName,
    |v| mask_middle(v, 1, 0)
);

/// Digit runs at least this long are treated as an account, phone or ID number.
pub const MIN_SECRET_DIGITS: usize = 7;

/// Masks customer data inside free text.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// (full value, masked form), longest first so a value containing another is replaced whole.
    known: Vec<(String, String)>,
}

impl Redactor {
    /// A redactor that also knows this ticket's own customer values.
    pub fn for_customer(c: &super::ticket::Customer) -> Self {
        let mut known: Vec<(String, String)> = [
            c.name
                .as_ref()
                .map(|v| (v.expose().to_string(), v.masked())),
            c.account
                .as_ref()
                .map(|v| (v.expose().to_string(), v.masked())),
            c.phone
                .as_ref()
                .map(|v| (v.expose().to_string(), v.masked())),
            c.id_number
                .as_ref()
                .map(|v| (v.expose().to_string(), v.masked())),
        ]
        .into_iter()
        .flatten()
        // A one-character name would star that character everywhere in the text.
        .filter(|(full, _)| full.chars().count() >= 2)
        .collect();
        known.sort_by_key(|(full, _)| std::cmp::Reverse(full.len()));
        Self { known }
    }

    /// `text` with the known customer values and every long digit run masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (full, masked) in &self.known {
            if out.contains(full.as_str()) {
                out = out.replace(full.as_str(), masked);
            }
        }
        mask_long_numbers(&out)
    }
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Masks every run of [`MIN_SECRET_DIGITS`] or more digits (ASCII or full-width), with an ID
/// number's trailing X, as ID numbers are masked: the first 3 and last 4 characters kept.
/// Dates written as 20240315 are masked too; a notice is better for it than a leak.
pub fn mask_long_numbers(text: &str) -> String {
    mask_long_numbers_as(text, |run| IdNumber::new(run).masked())
}

/// Every run [`mask_long_numbers`] masks, masked by `mask` instead: as the kind of value a
/// column is known to hold (an account key `330180414122-沪A`).
pub fn mask_long_numbers_as(text: &str, mask: impl Fn(&str) -> String) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_digit(chars[i]) {
            i += 1;
        }
        if i < chars.len() && matches!(chars[i], 'X' | 'x') {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let digits = chars[start..i].iter().filter(|c| is_digit(**c)).count();
        if digits >= MIN_SECRET_DIGITS {
            out.push_str(&mask(&run));
        } else {
            out.push_str(&run);
        }
    }
    out
}

/// What a customer column shows when its value is not the kind of value it should hold: a
/// stray value could be anything, so none of it is shown.
pub const MASKED_WHOLE: &str = "****";

/// How a column of customer data is masked: a data source's `mask`, a monitor's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskAs {
    Name,
    Account,
    Phone,
    IdNumber,
}

impl MaskAs {
    pub const WORDS: [(&'static str, MaskAs); 4] = [
        ("name", MaskAs::Name),
        ("account", MaskAs::Account),
        ("phone", MaskAs::Phone),
        ("id_number", MaskAs::IdNumber),
    ];

    pub fn parse(word: &str) -> Option<MaskAs> {
        MaskAs::WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, m)| *m)
    }

    /// How the value a lookup is keyed by is masked where it shows (an error message).
    pub fn of(id: Identifier) -> MaskAs {
        match id {
            Identifier::Account => MaskAs::Account,
            Identifier::Phone => MaskAs::Phone,
            Identifier::IdNumber => MaskAs::IdNumber,
        }
    }

    /// `value` as lists show it: the domain type's masked form when it is that kind of
    /// value, [`MASKED_WHOLE`] when it is not.
    pub fn apply(self, value: &str) -> String {
        let v = value.trim();
        if v.is_empty() {
            return String::new();
        }
        if !self.fits(v) {
            return MASKED_WHOLE.into();
        }
        match self {
            MaskAs::Name => CustomerName::new(v).masked(),
            MaskAs::Account => AccountNo::new(v).masked(),
            MaskAs::Phone => Phone::new(v).masked(),
            MaskAs::IdNumber => IdNumber::new(v).masked(),
        }
    }

    /// Whether `v` has the shape of this kind of value (as tickets take it; an ID number's
    /// check character is not asked for: a database may hold old or mistyped ones, and their
    /// masked form hides them as well).
    fn fits(self, v: &str) -> bool {
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match self {
            MaskAs::Name => {
                v.chars().count() <= 64 && !v.chars().any(|c| c.is_ascii_digit() || c.is_control())
            }
            MaskAs::Account => (6..=20).contains(&v.len()) && digits(v),
            MaskAs::Phone => v.len() == 11 && v.starts_with('1') && digits(v),
            MaskAs::IdNumber => {
                // 18 characters (the last a digit or X), or the old 15-digit form.
                (v.len() == 15 && digits(v))
                    || (v.len() == 18
                        && digits(&v[..17])
                        && matches!(v.as_bytes()[17], b'0'..=b'9' | b'X' | b'x'))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_in_text_are_masked_short_ones_kept() {
        let masked = mask_long_numbers("客户 310012345678 买入 600519 失败");
        assert_eq!(
            masked,
            format!(
                "客户 {} 买入 600519 失败",
                IdNumber::new("310012345678").masked()
            )
        );
        assert!(!masked.contains("310012345678"));
        assert!(!mask_long_numbers("手机13812341234").contains("13812341234"));
        assert_eq!(mask_long_numbers("9:30 开盘"), "9:30 开盘");
    }

    #[test]
    fn masks_as_the_contract_says() {
        let cases: &[(&str, String, &str)] = &[
            (
                "phone",
                Phone::new("13812341234").to_string(),
                "138****1234",
            ),
            (
                "id",
                IdNumber::new("31010119900307123X").to_string(),
                "310***********123X",
            ),
            (
                "account",
                AccountNo::new("310012345678").to_string(),
                "3100****5678",
            ),
            ("name", CustomerName::new("张三丰").to_string(), "张**"),
            ("short account", AccountNo::new("1234").to_string(), "***4"),
            ("one char", CustomerName::new("张").to_string(), "*"),
            ("empty", Phone::new("").to_string(), ""),
        ];
        for (what, got, want) in cases {
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn debug_never_shows_the_full_value() {
        let phone = Phone::new("13812341234");
        let shown = format!("{phone:?} {phone}");
        assert!(!shown.contains("13812341234"), "{shown}");
        assert_eq!(phone.expose(), "13812341234");
    }

    #[test]
    fn serde_keeps_the_full_value_for_storage() {
        let id = IdNumber::new(" 31010119900307123X ");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"31010119900307123X\""
        );
    }

    #[test]
    fn mask_counts_characters_not_bytes() {
        assert_eq!(mask_middle("欧阳娜娜", 1, 0), "欧***");
    }
}
