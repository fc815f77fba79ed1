//! Writing markup that is well-formed by construction.
//!
//! [`Markup`] escapes every text and attribute value it is given and closes
//! what it opened, so a page built with it parses as XML (XHTML-compatible
//! HTML) whatever a report contains: hostnames, labels and commands come from
//! other machines and are never trusted as markup. [`page`] wraps a body in
//! the shell shared by every page (stylesheet included, nothing loaded from
//! elsewhere).

use std::fmt::Write as _;

/// Escapes `s` for use as text or as a quoted attribute value.
///
/// Characters XML forbids (most C0 controls) become U+FFFD so the page stays
/// well-formed even when a report carries them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// `true` when `href` is a relative reference (no scheme, not rooted), the
/// only kind of link a self-contained page may carry.
pub fn is_relative_link(href: &str) -> bool {
    let before_slash = href.split(['/', '?', '#']).next().unwrap_or("");
    !href.is_empty()
        && !before_slash.contains(':')
        && !href.starts_with('/')
        && !href.starts_with('\\')
}

/// A markup writer that escapes text and keeps track of open elements.
#[derive(Debug, Default)]
pub struct Markup {
    out: String,
    open: Vec<&'static str>,
}

impl Markup {
    pub fn new() -> Markup {
        Markup::default()
    }

    /// Opens `<tag attrs...>`; [`Markup::close`] ends it.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&str, &str)]) -> &mut Markup {
        self.start_tag(tag, attrs);
        self.out.push('>');
        self.open.push(tag);
        self
    }

    /// Closes the innermost open element.
    ///
    /// # Panics
    /// When nothing is open: that is a bug in the page code, never in the data.
    pub fn close(&mut self) -> &mut Markup {
        let tag = self.open.pop().expect("close() without a matching open()");
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// `<tag attrs...>text</tag>`.
    pub fn elem(&mut self, tag: &'static str, attrs: &[(&str, &str)], text: &str) -> &mut Markup {
        self.open(tag, attrs).text(text).close()
    }

    /// `<tag attrs.../>`: void HTML elements (`meta`, `br`) and SVG shapes.
    pub fn void(&mut self, tag: &'static str, attrs: &[(&str, &str)]) -> &mut Markup {
        self.start_tag(tag, attrs);
        self.out.push_str("/>");
        self
    }

    /// Escaped text.
    pub fn text(&mut self, s: &str) -> &mut Markup {
        escape_into(&mut self.out, s);
        self
    }

    /// Text that must reach the output as it is: the content of `<style>`,
    /// which HTML does not unescape. Only for constants of this crate.
    ///
    /// # Panics
    /// When `s` holds `<` or `&`, which would not survive an XML parser.
    fn trusted_text(&mut self, s: &'static str) -> &mut Markup {
        assert!(!s.contains(['<', '&']), "trusted text must not hold < or &");
        self.out.push_str(s);
        self
    }

    /// Appends finished markup built by another writer.
    ///
    /// # Panics
    /// When `other` still has open elements.
    pub fn append(&mut self, other: Markup) -> &mut Markup {
        self.out.push_str(&other.into_string());
        self
    }

    /// Number of elements still open.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    /// The markup.
    ///
    /// # Panics
    /// When elements are still open.
    pub fn into_string(self) -> String {
        assert!(self.open.is_empty(), "unclosed elements: {:?}", self.open);
        self.out
    }

    fn start_tag(&mut self, tag: &'static str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            debug_assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            let _ = write!(self.out, " {name}=\"");
            escape_into(&mut self.out, value);
            self.out.push('"');
        }
    }
}

/// A complete page: doctype, head with the shared stylesheet, and `body`.
pub fn page(title: &str, body: Markup) -> String {
    let mut m = Markup::new();
    m.open("html", &[("lang", "en")]);
    m.open("head", &[]);
    m.void("meta", &[("charset", "utf-8")]);
    m.void(
        "meta",
        &[
            ("name", "viewport"),
            ("content", "width=device-width, initial-scale=1"),
        ],
    );
    m.elem("title", &[], title);
    m.open("style", &[]).trusted_text(STYLE).close();
    m.close();
    m.open("body", &[]);
    m.open("main", &[]);
    m.append(body);
    m.close().close().close();
    format!("<!DOCTYPE html>\n{}\n", m.into_string())
}

