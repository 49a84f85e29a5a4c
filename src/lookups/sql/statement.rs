//! A configured query's SQL, read just far enough to bind it: where `:account`, `:phone` or
//! `:id_number` stands (outside strings, quoted names and comments; a PostgreSQL `x::text`
//! cast is no placeholder) and whether it starts as a read. The placeholders become the
//! database's own (`$1` for PostgreSQL, `?` for MySQL and SQLite), so the customer's value is
//! always bound, never pasted into the text.
//!
//! The SELECT/WITH check is a first refusal of an obvious mistake only: the read-only
//! transaction (or read-only file) is what keeps a lookup from writing.

use crate::domain::validate::Identifier;

/// Whose SQL it is: quoting, comments and parameter markers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

/// A query's SQL rewritten for its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bound {
    /// The text sent to the database, the placeholders replaced, a trailing `;` left off.
    pub sql: String,
    /// The identifier the query looks up by.
    pub by: Identifier,
    /// How many values to bind (the one value, once per marker).
    pub binds: usize,
}

/// The SQL of one configured query for `dialect`, or why it cannot be one.
pub(super) fn bind(sql: &str, dialect: Dialect) -> Result<Bound, String> {
    check_first_word(sql, dialect)?;
    let mut scan = Scanner::new(sql, dialect);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut by: Option<Identifier> = None;
    let mut markers = 0;
    let mut end = sql.len();
    while let Some(token) = scan.next_token()? {
        match token {
            Token::Placeholder { start, stop, name } => {
                // Any other `:word` is not ours (a PostgreSQL slice `a[1:n]`); SQLite would
                // read it as a parameter, which the parameter count then refuses.
                let Some(id) = Identifier::from_field(name) else {
                    continue;
                };
                if let Some(seen) = by
                    && seen != id
                {
                    return Err(format!(
                        "uses both :{} and :{}; a query looks up by one identifier",
                        seen.field(),
                        id.field()
                    ));
                }
                by = Some(id);
                markers += 1;
                out.push_str(&sql[copied..start]);
                out.push_str(match dialect {
                    Dialect::Postgres => "$1",
                    Dialect::MySql | Dialect::Sqlite => "?",
                });
                copied = stop;
            }
            Token::Marker(marker) => {
                return Err(format!(
                    "write :account, :phone or :id_number where the value goes, not '{marker}'"
                ));
            }
            Token::Semicolon(at) => {
                if scan.rest_is_blank()? {
                    end = at;
                    break;
                }
                return Err("holds more than one statement".into());
            }
        }
    }
    let Some(by) = by else {
        return Err(
            "names no customer identifier: write :account, :phone or :id_number \
                    where the value goes"
                .into(),
        );
    };
    out.push_str(&sql[copied..end]);
    let binds = match dialect {
        // `$1` is one parameter however often it is written.
        Dialect::Postgres => 1,
        Dialect::MySql | Dialect::Sqlite => markers,
    };
    Ok(Bound {
        sql: out.trim_end().to_string(),
        by,
        binds,
    })
}

/// A monitor's SQL rewritten for its database: the named parameters it uses, in the order
/// their values are bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub(super) sql: String,
    /// The parameter of each bound value: each distinct name once for PostgreSQL (`$k` may
    /// repeat), every occurrence in order for MySQL and SQLite (`?`).
    pub(super) order: Vec<String>,
}

