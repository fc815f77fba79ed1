//! The layer rules of ARCHITECTURE.md, checked on the source: which module may
//! name which, no two files that import each other, no file in `src/` over
//! 700 lines. Each checker is also run on planted sources below, so a rule
//! that stopped catching what it names would fail here too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a file in `src/` may be.
const MAX_LINES: usize = 700;

/// Files over [`MAX_LINES`] still to be split (ARCHITECTURE.md, Known
/// exceptions). The list may only shrink: a file back under the limit fails
/// until it is removed from here.
const LONG_FILES: &[&str] = &[];

/// What a top-level module may name, as in ARCHITECTURE.md's rules.
enum Rule {
    /// It names none of these.
    Never(&'static [&'static str]),
    /// It names only these.
    Only(&'static [&'static str]),
}

/// Module → its rule. A module not listed (`cli`, `grid`, `signals`'s users
/// …) is free. `report::schema` is a name of its own so that "nothing below
/// `report` knows the file format" can be said.
const RULES: &[(&str, Rule)] = &[
    ("sys", Rule::Only(&[])),
    ("stats", Rule::Only(&[])),
    ("signals", Rule::Only(&["sys"])),
    ("scenario", Rule::Only(&["sys"])),
    ("content", Rule::Only(&["sys", "scenario"])),
    ("outcome", Rule::Only(&["sys", "scenario", "content"])),
    (
        "harness",
        Rule::Never(&["report", "report::schema", "export", "compare", "grid"]),
    ),
    ("report", Rule::Never(&["export", "compare", "grid"])),
    ("compare", Rule::Never(&["harness", "export", "grid"])),
    ("export", Rule::Never(&["harness"])),
    ("zombiefs", Rule::Only(&["sys", "signals"])),
    (
        "emulate",
        Rule::Only(&["zombiefs", "sys", "signals", "export::format"]),
    ),
];

/// Names the bare loops of the benchmarks never use: they are the contender
/// the harness is measured against.
const BARE_NEVER: &[&str] = &["harness", "outcome"];

/// Known breaks of the rules, to be fixed: (file, what it names). Each must
/// still be true (a fixed one fails until it is removed from here).
const KNOWN_EDGES: &[(&str, &str)] = &[];

