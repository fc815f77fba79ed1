//! `unlink-race compare`: two or more reports, scenario by scenario.

use std::process::ExitCode;

use anyhow::{Result, bail};
use unlink_race::compare::{compare, find_baseline, load_report};
use unlink_race::export::files::write_atomic;
use unlink_race::export::{html, markdown, terminal};

use super::run::check_output_path;
use super::{CompareArgs, EXIT_FOUND, EXIT_OK, print_stdout};

pub fn run(args: &CompareArgs) -> Result<ExitCode> {
    for (flag, path) in [("--html", &args.html), ("--markdown", &args.markdown)] {
        if let Some(path) = path {
            check_output_path(flag, path)?;
        }
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
        reports.push((path.clone(), load_report(path)?));
    }
    let comparison = compare(reports, baseline, args.alpha);
    let mut out = terminal::render_terminal(&comparison);
    if let Some(path) = &args.markdown {
        write_atomic(path, markdown::render_markdown(&comparison).as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        out += &format!("markdown: {}\n", path.display());
    }
    if let Some(path) = &args.html {
        write_atomic(path, html::render_comparison(&comparison).as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        out += &format!("html: {}\n", path.display());
    }
    print_stdout(&out);
    Ok(ExitCode::from(if comparison.differs() {
        EXIT_FOUND
    } else {
        EXIT_OK
    }))
}