impl Named {
    /// The parameters the SQL uses, each once.
    pub fn uses(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for n in &self.order {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
        names
    }
}

/// `sql` for `dialect` with the parameters in `known` (`:today`, `:day`…) bound by name, or
/// why it cannot run: not a read, more than one statement, a marker of the database's own.
pub(super) fn bind_named(sql: &str, dialect: Dialect, known: &[&str]) -> Result<Named, String> {
    check_first_word(sql, dialect)?;
    let mut scan = Scanner::new(sql, dialect);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut order: Vec<String> = Vec::new();
    let mut end = sql.len();
    while let Some(token) = scan.next_token()? {
        match token {
            Token::Placeholder { start, stop, name } => {
                if !known.contains(&name) {
                    continue;
                }
                out.push_str(&sql[copied..start]);
                match dialect {
                    Dialect::Postgres => {
                        let k = match order.iter().position(|n| n == name) {
                            Some(i) => i + 1,
                            None => {
                                order.push(name.to_string());
                                order.len()
                            }
                        };
                        out.push_str(&format!("${k}"));
                    }
                    Dialect::MySql | Dialect::Sqlite => {
                        order.push(name.to_string());
                        out.push('?');
                    }
                }
                copied = stop;
            }
            Token::Marker(marker) => {
                let names: Vec<String> = known.iter().map(|n| format!(":{n}")).collect();
                return Err(format!(
                    "write {} where a value goes, not '{marker}'",
                    names.join(", ")
                ));
            }
            Token::Semicolon(at) => {
                if scan.rest_is_blank()? {
                    end = at;
                    break;
                }
                return Err("holds more than one statement".into());
            }
        }
    }
    out.push_str(&sql[copied..end]);
    Ok(Named {
        sql: out.trim_end().to_string(),
        order,
    })
}

fn check_first_word(sql: &str, dialect: Dialect) -> Result<(), String> {
    let mut scan = Scanner::new(sql, dialect);
    scan.skip_blank()?;
    let first: String = sql[scan.at..]
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if first.eq_ignore_ascii_case("select") || first.eq_ignore_ascii_case("with") {
        Ok(())
    } else {
        Err("must start with SELECT or WITH: a lookup only reads".into())
    }
}

/// What the scanner stops at.
enum Token<'a> {
    /// `:name` at `start..stop`: a placeholder when the caller knows the name.
    Placeholder {
        start: usize,
        stop: usize,
        name: &'a str,
    },
    /// A parameter marker of the database's own (`?`, `$1`), which would shift the binding.
    Marker(&'a str),
    /// A `;` at this byte.
    Semicolon(usize),
}

struct Scanner<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    at: usize,
    dialect: Dialect,
}

