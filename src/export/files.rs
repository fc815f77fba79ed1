//! Report files on disk: `<label>.json`, `<label>.html` and `index.html`,
//! each written through a temporary file renamed over the target.

use std::io;
use std::path::{Path, PathBuf};

use crate::export::html;
use crate::report::schema::Report;

/// Writes `<label>.json` and `<label>.html` into `dir`, then rewrites
/// `index.html` over every report there; returns the paths written.
pub fn write_report_files(report: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join(format!("{}.json", report.label));
    write_json(report, &json)?;
    let page = dir.join(format!("{}.html", report.label));
    write_atomic(&page, html::render_report(report).as_bytes())?;
    let index = write_index(dir)?;
    Ok(vec![json, page, index])
}

/// Every unlink-race report JSON in `dir`, by file name. Files that are not
/// reports (or not of a schema this version reads) are skipped with a warning
/// that names the file and the problem.
pub fn load_reports_in(dir: &Path) -> io::Result<Vec<(String, Report)>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        match crate::report::load::load_report(&path) {
            Ok(r) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push((name, r));
            }
            Err(e) => eprintln!("warning: {e}; left out of the index"),
        }
    }
    Ok(out)
}

/// Writes `dir/index.html` over every report JSON in `dir`, with each
/// scenario's comparison verdict against the first report.
pub fn write_index(dir: &Path) -> io::Result<PathBuf> {
    let reports = load_reports_in(dir)?;
    let page = crate::export::index_page::render_index_html(&reports);
    let index = dir.join("index.html");
    write_atomic(&index, page.as_bytes())?;
    Ok(index)
}

/// Writes `report` as pretty JSON to `path` atomically: a temporary file in the
/// same directory, renamed over the target, so no half-written file is left.
pub fn write_json(report: &Report, path: &std::path::Path) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    write_atomic(path, &json)
}

/// Writes `bytes` to `path` through a temporary file renamed over it.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".unlink-race-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
