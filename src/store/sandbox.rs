//! The sandbox brokerage's state (`server::sandbox`): its settings (the key, the outage
//! switch) and its customers. A customer is one JSON document the server's sandbox module
//! reads and writes whole; beside it are the columns that must be unique (the ID number, the
//! fund account, the bound bank card) or that calls look a customer up by.
//!
//! The store knows nothing of the document's shape: it keeps text.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, random_hex, ts};

/// The setting holding the sandbox key.
const KEY: &str = "key";
/// The setting holding the outage switch (JSON), absent when it is off.
const OUTAGE: &str = "outage";

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: i64,
    pub customer_no: String,
    pub doc: String,
}

/// What the status page counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub customers: i64,
    pub fund_accounts: i64,
    pub bindings: i64,
}

fn setting(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM sandbox_settings WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

fn set_setting(conn: &Connection, name: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO sandbox_settings (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute([name, value])?;
    Ok(())
}

/// The sandbox key, if one was made. It is kept as it is, not hashed: opsdesk hands it to
/// the demo environment's credential, and it opens nothing but the sandbox.
pub fn key(conn: &Connection) -> Result<Option<String>, StoreError> {
    setting(conn, KEY)
}

/// The sandbox key, made (random, 24 bytes) the first time.
pub fn ensure_key(conn: &Connection) -> Result<String, StoreError> {
    if let Some(k) = key(conn)? {
        return Ok(k);
    }
    let made = format!("sbx_{}", random_hex(24)?);
    set_setting(conn, KEY, &made)?;
    Ok(made)
}

/// The outage switch as written by [`set_outage`] (JSON), if it is on or was left on.
pub fn outage(conn: &Connection) -> Result<Option<String>, StoreError> {
    setting(conn, OUTAGE)
}

pub fn set_outage(conn: &Connection, json: &str) -> Result<(), StoreError> {
    set_setting(conn, OUTAGE, json)
}

/// Turns the outage switch off; says whether it was on.
pub fn clear_outage(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM sandbox_settings WHERE name = ?1")?
        .execute([OUTAGE])?
        > 0)
}

/// The number of customers ever made: rows are never deleted, so the largest id is the count
/// and costs one index step instead of a scan.
pub fn customers_made(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM sandbox_customers")?
        .query_row([], |r| r.get(0))?)
}

pub fn id_number_taken(conn: &Connection, id_number: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sandbox_customers WHERE id_number = ?1")?
        .query_row([id_number], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Adds a customer; `doc` makes the document from the row's id and the customer number
/// `number` gives that id (numbers follow ids, so they are unique and short).
pub fn insert_customer(
    conn: &Connection,
    id_number: &str,
    number: impl FnOnce(i64) -> String,
    doc: impl FnOnce(i64, &str) -> Result<String, StoreError>,
    at: DateTime<Utc>,
) -> Result<CustomerRow, StoreError> {
    // One writer thread runs every job, so the next id cannot be taken in between.
    let id = customers_made(conn)? + 1;
    let customer_no = number(id);
    let doc = doc(id, &customer_no)?;
    conn.prepare_cached(
        "INSERT INTO sandbox_customers (id, customer_no, id_number, doc, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![id, customer_no, id_number, doc, ts(at)])?;
    Ok(CustomerRow {
        id,
        customer_no,
        doc,
    })
}

fn customer_where(
    conn: &Connection,
    column: &'static str,
    value: &str,
) -> Result<Option<CustomerRow>, StoreError> {
    // `column` is one of this module's constants, never a caller's text.
    let sql = format!("SELECT id, customer_no, doc FROM sandbox_customers WHERE {column} = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([value], |r| {
            Ok(CustomerRow {
                id: r.get(0)?,
                customer_no: r.get(1)?,
                doc: r.get(2)?,
            })
        })
        .optional()?)
}

pub fn by_customer_no(conn: &Connection, no: &str) -> Result<Option<CustomerRow>, StoreError> {
    customer_where(conn, "customer_no", no)
}

pub fn by_fund_account(conn: &Connection, fa: &str) -> Result<Option<CustomerRow>, StoreError> {
    customer_where(conn, "fund_account", fa)
}

/// The fund account a bank card is bound to, if any.
pub fn card_bound_to(conn: &Connection, card: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT fund_account FROM sandbox_customers WHERE bank_card = ?1")?
        .query_row([card], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Writes a customer's document back with the columns taken from it.
pub fn save_customer(
    conn: &Connection,
    id: i64,
    doc: &str,
    fund_account: Option<&str>,
    bank_card: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE sandbox_customers SET doc = ?2, fund_account = ?3, bank_card = ?4, \
             updated_at = ?5 WHERE id = ?1",
        )?
        .execute(params![id, doc, fund_account, bank_card, ts(at)])?;
    if changed == 0 {
        return Err(StoreError::Corrupt(format!(
            "sandbox customer {id} is gone"
        )));
    }
    Ok(())
}

pub fn counts(conn: &Connection) -> Result<Counts, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), count(fund_account), count(bank_card) FROM sandbox_customers",
        )?
        .query_row([], |r| {
            Ok(Counts {
                customers: r.get(0)?,
                fund_accounts: r.get(1)?,
                bindings: r.get(2)?,
            })
        })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut c, std::path::Path::new(":memory:")).unwrap();
        c
    }

    #[test]
    fn keys_outages_and_customers_round_trip() {
        let c = conn();
        assert_eq!(key(&c).unwrap(), None);
        let k = ensure_key(&c).unwrap();
        assert!(k.starts_with("sbx_") && k.len() == 52);
        assert_eq!(ensure_key(&c).unwrap(), k);

        assert_eq!(outage(&c).unwrap(), None);
        set_outage(&c, "{\"a\":1}").unwrap();
        assert_eq!(outage(&c).unwrap().as_deref(), Some("{\"a\":1}"));
        assert!(clear_outage(&c).unwrap());
        assert!(!clear_outage(&c).unwrap());

        let now = Utc::now();
        let row = insert_customer(
            &c,
            "11010519491231002X",
            |id| format!("N{id}"),
            |id, no| Ok(format!("{{\"id\":{id},\"no\":\"{no}\"}}")),
            now,
        )
        .unwrap();
        assert_eq!(row.customer_no, "N1");
        assert!(id_number_taken(&c, "11010519491231002X").unwrap());
        assert_eq!(by_customer_no(&c, "N1").unwrap().unwrap(), row);
        save_customer(&c, 1, "{}", Some("F1"), Some("6222"), now).unwrap();
        assert_eq!(by_fund_account(&c, "F1").unwrap().unwrap().doc, "{}");
        assert_eq!(card_bound_to(&c, "6222").unwrap().as_deref(), Some("F1"));
        assert_eq!(
            counts(&c).unwrap(),
            Counts {
                customers: 1,
                fund_accounts: 1,
                bindings: 1
            }
        );
        assert_eq!(customers_made(&c).unwrap(), 1);
    }
}
