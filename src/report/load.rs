//! Loading a report file and checking that it can be compared: the data
//! side of `compare` (its output side is the export module).
//!
//! [`load_report`] turns anything that is not a sound report — a file from
//! another tool, a truncated file, an unknown schema version, a missing
//! field, counts that cannot be — into one line naming the file and what is
//! wrong. It opens the file once and reads it once, as a stream (so a pipe
//! works too), with no intermediate `serde_json::Value`: memory is about the
//! size of the report's data, and [`load_summary`] keeps only the counts.
//! Files over [`MAX_REPORT_BYTES`] are refused. Text
//! fields shown by outputs have control characters (ESC, NUL, …) and bidi
//! overrides replaced by their `\u{…}` escapes, so a report cannot drive a
//! terminal or break a Markdown table.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::report::schema::{Report, SCHEMA_VERSION, TOOL_NAME};
pub use crate::report::validate::{MAX_COUNT, MAX_SCENARIOS, MAX_TEXT_BYTES, validate};

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
    /// Found in a directory, but not a regular file: never opened for reading
    /// (a FIFO would wait for a writer forever).
    #[error("{}: not a regular file ({kind})", .path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
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
            | LoadError::TooLarge { path, .. }
            | LoadError::NotAFile { path, .. } => path,
        }
    }
}

/// Reads and checks one report.
///
/// The checks go from the outside in, so the message names the first thing
/// that is wrong: readable, not too large, JSON, complete, an object whose
/// `tool` is `unlink-race`, a `schema_version` this build reads, every field,
/// then counts that can be ([`validate`]). The path is opened once and read
/// once, as a stream: a pipe (`<(cat report.json)`) loads like a file.
pub fn load_report(path: &Path) -> Result<Report, LoadError> {
    load(path, Detail::Full, false)
}

/// [`load_report`] without the lists that only a report's own page shows
/// (examples, timeline, stalls, trials, survival curve, errno breakdown,
/// calibration, latency points): they are read past, not kept, so memory
/// stays a small multiple of the counts whatever the file's size. What
/// `compare` and `index` need.
pub fn load_summary(path: &Path) -> Result<Report, LoadError> {
    load(path, Detail::Summary, false)
}

/// [`load_summary`] of a file found in a directory: anything but a regular
/// file (a FIFO, a device, a socket) is refused without waiting on it.
pub fn load_summary_of_file(path: &Path) -> Result<Report, LoadError> {
    load(path, Detail::Summary, true)
}

/// [`load_report`] on text already read; `path` names it in errors.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, LoadError> {
    parse_from(path, text.as_bytes(), Detail::Full)
}

/// Whether the lists a report's own page shows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Full,
    Summary,
}

fn load(path: &Path, detail: Detail, regular_only: bool) -> Result<Report, LoadError> {
    let read_error = |error| LoadError::Read {
        path: path.to_path_buf(),
        error,
    };
    if regular_only {
        // What the name is, before opening it (a socket cannot be opened).
        let meta = std::fs::metadata(path).map_err(read_error)?;
        if !meta.is_file() {
            return Err(not_a_file(path, &meta));
        }
    }
    // Non-blocking: opening a FIFO must not wait for a writer before it is
    // known to be one (reading a regular file is unaffected).
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    if regular_only {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(crate::sys::flags::O_NONBLOCK);
    }
    let file = options.open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if regular_only && !meta.is_file() {
        return Err(not_a_file(path, &meta));
    }
    if meta.is_file() && meta.len() > MAX_REPORT_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    }
    parse_from(path, file, detail)
}

/// The error for `path`, found not to be a regular file.
fn not_a_file(path: &Path, meta: &std::fs::Metadata) -> LoadError {
    let t = meta.file_type();
    #[cfg(unix)]
    let (fifo, socket) = {
        use std::os::unix::fs::FileTypeExt;
        (t.is_fifo(), t.is_socket())
    };
    #[cfg(not(unix))]
    let (fifo, socket) = (false, false);
    let kind = if fifo {
        "a FIFO"
    } else if t.is_dir() {
        "a directory"
    } else if socket {
        "a socket"
    } else {
        "a device"
    };
    LoadError::NotAFile {
        path: path.to_path_buf(),
        kind,
    }
}

