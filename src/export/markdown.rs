//! The comparison as Markdown ready to paste into a GitHub issue: a summary
//! line and the verdict matrix first (short enough for a bug report), a line
//! for each report without raced-open counts, then the details: the machine table, one table of every scenario's classes,
//! and what inconclusive comparisons can and cannot exclude. Every table is
//! a pipe table with a header row.
//!
//! Text from reports (labels, hostnames, names) lands where a reader's
//! Markdown renders it, so it goes through the one Markdown escaper here:
//! [`text`] backslash-escapes what Markdown would read as markup (inline
//! HTML, links and images, emphasis, `|` that would split a table cell),
//! [`code`] fences a code span so no backtick inside can end it; both turn
//! control characters into spaces. The markup this module adds is put
//! around escaped text, never escaped with it.

use crate::compare::Comparison;
use crate::export::compare_table::{self, Column};

/// Renders `c` as GitHub-flavoured Markdown (ends with a newline).
pub fn render_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}: {}.\n\n",
        strong("unlink-race compare"),
        text(&compare_table::summary(c))
    ));

    // Short labels (without the prefix all share) keep the matrix narrow;
    // the machine table below gives them in full.
    let m = compare_table::matrix(c, true);
    let names = compare_table::labels(c, true);
    let mut header = vec![text("scenario")];
    header.extend(
        m.titles
            .iter()
            .map(|t| text(&format!("{t} vs {}", names[c.baseline]))),
    );
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|r| {
            std::iter::once(code(&r.scenario))
                .chain(r.cells.iter().map(|cell| match cell.verdict {
                    Some(v) if v.differs() => strong(&cell.text),
                    _ => text(&cell.text),
                }))
                .collect()
        })
        .collect();
    table(&mut out, &header, &[], &rows);
    // Reports from before the raced-open count, named once.
    let lacking = compare_table::lacking_lines(c);
    if !lacking.is_empty() {
        out.push('\n');
        for line in &lacking {
            out.push_str(&format!("- {}\n", text(line)));
        }
    }
    out.push_str("\n### Details\n\n");

    let machine = compare_table::machine_table(c);
    let escaped = |cells: &[String]| cells.iter().map(|c| text(c)).collect::<Vec<_>>();
    let machine_rows: Vec<Vec<String>> = machine.rows.iter().map(|r| escaped(r)).collect();
    table(&mut out, &escaped(&machine.header), &[], &machine_rows);
    out.push('\n');

    let mut header = vec![text("scenario")];
    header.extend(Column::ALL.iter().map(|col| text(&col.title(c.alpha()))));
    let mut numeric = vec![false];
    numeric.extend(Column::ALL.iter().map(|c| c.numeric()));
    let blocks = compare_table::scenario_blocks(c, false);
    let mut rows = Vec::new();
    for block in &blocks {
        let title = format!("{}: {}", strong(&block.name), text(&block.outcome));
        if block.rows.is_empty() {
            let mut row = vec![String::new(); header.len()];
            row[0] = title;
            row[1] = text("no event in any report");
            rows.push(row);
            continue;
        }
        for (i, class_row) in block.rows.iter().enumerate() {
            let mut row = vec![if i == 0 { title.clone() } else { String::new() }];
            row.extend(Column::ALL.iter().map(|col| text(&col.cell(class_row))));
            rows.push(row);
        }
    }
    table(&mut out, &header, &numeric, &rows);

    let notes: Vec<(&str, String)> = blocks
        .iter()
        .flat_map(|b| {
            std::iter::once((b.name.as_str(), compare_table::runs_line(b)))
                .chain(b.notes.iter().map(|n| (b.name.as_str(), n.clone())))
        })
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for (name, note) in notes {
            out.push_str(&format!("- {}: {}\n", code(name), text(&note)));
        }
    }
    out
}

/// A pipe table: header, separator (`---:` for numbers), rows. Every cell
/// is Markdown already ([`text`], [`code`], [`strong`]).
pub(crate) fn table(out: &mut String, header: &[String], numeric: &[bool], rows: &[Vec<String>]) {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(header));
    let separator: Vec<&str> = (0..header.len())
        .map(|i| {
            if numeric.get(i).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    out.push_str(&format!("|{}|\n", separator.join("|")));
    for row in rows {
        out.push_str(&line(row));
    }
}

/// Characters Markdown may read as markup in running text: without `<`
/// there is no autolink or inline HTML, without `*` and `~` no emphasis or
/// strike-through, without `&` no entity, without `|` no new table cell
/// (CommonMark's backslash escapes work for each). `_` is left as it is:
/// inside a word (`zombie_fd`) it is never emphasis, and around one it can
/// only italicise. A `]` is escaped where it would close a link, an image
/// or a link reference definition (`](`, `][`, `]:`), so that `[99% CI]`
/// stays readable.
const MARKUP: &[char] = &['\\', '`', '*', '<', '>', '|', '~', '#', '&'];

/// `s` as literal text in a Markdown table cell or list item: markup
/// characters backslash-escaped (inline HTML, links and images, emphasis,
/// entities, a `|` that would end the cell), control characters (a line
/// break would end the table) turned into spaces.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_control() || crate::report::load::unsafe_char(c) {
            out.push(' ');
            continue;
        }
        let closes_link = c == ']' && matches!(chars.peek(), Some('(' | '[' | ':'));
        if MARKUP.contains(&c) || closes_link {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` as a code span: fenced by more backticks than any run inside it (so
/// nothing inside can end it, and inside a code span nothing is markup),
/// `|` escaped so a table keeps its cells, control characters as spaces.
pub fn code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_control() || crate::report::load::unsafe_char(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let longest_run = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space inside the fence keeps a leading or trailing backtick apart.
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", clean.replace('|', "\\|"))
}

/// `s` in bold: `**` around [`text`].
pub fn strong(s: &str) -> String {
    format!("**{}**", text(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_literal_in_markdown() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(
            text("<img src=x onerror=alert(1)>"),
            "\\<img src=x onerror=alert(1)\\>"
        );
        assert_eq!(text("![x](http://e)"), "![x\\](http://e)");
        assert_eq!(text("[a][b] [95% CI]"), "[a\\][b] [95% CI]");
        assert_eq!(text("[x]: http://e"), "[x\\]: http://e");
        assert_eq!(text("line\nbreak\u{1b}[31m"), "line break [31m");
        assert_eq!(text("1.5e-3 – 2.0e-3 (95%)"), "1.5e-3 – 2.0e-3 (95%)");
    }

    #[test]
    fn code_spans_cannot_be_ended_from_inside() {
        assert_eq!(code("r1-d1"), "`r1-d1`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b<i>"), "`a\\|b<i>`");
    }
}
