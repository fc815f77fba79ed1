//! Presentation of loaded reports and comparisons: one module per output format.

pub mod compare_table;
pub mod create;
pub mod files;
pub mod format;
pub mod html;
pub mod index;
pub mod markdown;
pub mod matrix;
pub(crate) mod pooled;
pub mod summary;
pub mod terminal;
