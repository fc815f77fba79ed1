//! Reports: the versioned JSON schema ([`schema`]), the machine fingerprint
//! ([`machine`]) and how a run's tally becomes a report ([`build`]).

pub mod build;
pub mod command;
pub mod load;
pub mod machine;
pub mod schema;
pub mod validate;
