//! Loading a report file and checking that it can be compared: the data
//! side of `compare` (its output side is the export module).
//!
//! [`load_report`] turns anything that is not a sound report — a file from
//! another tool, a truncated file, an unknown schema version, a missing
//! field, counts that cannot be — into one line naming the file and what is
//! wrong. It reads the file as a stream, twice (a cheap pass over the header
//! fields, then the report itself), so memory is about the size of the
//! report's data, not a multiple of the file: no intermediate
//! `serde_json::Value`. Files over [`MAX_REPORT_BYTES`] are refused. Text
//! fields shown by outputs have control characters (ESC, NUL, …) and bidi
//! overrides replaced by their `\u{…}` escapes, so a report cannot drive a
//! terminal or break a Markdown table.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::outcome::Class;
use crate::report::schema::{Report, SCHEMA_VERSION, TOOL_NAME};

/// The largest report file `compare` reads. A report of the default grid is
/// under 4 MB; this leaves room for long soak runs with many examples.
pub const MAX_REPORT_BYTES: u64 = 512 << 20;

/// Why a file is not a report this build can compare. Every message is one
/// line that starts with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {error}", .path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: not JSON: {message}", .path.display())]
    NotJson { path: PathBuf, message: String },
    #[error(
        "{}: truncated JSON: the text ends at line {line} column {column}{}",
        .path.display(),
        .field.as_ref().map_or(String::new(), |f| format!(", inside field `{f}`"))
    )]
    Truncated {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The field being read when the text ended, when it is known.
        field: Option<String>,
    },
    #[error("{}: not an unlink-race report: {reason}", .path.display())]
    NotReport { path: PathBuf, reason: String },
    #[error(
        "{}: unsupported report version: field `schema_version` is {found}, this unlink-race reads schema_version {SCHEMA_VERSION}",
        .path.display()
    )]
    UnsupportedVersion { path: PathBuf, found: String },
    #[error("{}: invalid report: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{}: too large: {size} bytes, this unlink-race reads reports up to {MAX_REPORT_BYTES} bytes",
        .path.display()
    )]
    TooLarge { path: PathBuf, size: u64 },
}

impl LoadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Read { path, .. }
            | LoadError::NotJson { path, .. }
            | LoadError::Truncated { path, .. }
            | LoadError::NotReport { path, .. }
            | LoadError::UnsupportedVersion { path, .. }
            | LoadError::Invalid { path, .. }
            | LoadError::TooLarge { path, .. } => path,
        }
    }
}

/// Reads and checks one report.
///
/// The checks go from the outside in, so the message names the first thing
/// that is wrong: readable, not too large, JSON, complete, an object whose
/// `tool` is `unlink-race`, a `schema_version` this build reads, every field,
/// then counts that can be ([`validate`]).
pub fn load_report(path: &Path) -> Result<Report, LoadError> {
    let read_error = |error| LoadError::Read {
        path: path.to_path_buf(),
        error,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_REPORT_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    let open = || {
        std::fs::File::open(path)
            .map(|f| BufReader::new(f.take(MAX_REPORT_BYTES + 1)))
            .map_err(read_error)
    };
    load_from(path, open)
}

/// [`load_report`] on text already read; `path` names it in errors.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, LoadError> {
    load_from(path, || Ok(text.as_bytes()))
}

/// The fields checked before the whole report is read.
#[derive(Deserialize)]
struct Header {
    tool: Option<serde_json::Value>,
    schema_version: Option<serde_json::Value>,
}

fn load_from<R: BufRead>(
    path: &Path,
    open: impl Fn() -> Result<R, LoadError>,
) -> Result<Report, LoadError> {
    let path_buf = || path.to_path_buf();
    let first = first_byte(open()?).map_err(|error| LoadError::Read {
        path: path_buf(),
        error,
    })?;
    let Some(first) = first else {
        return Err(LoadError::NotJson {
            path: path_buf(),
            message: "the file is empty".into(),
        });
    };
    let syntax = |e: serde_json::Error| {
        if e.classify() == serde_json::error::Category::Eof {
            LoadError::Truncated {
                path: path_buf(),
                line: e.line(),
                column: e.column(),
                field: open().ok().and_then(truncated_field),
            }
        } else {
            LoadError::NotJson {
                path: path_buf(),
                message: one_line(&e.to_string()),
            }
        }
    };
    if first != b'{' {
        // Not an object; still say "not JSON" for text that is not JSON.
        serde_json::from_reader::<_, IgnoredAny>(open()?).map_err(syntax)?;
        return Err(LoadError::NotReport {
            path: path_buf(),
            reason: format!(
                "the top level is {}, not an object with field `tool`",
                json_kind(first)
            ),
        });
    }
    let header: Header = serde_json::from_reader(open()?).map_err(syntax)?;
    match &header.tool {
        Some(serde_json::Value::String(tool)) if tool == TOOL_NAME => {}
        Some(other) => {
            return Err(LoadError::NotReport {
                path: path_buf(),
                reason: format!(
                    "field `tool` is {}, expected \"{TOOL_NAME}\"",
                    excerpt(other)
                ),
            });
        }
        None => {
            return Err(LoadError::NotReport {
                path: path_buf(),
                reason: "field `tool` is missing".into(),
            });
        }
    }
    match &header.schema_version {
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(other) => {
            return Err(LoadError::UnsupportedVersion {
                path: path_buf(),
                found: excerpt(other),
            });
        }
        None => {
            return Err(LoadError::Invalid {
                path: path_buf(),
                message: "field `schema_version` is missing".into(),
            });
        }
    }
    let mut deserializer = serde_json::Deserializer::from_reader(open()?);
    let mut report: Report =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| LoadError::Invalid {
            path: path_buf(),
            message: describe_field_error(&e),
        })?;
    validate(&report).map_err(|message| LoadError::Invalid {
        path: path_buf(),
        message,
    })?;
    sanitize(&mut report);
    Ok(report)
}

