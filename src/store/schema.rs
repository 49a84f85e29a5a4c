//! Schema migrations, numbered in code and tracked in `PRAGMA user_version`.
//!
//! Append a migration to `MIGRATIONS`; never edit one that has shipped. Each runs in its own
//! transaction together with the version bump, so a crash mid-migration leaves the old schema.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: users, tokens, tickets, messages, attachments, the change log, audit, idempotency.
    r#"
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('handler', 'submitter', 'admin')),
        password_hash TEXT,
        city          TEXT,
        created_at    TEXT NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE api_tokens (
        id           INTEGER PRIMARY KEY,
        user_id      INTEGER NOT NULL REFERENCES users(id),
        token_hash   TEXT NOT NULL UNIQUE,
        label        TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        revoked_at   TEXT
    );
    CREATE TABLE tickets (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        version            INTEGER NOT NULL,
        status             TEXT NOT NULL,
        transfer_to        TEXT,
        priority           TEXT NOT NULL,
        category           TEXT NOT NULL,
        subcategory        TEXT,
        system             TEXT NOT NULL,
        channel            TEXT NOT NULL,
        title              TEXT NOT NULL,
        description        TEXT NOT NULL,
        customer_name      TEXT,
        customer_account   TEXT,
        customer_phone     TEXT,
        customer_id_number TEXT,
        submitter          TEXT NOT NULL,
        assignee           TEXT,
        created_at         TEXT NOT NULL,
        updated_at         TEXT NOT NULL,
        first_responded_at TEXT,
        resolved_at        TEXT,
        closed_at          TEXT,
        resolution         TEXT,
        transfer_note      TEXT,
        duplicate_of       INTEGER REFERENCES tickets(id),
        parent_id          INTEGER REFERENCES tickets(id),
        kb_article         INTEGER,
        external_ref       TEXT,
        sla_pauses         TEXT NOT NULL DEFAULT '[]',
        UNIQUE (channel, external_ref)
    );
    CREATE INDEX tickets_updated ON tickets (updated_at);
    CREATE INDEX tickets_status ON tickets (status, updated_at);
    CREATE INDEX tickets_submitter ON tickets (submitter, updated_at);
    CREATE INDEX tickets_created ON tickets (created_at, category, status, resolved_at);
    CREATE INDEX tickets_customer_account ON tickets (customer_account, system);
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
        author      TEXT NOT NULL,
        author_role TEXT NOT NULL,
        internal    INTEGER NOT NULL,
        body        TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX messages_ticket ON messages (ticket_id, id);
    CREATE TABLE attachments (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
        message_id   INTEGER REFERENCES messages(id),
        filename     TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        stored_name  TEXT NOT NULL UNIQUE,
        uploaded_by  TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX attachments_ticket ON attachments (ticket_id, id);
    CREATE TABLE changes (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        TEXT NOT NULL,
        kind      TEXT NOT NULL,
        ticket_id INTEGER,
        actor     TEXT NOT NULL,
        data      TEXT NOT NULL
    );
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        ticket_id INTEGER,
        detail    TEXT NOT NULL
    );
    CREATE INDEX audit_ticket ON audit (ticket_id, id);
    CREATE TABLE idempotency (
        user_id      INTEGER NOT NULL,
        key          TEXT NOT NULL,
        route        TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status       INTEGER NOT NULL,
        body         TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    "#,
    // 2: who transferred a ticket, and the second handler's approval of an ops script.
    r#"
    ALTER TABLE tickets ADD COLUMN transferred_by TEXT;
    ALTER TABLE tickets ADD COLUMN script_approved_by TEXT;
    ALTER TABLE tickets ADD COLUMN script_approved_at TEXT;
    "#,
    // 3: the notification queue. A row is queued in the transaction of the change it tells
    // about; `sent_at` set = delivered; `next_attempt_at` NULL while unsent = given up.
    r#"
    CREATE TABLE notifications (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        channel         TEXT NOT NULL,
        target          TEXT NOT NULL,
        event           TEXT NOT NULL,
        ticket_id       INTEGER,
        payload         TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error      TEXT,
        sent_at         TEXT
    );
    CREATE INDEX notifications_unsent ON notifications (next_attempt_at) WHERE sent_at IS NULL;
    "#,
    // 4: the MSS pages: browser sessions (ids stored hashed), wrong-password counts for the
    // login backoff, per-user read markers, help-center articles and what submitters did
    // with the ones suggested to them (deflections, for the reports).
    r#"
    CREATE TABLE web_sessions (
        id_hash      TEXT PRIMARY KEY,
        user_id      INTEGER NOT NULL REFERENCES users(id),
        csrf_token   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    );
    CREATE INDEX web_sessions_user ON web_sessions (user_id);
    CREATE TABLE login_failures (
        username       TEXT PRIMARY KEY,
        failures       INTEGER NOT NULL,
        last_failed_at TEXT NOT NULL,
        locked_until   TEXT
    );
    CREATE TABLE read_markers (
        user_id    INTEGER NOT NULL REFERENCES users(id),
        ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
        message_id INTEGER NOT NULL,
        read_at    TEXT NOT NULL,
        PRIMARY KEY (user_id, ticket_id)
    ) WITHOUT ROWID;
    CREATE TABLE help_articles (
        id         INTEGER PRIMARY KEY,
        system     TEXT,
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE help_deflections (
        id         INTEGER PRIMARY KEY,
        submitter  TEXT NOT NULL,
        article_id INTEGER NOT NULL REFERENCES help_articles(id),
        outcome    TEXT NOT NULL CHECK (outcome IN ('viewed', 'deflected', 'submitted')),
        at         TEXT NOT NULL
    );
    CREATE INDEX help_deflections_at ON help_deflections (at);
    "#,
    // 5: a user's e-mail address, where submitters are told of replies and resolutions.
    r#"
    ALTER TABLE users ADD COLUMN email TEXT;
    "#,
    // 6: a user's WeCom user id, mentioned in the group robot's messages meant for them.
    r#"
    ALTER TABLE users ADD COLUMN wecom_userid TEXT;
    "#,
    // 7: the knowledge base. An article is kept as its file (markdown with TOML front
    // matter, what `kb export` writes), with the columns lists filter on beside it; every
    // edit keeps the previous file as a revision.
    r#"
    CREATE TABLE kb_articles (
        id         INTEGER PRIMARY KEY,
        slug       TEXT NOT NULL UNIQUE,
        version    INTEGER NOT NULL,
        system     TEXT NOT NULL,
        audience   TEXT NOT NULL CHECK (audience IN ('handlers', 'submitters')),
        hot        INTEGER NOT NULL,
        views      INTEGER NOT NULL DEFAULT 0,
        helpful    INTEGER NOT NULL DEFAULT 0,
        content    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE kb_revisions (
        article_id INTEGER NOT NULL REFERENCES kb_articles(id),
        version    INTEGER NOT NULL,
        editor     TEXT NOT NULL,
        at         TEXT NOT NULL,
        content    TEXT NOT NULL,
        PRIMARY KEY (article_id, version)
    ) WITHOUT ROWID;
    "#,
    // 8: one article store. What a submitter did with a suggested article now points at a
    // knowledge-base article; the help center's own articles (and what was done with them) are
    // adopted into the knowledge base by `service::help::adopt` at the next start, which
    // leaves `help_articles` and `help_deflections` empty. A submitter's answer to "did this
    // help?" is kept once per article, so a second tap does not count twice. Each save of an
    // article takes the next `saved_seq`, so a copy of the knowledge base can ask for what
    // was saved after the last one it has (times repeat within a transaction; this does not).
    r#"
    CREATE TABLE help_outcomes (
        id         INTEGER PRIMARY KEY,
        submitter  TEXT NOT NULL,
        article_id INTEGER NOT NULL REFERENCES kb_articles(id),
        outcome    TEXT NOT NULL CHECK (outcome IN ('viewed', 'deflected', 'submitted')),
        at         TEXT NOT NULL
    );
    CREATE INDEX help_outcomes_at ON help_outcomes (at);
    ALTER TABLE kb_articles ADD COLUMN saved_seq INTEGER NOT NULL DEFAULT 0;
    UPDATE kb_articles SET saved_seq = id;
    CREATE INDEX kb_articles_saved ON kb_articles (saved_seq);
    CREATE TABLE kb_votes (
        article_id INTEGER NOT NULL REFERENCES kb_articles(id),
        username   TEXT NOT NULL,
        helpful    INTEGER NOT NULL,
        at         TEXT NOT NULL,
        PRIMARY KEY (article_id, username)
    ) WITHOUT ROWID;
    "#,
    // 9: pictures in articles' steps. Kept as re-encoded files in the attachments dir (so the
    // sweep of abandoned uploads must ask this table too), once per content; which articles
    // show which picture, so a submitter is served only the pictures of articles meant for
    // them.
    r#"
    CREATE TABLE kb_images (
        id           INTEGER PRIMARY KEY,
        filename     TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size         INTEGER NOT NULL,
        width        INTEGER NOT NULL,
        height       INTEGER NOT NULL,
        sha256       TEXT NOT NULL UNIQUE,
        stored_name  TEXT NOT NULL UNIQUE,
        uploaded_by  TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE TABLE kb_article_images (
        article_id INTEGER NOT NULL REFERENCES kb_articles(id),
        image_id   INTEGER NOT NULL REFERENCES kb_images(id),
        PRIMARY KEY (article_id, image_id)
    ) WITHOUT ROWID;
    CREATE INDEX kb_article_images_image ON kb_article_images (image_id);
    "#,
    // 10: the reports' facts, one row a ticket kept with every write of it, and their counts
    // by period (an ISO week `2026-W47` or a month `2026-11`, in the business time zone),
    // category, system and channel, so a trend reads a few hundred rows instead of every
    // ticket. Data dirs from before are filled in at start (`Desk::adopt_reports`).
    r#"
    CREATE TABLE report_facts (
        ticket_id           INTEGER PRIMARY KEY REFERENCES tickets(id),
        week                TEXT NOT NULL,
        month               TEXT NOT NULL,
        facts               TEXT NOT NULL
    );
    CREATE INDEX report_facts_week ON report_facts (week);
    CREATE INDEX report_facts_month ON report_facts (month);
    CREATE TABLE report_rollup (
        period      TEXT NOT NULL,
        category    TEXT NOT NULL,
        system      TEXT NOT NULL,
        channel     TEXT NOT NULL,
        tickets     INTEGER NOT NULL,
        resolved    INTEGER NOT NULL,
        in_time     INTEGER NOT NULL,
        PRIMARY KEY (period, category, system, channel)
    ) WITHOUT ROWID;
    "#,
    // 11: knowledge sessions (the team's live talks to field staff, set against the
    // consultation trend); when tickets were done, for a past period's backlog; and the
    // reports' facts made again, a column a fact (a week's report reads twenty thousand rows,
    // and parsing them as JSON took most of its time) with the title the recurring problems
    // group by, and the counts by subcategory too: refilled at start by `Desk::adopt_reports`.
    r#"
    CREATE TABLE knowledge_sessions (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        version      INTEGER NOT NULL,
        held_on      TEXT NOT NULL,
        topic        TEXT NOT NULL,
        systems      TEXT NOT NULL,
        kb_articles  TEXT NOT NULL,
        live_viewers INTEGER,
        total_views  INTEGER,
        recorded_by  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE INDEX knowledge_sessions_held ON knowledge_sessions (held_on);
    CREATE INDEX tickets_open ON tickets (created_at, category)
        WHERE status NOT IN ('resolved', 'closed');
    CREATE INDEX tickets_done ON tickets (coalesce(resolved_at, closed_at), created_at, category)
        WHERE status IN ('resolved', 'closed');
    DROP TABLE report_facts;
    DROP TABLE report_rollup;
    CREATE TABLE report_facts (
        ticket_id           INTEGER PRIMARY KEY REFERENCES tickets(id),
        week                TEXT NOT NULL,
        month               TEXT NOT NULL,
        created_at          TEXT NOT NULL,
        category            TEXT NOT NULL,
        subcategory         TEXT,
        title               TEXT NOT NULL,
        system              TEXT NOT NULL,
        channel             TEXT NOT NULL,
        priority            TEXT NOT NULL,
        assignee            TEXT,
        resolved_at         TEXT,
        first_response_secs INTEGER,
        resolution_secs     INTEGER,
        resolved_in_time    INTEGER,
        kb_article          INTEGER
    );
    CREATE INDEX report_facts_week ON report_facts (week);
    CREATE INDEX report_facts_month ON report_facts (month);
    CREATE TABLE report_rollup (
        period      TEXT NOT NULL,
        category    TEXT NOT NULL,
        subcategory TEXT NOT NULL,
        system      TEXT NOT NULL,
        channel     TEXT NOT NULL,
        tickets     INTEGER NOT NULL,
        resolved    INTEGER NOT NULL,
        in_time     INTEGER NOT NULL,
        PRIMARY KEY (period, category, subcategory, system, channel)
    ) WITHOUT ROWID;
    "#,
    // 12: the sandbox brokerage (`/uat-sandbox/`, the demo's business systems): its settings
    // (the key, the outage switch) and its customers, one JSON document each, with the
    // columns that must be unique or looked up beside it.
    r#"
    CREATE TABLE sandbox_settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE sandbox_customers (
        id           INTEGER PRIMARY KEY,
        customer_no  TEXT NOT NULL UNIQUE,
        id_number    TEXT NOT NULL UNIQUE,
        fund_account TEXT UNIQUE,
        bank_card    TEXT UNIQUE,
        doc          TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    "#,
    // Account construction runs and their steps. `inputs` and `vars` hold the values a
    // resume needs in full; what lists and records show is masked (`shown_inputs`, steps).
    r#"
    CREATE TABLE construct_runs (
        id            INTEGER PRIMARY KEY,
        version       INTEGER NOT NULL,
        recipe        TEXT NOT NULL,
        recipe_digest TEXT NOT NULL,
        environment   TEXT NOT NULL,
        batch         TEXT,
        batch_index   INTEGER NOT NULL,
        started_by    TEXT NOT NULL,
        status        TEXT NOT NULL,
        reason        TEXT,
        message       TEXT,
        failed_step   TEXT,
        id_number     TEXT,
        inputs        TEXT NOT NULL,
        shown_inputs  TEXT NOT NULL,
        vars          TEXT NOT NULL,
        result        TEXT,
        calls         INTEGER NOT NULL DEFAULT 0,
        steps_done    INTEGER NOT NULL DEFAULT 0,
        duration_ms   INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        started_at    TEXT,
        finished_at   TEXT
    );
    CREATE INDEX construct_runs_created ON construct_runs (created_at);
    CREATE INDEX construct_runs_who ON construct_runs (started_by, id);
    CREATE INDEX construct_runs_live ON construct_runs (status) WHERE status IN ('queued', 'running');
    CREATE INDEX construct_runs_id_number ON construct_runs (id_number) WHERE id_number IS NOT NULL;
    CREATE TABLE construct_steps (
        run_id      INTEGER NOT NULL REFERENCES construct_runs (id),
        key         TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        stage       TEXT NOT NULL,
        step        TEXT NOT NULL,
        status      TEXT NOT NULL,
        attempts    INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        request     TEXT,
        response    TEXT,
        message     TEXT,
        PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    -- Every time a run stopped short, even when a resume later finished it: the reports
    -- group failures by reason from here (an outage stops many runs that then succeed).
    CREATE TABLE construct_stops (
        run_id  INTEGER NOT NULL REFERENCES construct_runs (id),
        at      TEXT NOT NULL,
        reason  TEXT NOT NULL,
        step    TEXT,
        message TEXT
    );
    CREATE INDEX construct_stops_at ON construct_stops (at);
    "#,
    // Proactive monitors: every evaluation, and the alerts they raise. An alert's rows are
    // kept in full for the handler's detail view; lists and notices mask them. At most one
    // alert of a monitor is open (not resolved): a monitor that keeps firing updates it.
    r#"
    CREATE TABLE alerts (
        id              INTEGER PRIMARY KEY,
        version         INTEGER NOT NULL,
        monitor         TEXT NOT NULL,
        title           TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
        summary         TEXT NOT NULL,
        value           REAL,
        columns         TEXT NOT NULL,
        rows            TEXT NOT NULL,
        masks           TEXT NOT NULL,
        row_count       INTEGER NOT NULL,
        first_at        TEXT NOT NULL,
        last_at         TEXT NOT NULL,
        evaluations     INTEGER NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at TEXT,
        resolved_by     TEXT,
        resolved_at     TEXT,
        silenced_until  TEXT,
        silenced_by     TEXT,
        ticket_id       INTEGER REFERENCES tickets (id)
    );
    CREATE UNIQUE INDEX alerts_open ON alerts (monitor) WHERE state <> 'resolved';
    CREATE INDEX alerts_ticket ON alerts (ticket_id) WHERE ticket_id IS NOT NULL;
    CREATE INDEX alerts_monitor ON alerts (monitor, id);
    CREATE TABLE monitor_evaluations (
        id          INTEGER PRIMARY KEY,
        monitor     TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'firing', 'error')),
        value       REAL,
        summary     TEXT NOT NULL,
        alert_id    INTEGER REFERENCES alerts (id)
    );
    CREATE INDEX monitor_evaluations_monitor ON monitor_evaluations (monitor, id);
    CREATE INDEX monitor_evaluations_started ON monitor_evaluations (started_at);
    "#,
];

/// Brings the database to the newest schema this build knows.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::TooNew(path.to_path_buf(), current));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_refuse_newer_files() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, Path::new(":memory:")).unwrap();
        migrate(&mut conn, Path::new(":memory:")).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut conn, Path::new("x")),
            Err(StoreError::TooNew(_, 999))
        ));
    }
}
