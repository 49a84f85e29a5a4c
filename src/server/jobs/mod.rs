//! Background work the server does beside answering requests. Each job is started by
//! [`crate::server::launch`], works through the store like a request does, and stops when the
//! server shuts down.

pub mod monitors;
pub mod notify;
pub mod sweep;