/// What the fields read so far said about the document: filled in while it
/// is read (by [`tool_name`], [`schema_version`]), so that an error further
/// on is reported as what the header already showed (another tool's JSON,
/// a newer schema) rather than as a field that does not fit.
#[derive(Debug, Default)]
struct Seen {
    /// Lists a report's page shows are read past.
    summary: bool,
    /// `tool`, when it was not `unlink-race`: as written.
    wrong_tool: Option<String>,
    tool_seen: bool,
    /// `schema_version`, when it was not this build's: as written.
    wrong_version: Option<String>,
}

thread_local! {
    static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::new(Seen::default());
}

/// Counts the bytes read, so a stream longer than the limit is refused.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

fn parse_from(path: &Path, source: impl Read, detail: Detail) -> Result<Report, LoadError> {
    let path_buf = || path.to_path_buf();
    let mut reader = BufReader::new(Counted {
        inner: source.take(MAX_REPORT_BYTES + 1),
        bytes: 0,
    });
    let too_large = |reader: &BufReader<Counted<_>>| {
        let bytes = reader.get_ref().bytes;
        (bytes > MAX_REPORT_BYTES).then(|| LoadError::TooLarge {
            path: path_buf(),
            size: bytes,
        })
    };
    let first = first_byte(&mut reader).map_err(|error| LoadError::Read {
        path: path_buf(),
        error,
    })?;
    let Some(first) = first else {
        return Err(LoadError::NotJson {
            path: path_buf(),
            message: "the file is empty".into(),
        });
    };
    let syntax = |e: &serde_json::Error| match e.classify() {
        serde_json::error::Category::Io => LoadError::Read {
            path: path_buf(),
            error: std::io::Error::other(one_line(&e.to_string())),
        },
        _ => LoadError::NotJson {
            path: path_buf(),
            message: one_line(&e.to_string()),
        },
    };
    if first != b'{' {
        // Not an object; still say "not JSON" for text that is not JSON.
        if let Err(e) = serde_json::from_reader::<_, IgnoredAny>(&mut reader) {
            return Err(too_large(&reader).unwrap_or_else(|| syntax(&e)));
        }
        return Err(LoadError::NotReport {
            path: path_buf(),
            reason: format!(
                "the top level is {}, not an object with field `tool`",
                json_kind(first)
            ),
        });
    }
    SEEN.with(|s| {
        *s.borrow_mut() = Seen {
            summary: detail == Detail::Summary,
            ..Seen::default()
        }
    });
    let mut deserializer = serde_json::Deserializer::from_reader(&mut reader);
    let parsed: Result<Report, _> = serde_path_to_error::deserialize(&mut deserializer);
    let seen = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if let Some(e) = too_large(&reader) {
        return Err(e);
    }
    if let Some(found) = seen.wrong_tool {
        return Err(LoadError::NotReport {
            path: path_buf(),
            reason: format!("field `tool` is {found}, expected \"{TOOL_NAME}\""),
        });
    }
    if let Some(found) = seen.wrong_version {
        return Err(LoadError::UnsupportedVersion {
            path: path_buf(),
            found,
        });
    }
    let mut report = match parsed {
        Ok(report) => report,
        Err(e) => {
            let inner = e.inner();
            return Err(match inner.classify() {
                serde_json::error::Category::Eof => LoadError::Truncated {
                    path: path_buf(),
                    line: inner.line(),
                    column: inner.column(),
                    field: truncated_field(&e),
                },
                serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                    syntax(inner)
                }
                // A top-level field missing from a document without `tool`:
                // another tool's JSON, not a report with a field left out.
                serde_json::error::Category::Data
                    if !seen.tool_seen
                        && e.path().to_string() == "."
                        && inner.to_string().starts_with("missing field `") =>
                {
                    LoadError::NotReport {
                        path: path_buf(),
                        reason: "field `tool` is missing".into(),
                    }
                }
                serde_json::error::Category::Data => LoadError::Invalid {
                    path: path_buf(),
                    message: describe_field_error(&e),
                },
            });
        }
    };
    validate(&report).map_err(|message| LoadError::Invalid {
        path: path_buf(),
        message,
    })?;
    sanitize(&mut report);
    Ok(report)
}