/// The stylesheet of every page. No `<` or `&`: it is also XML text.
const STYLE: &str = r#"
:root { --ok: #17803d; --bad: #c62828; --warn: #b26a00; --muted: #667; --line: #dde; --bg-soft: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; color: #1d1f24; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 2px; font-weight: 650; }
h2 { font-size: 18px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
a { color: #0b57d0; }
code, .mono { font-family: ui-monospace, "SF Mono", Menlo, "DejaVu Sans Mono", monospace; font-size: 13px; }
.sub { color: var(--muted); margin: 0 0 14px; }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 10px; }
.banner { border: 2px solid var(--warn); background: #fff4e0; color: #6b4000; padding: 8px 14px; border-radius: 6px; font-weight: 600; margin: 10px 0; }
.verdict { border-radius: 8px; padding: 14px 20px 14px; margin: 12px 0 6px; border-left: 10px solid; }
.verdict.pass { background: #ecf8ef; border-color: var(--ok); }
.verdict.fail { background: #fdecec; border-color: var(--bad); }
.verdict.neutral { background: var(--bg-soft); border-color: var(--muted); }
.verdict .headline { font-size: 30px; font-weight: 750; margin: 0 0 6px; line-height: 1.2; }
.verdict.pass .headline { color: var(--ok); }
.verdict.fail .headline { color: var(--bad); }
.verdict.neutral .headline { color: #444; }
.verdict ul { margin: 4px 0 0; padding-left: 20px; }
.verdict li { margin: 3px 0; font-size: 16px; }
.verdict .minor { color: #444; font-size: 14px; }
.big { font-weight: 700; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13.5px; display: block; max-width: 100%; overflow-x: auto; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.hit td { background: #fff1f1; }
tr.group th { background: #fff; color: var(--muted); font-weight: 600; padding-top: 12px; border-bottom: 1px solid #bbc; }
.machine th { background: none; color: var(--muted); font-weight: 500; white-space: nowrap; }
.machine td { padding-right: 28px; }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.pill.anomaly { background: #fbd5d5; color: #8a1515; }
.pill.race { background: #fde8c4; color: #6b4000; }
.pill.normal { background: #e4e8ee; color: #445; }
.bad { color: var(--bad); font-weight: 650; }
.good { color: var(--ok); }
.bound { color: #335; }
.warn { color: var(--warn); font-weight: 600; }
.panels { display: flex; flex-wrap: wrap; gap: 8px 14px; }
.legend { font-size: 13px; color: #333; margin: 2px 0 8px; }
.legend span.item { margin-right: 16px; white-space: nowrap; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
.zero-ino { background: #fbd5d5; font-weight: 700; }
details { margin: 6px 0; }
summary { cursor: pointer; color: #334; }
.survival { display: flex; flex-wrap: wrap; gap: 4px 24px; align-items: flex-start; margin-bottom: 8px; }
.facts td, .facts th { border: none; padding: 2px 14px 2px 0; background: none; white-space: nowrap; }
svg { display: block; overflow: visible; max-width: 100%; height: auto; }
svg.icon { display: inline-block; vertical-align: -4px; margin: 0 5px 0 8px; }
svg text { font-size: 11.5px; fill: #333; }
svg .title { font-size: 13px; font-weight: 600; fill: #1d1f24; }
svg .axis { stroke: #99a; stroke-width: 1; }
svg .grid { stroke: #e6e8ee; stroke-width: 1; }
svg .zero { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 4 3; }
table.tight td, table.tight th { white-space: nowrap; }
table.tight td.wrap { white-space: normal; font-size: 12.5px; }
td.cell { line-height: 1.25; }
.scroll { overflow-x: auto; }
table.matrix { font-size: 12.5px; }
table.matrix td, table.matrix th { padding: 4px 7px; }
td.cell .note { font-size: 12px; }
td.cmd { max-width: 760px; word-break: break-all; }
pre { overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
@media (max-width: 900px) {
  main { padding: 14px 12px 40px; }
  .verdict { padding: 10px 12px; border-left-width: 6px; }
  .verdict .headline { font-size: 23px; }
  .panels svg:not(:only-child) { max-width: 48%; }
}
"#;
