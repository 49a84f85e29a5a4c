//! The handler's terminal workstation (issue 5): ratatui over crossterm, talking to the
//! companion server through `client`. Built in steps; the rooms below are filled as they land.

pub mod action;