/// Known pairs of files that import each other, to be fixed.
const KNOWN_CYCLES: &[(&str, &str)] = &[];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file of `src/` (the binary's too): its path relative to
/// `src/`, and its text.
fn all_src_files() -> Vec<(String, String)> {
    let src = repo().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

/// The library's source files, as paths relative to `src/`. `main.rs` and
/// `cli/` belong to the binary, whose `crate::` is another crate.
fn library_files() -> Vec<(String, String)> {
    all_src_files()
        .into_iter()
        .filter(|(rel, _)| rel != "main.rs" && !rel.starts_with("cli/"))
        .collect()
}

/// `text` without comments, string and character literals (each replaced by
/// a space), so that a path in a doc comment or a message is not a use.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push(' ');
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    if j >= b.len() {
                        break;
                    }
                    if b[j] == b'"' && b[j + 1..].iter().take(hashes).all(|&c| c == b'#') {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j;
                out.push(' ');
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push(' ');
            }
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
                out.push(' ');
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') => {
                i += 3;
                out.push(' ');
            }
            _ => {
                let c = text[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The paths that start with `root::` in `code` (a `use` tree expanded:
/// `crate::{a::b, c}` gives `a::b` and `c`), without the root.
fn paths_from(code: &str, root: &str) -> Vec<String> {
    let needle = format!("{root}::");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find(&needle) {
        let start = from + at;
        from = start + needle.len();
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &code[from..];
        tree(&mut rest, String::new(), &mut out);
    }
    out
}

/// Reads one `use` tree from the front of `rest` under `prefix`.
fn tree(rest: &mut &str, prefix: String, out: &mut Vec<String>) {
    *rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('{') {
        *rest = inner;
        loop {
            *rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                *rest = after;
                return;
            }
            if rest.is_empty() {
                return;
            }
            tree(rest, prefix.clone(), out);
            *rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                *rest = after;
            }
        }
    }
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let ident = &rest[..len];
    *rest = &rest[len..];
    if ident.is_empty() {
        if !prefix.is_empty() && !rest.starts_with('{') {
            out.push(prefix);
        }
        if let Some(after) = rest.strip_prefix('*') {
            *rest = after;
        }
        return;
    }
    let path = if prefix.is_empty() {
        ident.to_string()
    } else {
        format!("{prefix}::{ident}")
    };
    if let Some(after) = rest.trim_start().strip_prefix("::") {
        *rest = after;
        tree(rest, path, out);
    } else {
        // `as name`, `;`, `(`, …: the path ends here.
        out.push(path);
    }
}

/// The top-level module a file of `src/` belongs to (`lib.rs` is the root).
fn top_of(rel: &str) -> &str {
    let first = rel.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first)
}

/// The names a rule can be about that `path` (from `crate::`) reaches: its
/// top module, and `report::schema` when it goes there.
fn names_of(path: &str) -> Vec<String> {
    let mut parts = path.split("::");
    let top = parts.next().unwrap_or_default().to_string();
    let mut names = vec![top.clone()];
    if let Some(second) = parts.next() {
        names.push(format!("{top}::{second}"));
    }
    names
}

/// Breaks of [`RULES`] in one library file: (file, name it may not use).
fn layer_breaks(rel: &str, text: &str) -> BTreeSet<(String, String)> {
    let top = top_of(rel);
    let Some((_, rule)) = RULES.iter().find(|(m, _)| *m == top) else {
        return BTreeSet::new();
    };
    let mut breaks = BTreeSet::new();
    for path in paths_from(&code_only(text), "crate") {
        let names = names_of(&path);
        if names[0] == top {
            continue;
        }
        let broken = match rule {
            Rule::Never(never) => names.iter().find(|n| never.contains(&n.as_str())),
            Rule::Only(only) => {
                (!names.iter().any(|n| only.contains(&n.as_str()))).then_some(&names[0])
            }
        };
        if let Some(name) = broken {
            breaks.insert((rel.to_string(), name.clone()));
        }
    }
    breaks
}

#[test]
fn no_module_names_one_its_layer_forbids() {
    let mut found = BTreeSet::new();
    for (rel, text) in library_files() {
        found.extend(layer_breaks(&rel, &text));
    }
    let known: BTreeSet<(String, String)> = KNOWN_EDGES
        .iter()
        .map(|(f, n)| (f.to_string(), n.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "these files name a module their layer may not name (ARCHITECTURE.md, Rules): {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "these known exceptions are fixed: remove them from KNOWN_EDGES and ARCHITECTURE.md: {fixed:?}"
    );
}

#[test]
fn the_bare_loops_never_name_the_harness() {
    let text = std::fs::read_to_string(repo().join("benches/benchmarks/bare.rs")).unwrap();
    let named: BTreeSet<String> = paths_from(&code_only(&text), "unlink_race")
        .iter()
        .map(|p| names_of(p)[0].clone())
        .filter(|n| BARE_NEVER.contains(&n.as_str()))
        .collect();
    assert!(
        named.is_empty(),
        "benches/benchmarks/bare.rs names {named:?}: the bare loops are the contender, not the harness"
    );
}

/// The file module of each library file: `a/b.rs` and `a/b/mod.rs` are `a::b`.
fn module_of(rel: &str) -> String {
    let no_ext = rel.strip_suffix(".rs").unwrap_or(rel);
    let no_mod = no_ext.strip_suffix("/mod").unwrap_or(no_ext);
    if no_mod == "lib" {
        return String::new();
    }
    no_mod.replace('/', "::")
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

/// The file modules `text` (the file of `module`) names: `crate::`, `super::`
/// and `self::` paths, resolved to the longest file module they start with.
fn file_edges(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = code_only(text);
    let mut full = Vec::new();
    for p in paths_from(&code, "crate") {
        full.push(p);
    }
    for p in paths_from(&code, "super") {
        let mut base = parent(module).to_string();
        let mut rest = p.as_str();
        while let Some(r) = rest.strip_prefix("super::") {
            base = parent(&base).to_string();
            rest = r;
        }
        full.push(if base.is_empty() {
            rest.to_string()
        } else {
            format!("{base}::{rest}")
        });
    }
    for p in paths_from(&code, "self") {
        full.push(format!("{module}::{p}"));
    }
    let mut edges = BTreeSet::new();
    for path in full {
        let parts: Vec<&str> = path.split("::").collect();
        let target = (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("::"))
            .find(|m| modules.contains(m));
        if let Some(target) = target {
            edges.insert(target);
        }
    }
    edges
}

/// Pairs of sibling or cousin file modules that import each other. A module
/// naming its own ancestor (a child using its parent's items) is not an
/// import between files for this rule, nor one naming its own descendant.
fn cycles(files: &[(String, String)]) -> BTreeSet<(String, String)> {
    let modules: BTreeSet<String> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in files {
        let m = module_of(rel);
        let edges = file_edges(&m, text, &modules)
            .into_iter()
            .filter(|t| {
                t != &m
                    && !m.starts_with(&format!("{t}::"))
                    && !t.starts_with(&format!("{m}::"))
                    && !t.is_empty()
            })
            .collect();
        graph.insert(m, edges);
    }
    let mut pairs = BTreeSet::new();
    for (a, out) in &graph {
        for b in out {
            if a < b && graph.get(b).is_some_and(|back| back.contains(a)) {
                pairs.insert((a.clone(), b.clone()));
            }
        }
    }
    pairs
}

#[test]
fn no_two_files_import_each_other() {
    let found = cycles(&library_files());
    let known: BTreeSet<(String, String)> = KNOWN_CYCLES
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "these modules import each other: move what both need below them: {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "these known cycles are gone: remove them from KNOWN_CYCLES and ARCHITECTURE.md: {fixed:?}"
    );
}

fn long_files(files: &[(String, String)]) -> BTreeSet<String> {
    files
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(rel, _)| rel.clone())
        .collect()
}

#[test]
fn no_file_in_src_is_over_700_lines() {
    let files = all_src_files();
    let found = long_files(&files);
    let known: BTreeSet<String> = LONG_FILES.iter().map(|s| s.to_string()).collect();
    let new: Vec<_> = found.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "over {MAX_LINES} lines: split by concept (ARCHITECTURE.md): {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "back under {MAX_LINES} lines: remove from LONG_FILES: {fixed:?}"
    );
}