/// Bytes of a word: ASCII letters, digits, `_`, and any byte of a non-ASCII character (an
/// identifier may hold them).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl<'a> Scanner<'a> {
    fn new(sql: &'a str, dialect: Dialect) -> Scanner<'a> {
        Scanner {
            sql,
            bytes: sql.as_bytes(),
            at: 0,
            dialect,
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.at + ahead).copied()
    }

    /// The next placeholder, marker or `;`, stepping over strings, quoted names and comments.
    fn next_token(&mut self) -> Result<Option<Token<'a>>, String> {
        while let Some(b) = self.peek(0) {
            if self.skip_quoted_or_comment()? {
                continue;
            }
            let start = self.at;
            match b {
                b';' => {
                    self.at += 1;
                    return Ok(Some(Token::Semicolon(start)));
                }
                b':' if self.peek(1) == Some(b':') => self.at += 2,
                b':' => {
                    let name_start = start + 1;
                    let mut stop = name_start;
                    while self.bytes.get(stop).is_some_and(|b| is_word_byte(*b)) {
                        stop += 1;
                    }
                    self.at = stop.max(start + 1);
                    if stop > name_start {
                        let name = &self.sql[name_start..stop];
                        return Ok(Some(Token::Placeholder { start, stop, name }));
                    }
                }
                b'?' if self.dialect != Dialect::Postgres => {
                    self.at += 1;
                    return Ok(Some(Token::Marker("?")));
                }
                b'$' if self.dialect == Dialect::Postgres => {
                    let in_word = start > 0 && is_word_byte(self.bytes[start - 1]);
                    if !in_word && self.peek(1).is_some_and(|b| b.is_ascii_digit()) {
                        let mut stop = start + 1;
                        while self.bytes.get(stop).is_some_and(u8::is_ascii_digit) {
                            stop += 1;
                        }
                        self.at = stop;
                        return Ok(Some(Token::Marker(&self.sql[start..stop])));
                    }
                    if in_word || !self.skip_dollar_quoted()? {
                        self.at += 1;
                    }
                }
                _ => self.at += 1,
            }
        }
        Ok(None)
    }

    /// Whether only blanks and comments are left.
    fn rest_is_blank(&mut self) -> Result<bool, String> {
        self.skip_blank()?;
        Ok(self.at == self.bytes.len())
    }

    /// Steps over whitespace and comments.
    fn skip_blank(&mut self) -> Result<(), String> {
        while let Some(b) = self.peek(0) {
            if b.is_ascii_whitespace() {
                self.at += 1;
            } else if !self.skip_comment()? {
                break;
            }
        }
        Ok(())
    }

    /// Steps over a string, a quoted name or a comment starting here; `false` when none does.
    fn skip_quoted_or_comment(&mut self) -> Result<bool, String> {
        if self.skip_comment()? {
            return Ok(true);
        }
        let Some(b) = self.peek(0) else {
            return Ok(false);
        };
        let mysql = self.dialect == Dialect::MySql;
        match b {
            b'\'' => {
                // PostgreSQL's E'…' strings take backslash escapes; MySQL's strings always do.
                let e_string = self.at > 0
                    && matches!(self.bytes[self.at - 1], b'e' | b'E')
                    && (self.at < 2 || !is_word_byte(self.bytes[self.at - 2]));
                let backslash = mysql || (self.dialect == Dialect::Postgres && e_string);
                self.skip_until_quote(b'\'', backslash)?;
            }
            b'"' => self.skip_until_quote(b'"', mysql)?,
            b'`' if self.dialect != Dialect::Postgres => self.skip_until_quote(b'`', false)?,
            b'[' if self.dialect == Dialect::Sqlite => self.skip_until_quote(b']', false)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Steps over a comment starting here; `false` when none does.
    fn skip_comment(&mut self) -> Result<bool, String> {
        let line = match (self.peek(0), self.peek(1)) {
            (Some(b'-'), Some(b'-')) => true,
            (Some(b'#'), _) => self.dialect == Dialect::MySql,
            _ => false,
        };
        if line {
            while let Some(b) = self.peek(0) {
                self.at += 1;
                if b == b'\n' {
                    break;
                }
            }
            return Ok(true);
        }
        if (self.peek(0), self.peek(1)) != (Some(b'/'), Some(b'*')) {
            return Ok(false);
        }
        // PostgreSQL's block comments nest; the others end at the first `*/`.
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 0usize;
        while self.at < self.bytes.len() {
            match (self.peek(0), self.peek(1)) {
                (Some(b'/'), Some(b'*')) if depth == 0 || nests => {
                    depth += 1;
                    self.at += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    depth -= 1;
                    self.at += 2;
                    if depth == 0 {
                        return Ok(true);
                    }
                }
                _ => self.at += 1,
            }
        }
        Err("a /* comment is never closed".into())
    }

    /// From an opening quote here to past its closing `close`; a doubled close is an escaped
    /// one, and so is a backslashed one when `backslash`.
    fn skip_until_quote(&mut self, close: u8, backslash: bool) -> Result<(), String> {
        let open = self.bytes[self.at];
        self.at += 1;
        while let Some(b) = self.peek(0) {
            self.at += 1;
            if backslash && b == b'\\' {
                self.at += 1;
            } else if b == close {
                if self.peek(0) == Some(close) && close == open {
                    self.at += 1;
                } else {
                    return Ok(());
                }
            }
        }
        Err(format!("a {} is never closed", char::from(open)))
    }

    /// Steps over a PostgreSQL dollar-quoted string (`$$…$$`, `$tag$…$tag$`) starting here;
    /// `false` when none does.
    fn skip_dollar_quoted(&mut self) -> Result<bool, String> {
        let start = self.at;
        let mut tag_end = start + 1;
        while self
            .bytes
            .get(tag_end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x80)
        {
            tag_end += 1;
        }
        if self.bytes.get(tag_end) != Some(&b'$') {
            return Ok(false);
        }
        let tag = &self.sql[start..=tag_end];
        let body = tag_end + 1;
        match self.sql[body..].find(tag) {
            Some(found) => {
                self.at = body + found + tag.len();
                Ok(true)
            }
            None => Err(format!("a {tag} string is never closed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> Result<Bound, String> {
        bind(sql, Dialect::Postgres)
    }

    #[test]
    fn placeholders_become_the_databases_own() {
        let cases: &[(Dialect, &str, &str, Identifier, usize)] = &[
            (
                Dialect::Postgres,
                "SELECT * FROM c WHERE account = :account",
                "SELECT * FROM c WHERE account = $1",
                Identifier::Account,
                1,
            ),
            (
                Dialect::Postgres,
                "select a from c where phone = :phone or alt_phone = :phone;",
                "select a from c where phone = $1 or alt_phone = $1",
                Identifier::Phone,
                1,
            ),
            (
                Dialect::MySql,
                "SELECT * FROM c WHERE phone = :phone OR alt = :phone",
                "SELECT * FROM c WHERE phone = ? OR alt = ?",
                Identifier::Phone,
                2,
            ),
            (
                Dialect::Sqlite,
                "WITH x AS (SELECT :id_number AS v) SELECT * FROM c, x WHERE id = x.v ;  -- done",
                "WITH x AS (SELECT ? AS v) SELECT * FROM c, x WHERE id = x.v",
                Identifier::IdNumber,
                1,
            ),
            (
                Dialect::Postgres,
                "SELECT x::text, :account::bigint FROM c WHERE a = :account",
                "SELECT x::text, $1::bigint FROM c WHERE a = $1",
                Identifier::Account,
                1,
            ),
        ];
        for (dialect, sql, want, by, binds) in cases {
            let got = bind(sql, *dialect).unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(got.sql, *want, "{sql}");
            assert_eq!(got.by, *by, "{sql}");
            assert_eq!(got.binds, *binds, "{sql}");
        }
    }

    #[test]
    fn strings_names_comments_and_casts_hold_no_placeholder() {
        let sql = "SELECT ':phone', \":phone\", x::account, $$ :phone $$, $t$ :phone; $t$, \
                   E'\\' :phone', /* :phone /* nested :phone */ :phone */ a -- :phone\n\
                   FROM c WHERE account = :account";
        let got = pg(sql).expect("binds");
        assert_eq!(got.by, Identifier::Account);
        assert_eq!(got.binds, 1);
        assert!(got.sql.ends_with("account = $1"), "{}", got.sql);
        assert!(got.sql.contains("x::account"), "{}", got.sql);

        let mysql = "SELECT 'it\\'s :phone', `:phone`, \"a\\\":phone\" # :phone\n\
                     FROM c WHERE account = :account";
        let got = bind(mysql, Dialect::MySql).expect("binds");
        assert_eq!((got.by, got.binds), (Identifier::Account, 1));

        let sqlite = "SELECT [:phone], `:phone` FROM c WHERE account = :account";
        let got = bind(sqlite, Dialect::Sqlite).expect("binds");
        assert_eq!((got.by, got.binds), (Identifier::Account, 1));
    }

    #[test]
    fn a_longer_word_is_no_placeholder() {
        let got = pg("SELECT :accounts, :account_no FROM c WHERE a = :account").expect("binds");
        assert_eq!(got.sql, "SELECT :accounts, :account_no FROM c WHERE a = $1");
    }

    #[test]
    fn refusals_say_why() {
        let cases: &[(Dialect, &str, &str)] = &[
            (
                Dialect::Postgres,
                "UPDATE c SET a = 1 WHERE a = :account",
                "SELECT or WITH",
            ),
            (
                Dialect::Postgres,
                "  -- hi\n /* x */ delete from c where a = :account",
                "SELECT or WITH",
            ),
            (
                Dialect::Postgres,
                "SELECT * FROM c",
                "names no customer identifier",
            ),
            (
                Dialect::Postgres,
                "SELECT ':account' FROM c",
                "names no customer identifier",
            ),
            (
                Dialect::Postgres,
                "SELECT * FROM c WHERE a = :account OR p = :phone",
                "both :account and :phone",
            ),
            (
                Dialect::Postgres,
                "SELECT * FROM c WHERE a = :account; DROP TABLE c",
                "more than one statement",
            ),
            (
                Dialect::Postgres,
                "SELECT * FROM c WHERE a = $1 OR a = :account",
                "not '$1'",
            ),
            (
                Dialect::MySql,
                "SELECT * FROM c WHERE a = ? OR a = :account",
                "not '?'",
            ),
            (
                Dialect::Sqlite,
                "SELECT * FROM c WHERE a = ? OR a = :account",
                "not '?'",
            ),
            (
                Dialect::Postgres,
                "SELECT 'open FROM c WHERE a = :account",
                "never closed",
            ),
            (
                Dialect::Postgres,
                "SELECT /* open FROM c WHERE a = :account",
                "never closed",
            ),
            (
                Dialect::Postgres,
                "SELECT $x$ open FROM c WHERE a = :account",
                "never closed",
            ),
        ];
        for (dialect, sql, want) in cases {
            match bind(sql, *dialect) {
                Ok(b) => panic!("{sql}: bound as {b:?}"),
                Err(e) => assert!(e.contains(want), "{sql}: {e}"),
            }
        }
    }

    #[test]
    fn a_question_mark_is_postgres_json_operator_and_dollar_in_names_is_kept() {
        let got = pg("SELECT doc ? 'k', a$b FROM c WHERE a = :account").expect("binds");
        assert_eq!(got.sql, "SELECT doc ? 'k', a$b FROM c WHERE a = $1");
    }

    #[test]
    fn the_first_word_is_read_after_comments_in_any_case() {
        for sql in [
            "with x as (select 1) select * from x where :phone is not null",
            "/* note */ Select 1 where :phone is not null",
            "\n\t-- c\nSELECT 1 WHERE :phone IS NOT NULL",
        ] {
            assert!(pg(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn named_parameters_bind_by_name_in_each_dialect() {
        let sql = "SELECT count(*) FROM t WHERE d >= :day AND d < :until AND x = ':day' -- :day\n OR d = :day;";
        let known = ["today", "day", "until"];
        let pg = bind_named(sql, Dialect::Postgres, &known).unwrap();
        assert_eq!(
            pg.sql,
            "SELECT count(*) FROM t WHERE d >= $1 AND d < $2 AND x = ':day' -- :day\n OR d = $1"
        );
        assert_eq!(pg.order, ["day", "until"]);
        let lite = bind_named(sql, Dialect::Sqlite, &known).unwrap();
        assert!(lite.sql.contains("d >= ? AND d < ?"));
        assert_eq!(lite.order, ["day", "until", "day"]);
        assert_eq!(lite.uses(), ["day", "until"]);
        // A name not offered stays as written; the database's own markers are refused.
        let other = bind_named("SELECT a[1:n] FROM t", Dialect::Postgres, &known).unwrap();
        assert_eq!(other.sql, "SELECT a[1:n] FROM t");
        assert!(bind_named("SELECT ? ", Dialect::Sqlite, &known).is_err());
        assert!(bind_named("DELETE FROM t", Dialect::Sqlite, &known).is_err());
        assert!(bind_named("SELECT 1; SELECT 2", Dialect::Sqlite, &known).is_err());
    }

    #[test]
    fn mysql_comments_do_not_nest() {
        // In MySQL the first `*/` ends the comment, so `:account` after it counts.
        let got = bind(
            "SELECT 1 /* a /* b */ FROM c WHERE a = :account",
            Dialect::MySql,
        )
        .expect("binds");
        assert_eq!(got.sql, "SELECT 1 /* a /* b */ FROM c WHERE a = ?");
    }
}
