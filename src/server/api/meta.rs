//! Health, metrics, the OpenAPI description, the configured systems and the caller.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::config::Exposure;
use crate::config::SystemDef;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::metrics::CalendarCoverage;
use crate::store::users::User;
use crate::store::{changes, notifications, tickets};
use axum::http::HeaderMap;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub latest_seq: i64,
    pub tickets: u64,
}

/// Liveness and readiness: answers only when the database can be read.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = Health), (status = 503)))]
pub async fn healthz(State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let (latest_seq, tickets) = s
        .desk
        .store
        .read(|conn| Ok((changes::latest(conn)?, tickets::count(conn)?)))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "health check cannot read the store");
            ApiError::unavailable("the database cannot be read")
        })?;
    Ok(axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        latest_seq,
        tickets,
    }))
}

/// Readiness to write, from a write probe cached for a second.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// `ok`, or why a write cannot succeed: `disk_full`, `read_only`, `busy`, `error`.
    pub write: &'static str,
}

/// Whether a write can succeed now (503 with `Retry-After` when not): for load balancers and
/// monitoring, since `/healthz` stays ok on a full disk or a read-only data dir.
#[utoipa::path(get, path = "/readyz", tag = "meta", responses((status = 200, body = Ready), (status = 503, body = Ready)))]
pub async fn readyz(State(s): State<AppState>) -> axum::response::Response {
    use crate::server::ready::Probe;
    match s.readiness.check(&s.desk.store).await {
        Probe::Ready => axum::Json(Ready {
            status: "ready",
            write: "ok",
        })
        .into_response(),
        Probe::NotReady { write, .. } => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(
                header::RETRY_AFTER,
                HeaderValue::from(crate::server::error::STORAGE_RETRY_AFTER_SECS),
            )],
            axum::Json(Ready {
                status: "not_ready",
                write,
            }),
        )
            .into_response(),
    }
}

/// Prometheus text format.
pub async fn metrics(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    if s.desk.settings.server.metrics == Exposure::Token {
        Caller::from_headers(&s, &headers).await?.handler()?;
    }
    let (by_status, latest, notifications) = s
        .desk
        .store
        .read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })?;
            let by_status = rows.collect::<Result<Vec<_>, _>>()?;
            Ok((
                by_status,
                changes::latest(conn)?,
                notifications::counts(conn)?,
            ))
        })
        .await?;
    let calendar = CalendarCoverage::read(&s.desk.settings.calendar, chrono::Utc::now());
    let text = s
        .metrics
        .render(&by_status, latest, &notifications, &calendar);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    ))
}

/// The configured systems; a ticket's `system` holds a key.
#[utoipa::path(get, path = "/api/v1/systems", tag = "meta", responses((status = 200, body = Vec<SystemDef>)))]
pub async fn systems(State(s): State<AppState>, _caller: Caller) -> impl IntoResponse {
    axum::Json(s.desk.settings.systems.clone())
}

/// The people tickets can be assigned to: handlers and admins (for handlers only).
#[utoipa::path(get, path = "/api/v1/users", tag = "meta", responses((status = 200, body = Vec<User>), (status = 403)))]
pub async fn users(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    caller.handler()?;
    let all = s.desk.store.read(crate::store::users::all).await?;
    Ok(axum::Json(
        all.into_iter()
            .filter(|u| u.role.works_tickets())
            .collect::<Vec<_>>(),
    ))
}

/// The user the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "meta", responses((status = 200, body = User)))]
pub async fn me(Caller(user): Caller) -> impl IntoResponse {
    axum::Json(user)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "opsdesk", description = "Incident tickets for a brokerage's production-incident team. Authenticate with `Authorization: Bearer <token>` (`opsdesk admin user add NAME --role handler` prints one)."),
    paths(
        healthz, readyz, systems, me, users,
        super::tickets::list, super::tickets::create, super::tickets::get, super::tickets::patch,
        super::tickets::transition, super::tickets::assign, super::tickets::link, super::tickets::customer,
        super::tickets::approve_script,
        super::tickets::audit, super::tickets::similar,
        super::messages::list, super::messages::create, super::messages::read_marker, super::messages::mark_read, super::messages::unread,
        super::attachments::upload, super::attachments::download,
        super::events::events, super::events::list,
    ),
    modifiers(&BearerAuth, &Described, &Public)
)]
pub struct ApiDoc;

/// The probes answer without a token (load balancers and monitors call them); the description
/// says so (`security: []`), so a contract tester knows it is meant.
struct Public;

