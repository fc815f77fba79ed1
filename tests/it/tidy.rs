//! The documentation held to the code, as ordinary tests: links and anchors
//! resolve, no document is cited that the repository does not hold, the flag
//! tables are the command line's flags, the settings table is
//! [`Setting::ALL`], the JSON field tables are the schema's fields, and the
//! README keeps to its budget and prints what the binary prints.
//!
//! Everything a table must list is derived from the code (clap's `--help`,
//! `Setting::ALL`, `src/report/schema/`, `Class::ALL`), so adding a flag,
//! a setting, a field or a class without its row fails here, and so does a
//! row for something that no longer exists.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use unlink_race::grid::Setting;
use unlink_race::outcome::Class;

use crate::util;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every `.md` under `dir`, recursively, in name order.
fn markdown_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            markdown_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "md") {
            out.push(p);
        }
    }
}

/// The documents: README, ARCHITECTURE, everything in docs/, and the
/// READMEs beside the reports.
fn documents() -> Vec<PathBuf> {
    let mut out = vec![repo().join("README.md"), repo().join("ARCHITECTURE.md")];
    markdown_under(&repo().join("docs"), &mut out);
    for r in ["reports/README.md", "reports/reference/README.md"] {
        out.push(repo().join(r));
    }
    out
}

fn shown(path: &Path) -> String {
    path.strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One Markdown document, split the way the checks need it.
struct Doc {
    /// Text outside fenced code blocks, one entry per paragraph (lines joined
    /// with spaces), with the heading each paragraph is under.
    paragraphs: Vec<(String, String)>,
    /// Headings in order: (level, text as written).
    headings: Vec<(usize, String)>,
    /// Fenced code blocks: (info string, lines, heading above).
    blocks: Vec<(String, Vec<String>, String)>,
    /// Tables: (heading above, rows of cells; the first row is the header).
    tables: Vec<(String, Vec<Vec<String>>)>,
}

fn parse(text: &str) -> Doc {
    let mut doc = Doc {
        paragraphs: Vec::new(),
        headings: Vec::new(),
        blocks: Vec::new(),
        tables: Vec::new(),
    };
    let mut heading = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut fence: Option<(String, Vec<String>)> = None;
    let flush =
        |para: &mut Vec<&str>, table: &mut Vec<Vec<String>>, doc: &mut Doc, heading: &str| {
            if !para.is_empty() {
                doc.paragraphs.push((para.join(" "), heading.to_string()));
                para.clear();
            }
            if !table.is_empty() {
                doc.tables
                    .push((heading.to_string(), std::mem::take(table)));
            }
        };
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some((info, lines)) = &mut fence {
            if trimmed.starts_with("```") {
                doc.blocks
                    .push((info.clone(), std::mem::take(lines), heading.clone()));
                fence = None;
            } else {
                lines.push(line.to_string());
            }
            continue;
        }
        if let Some(info) = trimmed.strip_prefix("```") {
            flush(&mut para, &mut table, &mut doc, &heading);
            fence = Some((info.trim().to_string(), Vec::new()));
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if level > 0 && line[level..].starts_with(' ') {
            flush(&mut para, &mut table, &mut doc, &heading);
            heading = line[level..].trim().to_string();
            doc.headings.push((level, heading.clone()));
            doc.paragraphs.push((heading.clone(), heading.clone()));
            continue;
        }
        if trimmed.starts_with('|') {
            if table.is_empty() {
                flush(&mut para, &mut table, &mut doc, &heading);
            }
            let cells = split_row(trimmed);
            if !cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) {
                table.push(cells);
            }
            para.push(line);
            continue;
        }
        if !table.is_empty() || line.trim().is_empty() {
            flush(&mut para, &mut table, &mut doc, &heading);
        }
        if !line.trim().is_empty() {
            para.push(line);
        }
    }
    flush(&mut para, &mut table, &mut doc, &heading);
    doc
}

