//! Proactive monitors, pure: the rules that decide whether business data is anomalous. The
//! first is the consistency check between two systems (account against trading); the
//! sources, schedules, alerts and their notifications build on these.

pub mod consistency;