/// Paths that need no token.
const PUBLIC_PATHS: &[&str] = &["/healthz", "/readyz"];

impl utoipa::Modify for Public {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in PUBLIC_PATHS {
            if let Some(item) = openapi.paths.paths.get_mut(*path)
                && let Some(get) = item.get.as_mut()
            {
                get.security = Some(Vec::new());
            }
        }
    }
}

/// Every response says what it is (OpenAPI requires a description): an annotation that
/// gives none gets the status's own words, so no handler can leave one out.
struct Described;

impl utoipa::Modify for Described {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for op in operations.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.trim().is_empty()
                    {
                        response.description = status_words(status);
                    }
                }
            }
        }
    }
}

/// A status code's reason phrase, as the description of a response that gives none.
fn status_words(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Response")
        .to_string()
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The OpenAPI description, generated from the handlers' annotations.
pub async fn openapi(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    if s.desk.settings.server.openapi == Exposure::Token {
        Caller::from_headers(&s, &headers).await?;
    }
    Ok(axum::Json(ApiDoc::openapi()))
}

#[cfg(test)]
mod description {
    use std::collections::HashSet;

    use super::ApiDoc;
    use utoipa::OpenApi;

    /// What the OpenAPI 3.1 reference validator checks that utoipa lets an annotation miss:
    /// a description on every response, every path parameter declared, unique operation ids,
    /// and bytes described as binary rather than as an array of numbers.
    #[test]
    fn the_description_holds_what_generated_clients_need() {
        let spec = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut ids = HashSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            let wanted: Vec<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split('}').next())
                .collect();
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                let id = op["operationId"].as_str().unwrap_or_default().to_string();
                assert!(
                    ids.insert(id.clone()),
                    "{at}: operation id {id} is used twice"
                );
                for (status, response) in op["responses"].as_object().unwrap() {
                    let described = response["description"].as_str().unwrap_or_default();
                    assert!(
                        !described.trim().is_empty(),
                        "{at} {status}: no description"
                    );
                    let text = response.to_string();
                    assert!(
                        !(text.contains("octet-stream") && text.contains("\"array\"")),
                        "{at} {status}: bytes described as an array"
                    );
                }
                for name in &wanted {
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| p["in"] == "path" && p["name"] == *name)
                    });
                    assert!(declared, "{at}: path parameter {name} not declared");
                }
            }
        }
    }

    /// The bounds the server enforces on paging are in the description, so a generated
    /// request within it is never refused for them.
    #[test]
    fn paging_bounds_are_described() {
        let spec = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for path in ["/api/v1/tickets", "/api/v1/changes"] {
            let params = spec["paths"][path]["get"]["parameters"].as_array().unwrap();
            let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
            assert_eq!(limit["schema"]["minimum"], serde_json::json!(1), "{path}");
            assert_eq!(
                limit["schema"]["maximum"],
                serde_json::json!(1000),
                "{path}"
            );
        }
    }

    #[test]
    fn the_probes_are_described_as_public_and_the_rest_as_needing_a_token() {
        let spec = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for path in super::PUBLIC_PATHS {
            assert_eq!(
                spec["paths"][path]["get"]["security"],
                serde_json::json!([]),
                "{path}"
            );
        }
        assert!(
            spec["paths"]["/api/v1/tickets"]["get"]
                .get("security")
                .is_none()
        );
        assert_eq!(spec["security"][0]["bearer"], serde_json::json!([]));
    }

    /// The enums are listed in the words the wire carries, so a generated client decodes
    /// every ticket.
    #[test]
    fn enums_are_described_in_their_wire_spelling() {
        use crate::domain::people::Role;
        use crate::domain::ticket::{
            Category, Channel, LinkKind, Priority, Status, TransferTarget,
        };
        let spec = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let listed = |name: &str| -> Vec<String> {
            spec["components"]["schemas"][name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} is described"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        fn wire<T: serde::Serialize>(all: &[T]) -> Vec<String> {
            all.iter()
                .map(|v| {
                    serde_json::to_value(v)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        }
        assert_eq!(listed("Category"), wire(Category::ALL));
        assert_eq!(listed("Status"), wire(Status::ALL));
        assert_eq!(listed("Priority"), wire(Priority::ALL));
        assert_eq!(listed("Channel"), wire(Channel::ALL));
        assert_eq!(listed("TransferTarget"), wire(TransferTarget::ALL));
        assert_eq!(listed("LinkKind"), wire(LinkKind::ALL));
        assert_eq!(
            listed("Role"),
            wire(&[Role::Handler, Role::Submitter, Role::Admin])
        );
    }
}
