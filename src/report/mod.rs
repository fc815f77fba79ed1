//! Reports: the versioned JSON schema ([`schema`]) and how a run becomes one.

pub mod schema;
