//! The comparison for a terminal, in the spirit of critcmp, within 100
//! columns: the summary, the verdict matrix (one row per scenario, one
//! column per report against the baseline; stacked when the columns do not
//! fit), the machine fields, then every scenario's details.

use crate::compare::Comparison;
use crate::export::compare_table::{self, Column, Matrix, Table};
use crate::report::load::unsafe_char;

/// `text` safe to print on a terminal: control characters (ESC, NUL, a
/// carriage return, …) and bidi overrides, which could move the cursor,
/// recolour or hide what follows, are shown as their `\u{…}` escapes;
/// line breaks and tabs are kept.
pub fn clean(text: &str) -> String {
    escape_where(text, |c| c != '\n' && c != '\t' && unsafe_char(c))
}

/// [`clean`] for one line: line breaks are escaped too.
pub fn clean_line(text: &str) -> String {
    escape_where(text, unsafe_char)
}

fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> String {
    if !text.chars().any(&escape) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if escape(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The terminal width the output is laid out for.
const WIDTH: usize = 100;

/// Renders `c` for a terminal (plain text, no colour, ends with a newline).
pub fn render_terminal(c: &Comparison) -> String {
    let mut lines: Vec<String> = Vec::new();
    lines.extend(wrap(
        &format!("unlink-race compare: {}", compare_table::summary(c)),
        "",
        "  ",
    ));
    for line in compare_table::lacking_lines(c) {
        lines.extend(wrap(&line, "", "  "));
    }
    lines.push(String::new());
    lines.extend(matrix_lines(&compare_table::matrix(c, true)));
    lines.push(String::new());

    let machine = compare_table::machine_table(c);
    lines.extend(aligned(&machine));
    lines.push(String::new());

    // The class heads its rows on a line of its own, to save width.
    let blocks = compare_table::scenario_blocks(c, true);
    let columns: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|&c| c != Column::Class)
        .collect();
    let header: Vec<String> = columns.iter().map(|col| col.title(c.alpha())).collect();
    let numeric: Vec<bool> = columns.iter().map(|c| c.numeric()).collect();
    let cells: Vec<Vec<Vec<String>>> = blocks
        .iter()
        .map(|b| {
            b.rows
                .iter()
                .map(|row| columns.iter().map(|col| col.cell(row)).collect())
                .collect()
        })
        .collect();
    let all_rows: Vec<Vec<String>> = std::iter::once(header.clone())
        .chain(cells.iter().flatten().cloned())
        .collect();
    let widths = widths(&all_rows);
    let indent = "  ";
    if blocks.iter().any(|b| !b.rows.is_empty()) {
        lines.push(format!("{indent}  {}", line(&header, &widths, &[])));
    }
    for (block, rows) in blocks.iter().zip(&cells) {
        lines.push(format!("{}: {}", block.name, block.outcome));
        lines.extend(wrap(&compare_table::runs_line(block), indent, "    "));
        for (class_row, row) in block.rows.iter().zip(rows) {
            if class_row.first_of_class {
                lines.push(format!("{indent}{}", class_row.class));
            }
            lines.push(format!("{indent}  {}", line(row, &widths, &numeric)));
        }
        for note in &block.notes {
            lines.extend(wrap(note, indent, "    "));
        }
    }
    let mut out: String = lines
        .into_iter()
        .map(|l| fit(&l))
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// The matrix as a table when it fits in [`WIDTH`] columns, else one
/// scenario per line followed by its cells, one per line.
fn matrix_lines(m: &Matrix) -> Vec<String> {
    let mut header = vec!["scenario".to_string()];
    header.extend(m.titles.iter().cloned());
    let rows: Vec<Vec<String>> = std::iter::once(header)
        .chain(m.rows.iter().map(|r| {
            std::iter::once(r.scenario.clone())
                .chain(r.cells.iter().map(|c| c.text.clone()))
                .collect()
        }))
        .collect();
    let widths = widths(&rows);
    let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    if total <= WIDTH {
        return rows.iter().map(|r| line(r, &widths, &[])).collect();
    }
    let mut out = Vec::new();
    for row in &m.rows {
        out.push(row.scenario.clone());
        for (title, cell) in m.titles.iter().zip(&row.cells) {
            let text = if cell.names_report {
                cell.text.clone()
            } else {
                format!("{title}: {}", cell.text)
            };
            out.extend(wrap(&text, "  ", "    "));
        }
    }
    out
}

/// Words of `text` in lines of at most [`WIDTH`] columns, the first after
/// `first`, the others after `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && width(&current) + 1 + width(word) > WIDTH {
            lines.push(std::mem::replace(&mut current, rest.to_string()));
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(word);
        empty = false;
    }
    lines.push(current);
    lines
}

/// A line cut to [`WIDTH`] columns (with `…`) if it is longer.
fn fit(line: &str) -> String {
    if width(line) <= WIDTH {
        line.to_string()
    } else {
        let cut: String = line.chars().take(WIDTH - 1).collect();
        format!("{cut}…")
    }
}

fn aligned(table: &Table) -> Vec<String> {
    let rows: Vec<Vec<String>> = std::iter::once(table.header.clone())
        .chain(table.rows.iter().cloned())
        .collect();
    let widths = widths(&rows);
    rows.iter().map(|r| line(r, &widths, &[])).collect()
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
