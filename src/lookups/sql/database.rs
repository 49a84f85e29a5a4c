//! Where a source's database is, from its `url`: how to connect, and how to name it in a
//! message (host and database only, never the user's password).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;

use super::statement::Dialect;

/// How a lookup reaches its database.
#[derive(Clone)]
pub(super) enum Database {
    Postgres(Box<PgConnectOptions>),
    MySql(Box<MySqlConnectOptions>),
    Sqlite(PathBuf),
}

impl Database {
    pub(super) fn dialect(&self) -> Dialect {
        match self {
            Database::Postgres(_) => Dialect::Postgres,
            Database::MySql(_) => Dialect::MySql,
            Database::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            Database::Postgres(_) => "postgres",
            Database::MySql(_) => "mysql",
            Database::Sqlite(_) => "sqlite",
        }
    }
}

/// The database `url` names and the words a message names it by. `password` (from the
/// source's `password_env`) logs in; a relative SQLite path is read from `data_dir`.
pub(super) fn parse(
    url: &str,
    password: Option<&str>,
    data_dir: Option<&Path>,
) -> Result<(Database, String), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not repeated: a URL without its scheme may still hold a password.
        return Err("is not a database URL (postgres://, mysql:// or sqlite://)".into());
    };
    match scheme {
        "sqlite" => {
            if password.is_some() {
                return Err("a SQLite file takes no password; leave password_env out".into());
            }
            let path = sqlite_path(rest, data_dir)?;
            let place = path.display().to_string();
            Ok((Database::Sqlite(path), place))
        }
        "postgres" | "postgresql" | "mysql" => {
            let parts = Parts::of(rest);
            if parts.has_password() {
                return Err(format!(
                    "'{}' holds a password; name the environment variable that holds it in \
                     password_env instead",
                    without_password(url)
                ));
            }
            let not_a_url =
                |e: sqlx::Error| format!("'{}' is not a database URL: {e}", without_password(url));
            let database = if scheme == "mysql" {
                let mut options = MySqlConnectOptions::from_str(url).map_err(not_a_url)?;
                if let Some(p) = password {
                    options = options.password(p);
                }
                Database::MySql(Box::new(
                    super::mysql::options(options).disable_statement_logging(),
                ))
            } else {
                let mut options = PgConnectOptions::from_str(url).map_err(not_a_url)?;
                if let Some(p) = password {
                    options = options.password(p);
                }
                Database::Postgres(Box::new(
                    options
                        .application_name("opsdesk-lookup")
                        // The server audits who looked; sqlx's own line per statement would
                        // only repeat the SQL.
                        .disable_statement_logging(),
                ))
            };
            Ok((database, parts.place()))
        }
        other => Err(format!(
            "'{other}' is not a database this source speaks (postgres, mysql or sqlite)"
        )),
    }
}

fn sqlite_path(rest: &str, data_dir: Option<&Path>) -> Result<PathBuf, String> {
    if rest.contains('?') {
        return Err("a SQLite URL takes no parameters: it is opened read-only as it is".into());
    }
    if rest.is_empty() {
        return Err("name the SQLite file: sqlite:///path/to.db or sqlite://name.db".into());
    }
    let path = Path::new(rest);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    match data_dir {
        Some(dir) => Ok(dir.join(path)),
        None => Err(format!(
            "'{rest}' is relative and there is no data dir to read it from; give an absolute \
             path (sqlite:///path/to.db)"
        )),
    }
}

/// The pieces of a URL's `user:password@host:port/database?params` that matter here.
struct Parts<'a> {
    userinfo: Option<&'a str>,
    host: &'a str,
    path: &'a str,
    params: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn of(rest: &'a str) -> Parts<'a> {
        let rest = rest.split('#').next().unwrap_or_default();
        let (main, params) = match rest.split_once('?') {
            Some((m, p)) => (m, Some(p)),
            None => (rest, None),
        };
        let (authority, path) = match main.find('/') {
            Some(i) => main.split_at(i),
            None => (main, ""),
        };
        let (userinfo, host) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        Parts {
            userinfo,
            host,
            path,
            params,
        }
    }

    fn has_password(&self) -> bool {
        let in_userinfo = self.userinfo.is_some_and(|u| u.contains(':'));
        let in_params = self.params.is_some_and(|p| {
            p.split('&').any(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                key.eq_ignore_ascii_case("password")
            })
        });
        in_userinfo || in_params
    }

    /// Host, port and database: what a message may say of where the database is.
    fn place(&self) -> String {
        let host = if self.host.is_empty() {
            "local socket"
        } else {
            self.host
        };
        format!("{host}{}", self.path)
    }
}

/// `url` as a message may repeat it: without its parameters, and with whatever stands
/// between `://` and `@` left out.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the url".into();
    };
    let parts = Parts::of(rest);
    let user = if parts.userinfo.is_some() { "…@" } else { "" };
    format!("{scheme}://{user}{}{}", parts.host, parts.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Not `expect_err`: `Database` has no Debug, which would print the password.
    fn refusal(url: &str, password: Option<&str>, data_dir: Option<&Path>) -> String {
        match parse(url, password, data_dir) {
            Ok(_) => panic!("{url} was taken"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_password_in_the_url_is_refused_and_never_repeated() {
        for url in [
            "postgres://app:hunter2@db:5432/desk",
            "mysql://app:hunter2@db/desk",
            "postgresql://app@db/desk?sslmode=require&password=hunter2",
        ] {
            let err = refusal(url, None, None);
            assert!(err.contains("password_env"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn the_place_is_host_and_database_only() {
        let (db, place) =
            parse("postgres://reader@db.internal:5432/desk", Some("pw"), None).expect("parses");
        assert_eq!(db.kind(), "postgres");
        assert_eq!(place, "db.internal:5432/desk");
        let (db, place) = parse("mysql://reader@10.1.2.3/crm", None, None).expect("parses");
        assert_eq!(db.kind(), "mysql");
        assert_eq!(place, "10.1.2.3/crm");
    }

    #[test]
    fn sqlite_paths() {
        let dir = Path::new("/data");
        let (db, _) = parse("sqlite://demo.db", None, Some(dir)).expect("relative");
        assert!(matches!(db, Database::Sqlite(p) if p == Path::new("/data/demo.db")));
        let (db, _) = parse("sqlite:///srv/a.db", None, None).expect("absolute");
        assert!(matches!(db, Database::Sqlite(p) if p == Path::new("/srv/a.db")));
        for (url, want) in [
            ("sqlite://demo.db", "no data dir"),
            ("sqlite:///a.db?mode=rw", "no parameters"),
            ("sqlite://", "name the SQLite file"),
            ("oracle://db/x", "not a database this source speaks"),
            ("db.internal/desk", "not a database URL"),
        ] {
            let err = refusal(url, None, None);
            assert!(err.contains(want), "{url}: {err}");
        }
        let err = refusal("sqlite:///a.db", Some("pw"), None);
        assert!(err.contains("no password"), "{err}");
    }
}
