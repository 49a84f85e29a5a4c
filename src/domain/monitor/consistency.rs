//! The consistency check between two systems keyed by the same id (the account system's
//! shareholder cards against the trading system's after the day's clearing files): rows
//! missing on either side, and fields that differ, every mismatched record listed.
//!
//! Both sides are read as streams sorted by key and merged, so two tables of a million rows
//! each are compared holding one row of each: memory does not grow with the tables. Keys are
//! compared as bytes; a source whose database sorts otherwise (a PostgreSQL locale collation)
//! must order by its key as bytes (`ORDER BY key COLLATE "C"`), and a side that is not sorted
//! is refused with the row where it went back, never compared wrongly.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// One row of a side: its key and the compared fields' values, in the check's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub key: String,
    pub values: Vec<Option<String>>,
}

/// A record the two systems disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// In the right-hand system only.
    MissingLeft { key: String },
    /// In the left-hand system only.
    MissingRight { key: String },
    /// In both, with these fields different: (field, left value, right value).
    Differs {
        key: String,
        fields: Vec<(String, Option<String>, Option<String>)>,
    },
}

impl Mismatch {
    pub fn key(&self) -> &str {
        match self {
            Mismatch::MissingLeft { key }
            | Mismatch::MissingRight { key }
            | Mismatch::Differs { key, .. } => key,
        }
    }
}

/// What a comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub left_rows: u64,
    pub right_rows: u64,
    /// Every mismatch, up to the check's cap, in key order.
    pub mismatches: Vec<Mismatch>,
    /// All mismatches found, listed or not.
    pub total: u64,
}

impl Comparison {
    pub fn consistent(&self) -> bool {
        self.total == 0
    }

    /// Mismatches found beyond those listed.
    pub fn unlisted(&self) -> u64 {
        self.total - self.mismatches.len() as u64
    }
}

/// Which side a problem is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Left,
    Right,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompareError<E> {
    /// A side's rows are not in ascending key order: the comparison would be wrong.
    #[error(
        "the {side:?} side is not sorted by key: row {row} has key '{key}' after '{previous}' (order it by the key as bytes, e.g. COLLATE \"C\")"
    )]
    Unsorted {
        side: Side,
        row: u64,
        key: String,
        previous: String,
    },
    /// A key appears twice on one side: the check's key does not identify a record.
    #[error(
        "the {side:?} side has key '{key}' twice (row {row}); the key must identify one record"
    )]
    Duplicate { side: Side, row: u64, key: String },
    /// A row's values do not match the check's fields.
    #[error("the {side:?} side's row {row} has {got} values for {want} fields")]
    Shape {
        side: Side,
        row: u64,
        got: usize,
        want: usize,
    },
    /// Reading a side failed.
    #[error("reading the {side:?} side: {error}")]
    Read { side: Side, error: E },
}

/// One side being read: its rows, how many so far, and the last key, to check the order.
struct Reader<I> {
    rows: I,
    side: Side,
    count: u64,
    last: Option<String>,
    width: usize,
}

impl<I, E> Reader<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    fn next(&mut self) -> Result<Option<Record>, CompareError<E>> {
        let Some(row) = self.rows.next() else {
            return Ok(None);
        };
        let side = self.side;
        let record = row.map_err(|error| CompareError::Read { side, error })?;
        self.count += 1;
        if record.values.len() != self.width {
            return Err(CompareError::Shape {
                side,
                row: self.count,
                got: record.values.len(),
                want: self.width,
            });
        }
        if let Some(previous) = &self.last {
            match record.key.as_bytes().cmp(previous.as_bytes()) {
                Ordering::Less => {
                    return Err(CompareError::Unsorted {
                        side,
                        row: self.count,
                        key: record.key,
                        previous: previous.clone(),
                    });
                }
                Ordering::Equal => {
                    return Err(CompareError::Duplicate {
                        side,
                        row: self.count,
                        key: record.key,
                    });
                }
                Ordering::Greater => {}
            }
        }
        self.last = Some(record.key.clone());
        Ok(Some(record))
    }
}