/// The first byte that is not JSON whitespace, `None` for an empty file.
fn first_byte(mut reader: impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(&b) = buf.iter().find(|b| !b" \t\r\n".contains(b)) {
            return Ok(Some(b));
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// The report field a truncated text ends in (`scenarios[2].classes`), found
/// by reading it as a report until it runs out.
fn truncated_field(reader: impl Read) -> Option<String> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let error = serde_path_to_error::deserialize::<_, Report>(&mut deserializer).err()?;
    // `?` stands for a key that was cut before it was read.
    let path = error.path().to_string();
    let path = path.trim_end_matches(".?");
    let known = !matches!(path, "." | "?" | "");
    (error.inner().classify() == serde_json::error::Category::Eof && known)
        .then(|| path.to_string())
}

/// Checks what serde cannot (serde already rejects unknown classes, worker
/// kinds and strategies): every class is present (but those that older
/// reports predate), counts fit the cycles (a
/// class that happens at most once per cycle cannot outnumber them; no
/// cycles means no counts), and `anomalies` is the sum of the anomaly
/// classes. The message names the field.
pub fn validate(report: &Report) -> Result<(), String> {
    for (i, s) in report.scenarios.iter().enumerate() {
        let at = |field: &str| format!("field `scenarios[{i}].{field}`");
        let mut anomalies = 0u64;
        for class in Class::ALL {
            let Some(stats) = s.classes.get(&class) else {
                if !class.in_every_report() {
                    continue;
                }
                return Err(format!("{} is missing", at(&format!("classes.{class}"))));
            };
            let field = at(&format!("classes.{class}.count"));
            if s.cycles == 0 && stats.count > 0 {
                return Err(format!("{field} is {} but `cycles` is 0", stats.count));
            }
            let scenario = crate::scenario::Scenario::from(&s.config);
            if crate::outcome::once_per_cycle_in(class, &scenario) && stats.count > s.cycles {
                return Err(format!(
                    "{field} is {}, more than the {} cycles (at most one per cycle)",
                    stats.count, s.cycles
                ));
            }
            if !stats.expected {
                anomalies = anomalies.saturating_add(stats.count);
            }
        }
        if anomalies != s.anomalies {
            return Err(format!(
                "{} is {}, but its anomaly classes add up to {anomalies}",
                at("anomalies"),
                s.anomalies
            ));
        }
        // Each create call races or not: never more racing creates than cycles.
        if let Some(racing) = s.racing_creates.filter(|&n| n > s.cycles) {
            return Err(format!(
                "{} is {racing}, more than the {} cycles (a create call races at most once)",
                at("racing_creates"),
                s.cycles
            ));
        }
        if s.config.race == crate::scenario::Race::Create
            && (s.config.creators.is_none() || s.config.create_flags.is_none())
        {
            return Err(format!(
                "{} is a create race without `creators` or `create_flags`",
                at("config")
            ));
        }
    }
    Ok(())
}

/// Replaces control characters and bidi overrides in the free-text fields
/// outputs show by their `\u{…}` escapes (the other fields are enums and
/// numbers).
fn sanitize(report: &mut Report) {
    let clean = |s: &mut String| {
        if s.chars().any(unsafe_char) {
            *s = s
                .chars()
                .map(|c| {
                    if unsafe_char(c) {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
        }
    };
    clean(&mut report.label);
    let m = &mut report.machine;
    for field in [
        &mut m.os,
        &mut m.os_version,
        &mut m.os_name,
        &mut m.kernel,
        &mut m.arch,
        &mut m.cpu_model,
        &mut m.fs_type,
        &mut m.mount_point,
        &mut m.target_dir,
        &mut m.hostname,
        &mut m.crate_version,
    ] {
        clean(field);
    }
    for s in &mut report.scenarios {
        clean(&mut s.name);
        clean(&mut s.command);
        if let Some(page) = &mut s.criterion_page {
            clean(page);
        }
        for e in &mut s.examples {
            clean(&mut e.errno_name);
        }
    }
}

/// Control characters (C0, DEL, C1) and the Unicode bidi controls.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `field `scenarios[0].cycles`: invalid type: …, expected u64 (line 9, column 20)`
/// or `field `scenarios[0].cycles` is missing (line 30, column 5)`.
fn describe_field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = e.inner();
    let mut message = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    if let Some(stripped) = message.strip_suffix(&position) {
        message = stripped.to_string();
    }
    let path = e.path().to_string();
    let parent = if path == "." { String::new() } else { path };
    let joined = |field: &str| {
        if parent.is_empty() {
            field.to_string()
        } else {
            format!("{parent}.{field}")
        }
    };
    let text = match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        Some(field) => format!("field `{}` is missing", joined(field)),
        None if parent.is_empty() => message,
        None => format!("field `{parent}`: {message}"),
    };
    one_line(&format!(
        "{text} (line {}, column {})",
        inner.line(),
        inner.column()
    ))
}

/// What a JSON text starting with `first` is.
fn json_kind(first: u8) -> &'static str {
    match first {
        b'[' => "an array",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    }
}

/// A JSON value as written, cut to a readable length, without control
/// characters.
fn excerpt(value: &serde_json::Value) -> String {
    const MAX_CHARS: usize = 40;
    // serde_json escapes control characters inside strings.
    let text = value.to_string();
    if text.chars().count() <= MAX_CHARS {
        text
    } else {
        let cut: String = text.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
