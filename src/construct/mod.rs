//! UAT account construction at the edge: the environments recipes run against. The pure part
//! (generators, recipes, step planning) is in `domain::construct`.

pub mod config;
pub mod engine;
pub mod recipes;