/// Compares two sides sorted by key, field by field (`fields` names the values of each row in
/// order), listing at most `keep` mismatches and counting them all.
pub fn compare<L, R, E>(
    left: L,
    right: R,
    fields: &[String],
    keep: usize,
) -> Result<Comparison, CompareError<E>>
where
    L: IntoIterator<Item = Result<Record, E>>,
    R: IntoIterator<Item = Result<Record, E>>,
{
    let width = fields.len();
    let mut l = Reader {
        rows: left.into_iter(),
        side: Side::Left,
        count: 0,
        last: None,
        width,
    };
    let mut r = Reader {
        rows: right.into_iter(),
        side: Side::Right,
        count: 0,
        last: None,
        width,
    };
    let mut found = Comparison::default();
    let note = |m: Mismatch, found: &mut Comparison| {
        found.total += 1;
        if found.mismatches.len() < keep {
            found.mismatches.push(m);
        }
    };
    let (mut a, mut b) = (l.next()?, r.next()?);
    loop {
        match (a.take(), b.take()) {
            (None, None) => break,
            (Some(x), None) => {
                note(Mismatch::MissingRight { key: x.key }, &mut found);
                a = l.next()?;
            }
            (None, Some(y)) => {
                note(Mismatch::MissingLeft { key: y.key }, &mut found);
                b = r.next()?;
            }
            (Some(x), Some(y)) => match x.key.as_bytes().cmp(y.key.as_bytes()) {
                Ordering::Less => {
                    note(Mismatch::MissingRight { key: x.key }, &mut found);
                    a = l.next()?;
                    b = Some(y);
                }
                Ordering::Greater => {
                    note(Mismatch::MissingLeft { key: y.key }, &mut found);
                    a = Some(x);
                    b = r.next()?;
                }
                Ordering::Equal => {
                    let differ: Vec<(String, Option<String>, Option<String>)> = fields
                        .iter()
                        .zip(x.values.into_iter().zip(y.values))
                        .filter(|(_, (u, v))| u != v)
                        .map(|(f, (u, v))| (f.clone(), u, v))
                        .collect();
                    if !differ.is_empty() {
                        note(
                            Mismatch::Differs {
                                key: x.key,
                                fields: differ,
                            },
                            &mut found,
                        );
                    }
                    a = l.next()?;
                    b = r.next()?;
                }
            },
        }
    }
    found.left_rows = l.count;
    found.right_rows = r.count;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<Result<Record, String>>;

    fn rows(items: &[(&str, &str)]) -> Rows {
        items
            .iter()
            .map(|(k, v)| {
                Ok(Record {
                    key: k.to_string(),
                    values: vec![Some(v.to_string())],
                })
            })
            .collect()
    }

    fn status() -> Vec<String> {
        vec!["status".to_string()]
    }

    #[test]
    fn missing_and_differing_records_are_listed_in_key_order() {
        let left = rows(&[
            ("A1", "正常"),
            ("A2", "正常"),
            ("A4", "冻结"),
            ("A5", "正常"),
        ]);
        let right = rows(&[
            ("A1", "正常"),
            ("A3", "正常"),
            ("A4", "正常"),
            ("A5", "正常"),
        ]);
        let c = compare(left, right, &status(), 100).unwrap();
        assert_eq!((c.left_rows, c.right_rows, c.total), (4, 4, 3));
        assert_eq!(
            c.mismatches,
            vec![
                Mismatch::MissingRight { key: "A2".into() },
                Mismatch::MissingLeft { key: "A3".into() },
                Mismatch::Differs {
                    key: "A4".into(),
                    fields: vec![("status".into(), Some("冻结".into()), Some("正常".into()))],
                },
            ]
        );
        assert!(!c.consistent());
    }

    #[test]
    fn equal_sides_are_consistent_and_either_side_may_be_empty() {
        let same = rows(&[("1", "a"), ("2", "b")]);
        let c = compare(same.clone(), same.clone(), &status(), 10).unwrap();
        assert!(c.consistent());
        let c = compare(Rows::new(), same.clone(), &status(), 10).unwrap();
        assert_eq!(c.total, 2);
        assert!(
            c.mismatches
                .iter()
                .all(|m| matches!(m, Mismatch::MissingLeft { .. }))
        );
        let c = compare(same, Rows::new(), &status(), 10).unwrap();
        assert!(
            c.mismatches
                .iter()
                .all(|m| matches!(m, Mismatch::MissingRight { .. }))
        );
    }

    #[test]
    fn the_list_is_capped_and_the_count_is_not() {
        let left: Rows = (0..1000)
            .map(|i| {
                Ok(Record {
                    key: format!("{i:06}"),
                    values: vec![Some("x".into())],
                })
            })
            .collect();
        let c = compare(left, Rows::new(), &status(), 10).unwrap();
        assert_eq!((c.mismatches.len(), c.total, c.unlisted()), (10, 1000, 990));
    }

    #[test]
    fn unsorted_duplicate_misshapen_and_failing_sides_are_refused() {
        let e = compare(rows(&[("B", "x"), ("A", "x")]), Rows::new(), &status(), 10).unwrap_err();
        assert!(
            matches!(
                e,
                CompareError::Unsorted {
                    side: Side::Left,
                    row: 2,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("COLLATE"));
        let e = compare(Rows::new(), rows(&[("A", "x"), ("A", "y")]), &status(), 10).unwrap_err();
        assert!(matches!(
            e,
            CompareError::Duplicate {
                side: Side::Right,
                row: 2,
                ..
            }
        ));
        let wide = vec![Ok(Record {
            key: "A".into(),
            values: vec![None, None],
        })];
        let e = compare(wide, Rows::new(), &status(), 10).unwrap_err();
        assert!(matches!(
            e,
            CompareError::Shape {
                got: 2,
                want: 1,
                ..
            }
        ));
        let broken: Rows = vec![Err("connection lost".into())];
        let e = compare(rows(&[("A", "x")]), broken, &status(), 10).unwrap_err();
        assert_eq!(
            e,
            CompareError::Read {
                side: Side::Right,
                error: "connection lost".into()
            }
        );
    }

    #[test]
    fn a_million_rows_a_side_stream_through() {
        // Lazily made rows: nothing but the current row of each side is ever held.
        let n = 1_000_000u32;
        let side = |odd_status: &'static str| {
            (0..n).map(move |i| {
                let status = if i % 100_000 == 7 {
                    odd_status
                } else {
                    "正常"
                };
                Ok::<_, String>(Record {
                    key: format!("{i:08}"),
                    values: vec![Some(status.to_string())],
                })
            })
        };
        let c = compare(side("冻结"), side("正常"), &status(), 100).unwrap();
        assert_eq!((c.left_rows, c.right_rows), (1_000_000, 1_000_000));
        assert_eq!(c.total, 10);
        assert!(
            c.mismatches
                .iter()
                .all(|m| matches!(m, Mismatch::Differs { .. }))
        );
    }
}
