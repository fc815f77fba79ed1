//! Reports built in code: a machine, scenarios with given counts, and a temp
//! directory to write them to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use unlink_race::outcome::{Class, is_expected};
use unlink_race::report::schema::{
    ClassStats, EmptyReadNlink, Machine, Report, SCHEMA_VERSION, ScenarioConfig, ScenarioReport,
    Source, TOOL_NAME,
};
use unlink_race::scenario::Scenario;
use unlink_race::stats::rate_interval;

/// A Linux machine with ext4; change fields with [`ReportBuilder::machine`].
pub fn machine() -> Machine {
    Machine {
        os: "linux".into(),
        os_version: "24.04".into(),
        os_name: "Ubuntu 24.04.1 LTS".into(),
        kernel: "6.8.0-45-generic".into(),
        arch: "x86_64".into(),
        cpu_model: "AMD EPYC 7763 64-Core Processor".into(),
        cpus: 16,
        fs_type: "ext4".into(),
        mount_point: "/".into(),
        target_dir: "/tmp".into(),
        hostname: "ci-runner".into(),
        crate_version: "0.1.0".into(),
    }
}

/// Builds a [`Report`] scenario by scenario.
pub struct ReportBuilder {
    report: Report,
}

impl ReportBuilder {
    pub fn new(label: &str) -> ReportBuilder {
        ReportBuilder {
            report: Report {
                schema_version: SCHEMA_VERSION,
                tool: TOOL_NAME.into(),
                label: label.into(),
                created_unix_s: 1_700_000_000,
                interrupted: false,
                environment_error: None,
                source: Source::Run,
                machine: machine(),
                scenarios: Vec::new(),
                latency: Vec::new(),
            },
        }
    }

    pub fn machine(mut self, change: impl FnOnce(&mut Machine)) -> ReportBuilder {
        change(&mut self.report.machine);
        self
    }

    /// The seed's scenario with `readers` readers, `cycles` cycles at
    /// `ns_per_cycle`, and the given class counts (every other class 0).
    pub fn scenario(
        self,
        readers: u32,
        cycles: u64,
        ns_per_cycle: f64,
        counts: &[(Class, u64)],
    ) -> ReportBuilder {
        let scenario = Scenario {
            readers,
            ..Scenario::default()
        };
        self.scenario_of(&scenario, cycles, ns_per_cycle, counts)
    }

    /// Like [`ReportBuilder::scenario`] for any scenario.
    pub fn scenario_of(
        mut self,
        scenario: &Scenario,
        cycles: u64,
        ns_per_cycle: f64,
        counts: &[(Class, u64)],
    ) -> ReportBuilder {
        let count_of = |class: Class| {
            counts
                .iter()
                .find(|(c, _)| *c == class)
                .map_or(0, |(_, n)| *n)
        };
        let classes: BTreeMap<Class, ClassStats> = Class::ALL
            .iter()
            .map(|&class| {
                let count = count_of(class);
                let ci = rate_interval(count, cycles);
                let stats = ClassStats {
                    count,
                    expected: is_expected(class, scenario),
                    rate: if cycles == 0 {
                        0.0
                    } else {
                        count as f64 / cycles as f64
                    },
                    ci_low: ci.low,
                    ci_high: ci.high,
                    per_raced_open: None,
                    per_racing_create: None,
                    per_overlapped_open: None,
                };
                (class, stats)
            })
            .collect();
        let anomalies = classes
            .values()
            .filter(|c| !c.expected)
            .map(|c| c.count)
            .sum();
        let elapsed_ns = (cycles as f64 * ns_per_cycle) as u64;
        self.report.scenarios.push(ScenarioReport {
            name: scenario.name(),
            config: ScenarioConfig::from(scenario),
            cycles,
            removals: cycles / 2,
            recreations: cycles / 2,
            elapsed_ns,
            cycles_per_second: 1e9 / ns_per_cycle,
            ns_per_cycle,
            raced_opens: None,
            raced_opens_per_second: None,
            racing_creates: None,
            racing_creates_per_second: None,
            overlapped_opens: None,
            overlapped_opens_per_second: None,
            pace: scenario.pace,
            calibration: None,
            anomalies,
            classes,
            empty_read_nlink: EmptyReadNlink::default(),
            examples: Vec::new(),
            errno_breakdown: Vec::new(),
            first_anomaly_cycle: None,
            trials: Vec::new(),
            survival: None,
            timeline: None,
            stalls: Vec::new(),
            dropped: Default::default(),
            criterion_page: None,
            command: format!("unlink-race run {}", scenario.run_flags()),
        });
        self
    }

