//! opsdesk: an incident desk for a brokerage's production-incident team.
//!
//! The folders are the architecture; imports point one way (edges → service → store → domain):
//!
//! | module    | room                                                                  |
//! |-----------|-----------------------------------------------------------------------|
//! | `domain`  | pure rules: ticket model, lifecycle, SLA clock, calendar, masking, validation, sanitizing, image checks, API views, notification rendering, the backoff between attempts, the service center's reports (periods, per-ticket facts, figures, recurring problems, knowledge sessions). No IO, no clock. |
//! | `api`     | the wire contract: request and response bodies shared by the server, the client and the workstation. Imports `domain` only. |
//! | `store`   | SQLite (rusqlite, WAL): schema, one writer thread with group commit, readers, one file per aggregate. |
//! | `service` | use cases composing domain and store in one transaction; shared by the API, the CLI and the demo loader. |
//! | `server`  | axum: routes, auth, errors, limits, the SSE change stream, the MSS pages, the report pages (`/reports/`), background jobs (the notify worker), graceful shutdown. |
//! | `client`  | the HTTP + SSE client of the API, the workstation's local cache and outbox. Speaks `api`, never `service`, `store` or `server`. |
//! | `tui`     | the terminal workstation: the loop, the app core (focus, shared overlays, link, outbox state), keymaps, themes, and one folder per pane under `tui/panes/`. Speaks `api` through `client`. |
//! | `config`  | `opsdesk.toml` and the settings derived from it.                     |
//! | `cli`     | the command line of DESIGN.md §3.                                     |
//! | `display` | terminal text helpers shared by the CLI and the workstation: widths, wrapping, countdowns. |
//! | `signals` | the signals that end the process normally, for the server and the workstation. |
//! | `lookups` | the lookup engine: log sources (files, Elasticsearch) and data sources (SQL), one query model; pure of server and terminal types, run by the server and the CLI. |
//! | `fuzz`    | entry points for fuzzing every parser of untrusted bytes (`tests/fuzz.rs`, `fuzz/`). |

pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod construct;
pub mod display;
pub mod domain;
pub mod fuzz;
pub mod lookups;
pub mod monitor;
pub mod server;
pub mod service;
pub mod signals;
pub mod store;
pub mod tui;
