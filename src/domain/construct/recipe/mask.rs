//! What a run records of requests and answers: the customer data a recipe's inputs hold
//! masked as opsdesk masks it everywhere (张**, 138****1234, a card's first 6 and last 4), and
//! secret inputs (passwords) hidden, wherever the values appear.

use std::fmt;

use serde_json::Value;

use super::Vars;
use super::inputs::{Generator, Input};
use crate::domain::mask::{CustomerName, IdNumber, Phone};

/// What a secret shows as.
pub const HIDDEN: &str = "******";

/// Masks one run's customer values in text and JSON.
#[derive(Clone, Default)]
pub struct Masker {
    /// (full value, masked form), longest first so a value containing another is replaced
    /// whole.
    known: Vec<(String, String)>,
}

// The full values must not reach a log through `{:?}`.
impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Masker({} values)", self.known.len())
    }
}

/// A card number with its first 6 (the BIN) and last 4 digits shown.
fn mask_card(card: &str) -> String {
    let chars: Vec<char> = card.chars().collect();
    let n = chars.len();
    if n <= 10 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { *c } else { '*' })
        .collect()
}

/// The values of an input as text (a list's elements one by one).
fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(items) => items.iter().flat_map(texts).collect(),
        _ => Vec::new(),
    }
}

impl Masker {
    pub(super) fn new(inputs: &[Input], vars: &Vars) -> Masker {
        let mut known: Vec<(String, String)> = Vec::new();
        for input in inputs {
            let Some(value) = vars.get(&input.name) else {
                continue;
            };
            let mask: fn(&str) -> String = if input.secret {
                |_| HIDDEN.to_string()
            } else {
                match input.role() {
                    Some(Generator::Name) => |v| CustomerName::new(v).masked(),
                    Some(Generator::IdNumber) => |v| IdNumber::new(v).masked(),
                    Some(Generator::Phone) => |v| Phone::new(v).masked(),
                    Some(Generator::BankCard) => mask_card,
                    _ => continue,
                }
            };
            for full in texts(value) {
                let full = full.trim().to_string();
                // A one-character value would star that character everywhere.
                if full.chars().count() < 2 {
                    continue;
                }
                let masked = mask(&full);
                known.push((full, masked));
            }
        }
        known.sort_by_key(|(full, _)| std::cmp::Reverse(full.len()));
        known.dedup_by(|a, b| a.0 == b.0);
        Masker { known }
    }

    /// `s` with every known value masked.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (full, masked) in &self.known {
            if out.contains(full.as_str()) {
                out = out.replace(full.as_str(), masked);
            }
        }
        out
    }

    /// `v` with every known value masked in its strings, and a number that is a known value
    /// (a phone sent as a number) replaced by its masked text.
    pub fn json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Number(n) => {
                let text = n.to_string();
                match self.known.iter().find(|(full, _)| *full == text) {
                    Some((_, masked)) => Value::String(masked.clone()),
                    None => v.clone(),
                }
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| self.json(i)).collect()),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), self.json(v)))
                    .collect(),
            ),
            Value::Null | Value::Bool(_) => v.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_show_their_bin_and_last_four() {
        assert_eq!(mask_card("6222021234567890123"), "622202*********0123");
        assert_eq!(mask_card("1234"), "****");
    }
}
