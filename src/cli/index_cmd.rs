//! `unlink-race index`: the side-by-side page of any set of reports, the one
//! `cargo bench` writes as `reports/index.html`, plus the same matrix as
//! Markdown.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};
use unlink_race::compare::{find_baseline, load_summary};
use unlink_race::export::files::{load_reports_in, write_atomic};
use unlink_race::export::index::{render_index_html, render_index_markdown};
use unlink_race::report::schema::Report;

use super::outputs::check_outputs;
use super::{EXIT_OK, IndexArgs, print_stdout};

pub fn run(args: &IndexArgs) -> Result<u8> {
    let outputs: Vec<(&str, &Path)> = [("--html", &args.html), ("--markdown", &args.markdown)]
        .into_iter()
        .filter_map(|(flag, p)| p.as_deref().map(|p| (flag, p)))
        .collect();
    check_outputs(&outputs)?;
    let mut reports: Vec<(PathBuf, Report)> = Vec::new();
    for input in &args.inputs {
        if input.is_dir() {
            let found = load_reports_in(input)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", input.display()))?;
            for (name, report) in found {
                push_once(&mut reports, input.join(name), report);
            }
        } else {
            let report = load_summary(input)?;
            push_once(&mut reports, input.clone(), report);
        }
    }
    if reports.is_empty() {
        bail!(
            "no unlink-race report found in {}",
            args.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(baseline) = &args.baseline {
        let paths: Vec<PathBuf> = reports.iter().map(|(p, _)| p.clone()).collect();
        match find_baseline(&paths, baseline) {
            Some(i) => {
                let first = reports.remove(i);
                reports.insert(0, first);
            }
            None => bail!(
                "--baseline {}: not one of the reports given",
                baseline.display()
            ),
        }
    }

    let mut out = format!(
        "{} report{}, baseline {}\n",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        reports[0].1.label
    );
    if let Some(path) = &args.html {
        let named = names_relative_to(&reports, path);
        write_atomic(path, render_index_html(&named).as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        out += &format!("html: {}\n", path.display());
    }
    let named = names_relative_to(&reports, Path::new("."));
    let markdown = render_index_markdown(&named);
    match &args.markdown {
        Some(path) => {
            write_atomic(path, markdown.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            out += &format!("markdown: {}\n", path.display());
        }
        // Nothing asked for: the Markdown is the answer.
        None if args.html.is_none() => out = markdown,
        None => {}
    }
    print_stdout(&out)?;
    Ok(EXIT_OK)
}

/// Adds a report unless the same file is already in (a file given both
/// alone and inside a directory counts once, where it first appeared).
fn push_once(reports: &mut Vec<(PathBuf, Report)>, path: PathBuf, report: Report) {
    let key = path.canonicalize().ok();
    let seen = reports
        .iter()
        .any(|(p, _)| p == &path || (key.is_some() && p.canonicalize().ok() == key));
    if !seen {
        reports.push((path, report));
    }
}

/// Each report named by its path as seen from the directory of `page`, so
/// the page links to the HTML report beside each JSON; an absolute path
/// where no relative one exists (the page then shows no link).
fn names_relative_to(reports: &[(PathBuf, Report)], page: &Path) -> Vec<(String, Report)> {
    let base = page
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let base = absolute(base);
    reports
        .iter()
        .map(|(path, report)| {
            let name = relative_path(&absolute(path), &base)
                .unwrap_or_else(|| absolute(path))
                .to_string_lossy()
                .into_owned();
            (name, report.clone())
        })
        .collect()
}

/// `path` made absolute (from the current directory) with `.` and `..`
/// resolved where the filesystem can tell.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` as seen from `base` (both absolute): `../b/x.json`.
fn relative_path(path: &Path, base: &Path) -> Option<PathBuf> {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    out.extend(&p[common..]);
    Some(out)
}