/// The cells of a table row (`\|` is a pipe inside a cell).
fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// `text` without its code spans, and the code spans' contents.
fn split_code_spans(text: &str) -> (String, Vec<String>) {
    let mut plain = String::new();
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        plain.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        let fence = "`".repeat(ticks);
        match after.find(&fence) {
            Some(end) => {
                spans.push(after[..end].trim().to_string());
                rest = &after[end + ticks..];
            }
            None => {
                plain.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    plain.push_str(rest);
    (plain, spans)
}

/// The targets of the inline links `[text](target)` in `text`, code spans
/// left out.
fn link_targets(text: &str) -> Vec<String> {
    let (plain, _) = split_code_spans(text);
    let mut out = Vec::new();
    let mut rest = plain.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let end = after.find(')').unwrap_or(after.len());
        out.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    out
}

/// GitHub's anchor for a heading: the rendered text lower-cased, spaces to
/// `-`, everything but letters, digits, `-` and `_` dropped.
fn slug(heading: &str) -> String {
    // Code spans render as their text.
    let text = heading.replace('`', "");
    // Links render as their text.
    let mut rendered = String::new();
    let mut chars = text.chars().peekable();
    let mut in_target = false;
    while let Some(c) = chars.next() {
        match c {
            ']' if chars.peek() == Some(&'(') => {
                in_target = true;
                chars.next();
            }
            ')' if in_target => in_target = false,
            _ if in_target => {}
            _ => rendered.push(c),
        }
    }
    rendered
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor of a document, duplicates numbered as GitHub numbers them.
fn anchors(doc: &Doc) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, h) in &doc.headings {
        let s = slug(h);
        let n = seen.entry(s.clone()).or_insert(0);
        out.insert(if *n == 0 {
            s.clone()
        } else {
            format!("{s}-{n}")
        });
        *n += 1;
    }
    out
}

/// Why `target`, linked from `from`, does not resolve; `None` when it does.
fn unresolved(from: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        from.to_path_buf()
    } else {
        from.parent().unwrap().join(path)
    };
    if !file.exists() {
        return Some(format!("{} does not exist", shown(&file)));
    }
    let anchor = anchor?;
    if file.extension().is_none_or(|e| e != "md") {
        return Some(format!(
            "#{anchor} points into {}, not a Markdown file",
            shown(&file)
        ));
    }
    let known = anchors(&parse(&read(&file)));
    (!known.contains(anchor)).then(|| format!("{} has no heading #{anchor}", shown(&file)))
}

fn is_external(target: &str) -> bool {
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|p| target.starts_with(p))
}

/// Every link of every document to a file of the repository: (document,
/// target as written).
fn local_links() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for file in documents() {
        let doc = parse(&read(&file));
        for (text, _) in &doc.paragraphs {
            for target in link_targets(text) {
                if !is_external(&target) {
                    out.push((file.clone(), target));
                }
            }
        }
    }
    out
}

#[test]
fn every_link_and_anchor_in_the_docs_resolves() {
    let links = local_links();
    assert!(
        links.len() > 50,
        "found only {} links: is the scan broken?",
        links.len()
    );
    let broken: Vec<String> = links
        .iter()
        .filter_map(|(file, target)| {
            let why = unresolved(file, target)?;
            Some(format!("{}: ({target}): {why}", shown(file)))
        })
        .collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_doc_in_docs_is_linked_from_another() {
    let mut linked = BTreeSet::new();
    for (file, target) in local_links() {
        let path = target.split('#').next().unwrap();
        if let Ok(to) = file.parent().unwrap().join(path).canonicalize()
            && !path.is_empty()
            && to != file.canonicalize().unwrap()
        {
            linked.insert(to);
        }
    }
    let mut docs = Vec::new();
    markdown_under(&repo().join("docs"), &mut docs);
    let orphans: Vec<String> = docs
        .iter()
        .filter(|d| !linked.contains(&d.canonicalize().unwrap()))
        .map(|d| shown(d))
        .collect();
    assert!(
        orphans.is_empty(),
        "linked from no other document: {orphans:?}"
    );
}

/// Text files of the code, the scripts and the build, whose references into
/// the docs must resolve.
fn code_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .extension()
                .is_none_or(|e| ["rs", "sh", "yml", "toml"].iter().any(|x| e == *x))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for d in [
        "src", "tests", "benches", "examples", "scripts", ".ci", ".github",
    ] {
        walk(&repo().join(d), &mut out);
    }
    out.retain(|p| !p.starts_with(repo().join("tests/fixtures")));
    out.extend(["Cargo.toml", "action.yml"].map(|f| repo().join(f)));
    out.sort();
    out
}

/// The `docs/….md#…`, `README.md#…` and `ARCHITECTURE.md#…` references in
/// `text`.
fn doc_references(text: &str) -> Vec<String> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || "_./-#".contains(c);
    let mut out = Vec::new();
    for (i, _) in text.match_indices(".md") {
        let start = text[..i].rfind(|c: char| !is_path(c)).map_or(0, |j| j + 1);
        let end = text[i + 3..]
            .find(|c: char| !is_path(c))
            .map_or(text.len(), |j| i + 3 + j);
        let token = text[start..end].trim_end_matches(['.', '-']);
        let path = token.split('#').next().unwrap();
        let cited = path.starts_with("docs/")
            || ((path == "README.md" || path == "ARCHITECTURE.md") && token.contains('#'));
        if cited {
            out.push(token.to_string());
        }
    }
    out
}

