//! Examples: the first recorded anomalies of each class, with every fstat
//! field.

use std::collections::BTreeMap;

use super::super::format::format_count;
use super::super::markup::Markup;
use super::super::{Kind, class_kind};
use super::kind_pill;
use crate::report::schema::{Class, Example, Report, ScenarioReport, StatRecord};

/// Examples shown per class.
const EXAMPLES_PER_CLASS: usize = 3;

/// Examples of one class with the scenario each comes from.
type ExampleList<'a> = Vec<(&'a ScenarioReport, &'a Example)>;

pub(super) fn examples(m: &mut Markup, r: &Report) {
    // (kind, class order) -> examples with their scenario, in report order.
    let mut groups: BTreeMap<(Kind, Class), ExampleList<'_>> = BTreeMap::new();
    for s in &r.scenarios {
        for e in &s.examples {
            let kind = s
                .classes
                .get(&e.class)
                .map_or(Kind::Anomaly, |c| class_kind(e.class, c));
            let list = groups.entry((kind, e.class)).or_default();
            if list.len() < EXAMPLES_PER_CLASS {
                list.push((s, e));
            }
        }
    }
    if groups.is_empty() {
        return;
    }
    m.elem("h2", &[], "Examples");
    m.elem(
        "p",
        &[("class", "note")],
        &format!(
            "The first {EXAMPLES_PER_CLASS} recorded of each class, with every field fstat \
             returned on the descriptor. st_ino = 0 is the dead-vnode signature."
        ),
    );
    let mut races = Vec::new();
    for ((kind, class), list) in groups {
        if kind != Kind::Anomaly {
            races.push((kind, class, list));
            continue;
        }
        m.open("h3", &[]);
        m.elem("code", &[], class.name());
        m.text(" ");
        kind_pill(m, kind);
        m.close();
        example_table(m, &list);
    }
    if !races.is_empty() {
        let names: Vec<&str> = races.iter().map(|(_, c, _)| c.name()).collect();
        m.open("details", &[]);
        m.elem(
            "summary",
            &[],
            &format!("Examples of expected races: {}", names.join(", ")),
        );
        for (kind, class, list) in races {
            m.open("h3", &[]);
            m.elem("code", &[], class.name());
            m.text(" ");
            kind_pill(m, kind);
            m.close();
            example_table(m, &list);
        }
        m.close();
    }
}

/// An fstat field: its name and how it is written.
type Field = (&'static str, fn(&StatRecord) -> String);

/// Every field of `struct stat` the report keeps, in `<sys/stat.h>` order.
const STAT_FIELDS: [Field; 13] = [
    ("st_dev", |s| s.dev.to_string()),
    ("st_ino", |s| s.ino.to_string()),
    ("st_mode", |s| format!("0o{:o}", s.mode)),
    ("st_nlink", |s| s.nlink.to_string()),
    ("st_uid", |s| s.uid.to_string()),
    ("st_gid", |s| s.gid.to_string()),
    ("st_rdev", |s| s.rdev.to_string()),
    ("st_size", |s| s.size.to_string()),
    ("st_blksize", |s| s.blksize.to_string()),
    ("st_blocks", |s| s.blocks.to_string()),
    ("st_atime", |s| format!("{}.{:09}", s.atime_s, s.atime_ns)),
    ("st_mtime", |s| format!("{}.{:09}", s.mtime_s, s.mtime_ns)),
    ("st_ctime", |s| format!("{}.{:09}", s.ctime_s, s.ctime_ns)),
];

fn example_table(m: &mut Markup, list: &[(&ScenarioReport, &Example)]) {
    m.open("table", &[]);
    m.open("tr", &[]);
    m.elem("th", &[], "field");
    for (i, _) in list.iter().enumerate() {
        m.elem("th", &[], &format!("example {}", i + 1));
    }
    m.close();
    let row = |m: &mut Markup, name: &str, value: &dyn Fn(&ScenarioReport, &Example) -> String| {
        m.open("tr", &[]);
        m.elem("th", &[("class", "mono")], name);
        for (s, e) in list {
            m.elem("td", &[("class", "mono")], &value(s, e));
        }
        m.close();
    };
    row(m, "scenario", &|s, _| s.name.clone());
    row(m, "worker", &|_, e| e.worker.to_string());
    row(m, "cycle", &|_, e| format_count(e.cycle));
    row(m, "time", &|_, e| {
        format!("{} ns after start", format_count(e.t_ns))
    });
    row(m, "operation", &|_, e| e.op.to_string());
    row(m, "errno", &|_, e| {
        if e.errno == 0 {
            "0 (succeeded)".into()
        } else {
            format!("{} {}", e.errno, e.errno_name)
        }
    });
    row(m, "bytes read", &|_, e| {
        format!("{} of {}", e.bytes_read, e.bytes_expected)
    });
    row(m, "path existed after", &|_, e| {
        if e.exists_after { "yes" } else { "no" }.into()
    });
    if list.iter().any(|(_, e)| e.stale.is_some()) {
        row(m, "generation read", &|_, e| match &e.stale {
            Some(st) => format!(
                "{:#x} of {}, after {:#x}",
                st.generation_read, st.writer, st.generation_seen
            ),
            None => String::new(),
        });
    }
    if list.iter().all(|(_, e)| e.stat.is_none()) {
        m.open("tr", &[]);
        m.elem("th", &[("class", "mono")], "fstat");
        m.elem(
            "td",
            &[("class", "muted"), ("colspan", &list.len().to_string())],
            "not recorded for these examples (this operation does not fstat the descriptor)",
        );
        m.close();
        m.close();
        return;
    }
    for (name, field) in STAT_FIELDS {
        m.open("tr", &[]);
        m.elem("th", &[("class", "mono")], name);
        for (_, e) in list {
            match &e.stat {
                Some(st) => {
                    let hot = name == "st_ino" && st.ino == 0;
                    m.elem(
                        "td",
                        &[("class", if hot { "mono zero-ino" } else { "mono" })],
                        &field(st),
                    );
                }
                None => {
                    m.elem("td", &[("class", "muted")], "no fstat");
                }
            }
        }
        m.close();
    }
    m.close();
}