/// The name a file of `src/` gives its module: `a/b.rs` and `a/b/mod.rs`
/// are `b`. The crate roots and `tests` modules have none that could mislead.
fn module_name(rel: &str) -> Option<&str> {
    let no_ext = rel.strip_suffix(".rs")?;
    let no_mod = no_ext.strip_suffix("/mod").unwrap_or(no_ext);
    let name = no_mod.rsplit('/').next()?;
    (!matches!(name, "lib" | "main" | "mod" | "tests")).then_some(name)
}

/// Module names given to more than one file, with the files. A platform
/// backend that stands in for a module of its parent under the same name
/// (`sys/windows/platform.rs` for `sys/platform.rs`) is one concept, not a
/// repeat.
fn repeated_names(rels: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rel in rels {
        if let Some(name) = module_name(rel) {
            by_name
                .entry(name.to_string())
                .or_default()
                .push(rel.clone());
        }
    }
    let mirrors = |rel: &str| {
        let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
        dir.strip_suffix("/windows")
            .or((dir == "windows").then_some(""))
            .is_some_and(|up| {
                let up = if up.is_empty() {
                    String::new()
                } else {
                    format!("{up}/")
                };
                rels.iter().any(|r| *r == format!("{up}{file}"))
            })
    };
    by_name
        .into_iter()
        .map(|(name, files)| {
            let kept: Vec<String> = files.into_iter().filter(|f| !mirrors(f)).collect();
            (name, kept)
        })
        .filter(|(_, files)| files.len() > 1)
        .collect()
}

#[test]
fn no_two_modules_share_a_name() {
    let rels: Vec<String> = all_src_files().into_iter().map(|(rel, _)| rel).collect();
    let repeated = repeated_names(&rels);
    assert!(
        repeated.is_empty(),
        "module names given to more than one file (a reader of `use …::{{name}}` \
         cannot tell which is meant; name each by what it holds): {repeated:?}"
    );
}

