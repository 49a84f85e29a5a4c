//! The demo data set (`fixtures/demo/`): users and ~200 tickets with their history, replayed
//! through the same use cases as live traffic, anchored to "now" so the demo always looks
//! current.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::messages::insert_in;
use super::submissions::confirm_in;
use super::tickets::{create_in, transition_in};
use super::{Desk, DeskError};
use crate::api::TransitionBody;
use crate::domain::ticket::{Category, Channel, Customer, Priority, Status, TransferTarget};
use crate::domain::validate::NewTicket;
use crate::store::users::{self, User};
use crate::store::{Rejected, StoreError, WriteCtx, tickets};

const USERS: &str = include_str!("../../fixtures/demo/users.toml");
const TICKETS: &str = include_str!("../../fixtures/demo/tickets.json");
/// The demo knowledge base: `fixtures/kb/<system>/<slug>.md`.
static KB: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/fixtures/kb");

/// The demo knowledge base's files, in path order.
pub fn kb_files() -> Vec<super::kb::ArticleFile> {
    let mut files: Vec<super::kb::ArticleFile> = KB
        .dirs()
        .flat_map(|system| system.files())
        .filter(|f| f.path().extension().is_some_and(|e| e == "md"))
        .map(|f| super::kb::ArticleFile {
            name: format!("fixtures/kb/{}", f.path().display()),
            text: f.contents_utf8().unwrap_or_default().to_string(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// Every demo account's password. Demo data only: never seed it into a real data dir.
pub const DEMO_PASSWORD: &str = "opsdesk-demo";
/// The label of the demo handler's token, replaced each time demo credentials are printed.
const DEMO_TOKEN_LABEL: &str = "demo";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    user: Vec<DemoUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUser {
    username: String,
    display_name: String,
    role: String,
    #[serde(default)]
    city: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTicket {
    #[serde(rename = "ref")]
    reference: String,
    created_minutes_ago: i64,
    channel: Channel,
    #[serde(default)]
    external_ref: Option<String>,
    system: String,
    category: Category,
    #[serde(default)]
    subcategory: Option<String>,
    priority: Priority,
    title: String,
    description: String,
    customer: Customer,
    submitter: String,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    events: Vec<DemoEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
enum DemoEvent {
    Status {
        after_minutes: i64,
        to: Status,
        by: String,
        #[serde(default)]
        transfer_to: Option<TransferTarget>,
        #[serde(default)]
        note: Option<String>,
        #[serde(default)]
        resolution: Option<String>,
    },
    Reply {
        after_minutes: i64,
        by: String,
        body: String,
    },
    Note {
        after_minutes: i64,
        by: String,
        body: String,
    },
    /// The submitter confirms the resolution ("问题已解决"), with their words if any.
    Confirm {
        after_minutes: i64,
        by: String,
        #[serde(default)]
        body: Option<String>,
    },
}

/// What `--demo` prints so a newcomer can log in.
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    pub seeded: bool,
    pub tickets: u64,
    pub handler: String,
    pub handler_token: String,
    pub submitter: String,
    pub password: &'static str,
}

fn users() -> Result<Vec<DemoUser>, StoreError> {
    toml::from_str::<UsersFile>(USERS)
        .map(|f| f.user)
        .map_err(|e| StoreError::Corrupt(format!("fixtures/demo/users.toml: {e}")))
}

fn demo_tickets() -> Result<Vec<DemoTicket>, StoreError> {
    serde_json::from_str(TICKETS)
        .map_err(|e| StoreError::Corrupt(format!("fixtures/demo/tickets.json: {e}")))
}

/// The demo knowledge base, each article saved as its author wrote it.
fn seed_kb(
    ctx: &mut WriteCtx<'_>,
    settings: &crate::config::Settings,
    now: DateTime<Utc>,
) -> Result<(), DeskError> {
    let files = kb_files();
    let checked = super::kb::read_files(&files, &settings.system_keys()).map_err(|refused| {
        StoreError::Corrupt(format!("the demo knowledge base: {:?}", refused.0))
    })?;
    for (file, article) in files.into_iter().zip(checked) {
        let author = article.author.clone();
        super::kb::save_all(ctx, &[(file.name, article)], &author, now)?;
    }
    Ok(())
}

fn seed_in(
    ctx: &mut WriteCtx<'_>,
    desk_settings: &crate::config::Settings,
    now: DateTime<Utc>,
) -> Result<(), DeskError> {
    let password_hash = users::hash_password(DEMO_PASSWORD)?;
    let mut by_name: HashMap<String, User> = HashMap::new();
    for u in users()? {
        let role = crate::domain::people::Role::parse(&u.role).ok_or_else(|| {
            StoreError::Corrupt(format!("demo user {}: role '{}'", u.username, u.role))
        })?;
        let user = users::insert(
            ctx.conn,
            &u.username,
            &u.display_name,
            role,
            u.city.as_deref(),
            Some(&password_hash),
            now,
        )?;
        by_name.insert(user.username.clone(), user);
    }
    let who = |name: &str| -> Result<User, DeskError> {
        by_name.get(name).cloned().ok_or_else(|| {
            StoreError::Corrupt(format!("demo user '{name}' is not in users.toml")).into()
        })
    };
    for d in demo_tickets()? {
        let created = now - Duration::minutes(d.created_minutes_ago);
        let new = NewTicket {
            title: d.title,
            description: d.description,
            system: d.system,
            customer: d.customer,
            category: Some(d.category),
            subcategory: d.subcategory,
            priority: Some(d.priority),
            channel: Some(d.channel),
            external_ref: d.external_ref,
        };
        let context = |e: DeskError| -> DeskError {
            StoreError::Corrupt(format!("demo ticket {}: {e}", d.reference)).into()
        };
        let (mut t, _) =
            create_in(ctx, desk_settings, &who(&d.submitter)?, new, created).map_err(context)?;
        if let Some(a) = &d.assignee {
            t.assignee = Some(who(a)?.username);
            t.version += 1;
            tickets::update(ctx.conn, &t)?;
            super::tickets::record_facts(ctx.conn, desk_settings, &t)?;
        }
        for e in d.events {
            match e {
                DemoEvent::Status {
                    after_minutes,
                    to,
                    by,
                    transfer_to,
                    note,
                    resolution,
                } => {
                    let current = tickets::get(ctx.conn, t.id)?
                        .ok_or_else(|| Rejected::NotFound(d.reference.clone()))?;
                    // A submitter's answer already moved the ticket back to triaging.
                    if current.status == to {
                        continue;
                    }
                    let body = TransitionBody {
                        to,
                        transfer_to,
                        note,
                        resolution,
                        version: None,
                    };
                    let at = created + Duration::minutes(after_minutes);
                    transition_in(ctx, desk_settings, &who(&by)?, current, &body, at)
                        .map_err(context)?;
                }
                DemoEvent::Reply {
                    after_minutes,
                    by,
                    body,
                } => {
                    let at = created + Duration::minutes(after_minutes);
                    insert_in(ctx, desk_settings, &who(&by)?, t.id, body, false, at)
                        .map_err(context)?;
                }
                DemoEvent::Note {
                    after_minutes,
                    by,
                    body,
                } => {
                    let at = created + Duration::minutes(after_minutes);
                    insert_in(ctx, desk_settings, &who(&by)?, t.id, body, true, at)
                        .map_err(context)?;
                }
                DemoEvent::Confirm {
                    after_minutes,
                    by,
                    body,
                } => {
                    let at = created + Duration::minutes(after_minutes);
                    confirm_in(ctx, desk_settings, &who(&by)?, t.id, body.as_deref(), at)
                        .map_err(context)?;
                }
            }
        }
    }
    super::demo_history::seed(ctx, desk_settings, now)?;
    Ok(())
}

impl Desk {
    /// Seeds the demo data into an empty store (a store with any user is left alone), then
    /// issues a fresh token for the first demo handler.
    pub async fn seed_demo(&self) -> Result<DemoCredentials, DeskError> {
        // Replayed history pages no one.
        let settings = self.settings.without_notifications();
        let demo_users = users()?;
        let handler = demo_users
            .iter()
            .find(|u| u.role == "handler")
            .map(|u| u.username.clone())
            .ok_or_else(|| StoreError::Corrupt("the demo has no handler".into()))?;
        let submitter = demo_users
            .iter()
            .find(|u| u.role == "submitter")
            .map(|u| u.username.clone())
            .unwrap_or_default();
        let name = handler.clone();
        let (seeded, handler_token, tickets) = self
            .write(move |ctx| {
                let now = ctx.now;
                let empty = users::count(ctx.conn)? == 0;
                if empty {
                    seed_in(ctx, &settings, now)?;
                }
                let Some(user) = users::by_username(ctx.conn, &name)? else {
                    return Err(DeskError::Conflict(format!(
                        "this data dir holds other data (no demo handler '{name}'); --demo only seeds an empty one"
                    )));
                };
                // A demo made before the knowledge base gets its articles now, and the help
                // center's own articles become the knowledge base's of the same titles.
                if crate::store::kb::count(ctx.conn)? == 0 {
                    seed_kb(ctx, &settings, now)?;
                }
                super::help::adopt(ctx, settings.system_keys().first().copied())?;
                let token = users::issue_token(ctx.conn, &user, DEMO_TOKEN_LABEL, now)?;
                Ok((empty, token, tickets::count(ctx.conn)?))
            })
            .await?;
        Ok(DemoCredentials {
            seeded,
            tickets,
            handler,
            handler_token,
            submitter,
            password: DEMO_PASSWORD,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_parse() {
        let users = users().unwrap();
        assert!(users.iter().filter(|u| u.role == "handler").count() >= 8);
        let tickets = demo_tickets().unwrap();
        assert!(tickets.len() >= 180, "{}", tickets.len());
        let consultation = tickets
            .iter()
            .filter(|t| t.category == Category::Consultation)
            .count();
        assert!(
            consultation * 100 / tickets.len() >= 70,
            "consultation share"
        );
    }
}