/// `tool`: `unlink-race`, or the document is not a report (what it holds
/// is remembered for the message, and reading stops).
pub(crate) fn tool_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = Scalar::deserialize(d)?;
    SEEN.with(|s| s.borrow_mut().tool_seen = true);
    match value {
        Scalar::Text(t) if t == TOOL_NAME => Ok(t),
        other => {
            SEEN.with(|s| s.borrow_mut().wrong_tool = Some(other.shown()));
            Err(serde::de::Error::custom("not an unlink-race report"))
        }
    }
}

/// `schema_version`: any value is read (one this build does not know is
/// remembered, and decides the message however the rest reads).
pub(crate) fn schema_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let value = Scalar::deserialize(d)?;
    match value {
        Scalar::Number(n) if n == u64::from(SCHEMA_VERSION) => Ok(SCHEMA_VERSION),
        other => {
            SEEN.with(|s| s.borrow_mut().wrong_version = Some(other.shown()));
            Ok(0)
        }
    }
}

/// A list or record that only a report's own page shows: read past, and
/// left empty, when loading a summary ([`load_summary`]).
pub(crate) fn detail<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    if SEEN.with(|s| s.borrow().summary) {
        IgnoredAny::deserialize(d)?;
        Ok(T::default())
    } else {
        T::deserialize(d)
    }
}

/// An entry of a list that carries a count: an errno's count, a trial's
/// cycles.
pub(crate) trait CountedEntry {
    /// The field that holds the count.
    const FIELD: &'static str;
    fn count(&self) -> u64;
}

impl CountedEntry for crate::report::schema::ErrnoBreakdown {
    const FIELD: &'static str = "count";
    fn count(&self) -> u64 {
        self.count
    }
}

impl CountedEntry for crate::report::schema::Trial {
    const FIELD: &'static str = "cycles";
    fn count(&self) -> u64 {
        self.cycles
    }
}

/// [`detail`] for a list whose entries carry counts: a summary reads past
/// them one by one (memory stays one entry) and still refuses a count above
/// [`MAX_COUNT`], as a full load does.
pub(crate) fn counted_detail<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + CountedEntry,
{
    if !SEEN.with(|s| s.borrow().summary) {
        return Vec::<T>::deserialize(d);
    }
    struct Entries<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de> + CountedEntry> serde::de::Visitor<'de> for Entries<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<T>, A::Error> {
            let mut k = 0usize;
            while let Some(entry) = a.next_element::<T>()? {
                if entry.count() > MAX_COUNT {
                    return Err(serde::de::Error::custom(format!(
                        "entry {k} has `{}` {}, more than any run counts (at most {MAX_COUNT})",
                        T::FIELD,
                        entry.count()
                    )));
                }
                k += 1;
            }
            Ok(Vec::new())
        }
    }
    d.deserialize_seq(Entries(std::marker::PhantomData))
}

/// A header field's value, kept short whatever it is.
enum Scalar {
    Text(String),
    Number(u64),
    Other(String),
}

impl Scalar {
    /// As written in JSON, cut to a readable length.
    fn shown(&self) -> String {
        const MAX_CHARS: usize = 40;
        let text = match self {
            Scalar::Text(t) => serde_json::Value::String(t.clone()).to_string(),
            Scalar::Number(n) => n.to_string(),
            Scalar::Other(o) => o.clone(),
        };
        if text.chars().count() <= MAX_CHARS {
            text
        } else {
            let cut: String = text.chars().take(MAX_CHARS).collect();
            format!("{cut}…")
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.chars().take(200).collect()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other("null".into()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an array".into()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The first byte that is not JSON whitespace, `None` for an empty file.
/// Nothing is consumed but the whitespace.
fn first_byte(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(i) = buf.iter().position(|b| !b" \t\r\n".contains(b)) {
            let b = buf[i];
            reader.consume(i);
            return Ok(Some(b));
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// The report field a truncated text ends in (`scenarios[2].classes`).
fn truncated_field(error: &serde_path_to_error::Error<serde_json::Error>) -> Option<String> {
    // `?` stands for a key that was cut before it was read.
    let path = error.path().to_string();
    let path = path.trim_end_matches(".?");
    (!matches!(path, "." | "?" | "")).then(|| path.to_string())
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
pub fn unsafe_char(c: char) -> bool {
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

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
