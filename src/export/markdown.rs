//! The comparison as Markdown ready to paste into a GitHub issue: a summary
//! line, the machine table, then one scenario table. Every table is a pipe
//! table with a header row; `|` in a cell is escaped.

use crate::compare::Comparison;
use crate::export::compare_table::{self, NUMERIC_COLUMNS, SCENARIO_COLUMNS};

/// Renders `c` as GitHub-flavoured Markdown (ends with a newline).
pub fn render_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "**unlink-race compare**: {}.\n\n",
        escape(&compare_table::summary(c))
    ));

    let machine = compare_table::machine_table(c);
    table(&mut out, &machine.header, &[], &machine.rows);
    out.push('\n');

    let mut header = vec!["scenario".to_string()];
    header.extend(SCENARIO_COLUMNS.iter().map(|s| s.to_string()));
    let mut numeric = vec![false];
    numeric.extend(NUMERIC_COLUMNS);
    let mut rows = Vec::new();
    for block in compare_table::scenario_blocks(c) {
        let title = format!("**{}**: {}", block.name, block.outcome);
        for (i, cells) in block.rows.iter().enumerate() {
            let mut row = vec![if i == 0 { title.clone() } else { String::new() }];
            row.extend(cells.iter().cloned());
            rows.push(row);
        }
        if !block.zero_classes.is_empty() {
            let mut row = vec![String::new(); header.len()];
            row[1] = "all".into();
            row[5] = format!("0 in every report: {}", block.zero_classes.join(", "));
            row[6] = "0".into();
            row[12] = block.zero_verdict.clone().unwrap_or_default();
            rows.push(row);
        }
    }
    table(&mut out, &header, &numeric, &rows);
    out
}

/// A pipe table: header, separator (`---:` for numbers), rows.
fn table(out: &mut String, header: &[String], numeric: &[bool], rows: &[Vec<String>]) {
    let line = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|c| escape(c)).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    out.push_str(&line(header));
    let separator: Vec<String> = (0..header.len())
        .map(|i| {
            if numeric.get(i).copied().unwrap_or(false) {
                "---:".to_string()
            } else {
                "---".to_string()
            }
        })
        .collect();
    out.push_str(&format!("|{}|\n", separator.join("|")));
    for row in rows {
        out.push_str(&line(row));
    }
}

/// A cell's text made safe inside a pipe table: `|` escaped, no line breaks.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}
