//! The machines and labels of a comparison: one row per machine field
//! across the reports, the configuration fields that differ, and each
//! report's unique label.

use std::path::{Path, PathBuf};

use super::LoadedReport;
use crate::report::schema::{Machine, Report, ScenarioConfig};

/// One machine field across the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineRow {
    /// `os`, `kernel`, `filesystem`, `cpu`, ...
    pub field: &'static str,
    /// The value in each report, in report order.
    pub values: Vec<String>,
    /// Fields that identify a machine (OS and version, kernel, filesystem,
    /// CPU): shown even when equal.
    pub key: bool,
}

impl MachineRow {
    /// Whether the reports disagree on this field.
    pub fn differs(&self) -> bool {
        self.values.windows(2).any(|w| w[0] != w[1])
    }

    /// Whether outputs show the row: key fields always, others when they differ.
    pub fn shown(&self) -> bool {
        self.key || self.differs()
    }
}

/// The configuration fields whose sets of values differ between two reports:
/// `file_size_bytes 7 vs 4096`.
pub(super) fn config_differences(a: &Report, b: &Report) -> Vec<String> {
    type Field = (&'static str, fn(&ScenarioConfig) -> String);
    let fields: [Field; 10] = [
        ("race", |c| c.race.report_name().to_string()),
        ("creators", |c| {
            c.creators.map_or_else(|| "none".into(), |n| n.to_string())
        }),
        ("create_flags", |c| {
            c.create_flags
                .map_or_else(|| "none".into(), |f| f.report_name().to_string())
        }),
        ("readers", |c| c.readers.to_string()),
        ("deleters", |c| c.deleters.to_string()),
        ("file_size_bytes", |c| c.file_size_bytes.to_string()),
        ("recreate", |c| c.recreate.to_string()),
        ("delete", |c| c.delete.to_string()),
        ("workers", |c| c.workers.to_string()),
        ("views", |c| c.views.to_string()),
    ];
    let values = |r: &Report, f: fn(&ScenarioConfig) -> String| {
        let mut v: Vec<String> = r.scenarios.iter().map(|s| f(&s.config)).collect();
        v.sort();
        v.dedup();
        v
    };
    let show = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join("/")
        }
    };
    fields
        .iter()
        .filter_map(|&(name, f)| {
            let (va, vb) = (values(a, f), values(b, f));
            (va != vb).then(|| format!("{name} {} vs {}", show(&va), show(&vb)))
        })
        .collect()
}

/// Each report's label, made unique: the report's own label, else its file
/// name, else a number.
pub(super) fn labels(reports: &[(PathBuf, Report)]) -> Vec<String> {
    let file_name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
    };
    let mut labels: Vec<String> = reports
        .iter()
        .map(|(path, report)| {
            if report.label.trim().is_empty() {
                file_name(path)
            } else {
                report.label.trim().to_string()
            }
        })
        .collect();
    let clashes =
        |labels: &[String], i: usize| labels.iter().filter(|l| **l == labels[i]).count() > 1;
    let clashing: Vec<bool> = (0..labels.len()).map(|i| clashes(&labels, i)).collect();
    for (i, clash) in clashing.into_iter().enumerate() {
        if clash {
            labels[i] = file_name(&reports[i].0);
        }
    }
    let clashing: Vec<bool> = (0..labels.len()).map(|i| clashes(&labels, i)).collect();
    for (i, clash) in clashing.into_iter().enumerate() {
        if clash {
            labels[i] = format!("{} ({})", labels[i], i + 1);
        }
    }
    labels
}

pub(super) fn machine_rows(reports: &[LoadedReport]) -> Vec<MachineRow> {
    let values = |f: &dyn Fn(&LoadedReport) -> String| reports.iter().map(f).collect::<Vec<_>>();
    let machine = |f: fn(&Machine) -> String| values(&|r: &LoadedReport| f(&r.report.machine));
    let row = |field, values, key| MachineRow { field, values, key };
    let interrupted = values(&|r| if r.report.interrupted { "yes" } else { "no" }.into());
    let any_interrupted = reports.iter().any(|r| r.report.interrupted);
    let any_split = reports
        .iter()
        .any(|r| r.report.machine.other_side.is_some());
    vec![
        row(
            "os",
            machine(|m| {
                if m.os_name.is_empty() {
                    m.os.clone()
                } else {
                    m.os_name.clone()
                }
            }),
            true,
        ),
        row("os version", machine(|m| m.os_version.clone()), true),
        row("kernel", machine(|m| m.kernel.clone()), true),
        row("filesystem", machine(|m| m.fs_type.clone()), true),
        row("cpu", machine(|m| m.cpu_model.clone()), true),
        row("cpus", machine(|m| m.cpus.to_string()), true),
        row("arch", machine(|m| m.arch.clone()), false),
        row("mount point", machine(|m| m.mount_point.clone()), false),
        row(
            "other side",
            machine(|m| match &m.other_side {
                Some(o) => format!("{} ({})", o.fs_type, o.mount_point),
                None => "none (one view)".into(),
            }),
            any_split,
        ),
        row("host", machine(|m| m.hostname.clone()), false),
        row("unlink-race", machine(|m| m.crate_version.clone()), false),
        row("source", values(&|r| r.report.source.to_string()), false),
        row("interrupted", interrupted, any_interrupted),
    ]
}
