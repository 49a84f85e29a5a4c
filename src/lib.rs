//! opsdesk: an incident desk for a brokerage's production-incident team.
//!
//! The folders are the architecture; imports point one way (edges → service → store → domain):
//!
//! | module    | room                                                                  |
//! |-----------|-----------------------------------------------------------------------|
//! | `domain`  | pure rules: ticket model, lifecycle, SLA clock, calendar, masking, validation, sanitizing, API views, notification rendering. No IO, no clock. |
//! | `store`   | SQLite (rusqlite, WAL): schema, one writer thread with group commit, readers, one file per aggregate. |
//! | `service` | use cases composing domain and store in one transaction; shared by the API, the CLI and the demo loader. |
//! | `server`  | axum: routes, auth, errors, limits, the SSE change stream, background jobs (the notify worker), graceful shutdown. |
//! | `config`  | `opsdesk.toml` and the settings derived from it.                     |
//! | `cli`     | the command line of DESIGN.md §3.                                     |

pub mod cli;
pub mod client;
pub mod config;
pub mod display;
pub mod domain;
pub mod server;
pub mod service;
pub mod store;
pub mod tui;
