//! Tests of the pure parts of the report page: pooled totals, chart layout,
//! the timeline's spans.