#[test]
fn references_from_the_code_into_the_docs_resolve() {
    let this = repo().join("tests/it/tidy.rs");
    let mut broken = Vec::new();
    let mut count = 0;
    for file in code_files() {
        if file == this {
            continue;
        }
        let text = read(&file);
        for r in doc_references(&text) {
            count += 1;
            if let Some(why) = unresolved(&repo().join("Cargo.toml"), &r) {
                broken.push(format!("{}: {r}: {why}", shown(&file)));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken references:\n{}",
        broken.join("\n")
    );
    assert!(
        count > 10,
        "found only {count} references: is the scan broken?"
    );
}

/// The project's documents are all in the repository: nothing cites the
/// numbered sections of a design document kept elsewhere.
#[test]
fn no_document_outside_the_repository_is_cited() {
    let design = ["DESIGN", " §"].concat();
    let design_md = ["DESIGN", ".md"].concat();
    let this = repo().join("tests/it/tidy.rs");
    let mut files = code_files();
    files.extend(documents());
    let cited: Vec<String> = files
        .iter()
        .filter(|f| **f != this)
        .filter(|f| {
            let t = read(f);
            t.contains(&design) || t.contains(&design_md)
        })
        .map(|f| shown(f))
        .collect();
    assert!(
        cited.is_empty(),
        "cite a document not in the repository: {cited:?}"
    );
}

/// The places in `text` that point at an issue by number alone (`issue 15`,
/// `Issue 9:`, `issues 13 and 17`): a tracker the reader cannot see. An
/// issue of another project names it (`golang/go #81246`), which is not
/// this pattern.
fn bare_issue_numbers(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("issue") {
        let start = from + at;
        from = start + "issue".len();
        if lower[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '/')
        {
            continue;
        }
        let rest = lower[from..].strip_prefix('s').unwrap_or(&lower[from..]);
        let rest = rest.strip_prefix(' ').unwrap_or("");
        let rest = rest.strip_prefix('#').unwrap_or(rest);
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            let end = (start + 24).min(text.len());
            let end = (end..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(text.len());
            found.push(text[start..end].to_string());
        }
    }
    found
}

#[test]
fn no_issue_is_cited_by_number_alone() {
    let this = repo().join("tests/it/tidy.rs");
    let mut files = code_files();
    files.extend(documents());
    let cited: Vec<String> = files
        .iter()
        .filter(|f| **f != this)
        .flat_map(|f| {
            bare_issue_numbers(&read(f))
                .into_iter()
                .map(|hit| format!("{}: {hit}", shown(f)))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        cited.is_empty(),
        "point at a tracker the reader cannot see (say what the case is instead): {cited:#?}"
    );
}

#[test]
fn a_bare_issue_number_is_caught() {
    assert_eq!(bare_issue_numbers("as issue 15 found").len(), 1);
    assert_eq!(bare_issue_numbers("/// Issue 9: every scenario").len(), 1);
    assert_eq!(bare_issue_numbers("(issues 13 and 17)").len(), 1);
    assert!(bare_issue_numbers("golang/go #81246, the issue is open").is_empty());
    assert!(bare_issue_numbers("github.com/o/r/issues/12").is_empty());
}

#[test]
fn the_readme_is_a_front_door() {
    let text = read(&repo().join("README.md"));
    let words = text.split_whitespace().count();
    assert!(
        words <= 3000,
        "README.md has {words} words; the budget is 3,000"
    );
    // The two commands first, then "On a Mac" within 150 words of them.
    let first_block_end = text
        .match_indices("```")
        .nth(1)
        .map(|(i, _)| i + 3)
        .expect("README.md opens with a code block");
    let mac = text
        .find("## On a Mac")
        .expect("README.md has '## On a Mac'");
    let between = text[first_block_end..mac].split_whitespace().count();
    assert!(
        between <= 150,
        "'On a Mac' comes {between} words after the commands; at most 150"
    );
    for command in ["cargo bench", "cargo test"] {
        assert!(
            text[..first_block_end].contains(command),
            "{command} is not at the top"
        );
    }
    // No run log: dates and tracker numbers belong in docs/measurements/.
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    for m in months {
        assert!(
            !text.contains(&format!("{m} 20")),
            "README.md has a date ({m} …)"
        );
    }
    let lower = text.to_lowercase();
    for (i, _) in lower.match_indices("issue ") {
        let next = lower[i + 6..].chars().next();
        assert!(
            !next.is_some_and(|c| c.is_ascii_digit()),
            "README.md refers to a tracker issue: {}",
            &text[i..(i + 12).min(text.len())]
        );
    }
}

// ---- The command line --------------------------------------------------

/// The subcommands the binary lists in `--help` (its build's: `zombiefs`
/// only with the feature on Linux).
fn subcommands() -> Vec<String> {
    let out = util::run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let list = help
        .split("Commands:\n")
        .nth(1)
        .expect("--help lists commands");
    list.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .filter(|c| c != "help")
        .collect()
}

/// A subcommand's long flags (without `--help`) and positional arguments,
/// as its `--help` lists them.
fn flags_of(sub: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let out = util::run(&[sub, "--help"]);
    assert!(out.status.success(), "{sub} --help failed");
    let help = String::from_utf8(out.stdout).unwrap();
    let mut flags = BTreeSet::new();
    let mut positionals = BTreeSet::new();
    let mut section = "";
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line;
            continue;
        }
        let t = line.trim_start();
        if section == "Arguments:" && t.starts_with('<') && line.starts_with("  ") {
            let name = t.split('>').next().unwrap().trim_start_matches('<');
            positionals.insert(name.to_string());
        }
        let indent = line.len() - t.len();
        if section == "Options:" && t.starts_with('-') && indent <= 6 {
            for token in t.split_whitespace() {
                let token = token.trim_end_matches(',');
                if let Some(flag) = token.strip_prefix("--") {
                    if flag != "help" && flag != "version" {
                        flags.insert(format!("--{flag}"));
                    }
                    break;
                }
                if !token.starts_with('-') {
                    break;
                }
            }
        }
    }
    (flags, positionals)
}

/// The flags (`--x`) and positionals (`NAME`, `NAME…`) a flag table's first
/// column lists.
fn table_flags(rows: &[Vec<String>]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut flags = BTreeSet::new();
    let mut positionals = BTreeSet::new();
    for row in &rows[1..] {
        let (_, spans) = split_code_spans(&row[0]);
        for span in spans {
            let name = span.trim_end_matches(['…', '.']);
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                positionals.insert(name.to_string());
            }
            for (i, _) in span.match_indices("--") {
                let flag: String = span[i + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !flag.is_empty() {
                    flags.insert(format!("--{flag}"));
                }
            }
        }
    }
    (flags, positionals)
}

/// The subcommand a heading such as ``## `unlink-race run` `` names.
fn heading_subcommand(heading: &str) -> Option<String> {
    let (_, spans) = split_code_spans(heading);
    let span = spans.first()?;
    let sub = span.strip_prefix("unlink-race ")?;
    (!sub.contains(' ')).then(|| sub.to_string())
}

#[test]
fn every_flag_table_is_the_command_lines() {
    let subs = subcommands();
    assert!(subs.contains(&"run".to_string()), "{subs:?}");
    let zombiefs_listed = subs.iter().any(|s| s == "zombiefs");
    if cfg!(all(feature = "zombiefs", target_os = "linux")) && !zombiefs_listed {
        // tests/it/fleet.rs builds the binary without the feature into the
        // same target directory while the other tests run.
        let _ = writeln!(
            std::io::stderr(),
            "note: the unlink-race binary was rebuilt without zombiefs; its flag table is not checked in this run"
        );
    }
    let usage = parse(&read(&repo().join("docs/usage.md")));
    let mut problems = Vec::new();
    // Every subcommand has its section in docs/usage.md, with a flag table
    // when it has flags.
    for sub in &subs {
        let (flags, positionals) = flags_of(sub);
        let has_section = usage
            .headings
            .iter()
            .any(|(_, h)| heading_subcommand(h).as_deref() == Some(sub));
        let has_table = usage
            .tables
            .iter()
            .any(|(h, rows)| heading_subcommand(h).as_deref() == Some(sub) && rows[0][0] == "flag");
        if !has_section {
            problems.push(format!("docs/usage.md has no section `unlink-race {sub}`"));
        } else if !has_table && (!flags.is_empty() || !positionals.is_empty()) {
            problems.push(format!(
                "docs/usage.md has no flag table for `unlink-race {sub}`"
            ));
        }
    }
    // Every flag table, in any document, lists exactly its subcommand's flags.
    for file in documents() {
        let doc = parse(&read(&file));
        for (heading, rows) in &doc.tables {
            if rows[0][0] != "flag" {
                continue;
            }
            let Some(sub) = heading_subcommand(heading) else {
                problems.push(format!(
                    "{}: a flag table under '{heading}', which names no subcommand",
                    shown(&file)
                ));
                continue;
            };
            if !subs.contains(&sub) {
                if sub == "zombiefs" && !zombiefs_listed {
                    continue; // checked where the binary has it
                }
                problems.push(format!("{}: no subcommand `{sub}`", shown(&file)));
                continue;
            }
            let documented = table_flags(rows);
            let actual = flags_of(&sub);
            for (what, doc_set, real) in [
                ("flags", &documented.0, &actual.0),
                ("arguments", &documented.1, &actual.1),
            ] {
                let missing: Vec<_> = real.difference(doc_set).collect();
                let extra: Vec<_> = doc_set.difference(real).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    problems.push(format!(
                        "{}: `unlink-race {sub}` {what}: undocumented {missing:?}, documented but not in --help {extra:?}",
                        shown(&file)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The settings table of docs/usage.md lists exactly [`Setting::ALL`], in
/// order, with the same meaning and default.
#[test]
fn the_settings_table_is_the_settings_table() {
    let usage = read(&repo().join("docs/usage.md"));
    let rows: Vec<Vec<String>> = usage
        .lines()
        .filter(|l| l.starts_with("| `UNLINK_RACE_"))
        .map(split_row)
        .collect();
    let expected: Vec<Vec<String>> = Setting::ALL
        .iter()
        .map(|s| {
            vec![
                format!("`{}`", s.var()),
                s.meaning().to_string(),
                s.default_text().to_string(),
            ]
        })
        .collect();
    assert_eq!(rows, expected);
}

/// Every `UNLINK_RACE_*` variable a document names is one the code reads.
#[test]
fn every_variable_the_docs_name_exists() {
    let mut code = String::new();
    for f in code_files() {
        if f.starts_with(repo().join("src")) || f.starts_with(repo().join("benches")) {
            code += &read(&f);
        }
    }
    let mut unknown = BTreeSet::new();
    for file in documents() {
        let text = read(&file);
        for (i, _) in text.match_indices("UNLINK_RACE_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            // `UNLINK_RACE_*` names them all.
            if !name.ends_with('_') && !code.contains(&format!("\"{name}\"")) {
                unknown.insert(format!("{}: {name}", shown(&file)));
            }
        }
    }
    assert!(unknown.is_empty(), "not read by the code: {unknown:?}");
}

/// The command lines in the README's code: the arguments of each
/// `unlink-race …` (or `cargo run … -- …`) command.
fn readme_commands() -> Vec<Vec<String>> {
    let doc = parse(&read(&repo().join("README.md")));
    let mut lines: Vec<String> = Vec::new();
    for (info, block, _) in &doc.blocks {
        let joined = block.join("\n").replace("\\\n", " ");
        match info.as_str() {
            // Comment lines are not commands.
            "sh" => lines.extend(
                joined
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .map(str::to_string),
            ),
            // The prompt lines: `$ ` as a user, `# ` as root.
            "console" => lines.extend(
                joined
                    .lines()
                    .filter(|l| l.starts_with("$ ") || l.starts_with("# "))
                    .map(|l| l[2..].to_string()),
            ),
            _ => {}
        }
    }
    for (text, _) in &doc.paragraphs {
        let (_, spans) = split_code_spans(text);
        lines.extend(spans.into_iter().filter(|s| s.starts_with("unlink-race ")));
    }
    let mut out = Vec::new();
    for line in lines {
        let line = line.split(" #").next().unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words
            .iter()
            .position(|w| w.ends_with("unlink-race") || *w == "--")
        else {
            continue;
        };
        if words[at] == "--" && !words[..at].contains(&"run") {
            continue; // `cargo bench -- …`: Criterion's arguments
        }
        let args: Vec<String> = words[at + 1..]
            .iter()
            .map(|w| w.trim_end_matches('&').to_string())
            .filter(|w| !w.is_empty())
            .collect();
        if !args.is_empty() {
            out.push(args);
        }
    }
    out
}

#[test]
fn the_readmes_commands_parse() {
    let commands = readme_commands();
    assert!(commands.len() >= 6, "{commands:?}");
    let subs = subcommands();
    for args in commands {
        if args[0] == "zombiefs" && !subs.contains(&args[0]) {
            continue; // not in this build
        }
        // Before `--`: what follows is emulate's command, not its flags.
        let mut with_help = args.clone();
        let end = with_help
            .iter()
            .position(|a| a == "--")
            .unwrap_or(args.len());
        with_help.insert(end, "--help".into());
        let refs: Vec<&str> = with_help.iter().map(String::as_str).collect();
        let out = util::run(&refs);
        assert!(
            out.status.success(),
            "README: `unlink-race {}` does not parse: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The README's example outputs of `compare`, `index` and `grid` (whose
/// output depends only on the committed reports and the settings) are what
/// the binary prints: every line shown, in order (`…` marks lines left out).
#[test]
fn the_readmes_example_outputs_are_what_the_binary_prints() {
    let doc = parse(&read(&repo().join("README.md")));
    let mut checked = 0;
    for (info, block, _) in &doc.blocks {
        let Some(command) = block.first().and_then(|l| l.strip_prefix("$ ")) else {
            continue;
        };
        if info != "console" {
            continue;
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "unlink-race").unwrap();
        if !["compare", "index", "grid"].contains(&words[at + 1]) {
            continue;
        }
        let mut cmd = util::bin();
        cmd.current_dir(repo()).args(&words[at + 1..]);
        for (k, _) in std::env::vars() {
            if k.starts_with("UNLINK_RACE_") {
                cmd.env_remove(k);
            }
        }
        for w in &words[..at] {
            let (k, v) = w.split_once('=').unwrap();
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let mut actual = String::from_utf8(out.stdout).unwrap();
        // grid names the filesystem the temp dir is on: read it as the README's.
        let tag = |text: &str| {
            text.lines()
                .next()
                .and_then(|l| l.strip_prefix("target directory: "))
                .map(str::to_string)
        };
        if let (Some(real), Some(shown_line)) = (tag(&actual), tag(&block[1..].join("\n"))) {
            let tag_of = |l: &str| {
                l.rsplit("report tag ")
                    .next()
                    .unwrap()
                    .trim_end_matches(')')
                    .to_string()
            };
            actual = actual.replace(&real, &shown_line).replace(
                &format!("  {}-", tag_of(&real)),
                &format!("  {}-", tag_of(&shown_line)),
            );
        }
        let actual: Vec<&str> = actual.lines().map(str::trim_end).collect();
        let mut from = 0;
        for line in &block[1..] {
            if line.trim() == "…" {
                continue;
            }
            match actual[from..].iter().position(|a| a == &line.trim_end()) {
                Some(i) => from += i + 1,
                None => panic!(
                    "README: `{command}` does not print, in this order:\n{line}\nit prints:\n{}",
                    actual.join("\n")
                ),
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "the README's compare, index and grid examples");
}

/// The README's `cargo bench` verdict is the verdict of the report it names.
#[test]
fn the_readmes_bench_verdict_is_the_reference_reports() {
    let doc = parse(&read(&repo().join("README.md")));
    let (_, block, _) = doc
        .blocks
        .iter()
        .find(|(info, b, h)| {
            info == "text" && h.contains("cargo bench") && b[0].starts_with("verdict on")
        })
        .expect("a verdict example under the README's `cargo bench`");
    let path = repo().join("reports/reference/linux-12-ext4-vm.json");
    let report = unlink_race::report::load::load_report(&path).unwrap();
    let verdict = unlink_race::export::summary::report_verdict(&report);
    assert_eq!(block.join("\n"), verdict.trim_end());
}

// ---- The JSON report ---------------------------------------------------

/// The serialised structs of `src/report/schema/`: name → fields and their
/// types, in order.
fn schema_structs() -> BTreeMap<String, Vec<(String, String)>> {
    let dir = repo().join("src/report/schema");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let text: String = files.iter().map(|f| read(f) + "\n").collect();
    let mut out = BTreeMap::new();
    let mut derive_serialize = false;
    let mut skipped = false;
    let mut current: Option<(String, Vec<(String, String)>)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some((name, fields)) = &mut current {
            if t == "}" {
                out.insert(name.clone(), std::mem::take(fields));
                current = None;
            } else if t.starts_with("#[serde(") && (t.contains("rename") || t.contains("flatten")) {
                panic!(
                    "tidy reads field names from src/report/schema/ and does not know `{t}`: teach it"
                );
            } else if t.starts_with("#[serde(")
                && t.trim_start_matches("#[serde(")
                    .trim_end_matches(")]")
                    .split(',')
                    .any(|a| a.trim() == "skip")
            {
                skipped = true; // never written: not a field of the file
            } else if let Some(field) = t.strip_prefix("pub ") {
                let (name, ty) = field.split_once(':').unwrap();
                if !std::mem::take(&mut skipped) {
                    fields.push((
                        name.trim().to_string(),
                        ty.trim().trim_end_matches(',').to_string(),
                    ));
                }
            }
            continue;
        }
        if t.starts_with("#[derive(") {
            derive_serialize = t.contains("Serialize");
        } else if let Some(rest) = t.strip_prefix("pub struct ") {
            if derive_serialize && rest.ends_with('{') {
                let name = rest.trim_end_matches('{').trim().to_string();
                current = Some((name, Vec::new()));
            }
            derive_serialize = false;
        }
    }
    out
}

/// Every object path of the report and the struct behind it, walking from
/// `Report` (`.scenarios[].classes.<class>`: a map keyed by class name).
fn schema_paths(structs: &BTreeMap<String, Vec<(String, String)>>) -> Vec<(String, String)> {
    let mut out = vec![(".".to_string(), "Report".to_string())];
    let mut i = 0;
    while i < out.len() {
        let (path, ty) = out[i].clone();
        for (field, field_ty) in &structs[&ty] {
            let mut inner = field_ty.as_str();
            let mut child = if path == "." {
                format!(".{field}")
            } else {
                format!("{path}.{field}")
            };
            loop {
                if let Some(t) = inner.strip_prefix("Option<") {
                    inner = t.strip_suffix('>').unwrap();
                } else if let Some(t) = inner.strip_prefix("Vec<") {
                    inner = t.strip_suffix('>').unwrap();
                    child += "[]";
                } else if let Some(t) = inner.strip_prefix("BTreeMap<Class, ") {
                    inner = t.strip_suffix('>').unwrap();
                    child += ".<class>";
                } else {
                    break;
                }
            }
            if structs.contains_key(inner) {
                out.push((child, inner.to_string()));
            }
        }
        i += 1;
    }
    out
}

/// The field tables of docs/report-format.md: object path → fields.
fn documented_fields() -> BTreeMap<String, BTreeSet<String>> {
    let doc = parse(&read(&repo().join("docs/report-format.md")));
    let mut out = BTreeMap::new();
    for (heading, rows) in &doc.tables {
        let (_, spans) = split_code_spans(heading);
        let Some(path) = spans.first().filter(|s| s.starts_with('.')) else {
            continue;
        };
        if rows[0][0] != "field" {
            continue;
        }
        let fields = rows[1..]
            .iter()
            .map(|r| split_code_spans(&r[0]).1.join(""))
            .collect();
        assert!(
            out.insert(path.clone(), fields).is_none(),
            "docs/report-format.md: two tables for {path}"
        );
    }
    out
}

#[test]
fn the_json_field_tables_are_the_schemas_fields() {
    let structs = schema_structs();
    assert!(
        structs.contains_key("Report") && structs.len() > 10,
        "{:?}",
        structs.keys()
    );
    let paths = schema_paths(&structs);
    let documented = documented_fields();
    let mut problems = Vec::new();
    for (path, fields) in &documented {
        let Some((_, ty)) = paths.iter().find(|(p, _)| p == path) else {
            problems.push(format!("{path}: no such object in the schema"));
            continue;
        };
        let real: BTreeSet<String> = structs[ty].iter().map(|(f, _)| f.clone()).collect();
        let missing: Vec<_> = real.difference(fields).collect();
        let extra: Vec<_> = fields.difference(&real).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{path} ({ty}): undocumented {missing:?}, documented but not in the schema {extra:?}"
            ));
        }
    }
    let types: BTreeSet<&String> = paths.iter().map(|(_, t)| t).collect();
    for ty in types {
        if !paths
            .iter()
            .any(|(p, t)| t == ty && documented.contains_key(p))
        {
            let at: Vec<_> = paths
                .iter()
                .filter(|(_, t)| t == ty)
                .map(|(p, _)| p)
                .collect();
            problems.push(format!("{ty} is documented at none of {at:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/report-format.md:\n{}",
        problems.join("\n")
    );
}

/// Every key of the committed reports is a field of the schema's struct at
/// its path, so that the field tables (held to the structs above) are the
/// file's keys too.
#[test]
fn every_key_of_the_committed_reports_is_a_schema_field() {
    fn walk(v: &serde_json::Value, path: &str, out: &mut BTreeSet<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map {
                    let (key, child) = if path.ends_with(".classes") {
                        ("<class>".to_string(), format!("{path}.<class>"))
                    } else if path == "." {
                        (k.clone(), format!(".{k}"))
                    } else {
                        (k.clone(), format!("{path}.{k}"))
                    };
                    if key != "<class>" {
                        out.insert((path.to_string(), key));
                    }
                    walk(x, &child, out);
                }
            }
            serde_json::Value::Array(items) => {
                for x in items {
                    walk(x, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
    let structs = schema_structs();
    let paths = schema_paths(&structs);
    let mut keys = BTreeSet::new();
    let mut files = Vec::new();
    for dir in ["reports/reference", "tests/fixtures"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "json") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 5, "{files:?}");
    for f in &files {
        let v: serde_json::Value = serde_json::from_str(&read(f)).unwrap();
        if v.get("tool").and_then(|t| t.as_str()) == Some("unlink-race") {
            walk(&v, ".", &mut keys);
        }
    }
    let unknown: Vec<_> = keys
        .iter()
        .filter(|(path, key)| {
            let ty = paths.iter().find(|(p, _)| p == path).map(|(_, t)| t);
            ty.is_none_or(|ty| !structs[ty].iter().any(|(f, _)| f == key))
        })
        .collect();
    assert!(unknown.is_empty(), "keys not in the schema: {unknown:?}");
}

#[test]
fn every_class_is_documented() {
    let methods = parse(&read(&repo().join("docs/methods.md")));
    let format = parse(&read(&repo().join("docs/report-format.md")));
    let in_first_column = |doc: &Doc, heading: &str| -> BTreeSet<String> {
        doc.tables
            .iter()
            .filter(|(h, _)| h == heading)
            .flat_map(|(_, rows)| rows[1..].iter().flat_map(|r| split_code_spans(&r[0]).1))
            .collect()
    };
    let in_names_row: BTreeSet<String> = format
        .tables
        .iter()
        .filter(|(h, _)| h == "Names")
        .flat_map(|(_, rows)| rows.iter())
        .filter(|r| r[0].starts_with("`class`"))
        .flat_map(|r| split_code_spans(&r[1]).1)
        .collect();
    let classes: BTreeSet<String> = Class::ALL.iter().map(|c| c.name().to_string()).collect();
    for (doc, set) in [
        (
            "docs/methods.md, Outcome classes",
            in_first_column(&methods, "Outcome classes"),
        ),
        ("docs/report-format.md, Names", in_names_row),
    ] {
        let set: BTreeSet<String> = set
            .iter()
            .flat_map(|s| s.split(", ").map(str::to_string))
            .collect();
        assert_eq!(set, classes, "{doc} lists other classes than Class::ALL");
    }
}

#[test]
fn every_measurement_says_where_and_how() {
    let mut files = Vec::new();
    markdown_under(&repo().join("docs/measurements"), &mut files);
    files.retain(|f| !f.ends_with("README.md"));
    assert!(!files.is_empty());
    for f in files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let date = name.get(..10).unwrap_or("");
        assert!(
            date.len() == 10 && date.chars().filter(|c| *c == '-').count() == 2,
            "{name}: not <YYYY-MM-DD>-<machine>-<topic>.md"
        );
        let doc = parse(&read(&f));
        let keys: BTreeSet<String> = doc
            .tables
            .first()
            .map(|(_, rows)| rows.iter().map(|r| r[0].clone()).collect())
            .unwrap_or_default();
        for k in ["date", "machine", "load", "commit", "command"] {
            assert!(keys.contains(k), "{name}: its first table has no '{k}' row");
        }
    }
}

/// The code spans in the first column of the tables of `file` whose first
/// header cell is `header`.
fn first_column(file: &str, header: &str) -> BTreeSet<String> {
    parse(&read(&repo().join(file)))
        .tables
        .iter()
        .filter(|(_, rows)| rows[0][0] == header)
        .flat_map(|(_, rows)| rows[1..].iter().flat_map(|r| split_code_spans(&r[0]).1))
        .collect()
}

/// The action's inputs are the input table of docs/fleet.md.
#[test]
fn the_actions_inputs_are_documented() {
    let action = read(&repo().join("action.yml"));
    let inputs: BTreeSet<String> = action
        .split("\ninputs:\n")
        .nth(1)
        .expect("action.yml has inputs")
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_string())
        .collect();
    assert_eq!(first_column("docs/fleet.md", "input"), inputs);
}

/// zombiefs's counters are the ground-truth table of docs/zombiefs.md.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
#[test]
fn the_zombiefs_counters_are_documented() {
    let counters = serde_json::to_value(unlink_race::zombiefs::Stats::default()).unwrap();
    let counters: BTreeSet<String> = counters.as_object().unwrap().keys().cloned().collect();
    assert_eq!(first_column("docs/zombiefs.md", "counter"), counters);
}

#[test]
fn slugs_are_githubs() {
    assert_eq!(slug("`unlink-race run`"), "unlink-race-run");
    assert_eq!(slug("How `auto` chooses"), "how-auto-chooses");
    assert_eq!(
        slug("`.scenarios[].empty_read_nlink`"),
        "scenariosempty_read_nlink"
    );
    assert_eq!(
        slug("Trials: cycles to the first anomaly"),
        "trials-cycles-to-the-first-anomaly"
    );
    assert_eq!(
        slug("Your own program, or the seed's, on zombiefs"),
        "your-own-program-or-the-seeds-on-zombiefs"
    );
    assert_eq!(slug("See [usage](docs/usage.md)"), "see-usage");
    let doc = parse("# A\n\n## A\n\n```sh\n# not a heading\n```\n");
    assert_eq!(
        anchors(&doc),
        BTreeSet::from(["a".to_string(), "a-1".to_string()])
    );
}
