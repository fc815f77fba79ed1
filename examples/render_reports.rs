//! Re-renders the HTML of every report JSON in a directory (default
//! `reports/reference/`) and its `index.html`, with the current code: after a change to
//! the pages, `cargo run --example render_reports` brings the committed pages
//! up to date without rerunning any benchmark.

use std::path::PathBuf;
use std::process::ExitCode;

use unlink_race::export::{files, html};
use unlink_race::report::load::load_report;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("reports/reference"), PathBuf::from);
    let reports = match files::load_reports_in(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    for (name, _) in &reports {
        // The listing loads summaries; a page shows everything the file holds.
        let report = match load_report(&dir.join(name)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let path = dir.join(name).with_extension("html");
        if let Err(e) = files::write_atomic(&path, html::render_report(&report).as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        println!("{}", path.display());
    }
    match files::write_index(&dir) {
        Ok(p) => println!("{}", p.display()),
        Err(e) => {
            eprintln!("error: cannot write the index in {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
