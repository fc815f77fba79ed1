//! Presentation of loaded reports: one module per output format.

pub mod html;
