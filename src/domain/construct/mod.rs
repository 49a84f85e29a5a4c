//! UAT account construction, pure: the generators of test identities that recipes and
//! `opsdesk construct gen` draw from. Recipes, runs and the sandbox build on these.

pub mod generate;