/// `pub` items that no other file names, kept `pub` on purpose: types that
/// a `pub` signature or field of their own file hands out (Rust refuses a
/// private type there), a macOS helper inside a nested module, and two
/// library functions kept beside their siblings. The list may only shrink.
const PUB_USED_IN_ONE_FILE: &[&str] = &[
    "BadWorker",
    "CalibrationPoint",
    "DeleterRun",
    "FileRow",
    "Lacking",
    "LackingCreates",
    "OptionsError",
    "Padded",
    "RoundView",
    "Served",
    "create_race_enoent_fraction",
    "fd_limit_ceiling",
    "write_json",
];

/// The identifiers of `text` (comments and strings included: a name a doc
/// link or a test message gives counts as a use).
fn words(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// `pub` items (a `pub fn`, `struct`, `enum`, `const`, `static`, `type` or
/// `trait` at the start of a line) of `files` whose name no other file of
/// `files` or `others` mentions, nor a doc link of their own file (an item
/// the docs point at is part of what they explain): (file, name).
fn pub_used_in_one_file(
    files: &[(String, String)],
    others: &[String],
) -> BTreeSet<(String, String)> {
    let kinds = ["fn", "struct", "enum", "const", "static", "type", "trait"];
    let all_words: Vec<BTreeSet<&str>> = files.iter().map(|(_, t)| words(t)).collect();
    let other_words: BTreeSet<&str> = others.iter().flat_map(|t| words(t)).collect();
    let mut found = BTreeSet::new();
    for (i, (rel, text)) in files.iter().enumerate() {
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("pub ") else {
                continue;
            };
            let mut parts = rest.split_whitespace();
            let mut kind = parts.next().unwrap_or_default();
            if kind == "const" || kind == "unsafe" {
                let after = parts.clone().next().unwrap_or_default();
                if after == "fn" {
                    kind = parts.next().unwrap_or_default();
                }
            }
            if !kinds.contains(&kind) {
                continue;
            }
            let name: String = parts
                .next()
                .unwrap_or_default()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let elsewhere = all_words
                .iter()
                .enumerate()
                .any(|(j, w)| j != i && w.contains(name.as_str()))
                || other_words.contains(name.as_str())
                || linked_in_docs(text, &name);
            if !name.is_empty() && !elsewhere {
                found.insert((rel.clone(), name));
            }
        }
    }
    found
}

/// Whether a doc comment of `text` links to `name` (``[`name`]``, or a path
/// ending in it).
fn linked_in_docs(text: &str, name: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("///") || l.starts_with("//!"))
        .any(|l| l.contains(&format!("[`{name}`]")) || l.contains(&format!("::{name}`]")))
}

