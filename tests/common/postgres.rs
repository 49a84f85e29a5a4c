//! A throwaway PostgreSQL cluster for the SQL lookup tests: Debian's `postgresql` binaries,
//! `initdb` into a temp dir, listening on 127.0.0.1 on a free port (its unix socket in the
//! temp dir too) and offering TLS, stopped on drop. PostgreSQL refuses to run as root, and CI runs as root:
//! then the cluster belongs to the `postgres` user and its commands run through `runuser`.
//!
//! Roles: `opsdesk` (superuser, trust, for setting up), `lookup_reader` (trust) and
//! `lookup_secret` / `lookup_other` (SCRAM passwords, set by the test that uses them). The
//! `crm` database holds the fixture: customers, shareholder cards, orders. The readers were
//! granted UPDATE too, so a refused write is the read-only transaction's doing, not a
//! missing grant.
//!
//! Not installed: the tests say "skipping" and pass, except under `CI=true`, where `.ci/run`
//! installs it and a missing PostgreSQL is a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// The setup the tests share, run as the superuser in `crm`.
const FIXTURE: &str = r#"
CREATE TABLE customers (
  account         text PRIMARY KEY,
  name            text,
  phone           varchar(20),
  id_number       char(18),
  grade           char(4),
  opened_on       date,
  balance         numeric(14, 2),
  frozen          numeric(14, 4),
  vip             boolean,
  risk_level      int2,
  points          int4,
  lifetime_trades int8,
  ratio           float8,
  updated_at      timestamptz,
  reviewed_at     timestamp,
  note            text,
  flags           bytea
);
INSERT INTO customers VALUES
  ('310012345678', '张三', '13812341234', '11010519491231002X', 'A', '2015-03-20', 52380.16,
   50000, true, 3, 1200, 9876543210, 0.25, '2024-03-15 10:05:00+08',
   '2024-03-15 10:05:00.5', '新股申购冻结', '\x00ff'),
  ('310087654321', '李四', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL),
  ('320011112222', '王五', '12345', 'not-an-id', 'B', '2020-01-02', -0.5, 0, false, -2,
   -7, -1, -1.5, '2024-01-01 00:00:00+00', '1999-12-31 23:59:59', '', '\x');

CREATE TABLE shareholder_cards (
  account   text NOT NULL REFERENCES customers,
  market    text NOT NULL,
  holder_no text NOT NULL,
  status    text NOT NULL
);
INSERT INTO shareholder_cards VALUES
  ('310012345678', '沪A', 'A123456789', '正常'),
  ('310012345678', '深A', '0123456789', '冻结');

CREATE TABLE orders (
  account       text NOT NULL REFERENCES customers,
  order_no      int NOT NULL,
  placed_at     timestamptz NOT NULL,
  stock         text NOT NULL,
  qty           int NOT NULL,
  price         numeric(10, 3) NOT NULL,
  state         text NOT NULL,
  reject_reason text
);
INSERT INTO orders
SELECT '310012345678', n, '2024-03-15 09:30:00+08'::timestamptz + n * interval '1 minute',
       '600519', 100 * n, 1688, CASE WHEN n = 10 THEN '废单' ELSE '已成' END,
       CASE WHEN n = 10 THEN '可用资金不足' END
FROM generate_series(1, 10) AS n;

GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public
  TO lookup_reader, lookup_secret, lookup_other;
"#;

/// A running cluster; stopped when the last test holding it lets go.
pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    /// Commands run as the `postgres` user (we are root).
    as_postgres: bool,
    /// The server offers TLS (with a self-signed certificate made by `openssl`, which
    /// ca-certificates brings along).
    pub tls: bool,
}

/// The cluster the running tests share: started by the first that asks, stopped after the
/// last lets go (a test that starts after that starts a new one).
static SHARED: Mutex<Weak<PgCluster>> = Mutex::new(Weak::new());

impl PgCluster {
    /// The shared cluster, or `None` (having said "skipping") when PostgreSQL is not
    /// installed outside CI.
    pub fn shared() -> Option<Arc<PgCluster>> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is not installed: .ci/run installs Debian's postgresql package \
                 for the SQL lookup tests"
            );
            eprintln!("skipping: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cluster) = shared.upgrade() {
            return Some(cluster);
        }
        let cluster = Arc::new(PgCluster::start(bin));
        *shared = Arc::downgrade(&cluster);
        Some(cluster)
    }

    fn start(bin: PathBuf) -> PgCluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let as_postgres = is_root();
        let tls = self_signed_certificate(dir.path());
        let cluster = PgCluster {
            bin,
            port: super::free_port(),
            as_postgres,
            dir,
            tls,
        };
        let data = cluster.data();
        cluster.give_to_postgres();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "opsdesk",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        // Trust on loopback for all but the roles that test passwords.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             host all lookup_secret 127.0.0.1/32 scram-sha-256\n\
             host all lookup_other 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 trust\n",
        )
        .expect("write pg_hba.conf");
        cluster.give_to_postgres();
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c full_page_writes=off",
            cluster.port,
            path_str(cluster.dir.path())
        );
        if cluster.tls {
            let dir = path_str(cluster.dir.path());
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key"
            ));
        }
        let log = cluster.dir.path().join("postgres.log");
        let started = cluster.command(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        );
        if !started.status.success() {
            panic!(
                "PostgreSQL did not start: {}\n{}",
                String::from_utf8_lossy(&started.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        cluster.psql(
            "postgres",
            "CREATE ROLE lookup_reader LOGIN; CREATE ROLE lookup_secret LOGIN; \
             CREATE ROLE lookup_other LOGIN;",
        );
        cluster.psql("postgres", "CREATE DATABASE crm");
        cluster.psql("crm", FIXTURE);
        cluster
    }

    /// `postgres://ROLE@127.0.0.1:PORT/crm`.
    pub fn url(&self, role: &str) -> String {
        format!("postgres://{role}@127.0.0.1:{}/crm", self.port)
    }

    /// Runs `sql` as the superuser in `database`; its output, unaligned and bare.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let mut child = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "opsdesk", "-d", database, "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run psql");
        child
            .stdin
            .take()
            .expect("psql's stdin")
            .write_all(sql.as_bytes())
            .expect("send SQL to psql");
        let out = child.wait_with_output().expect("psql ends");
        assert!(
            out.status.success(),
            "psql failed: {}\n{sql}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn give_to_postgres(&self) {
        if self.as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres", path_str(self.dir.path())])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown the cluster's dir to postgres");
        }
    }

    /// `program` from the PostgreSQL bin dir, as the `postgres` user when we are root.
    fn command(&self, program: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        // Somewhere the postgres user may stand (not the checkout, which it cannot read).
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program, args);
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.command(
            "pg_ctl",
            &["-D", path_str(&data), "stop", "-m", "immediate"],
        );
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb`, `pg_ctl` and `psql`.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            ["initdb", "pg_ctl", "psql"]
                .iter()
                .all(|p| bin.join(p).is_file())
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// `server.crt` and `server.key` in `dir` for 127.0.0.1, valid for a day; `false` when
/// `openssl` is not there to make them.
fn self_signed_certificate(dir: &Path) -> bool {
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.crt",
        ])
        .current_dir(dir)
        .output()
        .is_ok_and(|out| out.status.success());
    // PostgreSQL refuses a key that others may read.
    made && Command::new("chmod")
        .args(["600", path_str(&dir.join("server.key"))])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}
