//! `unlink-race compare`: two or more reports, scenario by scenario.

use std::path::Path;

use anyhow::{Result, bail};
use unlink_race::compare::{Rules, compare, find_baseline};
use unlink_race::export::{html, markdown, terminal};
use unlink_race::report::load::load_summary;

use super::outputs::{check_outputs, stage_outputs};
use super::{CompareArgs, EXIT_FOUND, EXIT_OK, print_stdout};

/// Whether two paths name the same file (the same path, or the same device
/// and inode once both exist).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (unlink_race::sys::file_id(a), unlink_race::sys::file_id(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

pub fn run(args: &CompareArgs) -> Result<u8> {
    let outputs: Vec<(&str, &std::path::Path)> =
        [("--html", &args.html), ("--markdown", &args.markdown)]
            .into_iter()
            .filter_map(|(flag, p)| p.as_deref().map(|p| (flag, p)))
            .collect();
    check_outputs(&outputs)?;
    for (flag, path) in [("--html", &args.html), ("--markdown", &args.markdown)] {
        if let Some(path) = path {
            if let Some(input) = args.reports.iter().find(|r| same_file(r, path)) {
                bail!(
                    "{flag} {}: is one of the reports being compared ({}); refusing to overwrite it",
                    path.display(),
                    input.display()
                );
            }
        }
    }
    if let (Some(h), Some(m)) = (&args.html, &args.markdown)
        && same_file(h, m)
    {
        bail!("--html and --markdown name the same file {}", h.display());
    }
    let baseline = match &args.baseline {
        None => 0,
        Some(b) => match find_baseline(&args.reports, b) {
            Some(i) => i,
            None => bail!("--baseline {}: not one of the reports given", b.display()),
        },
    };
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        reports.push((path.clone(), load_summary(path)?));
    }
    let rules = Rules {
        alpha: args.alpha,
        margin: args.margin,
        negligible: args.negligible,
    };
    let comparison = compare(reports, baseline, rules);
    if let Some(why) = comparison.no_match() {
        bail!("{why}");
    }
    let mut out = terminal::render_terminal(&comparison);
    let mut files = Vec::new();
    if let Some(path) = &args.markdown {
        let text = markdown::render_markdown(&comparison);
        files.push(("--markdown", path.as_path(), text.into_bytes()));
        out += &format!("markdown: {}\n", path.display());
    }
    if let Some(path) = &args.html {
        let page = html::render_comparison(&comparison);
        files.push(("--html", path.as_path(), page.into_bytes()));
        out += &format!("html: {}\n", path.display());
    }
    let staged = stage_outputs(&files)?;
    print_stdout(&out)?;
    staged.commit(None)?;
    Ok(if comparison.differs() {
        EXIT_FOUND
    } else {
        EXIT_OK
    })
}
