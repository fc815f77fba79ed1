//! The comparison as a compact terminal table, in the spirit of critcmp:
//! a summary line, the machine fields, then every scenario's rows under one
//! header, columns aligned across the whole output.

use crate::compare::Comparison;
use crate::export::compare_table::{self, NUMERIC_COLUMNS, SCENARIO_COLUMNS, ScenarioBlock, Table};

/// Renders `c` for a terminal (plain text, no colour, ends with a newline).
pub fn render_terminal(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "unlink-race compare: {}\n\n",
        compare_table::summary(c)
    ));

    let machine = compare_table::machine_table(c);
    out.push_str(&aligned(&machine, &[]).join("\n"));
    out.push_str("\n\n");

    let blocks = compare_table::scenario_blocks(c);
    let header: Vec<String> = SCENARIO_COLUMNS.iter().map(|s| s.to_string()).collect();
    let all_rows: Vec<Vec<String>> = std::iter::once(header.clone())
        .chain(blocks.iter().flat_map(|b| b.rows.iter().cloned()))
        .collect();
    let widths = widths(&all_rows);
    let indent = "  ";
    out.push_str(indent);
    out.push_str(&line(&header, &widths, &[]));
    out.push('\n');
    for block in &blocks {
        out.push_str(&format!("{}: {}\n", block.name, block.outcome));
        for row in &block.rows {
            out.push_str(indent);
            out.push_str(&line(row, &widths, &NUMERIC_COLUMNS));
            out.push('\n');
        }
        if let Some(note) = zero_note(block) {
            out.push_str(indent);
            out.push_str(&note);
            out.push('\n');
        }
    }
    out
}

/// `0 in every report (same): write_einval, empty_read`.
fn zero_note(block: &ScenarioBlock) -> Option<String> {
    (!block.zero_classes.is_empty()).then(|| {
        let verdict = block
            .zero_verdict
            .as_ref()
            .map_or(String::new(), |v| format!(" ({v})"));
        format!(
            "0 in every report{verdict}: {}",
            block.zero_classes.join(", ")
        )
    })
}

fn aligned(table: &Table, numeric: &[bool]) -> Vec<String> {
    let rows: Vec<Vec<String>> = std::iter::once(table.header.clone())
        .chain(table.rows.iter().cloned())
        .collect();
    let widths = widths(&rows);
    rows.iter().map(|r| line(r, &widths, numeric)).collect()
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

fn widths(rows: &[Vec<String>]) -> Vec<usize> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| width(c))
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Cells padded to `widths`, two spaces apart, numbers right-aligned, no
/// trailing blanks.
fn line(cells: &[String], widths: &[usize], numeric: &[bool]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let pad = widths[i].saturating_sub(width(cell));
        if i > 0 {
            out.push_str("  ");
        }
        if numeric.get(i).copied().unwrap_or(false) {
            out.push_str(&" ".repeat(pad));
            out.push_str(cell);
        } else {
            out.push_str(cell);
            out.push_str(&" ".repeat(pad));
        }
    }
    out.trim_end().to_string()
}
