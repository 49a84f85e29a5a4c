//! UAT account construction, pure: the generators of test identities that recipes and
//! `opsdesk construct gen` draw from, and the recipe engine (reading, checking, requests and
//! judging answers). Runs and the sandbox build on these.

pub mod generate;
pub mod recipe;
pub mod run;