    /// Gives the last scenario `raced` raced opens, as a report since the
    /// count has them: raced opens per second and every anomaly class's rate
    /// per raced open.
    pub fn raced_opens(mut self, raced: u64) -> ReportBuilder {
        let s = self
            .report
            .scenarios
            .last_mut()
            .expect("a scenario to give raced opens");
        count_raced_opens(s, raced);
        self
    }

    /// Gives the last scenario `racing` racing creates, as a report since
    /// the create race has them: their rate per second and the create
    /// classes' rates per racing create.
    pub fn racing_creates(mut self, racing: u64) -> ReportBuilder {
        let s = self
            .report
            .scenarios
            .last_mut()
            .expect("a scenario to give racing creates");
        s.racing_creates = Some(racing);
        s.racing_creates_per_second = Some(if s.elapsed_ns == 0 {
            0.0
        } else {
            racing as f64 * 1e9 / s.elapsed_ns as f64
        });
        unlink_race::report::build::add_racing_creates(&mut s.classes, racing);
        self
    }

    /// Gives the last scenario `overlapped` overlapped opens (after its
    /// raced opens): their rate per second and every anomaly class's rate
    /// per overlapped open.
    pub fn overlapped_opens(mut self, overlapped: u64) -> ReportBuilder {
        let s = self
            .report
            .scenarios
            .last_mut()
            .expect("a scenario to give overlapped opens");
        s.overlapped_opens = Some(overlapped);
        s.overlapped_opens_per_second = Some(if s.elapsed_ns == 0 {
            0.0
        } else {
            overlapped as f64 * 1e9 / s.elapsed_ns as f64
        });
        let raced = s.raced_opens.expect("raced opens first");
        count_raced_opens(s, raced);
        self
    }

    pub fn build(self) -> Report {
        self.report
    }
}

/// Makes `s` a scenario of a report that counted raced opens: `raced` of
/// them, their rate per second, and the classes' rates per raced open as the
/// report builder computes them.
pub fn count_raced_opens(s: &mut ScenarioReport, raced: u64) {
    s.raced_opens = Some(raced);
    s.raced_opens_per_second = Some(if s.elapsed_ns == 0 {
        0.0
    } else {
        raced as f64 * 1e9 / s.elapsed_ns as f64
    });
    let mut counts = vec![0u64; Class::ALL.len()];
    for (class, c) in &s.classes {
        counts[class.index()] = c.count;
    }
    let scenario = Scenario::from(&s.config);
    let counted = unlink_race::report::build::class_stats(
        &counts,
        s.cycles,
        Some(raced),
        s.overlapped_opens,
        &scenario,
    );
    // Only the classes the report has (an older one may lack some).
    for (class, c) in &mut s.classes {
        c.per_raced_open = counted[class].per_raced_open;
        c.per_overlapped_open = counted[class].per_overlapped_open;
    }
}

/// Writes `report` as `name` in `dir` and returns the path.
pub fn write_report(dir: &Path, name: &str, report: &Report) -> PathBuf {
    write_text(dir, name, &serde_json::to_string_pretty(report).unwrap())
}

/// Writes `text` as `name` in `dir` and returns the path.
pub fn write_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