#[test]
fn an_item_no_other_file_names_is_not_pub() {
    let files = all_src_files();
    let mut other_paths = Vec::new();
    for dir in ["tests", "benches", "examples"] {
        rust_files(&repo().join(dir), &mut other_paths);
    }
    // This file names the kept items itself.
    let others: Vec<String> = other_paths
        .iter()
        .filter(|p| !p.ends_with("tests/it/structure.rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let found = pub_used_in_one_file(&files, &others);
    let new: Vec<_> = found
        .iter()
        .filter(|(_, name)| !PUB_USED_IN_ONE_FILE.contains(&name.as_str()))
        .collect();
    let names: BTreeSet<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    let fixed: Vec<_> = PUB_USED_IN_ONE_FILE
        .iter()
        .filter(|n| !names.contains(*n))
        .collect();
    assert!(
        new.is_empty(),
        "pub, and named in no other file: make them private (or say why in PUB_USED_IN_ONE_FILE): {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "no longer pub, or now named elsewhere: remove from PUB_USED_IN_ONE_FILE: {fixed:?}"
    );
}

// The checkers on planted sources: each rule catches what it names.

#[test]
fn a_planted_repeated_name_is_caught() {
    let rels: Vec<String> = [
        "lib.rs",
        "stats/mod.rs",
        "stats/compare.rs",
        "compare/mod.rs",
        "export/html/tests.rs",
        "harness/tests.rs",
        "sys/platform.rs",
        "sys/windows/platform.rs",
        "sys/windows/mod.rs",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        repeated_names(&rels),
        BTreeMap::from([(
            "compare".to_string(),
            vec!["stats/compare.rs".to_string(), "compare/mod.rs".to_string()]
        )])
    );
}

#[test]
fn a_planted_layer_break_is_caught() {
    let harness = "use crate::report::schema::Report;\nfn f() {}\n";
    assert_eq!(
        layer_breaks("harness/worker.rs", harness),
        BTreeSet::from([("harness/worker.rs".into(), "report".into())])
    );
    let grouped = "use crate::{scenario::Scenario, export::{self, format}};\n";
    assert_eq!(
        layer_breaks("harness/mod.rs", grouped),
        BTreeSet::from([("harness/mod.rs".into(), "export".into())])
    );
    let inline = "fn f() { let x = crate::export::format::count(3); }\n";
    assert_eq!(layer_breaks("report/build.rs", inline).len(), 1);
    let only = "use crate::sys;\nuse crate::harness::Run;\n";
    assert_eq!(
        layer_breaks("zombiefs/mod.rs", only),
        BTreeSet::from([("zombiefs/mod.rs".into(), "harness".into())])
    );
    let emulate = "use crate::export::format::format_count;\nuse crate::export::html;\n";
    assert_eq!(
        layer_breaks("emulate/mod.rs", emulate),
        BTreeSet::from([("emulate/mod.rs".into(), "export".into())])
    );
}

#[test]
fn what_is_not_code_is_not_a_use() {
    let text = concat!(
        "//! See crate::report::schema for the format.\n",
        "/// crate::export::html renders it.\n",
        "/* crate::stats */\n",
        "const S: &str = \"crate::compare\";\n",
        "const R: &str = r#\"crate::grid \"quoted\"\"#;\n",
        "const C: char = '\"'; use crate::sys;\n",
    );
    assert_eq!(layer_breaks("harness/x.rs", text), BTreeSet::new());
    assert_eq!(paths_from(&code_only(text), "crate"), vec!["sys"]);
}

#[test]
fn a_planted_cycle_is_caught() {
    let files = vec![
        (
            "export/mod.rs".to_string(),
            "pub mod a; pub mod b;".to_string(),
        ),
        ("export/a.rs".to_string(), "use super::b::Row;".to_string()),
        (
            "export/b.rs".to_string(),
            "use crate::export::{a::Cell, Thing};".to_string(),
        ),
        ("export/c.rs".to_string(), "use super::Thing;".to_string()),
    ];
    assert_eq!(
        cycles(&files),
        BTreeSet::from([("export::a".into(), "export::b".into())])
    );
    // A child using its parent's items, and the parent naming the child, is
    // not a cycle between files.
    let nested = vec![
        (
            "harness/mod.rs".to_string(),
            "use self::slot::Slot;".to_string(),
        ),
        (
            "harness/slot.rs".to_string(),
            "use super::Limits;".to_string(),
        ),
    ];
    assert!(cycles(&nested).is_empty());
}

#[test]
fn a_planted_long_file_is_caught() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let short = "fn f() {}\n".repeat(MAX_LINES);
    let files = vec![("a.rs".to_string(), long), ("b.rs".to_string(), short)];
    assert_eq!(long_files(&files), BTreeSet::from(["a.rs".to_string()]));
}

#[test]
fn a_planted_lonely_pub_item_is_caught() {
    let files = vec![
        (
            "a.rs".to_string(),
            "pub fn shared() {}\npub struct Lonely;\npub(crate) fn inner() {}\n    pub const fn alone() {}\n/// At most [`LIMIT`].\npub fn limited() {}\npub const LIMIT: u32 = 3;\n".to_string(),
        ),
        ("b.rs".to_string(), "fn f() { shared(); }\n".to_string()),
    ];
    assert_eq!(
        pub_used_in_one_file(&files, &[]),
        BTreeSet::from([
            ("a.rs".to_string(), "Lonely".to_string()),
            ("a.rs".to_string(), "alone".to_string()),
            ("a.rs".to_string(), "limited".to_string()),
        ])
    );
    // A name another crate of the package uses (a test, a bench) counts.
    let used_by_a_test = vec!["use x::Lonely; alone(); shared();".to_string()];
    assert_eq!(
        pub_used_in_one_file(&files[..1], &used_by_a_test),
        BTreeSet::from([("a.rs".to_string(), "limited".to_string())])
    );
}
