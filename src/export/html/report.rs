//! The page of one report: the answer first, then the evidence.
//!
//! Section order: header, interrupted banner, verdict, machine, rate and time
//! charts (grids only), scenarios table, outcome classes, examples, survival
//! curves, timelines, stalls, commands. Anomalies and expected races are kept
//! apart everywhere; every rate is written through [`RateText`] with its 95%
//! interval.

use std::collections::BTreeMap;

use super::format::{
    RateText, format_count, format_duration_ns, format_plain, format_rate, format_si,
    format_unix_time,
};
use super::markup::{Markup, is_relative_link, page};
use super::svg::{self, Lane, LaneChart, Mark, MarkShape, Point, PointChart, Scale, Series, Span};
use super::{Kind, class_kind};
use crate::report::schema::{
    Class, ClassStats, Delete, EventKind, Example, Machine, Recreate, Report, ScenarioConfig,
    ScenarioReport, Source, StatRecord, Survival, Timeline, WorkerId, Workers,
};
use crate::scenario::format_size;

/// Examples shown per class.
const EXAMPLES_PER_CLASS: usize = 3;
/// Timelines drawn; a grid can have one per scenario and each can hold
/// hundreds of events.
const MAX_TIMELINES: usize = 4;
/// Width of the content column, in CSS pixels.
const CONTENT_WIDTH: f64 = 1184.0;

/// Renders one report as a self-contained HTML page.
pub fn render_report(report: &Report) -> String {
    let mut m = Markup::new();
    header(&mut m, report);
    if report.interrupted {
        m.elem(
            "p",
            &[("class", "banner")],
            "Interrupted: the run was stopped by a signal before it finished. \
             Every count below covers only the cycles that ran.",
        );
    }
    verdict(&mut m, report);
    machine(&mut m, &report.machine);
    charts(&mut m, report);
    scenarios_table(&mut m, report);
    classes(&mut m, report);
    errno_breakdown(&mut m, report);
    examples(&mut m, report);
    survival(&mut m, report);
    timelines(&mut m, report);
    stalls(&mut m, report);
    commands(&mut m, report);
    m.elem(
        "p",
        &[("class", "note")],
        &format!(
            "unlink-race {} · report schema version {} · source: {}",
            report.machine.crate_version, report.schema_version, report.source
        ),
    );
    page(&format!("unlink-race report: {}", report.label), m)
}

fn header(m: &mut Markup, r: &Report) {
    m.elem("h1", &[], &format!("unlink-race: {}", r.label));
    let how = match r.source {
        Source::Bench => "cargo bench".to_string(),
        Source::Run => "unlink-race run".to_string(),
    };
    let mc = &r.machine;
    m.elem(
        "p",
        &[("class", "sub")],
        &format!(
            "{} · {} on {} · {} × {} · host {} · {} · {}",
            mc.os_name,
            mc.fs_type,
            mc.mount_point,
            mc.cpu_model,
            mc.cpus,
            mc.hostname,
            format_unix_time(r.created_unix_s),
            how
        ),
    );
}

/// Per-class totals over the scenarios where the class has one kind.
#[derive(Debug)]
struct Pooled<'a> {
    name: Class,
    kind: Kind,
    count: u64,
    cycles: u64,
    /// Scenarios where the class has this kind.
    scenarios: usize,
    /// Of those, scenarios where it was seen.
    seen_in: usize,
    /// The scenario with the highest rate, when seen.
    worst: Option<(&'a ScenarioReport, &'a ClassStats)>,
}

impl Pooled<'_> {
    fn rate(&self) -> RateText {
        RateText::from_count(self.count, self.cycles)
    }
}

fn pooled(report: &Report) -> Vec<Pooled<'_>> {
    let mut by: BTreeMap<(Kind, Class), Pooled<'_>> = BTreeMap::new();
    for s in &report.scenarios {
        for (&name, c) in &s.classes {
            let kind = class_kind(name, c);
            let p = by.entry((kind, name)).or_insert_with(|| Pooled {
                name,
                kind,
                count: 0,
                cycles: 0,
                scenarios: 0,
                seen_in: 0,
                worst: None,
            });
            p.count += c.count;
            p.cycles += s.cycles;
            p.scenarios += 1;
            if c.count > 0 {
                p.seen_in += 1;
                if p.worst.is_none_or(|(_, w)| c.rate > w.rate) {
                    p.worst = Some((s, c));
                }
            }
        }
    }
    by.into_values().collect()
}

fn scenario_rate(s: &ScenarioReport) -> RateText {
    RateText::from_count(s.anomalies, s.cycles)
}

fn class_rate(s: &ScenarioReport, c: &ClassStats) -> RateText {
    RateText::stored(c.count, s.cycles, c.rate, c.ci_low, c.ci_high)
}

fn verdict(m: &mut Markup, r: &Report) {
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    let anomalies: u64 = r.scenarios.iter().map(|s| s.anomalies).sum();
    let multi = r.scenarios.len() > 1;
    let pooled = pooled(r);
    let seen: Vec<&Pooled<'_>> = pooled
        .iter()
        .filter(|p| p.kind == Kind::Anomaly && p.count > 0)
        .collect();

    m.open(
        "section",
        &[(
            "class",
            if anomalies == 0 {
                "verdict pass"
            } else {
                "verdict fail"
            },
        )],
    );
    if anomalies == 0 {
        let total = RateText::from_count(0, cycles);
        m.elem(
            "p",
            &[("class", "headline")],
            &format!("No anomaly in {} cycles", format_si(cycles as f64)),
        );
        m.open("ul", &[]);
        m.open("li", &[]);
        m.text("Anomaly rate ");
        m.elem(
            "span",
            &[("class", "big")],
            &format!("{} per cycle at 95%", total.rate()),
        );
        m.text(&format!(
            " ({}){}.",
            total.one_in(),
            if multi {
                format!(", all {} scenarios pooled", r.scenarios.len())
            } else {
                String::new()
            }
        ));
        m.close();
        if multi {
            if let Some(least) = r.scenarios.iter().min_by_key(|s| s.cycles) {
                let bound = scenario_rate(least);
                m.elem(
                    "li",
                    &[],
                    &format!(
                        "In every scenario: {} at 95% (the least-sampled, {}, ran {} cycles).",
                        bound.rate(),
                        least.name,
                        format_count(least.cycles)
                    ),
                );
            }
        }
        m.close();
    } else {
        let headline: Vec<String> = seen
            .iter()
            .map(|p| {
                format!(
                    "{} seen {} {}",
                    p.name,
                    format_count(p.count),
                    times(p.count)
                )
            })
            .collect();
        m.elem("p", &[("class", "headline")], &headline.join(" · "));
        m.open("ul", &[]);
        for p in &seen {
            let rate = p.rate();
            m.open("li", &[]);
            m.elem("code", &[], p.name.name());
            m.text(": ");
            m.elem("span", &[("class", "big")], &rate.one_in());
            if multi {
                m.text(&format!(
                    " over all {} scenarios (95%: {}); seen in {}",
                    p.scenarios,
                    rate.interval(),
                    p.seen_in
                ));
                if let Some((s, c)) = p.worst {
                    let w = class_rate(s, c);
                    m.text(&format!(
                        "; highest in {}: {} (95%: {})",
                        s.name,
                        w.one_in_short(),
                        w.interval()
                    ));
                }
            } else {
                m.text(&format!(
                    " ({} per cycle, 95%: {})",
                    rate.rate(),
                    rate.interval()
                ));
            }
            m.text(".");
            m.close();
        }
        let unseen: Vec<&Pooled<'_>> = pooled
            .iter()
            .filter(|p| p.kind == Kind::Anomaly && p.count == 0)
            .collect();
        if let Some(widest) = unseen.iter().max_by_key(|p| std::cmp::Reverse(p.cycles)) {
            let names: Vec<&str> = unseen.iter().map(|p| p.name.name()).collect();
            m.elem(
                "li",
                &[("class", "minor")],
                &format!(
                    "Not seen: {} (each {} per cycle at 95%{}).",
                    names.join(", "),
                    widest.rate().rate(),
                    if multi { ", pooled" } else { "" }
                ),
            );
        }
        m.close();
    }
    m.open("ul", &[]);
    let races: Vec<String> = pooled
        .iter()
        .filter(|p| p.kind == Kind::ExpectedRace && p.count > 0)
        .map(|p| {
            let rate = p.rate();
            format!("{} {} (95%: {})", p.name, rate.one_in(), rate.interval())
        })
        .collect();
    if !races.is_empty() {
        m.elem(
            "li",
            &[("class", "minor")],
            &format!(
                "Expected races, not counted as anomalies: {}{}.",
                races.join("; "),
                if multi {
                    ", in the scenarios where they are expected"
                } else {
                    ""
                }
            ),
        );
    }
    for s in r.scenarios.iter().filter(|s| s.survival.is_some()).take(3) {
        let Some(sv) = &s.survival else { continue };
        let median = match (sv.median_cycles, sv.median_seconds) {
            (Some(c), Some(sec)) => format!(
                "; median {} cycles ({}) to the first",
                format_si(c),
                format_duration_ns(sec * 1e9)
            ),
            (Some(c), None) => format!("; median {} cycles to the first", format_si(c)),
            _ => String::new(),
        };
        m.elem(
            "li",
            &[("class", "minor")],
            &format!(
                "Trials{}: {} of {} saw an anomaly{median}.",
                if multi {
                    format!(" of {}", s.name)
                } else {
                    String::new()
                },
                format_count(sv.events),
                format_count(sv.trials)
            ),
        );
    }
    let stalls: usize = r.scenarios.iter().map(|s| s.stalls.len()).sum();
    if stalls > 0 {
        m.elem(
            "li",
            &[("class", "minor bad")],
            &format!(
                "{stalls} {} blocked longer than the watchdog limit (see Stalls).",
                if stalls == 1 { "syscall" } else { "syscalls" }
            ),
        );
    }
    let elapsed_ns: u64 = r.scenarios.iter().map(|s| s.elapsed_ns).sum();
    m.elem(
        "li",
        &[("class", "minor")],
        &format!(
            "{} {} · {} cycles · {} of racing{}",
            r.scenarios.len(),
            if multi { "scenarios" } else { "scenario" },
            format_count(cycles),
            format_duration_ns(elapsed_ns as f64),
            if r.interrupted { " · interrupted" } else { "" }
        ),
    );
    m.close();
    m.close();
}

fn times(n: u64) -> &'static str {
    if n == 1 { "time" } else { "times" }
}

fn machine(m: &mut Markup, mc: &Machine) {
    m.elem("h2", &[], "Machine");
    let rows: [(&str, String); 12] = [
        ("OS", mc.os_name.clone()),
        ("OS version", format!("{} {}", mc.os, mc.os_version)),
        ("kernel", mc.kernel.clone()),
        ("architecture", mc.arch.clone()),
        ("CPU", mc.cpu_model.clone()),
        ("CPUs", mc.cpus.to_string()),
        ("filesystem", mc.fs_type.clone()),
        ("mount point", mc.mount_point.clone()),
        ("target directory", mc.target_dir.clone()),
        ("hostname", mc.hostname.clone()),
        ("crate version", mc.crate_version.clone()),
        ("", String::new()),
    ];
    m.open("table", &[("class", "machine")]);
    for pair in rows.chunks(3) {
        m.open("tr", &[]);
        for (k, v) in pair {
            m.elem("th", &[], k);
            m.elem("td", &[], v);
        }
        m.close();
    }
    m.close();
}

/// What the x axis of the grid charts shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XAxis {
    /// readers × deleters; one panel per file size.
    Threads,
    /// File size, one panel (every scenario has the same thread counts).
    Size,
}

/// The scenarios of a report arranged for small-multiple charts.
struct Grid<'a> {
    x: XAxis,
    categories: Vec<(u64, u64)>,
    labels: Vec<String>,
    /// (panel title, scenarios).
    panels: Vec<(String, Vec<&'a ScenarioReport>)>,
    /// Series keys in legend order, each with its color.
    series: Vec<(String, &'static str)>,
    /// Whether threads and processes both occur (then series tell them apart).
    multi_workers: bool,
}

impl<'a> Grid<'a> {
    fn new(r: &'a Report) -> Option<Grid<'a>> {
        let threads = |c: &ScenarioConfig| (u64::from(c.readers), u64::from(c.deleters));
        let mut thread_keys: Vec<(u64, u64)> =
            r.scenarios.iter().map(|s| threads(&s.config)).collect();
        thread_keys.sort_by_key(|&(a, b)| (a + b, a));
        thread_keys.dedup();
        let mut sizes: Vec<u64> = r
            .scenarios
            .iter()
            .map(|s| s.config.file_size_bytes)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let x = if thread_keys.len() >= 2 {
            XAxis::Threads
        } else if sizes.len() >= 2 {
            XAxis::Size
        } else {
            return None;
        };
        let mut workers: Vec<Workers> = r.scenarios.iter().map(|s| s.config.workers).collect();
        workers.sort_unstable();
        workers.dedup();
        let multi_workers = workers.len() > 1;
        let mut series: Vec<(String, &'static str)> = Vec::new();
        let mut keys: Vec<(Recreate, Delete, Workers, String)> = r
            .scenarios
            .iter()
            .map(|s| {
                let c = &s.config;
                (
                    c.recreate,
                    c.delete,
                    c.workers,
                    series_label(c, multi_workers),
                )
            })
            .collect();
        keys.sort();
        keys.dedup();
        for (i, k) in keys.into_iter().enumerate() {
            series.push((k.3, svg::PALETTE[i % svg::PALETTE.len()]));
        }
        let (categories, labels, panels) = match x {
            XAxis::Threads => {
                let labels = thread_keys
                    .iter()
                    .map(|(a, b)| format!("{a}×{b}"))
                    .collect();
                let panels = sizes
                    .iter()
                    .map(|&size| {
                        let members = r
                            .scenarios
                            .iter()
                            .filter(|s| s.config.file_size_bytes == size)
                            .collect();
                        (format!("{} files", format_size(size)), members)
                    })
                    .collect();
                (thread_keys, labels, panels)
            }
            XAxis::Size => {
                let (a, b) = thread_keys[0];
                let labels = sizes.iter().map(|&s| format_size(s)).collect();
                let cats = sizes.iter().map(|&s| (s, 0)).collect();
                let panels = vec![(
                    format!("{a} readers × {b} deleters"),
                    r.scenarios.iter().collect(),
                )];
                (cats, labels, panels)
            }
        };
        Some(Grid {
            x,
            categories,
            labels,
            panels,
            series,
            multi_workers,
        })
    }

    fn category(&self, c: &ScenarioConfig) -> usize {
        let key = match self.x {
            XAxis::Threads => (u64::from(c.readers), u64::from(c.deleters)),
            XAxis::Size => (c.file_size_bytes, 0),
        };
        self.categories.iter().position(|&k| k == key).unwrap_or(0)
    }

    fn x_label(&self) -> &'static str {
        match self.x {
            XAxis::Threads => "readers × deleters",
            XAxis::Size => "file size",
        }
    }

    fn panel_width(&self) -> f64 {
        let k = self.panels.len().clamp(1, 3) as f64;
        ((CONTENT_WIDTH - 14.0 * (k - 1.0)) / k).min(560.0)
    }

    /// One series per strategy in a panel, built by `point`.
    fn series_for(
        &self,
        members: &[&ScenarioReport],
        point: &dyn Fn(&ScenarioReport, usize) -> Point,
    ) -> Vec<Series> {
        self.series
            .iter()
            .filter_map(|(label, color)| {
                let points: Vec<Point> = members
                    .iter()
                    .filter(|s| &series_label(&s.config, self.multi_workers) == label)
                    .map(|s| point(s, self.category(&s.config)))
                    .collect();
                (!points.is_empty()).then(|| Series {
                    label: label.clone(),
                    color,
                    points,
                })
            })
            .collect()
    }
}

fn series_label(c: &ScenarioConfig, with_workers: bool) -> String {
    if with_workers {
        format!("{} · {} · {}", c.recreate, c.delete, c.workers)
    } else {
        format!("{} · {}", c.recreate, c.delete)
    }
}

fn charts(m: &mut Markup, r: &Report) {
    let Some(grid) = Grid::new(r) else {
        return;
    };
    let width = grid.panel_width();

    m.elem(
        "h2",
        &[],
        match grid.x {
            XAxis::Threads => "Anomaly rate by thread count",
            XAxis::Size => "Anomaly rate by file size",
        },
    );
    m.elem(
        "p",
        &[("class", "note")],
        "Anomalies per cycle, log scale. A dot with a bar is an observed rate with its 95% \
         interval; a cap with a dashed arrow means none was seen, drawn at the 95% upper \
         bound (the true rate is below it). Hover a point for its numbers.",
    );
    let rates: Vec<f64> = r
        .scenarios
        .iter()
        .flat_map(|s| {
            let t = scenario_rate(s);
            // A bound's arrow points down: leave it half a decade of room.
            let bottom = if t.is_bound() {
                t.interval.high / 1.5
            } else {
                t.interval.low
            };
            [t.interval.high, bottom, t.rate]
        })
        .collect();
    let y = Scale::log_covering(rates, 1);
    m.open("div", &[("class", "panels")]);
    for (title, members) in &grid.panels {
        let series = grid.series_for(members, &|s, category| {
            let t = scenario_rate(s);
            Point {
                category,
                value: if t.is_bound() {
                    t.interval.high
                } else {
                    t.rate
                },
                low: Some(t.interval.low),
                high: Some(t.interval.high),
                bound: t.is_bound(),
                tooltip: format!(
                    "{}: {} anomalies in {} cycles; {} (95%: {})",
                    s.name,
                    format_count(s.anomalies),
                    format_count(s.cycles),
                    t.rate(),
                    t.interval()
                ),
            }
        });
        svg::point_chart(
            m,
            &PointChart {
                title,
                categories: &grid.labels,
                x_label: grid.x_label(),
                y,
                y_label: "anomalies per cycle",
                y_format: &svg::power_of_ten,
                series: &series,
                width,
                height: 290.0,
            },
        );
    }
    m.close();
    legend(m, &grid.series, true);

    m.elem(
        "h2",
        &[],
        match grid.x {
            XAxis::Threads => "Time per cycle by thread count",
            XAxis::Size => "Time per cycle by file size",
        },
    );
    let ns: Vec<f64> = r.scenarios.iter().map(|s| s.ns_per_cycle).collect();
    let y = Scale::auto(&ns, 20.0);
    m.elem(
        "p",
        &[("class", "note")],
        &format!(
            "Wall time of one reader cycle{}{}.",
            if r.source == Source::Bench {
                " (Criterion's estimate; the Scenarios table links to each benchmark's page)"
            } else {
                ""
            },
            if y.is_log() { ", log scale" } else { "" }
        ),
    );
    m.open("div", &[("class", "panels")]);
    for (title, members) in &grid.panels {
        let series = grid.series_for(members, &|s, category| Point {
            category,
            value: s.ns_per_cycle,
            low: None,
            high: None,
            bound: false,
            tooltip: format!(
                "{}: {} per cycle, {} cycles/s",
                s.name,
                format_duration_ns(s.ns_per_cycle),
                format_si(s.cycles_per_second)
            ),
        });
        svg::point_chart(
            m,
            &PointChart {
                title,
                categories: &grid.labels,
                x_label: grid.x_label(),
                y,
                y_label: "time per cycle",
                y_format: &format_duration_ns,
                series: &series,
                width,
                height: 260.0,
            },
        );
    }
    m.close();
    legend(m, &grid.series, false);
}

fn legend(m: &mut Markup, series: &[(String, &'static str)], markers: bool) {
    m.open("p", &[("class", "legend")]);
    m.elem("span", &[("class", "muted")], "recreate · delete: ");
    for (label, color) in series {
        m.open("span", &[("class", "item")]);
        m.elem(
            "span",
            &[("class", "sw"), ("style", &format!("background:{color}"))],
            "",
        );
        m.text(label);
        m.close();
    }
    if markers {
        m.open("span", &[("class", "item")]);
        svg::observed_icon(m);
        m.text("seen: rate and 95% interval");
        m.close();
        m.open("span", &[("class", "item")]);
        svg::bound_icon(m);
        m.text("none seen: 95% upper bound");
        m.close();
    }
    m.close();
}

fn link_or_text(m: &mut Markup, href: Option<&str>, text: &str) {
    match href {
        Some(h) if is_relative_link(h) => {
            m.elem("a", &[("href", h)], text);
        }
        _ => {
            m.text(text);
        }
    }
}

fn scenarios_table(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Scenarios");
    let any_criterion = r.scenarios.iter().any(|s| s.criterion_page.is_some());
    m.open("table", &[("class", "tight")]);
    m.open("tr", &[]);
    m.elem("th", &[], "scenario");
    for h in ["cycles", "time per cycle", "anomalies", "per cycle"] {
        m.elem("th", &[("class", "num")], h);
    }
    for h in ["1 in", "95% interval", "expected races (not anomalies)"] {
        m.elem("th", &[], h);
    }
    m.close();
    for s in &r.scenarios {
        let rate = scenario_rate(s);
        let hit = s.anomalies > 0;
        m.open("tr", if hit { &[("class", "hit")] } else { &[] });
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        m.elem("td", &[("class", "num")], &format_count(s.cycles));
        m.open("td", &[("class", "num")]);
        link_or_text(
            m,
            s.criterion_page.as_deref(),
            &format_duration_ns(s.ns_per_cycle),
        );
        m.close();
        m.elem(
            "td",
            &[("class", if hit { "num bad" } else { "num" })],
            &format_count(s.anomalies),
        );
        m.elem(
            "td",
            &[("class", if hit { "num bad" } else { "num bound" })],
            &rate.rate(),
        );
        m.elem(
            "td",
            &[("class", if hit { "bad" } else { "bound" })],
            &rate.one_in_short(),
        );
        m.elem(
            "td",
            &[("class", if hit { "" } else { "muted" })],
            &rate.interval_short(),
        );
        let races: Vec<String> = sorted_classes(s)
            .into_iter()
            .filter(|(n, c)| class_kind(*n, c) == Kind::ExpectedRace && c.count > 0)
            .map(|(n, c)| format!("{n} {}", class_rate(s, c).one_in_short()))
            .collect();
        m.elem(
            "td",
            &[("class", "muted wrap")],
            &if races.is_empty() {
                "—".to_string()
            } else {
                races.join(" · ")
            },
        );
        m.close();
    }
    m.close();
    if any_criterion {
        m.elem(
            "p",
            &[("class", "note")],
            "Each time per cycle links to the benchmark's Criterion page (under target/criterion).",
        );
    }
}

fn sorted_classes(s: &ScenarioReport) -> Vec<(Class, &ClassStats)> {
    let mut v: Vec<(Class, &ClassStats)> = s.classes.iter().map(|(&n, c)| (n, c)).collect();
    v.sort_by_key(|&(n, c)| (class_kind(n, c), n));
    v
}

fn kind_pill(m: &mut Markup, kind: Kind) {
    let (class, text) = match kind {
        Kind::Anomaly => ("pill anomaly", "anomaly"),
        Kind::ExpectedRace => ("pill race", "expected race"),
        Kind::Normal => ("pill normal", "normal"),
    };
    m.elem("span", &[("class", class)], text);
}

fn group_row(m: &mut Markup, columns: usize, kind: Kind) {
    let text = match kind {
        Kind::Anomaly => "Anomalies (POSIX allows none of these)",
        Kind::ExpectedRace => "Expected races under these scenarios (not anomalies)",
        Kind::Normal => "Normal outcomes",
    };
    m.open("tr", &[("class", "group")]);
    m.elem("th", &[("colspan", &columns.to_string())], text);
    m.close();
}

fn rate_cells(m: &mut Markup, rate: &RateText) {
    m.elem("td", &[("class", "num")], &format_count(rate.count));
    m.elem(
        "td",
        &[("class", "num")],
        &if rate.is_bound() {
            rate.rate()
        } else {
            format_rate(rate.rate)
        },
    );
    m.elem("td", &[], &rate.one_in_short());
    m.elem(
        "td",
        &[("class", if rate.is_bound() { "muted" } else { "" })],
        &rate.interval_short(),
    );
}

fn classes(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Outcome classes");
    if let [s] = r.scenarios.as_slice() {
        m.open("table", &[]);
        m.open("tr", &[]);
        for h in ["class", "count", "per cycle", "1 in", "95% interval"] {
            m.elem("th", &[], h);
        }
        m.close();
        let mut last = None;
        for (name, c) in sorted_classes(s) {
            let kind = class_kind(name, c);
            if last != Some(kind) {
                group_row(m, 5, kind);
                last = Some(kind);
            }
            m.open(
                "tr",
                if kind == Kind::Anomaly && c.count > 0 {
                    &[("class", "hit")]
                } else {
                    &[]
                },
            );
            m.open("td", &[]);
            m.elem("code", &[], name.name());
            m.close();
            rate_cells(m, &class_rate(s, c));
            m.close();
        }
        m.close();
        nlink_note(m, r);
        return;
    }

    m.elem(
        "p",
        &[("class", "note")],
        "All scenarios pooled: counts and cycles summed over the scenarios where the class \
         has that kind.",
    );
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in [
        "class",
        "seen in",
        "count",
        "per cycle",
        "1 in",
        "95% interval",
    ] {
        m.elem("th", &[], h);
    }
    m.close();
    let mut last = None;
    for p in pooled(r) {
        if p.kind == Kind::ExpectedRace && p.count == 0 {
            continue;
        }
        if last != Some(p.kind) {
            group_row(m, 6, p.kind);
            last = Some(p.kind);
        }
        m.open(
            "tr",
            if p.kind == Kind::Anomaly && p.count > 0 {
                &[("class", "hit")]
            } else {
                &[]
            },
        );
        m.open("td", &[]);
        m.elem("code", &[], p.name.name());
        m.close();
        m.elem(
            "td",
            &[],
            &format!("{} of {} scenarios", p.seen_in, p.scenarios),
        );
        rate_cells(m, &p.rate());
        m.close();
    }
    m.close();
    nlink_note(m, r);

    seen_matrix(m, r);
}

/// Rows: scenarios that saw an anomaly or an expected race; columns: the
/// classes seen anywhere, anomalies first, each kind apart.
fn seen_matrix(m: &mut Markup, r: &Report) {
    let mut columns: Vec<(Kind, Class)> = r
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .filter(|(n, c)| class_kind(**n, c) != Kind::Normal && c.count > 0)
        .map(|(n, c)| (class_kind(*n, c), *n))
        .collect();
    columns.sort();
    columns.dedup();
    let rows: Vec<&ScenarioReport> = r
        .scenarios
        .iter()
        .filter(|s| {
            s.classes
                .iter()
                .any(|(n, c)| class_kind(*n, c) != Kind::Normal && c.count > 0)
        })
        .collect();
    m.elem("h3", &[], "Where anomalies and expected races were seen");
    if rows.is_empty() {
        m.elem(
            "p",
            &[],
            "Nowhere: no scenario saw an anomaly or an expected race.",
        );
        return;
    }
    m.elem(
        "p",
        &[("class", "note")],
        "Per scenario: 1 in how many cycles, the count and the 95% interval of the rate. \
         0: none seen, bounded like every anomaly class not seen there (second column); \
         blank: the class has the other kind in that scenario.",
    );
    m.open("div", &[("class", "scroll")]);
    m.open("table", &[("class", "tight matrix")]);
    m.open("tr", &[]);
    m.elem("th", &[], "scenario");
    m.elem("th", &[], "each anomaly class not seen");
    for (kind, name) in &columns {
        m.open("th", &[]);
        m.elem("code", &[], name.name());
        m.text(" ");
        kind_pill(m, *kind);
        m.close();
    }
    m.close();
    for s in rows {
        m.open("tr", &[]);
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        // Every unseen anomaly class of a scenario has the same bound, 1 - 0.05^(1/n).
        let unseen = s
            .classes
            .iter()
            .filter(|(n, c)| class_kind(**n, c) == Kind::Anomaly && c.count == 0)
            .map(|(_, c)| c.ci_high)
            .fold(None, |acc: Option<f64>, h| {
                Some(acc.map_or(h, |a| a.max(h)))
            });
        m.elem(
            "td",
            &[("class", "muted")],
            &unseen.map_or("—".into(), |h| {
                RateText::stored(0, s.cycles, 0.0, 0.0, h).rate()
            }),
        );
        for (kind, name) in &columns {
            match s.classes.get(name) {
                Some(c) if class_kind(*name, c) == *kind && c.count > 0 => {
                    let rate = class_rate(s, c);
                    let hot = *kind == Kind::Anomaly;
                    m.open("td", &[("class", if hot { "cell hit" } else { "cell" })]);
                    m.elem(
                        "span",
                        &[("class", if hot { "bad" } else { "" })],
                        &rate.one_in_short(),
                    );
                    m.void("br", &[]);
                    m.elem(
                        "span",
                        &[("class", "note")],
                        &format!("{} seen · {}", format_count(c.count), rate.interval()),
                    );
                    m.close();
                }
                Some(c) if class_kind(*name, c) == *kind => {
                    m.elem("td", &[("class", "muted")], "0");
                }
                _ => {
                    m.elem("td", &[], "");
                }
            }
        }
        m.close();
    }
    m.close();
    m.close();
}

fn nlink_note(m: &mut Markup, r: &Report) {
    let (zero, nonzero) = r.scenarios.iter().fold((0, 0), |(z, n), s| {
        (z + s.empty_read_nlink.zero, n + s.empty_read_nlink.nonzero)
    });
    if zero + nonzero > 0 {
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "empty_read by link count: st_nlink == 0 (unlinked after open): {}; \
                 st_nlink ≥ 1: {}.",
                format_count(zero),
                format_count(nonzero)
            ),
        );
    }
}

/// Examples of one class with the scenario each comes from.
type ExampleList<'a> = Vec<(&'a ScenarioReport, &'a Example)>;

fn examples(m: &mut Markup, r: &Report) {
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

fn example_table(m: &mut Markup, list: &[(&ScenarioReport, &Example)]) {
    type Field = (&'static str, fn(&StatRecord) -> String);
    let stat_fields: [Field; 13] = [
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
    for (name, field) in stat_fields {
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

fn survival(m: &mut Markup, r: &Report) {
    let with: Vec<(&ScenarioReport, &Survival)> = r
        .scenarios
        .iter()
        .filter_map(|s| s.survival.as_ref().map(|v| (s, v)))
        .filter(|(_, v)| v.events > 0)
        .collect();
    if with.is_empty() {
        return;
    }
    let shown = &with[..with.len().min(svg::PALETTE.len())];
    m.elem("h2", &[], "Cycles to the first anomaly");
    m.elem(
        "p",
        &[("class", "note")],
        "Each trial runs until its first anomaly or the cycle cap (censored, marked |). \
         Solid: Kaplan–Meier estimate of the probability of no anomaly yet; dashed: what a \
         constant per-cycle rate fitted to the trials predicts.",
    );
    let xs: Vec<f64> = shown
        .iter()
        .flat_map(|(s, sv)| {
            s.trials
                .iter()
                .map(|t| t.cycles as f64)
                .chain(sv.curve.iter().map(|p| p.cycles as f64))
        })
        .collect();
    let x = Scale::auto(&xs, 100.0);
    let (x_min, x_max) = match x {
        Scale::Log { min, max } => (min, max),
        Scale::Linear { min, max } => (min.max(0.0), max),
    };
    let curves: Vec<svg::StepCurve> = shown
        .iter()
        .enumerate()
        .map(|(i, (s, sv))| {
            let p = sv.mle_rate_per_cycle;
            let model = if p > 0.0 && p < 1.0 {
                (0..=60)
                    .map(|k| {
                        let f = f64::from(k) / 60.0;
                        let v = if x.is_log() {
                            x_min * (x_max / x_min).powf(f)
                        } else {
                            x_min + (x_max - x_min) * f
                        };
                        (v, (v * (1.0 - p).ln()).exp())
                    })
                    .collect()
            } else {
                Vec::new()
            };
            svg::StepCurve {
                color: svg::PALETTE[i],
                start: x_min,
                steps: sv
                    .curve
                    .iter()
                    .map(|pt| (pt.cycles as f64, pt.survival))
                    .collect(),
                end: s
                    .trials
                    .iter()
                    .map(|t| t.cycles as f64)
                    .fold(x_min, f64::max),
                censored: s
                    .trials
                    .iter()
                    .filter(|t| t.censored)
                    .map(|t| t.cycles as f64)
                    .collect(),
                model,
            }
        })
        .collect();
    m.open("div", &[("class", "survival")]);
    svg::step_chart(
        m,
        &svg::StepChart {
            title: "Probability of no anomaly yet",
            x,
            x_label: if x.is_log() {
                "cycles (log scale)"
            } else {
                "cycles"
            },
            x_format: &format_si,
            y_label: "P(no anomaly yet)",
            curves: &curves,
            width: 560.0,
            height: 300.0,
        },
    );
    survival_facts(m, shown);
    m.close();
    if with.len() > shown.len() {
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "{} more scenarios have trials; their curves are in the JSON report.",
                with.len() - shown.len()
            ),
        );
    }
}

fn survival_facts(m: &mut Markup, shown: &[(&ScenarioReport, &Survival)]) {
    type Fact = (&'static str, fn(&ScenarioReport, &Survival) -> String);
    let facts: [Fact; 8] = [
        ("trials", |_, sv| format_count(sv.trials)),
        ("with an anomaly", |_, sv| format_count(sv.events)),
        ("censored (cap reached)", |_, sv| format_count(sv.censored)),
        ("per-cycle rate (MLE)", |_, sv| {
            let r = mle_rate(sv);
            format!("{} = {}", r.rate(), r.one_in_short())
        }),
        ("95% interval", |_, sv| mle_rate(sv).interval()),
        ("median cycles to first", |_, sv| {
            sv.median_cycles.map_or("—".into(), format_si)
        }),
        ("median time to first", |_, sv| {
            sv.median_seconds
                .map_or("—".into(), |sec| format_duration_ns(sec * 1e9))
        }),
        ("observed cycles", |s, _| {
            let mut observed: Vec<u64> = s
                .trials
                .iter()
                .filter(|t| !t.censored)
                .map(|t| t.cycles)
                .collect();
            observed.sort_unstable();
            let shown: Vec<String> = observed
                .iter()
                .take(8)
                .map(|&c| format_si(c as f64))
                .collect();
            let more = if observed.len() > shown.len() {
                ", …"
            } else {
                ""
            };
            format!("{}{more}", shown.join(", "))
        }),
    ];
    m.open("table", &[("class", "facts")]);
    m.open("tr", &[]);
    m.elem("td", &[], "");
    for (i, (s, _)) in shown.iter().enumerate() {
        m.open("th", &[]);
        m.elem(
            "span",
            &[
                ("class", "sw"),
                ("style", &format!("background:{}", svg::PALETTE[i])),
            ],
            "",
        );
        m.elem("code", &[], &s.name);
        m.close();
    }
    m.close();
    for (label, fact) in facts {
        m.open("tr", &[]);
        m.elem("td", &[("class", "muted")], label);
        for (s, sv) in shown {
            m.elem("td", &[], &fact(s, sv));
        }
        m.close();
    }
    m.close();
}

fn mle_rate(sv: &Survival) -> RateText {
    RateText::stored(
        sv.events,
        0,
        sv.mle_rate_per_cycle,
        sv.mle_ci_low,
        sv.mle_ci_high,
    )
}

/// Sort key of a worker name: readers, then deleters, by number.
/// Name of a timeline errno. Numbers 1–34 are the same on Linux, macOS and the
/// BSDs; others are named only when the report comes from this OS.
fn errno_text(errno: i32, same_os: bool) -> String {
    let name = if (1..=34).contains(&errno) || same_os {
        crate::sys::errno_name(errno)
    } else {
        ""
    };
    if name.is_empty() {
        format!("errno {errno}")
    } else {
        name.to_string()
    }
}

const OPEN_COLOR: &str = "#0072B2";
const OPEN_FAILED_COLOR: &str = "#9aa3b0";
const READ_COLOR: &str = "#009E73";
const REMOVE_COLOR: &str = "#E69F00";
const RECREATE_COLOR: &str = "#CC79A7";
const ANOMALY_COLOR: &str = "#c62828";

fn timelines(m: &mut Markup, r: &Report) {
    let with: Vec<(&ScenarioReport, &Timeline)> = r
        .scenarios
        .iter()
        .filter_map(|s| s.timeline.as_ref().map(|t| (s, t)))
        .filter(|(_, t)| !t.events.is_empty())
        .collect();
    if with.is_empty() {
        return;
    }
    let same_os = r.machine.os == std::env::consts::OS;
    m.elem("h2", &[], "Timeline around the first anomaly");
    m.elem(
        "p",
        &[("class", "note")],
        "Every worker on one time axis, 0 at the anomaly (red dashed line). Bars are calls \
         in progress; hover for details.",
    );
    timeline_legend(m);
    for (i, (s, t)) in with.iter().take(MAX_TIMELINES).enumerate() {
        if i > 0 {
            m.open("details", &[]);
            m.elem(
                "summary",
                &[],
                &format!("{}: {} seen by {}", s.name, t.class, t.worker),
            );
        }
        timeline_chart(m, s, t, same_os);
        if i > 0 {
            m.close();
        }
    }
    if with.len() > MAX_TIMELINES {
        let rest: Vec<&str> = with[MAX_TIMELINES..]
            .iter()
            .map(|(s, _)| s.name.as_str())
            .collect();
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "Also recorded in the JSON report, not drawn here: {}.",
                rest.join(", ")
            ),
        );
    }
}

fn timeline_legend(m: &mut Markup) {
    m.open("p", &[("class", "legend")]);
    for (color, label) in [
        (OPEN_COLOR, "open"),
        (OPEN_FAILED_COLOR, "open that failed (ENOENT)"),
        (READ_COLOR, "fstat + read"),
        (REMOVE_COLOR, "remove"),
        (RECREATE_COLOR, "◆ recreate"),
        (ANOMALY_COLOR, "✱ anomaly"),
    ] {
        m.open("span", &[("class", "item")]);
        m.elem(
            "span",
            &[("class", "sw"), ("style", &format!("background:{color}"))],
            "",
        );
        m.text(label);
        m.close();
    }
    m.close();
}

fn timeline_chart(m: &mut Markup, s: &ScenarioReport, t: &Timeline, same_os: bool) {
    let (lo, hi) = t
        .events
        .iter()
        .fold((0i64, 0i64), |(lo, hi), e| (lo.min(e.t_ns), hi.max(e.t_ns)));
    let range = (hi - lo).max(1) as f64;
    let (unit, div) = if range < 2_000.0 {
        ("ns", 1.0)
    } else if range < 2e6 {
        ("µs", 1e3)
    } else {
        ("ms", 1e6)
    };
    let at = |ns: i64| ns as f64 / div;
    let x = Scale::linear_covering([at(lo), at(hi), 0.0], false);
    let (x_min, x_max) = match x {
        Scale::Linear { min, max } | Scale::Log { min, max } => (min, max),
    };

    let mut workers: Vec<WorkerId> = t.events.iter().map(|e| e.worker).collect();
    workers.sort();
    workers.dedup();
    let mut lanes = Vec::new();
    for w in workers {
        let mut events: Vec<_> = t.events.iter().filter(|e| e.worker == w).collect();
        events.sort_by_key(|e| e.t_ns);
        let mut lane = Lane {
            label: w.to_string(),
            spans: Vec::new(),
            marks: Vec::new(),
        };
        // A call whose start is not in the window began at the worker's
        // previous event at the latest (or before the window).
        let mut previous = x_min;
        let mut open_at: Option<f64> = None;
        let mut read_from: Option<f64> = None;
        let mut remove_at: Option<f64> = None;
        let when = |v: f64| format!("{} {unit}", format_plain(v));
        for e in events {
            let now = at(e.t_ns);
            match e.kind {
                EventKind::OpenBegin => open_at = Some(now),
                EventKind::OpenEnd => {
                    let start = open_at.take().unwrap_or(previous);
                    let ok = e.errno == 0;
                    lane.spans.push(Span {
                        start,
                        end: now,
                        color: if ok { OPEN_COLOR } else { OPEN_FAILED_COLOR },
                        tooltip: format!(
                            "{w}: open {} → {}, {}",
                            when(start),
                            when(now),
                            if ok {
                                "succeeded".into()
                            } else {
                                errno_text(e.errno, same_os)
                            }
                        ),
                    });
                    read_from = ok.then_some(now);
                }
                EventKind::ReadEnd => {
                    let start = read_from.take().unwrap_or(previous);
                    lane.spans.push(Span {
                        start,
                        end: now,
                        color: READ_COLOR,
                        tooltip: format!(
                            "{w}: fstat + read {} → {}{}",
                            when(start),
                            when(now),
                            if e.errno == 0 {
                                String::new()
                            } else {
                                format!(", {}", errno_text(e.errno, same_os))
                            }
                        ),
                    });
                }
                EventKind::RemoveBegin => remove_at = Some(now),
                EventKind::RemoveEnd => {
                    let start = remove_at.take().unwrap_or(previous);
                    lane.spans.push(Span {
                        start,
                        end: now,
                        color: REMOVE_COLOR,
                        tooltip: format!(
                            "{w}: remove {} → {}, {}",
                            when(start),
                            when(now),
                            if e.errno == 0 {
                                "removed".into()
                            } else {
                                errno_text(e.errno, same_os)
                            }
                        ),
                    });
                }
                EventKind::Recreate => lane.marks.push(Mark {
                    at: now,
                    color: RECREATE_COLOR,
                    shape: MarkShape::Diamond,
                    tooltip: format!("{w}: recreate at {}", when(now)),
                }),
                EventKind::Anomaly => lane.marks.push(Mark {
                    at: now,
                    color: ANOMALY_COLOR,
                    shape: MarkShape::Star,
                    tooltip: format!("{w}: {} at {}", t.class, when(now)),
                }),
            }
            previous = now;
        }
        // Calls still running when the window ends.
        for (start, color, what) in [
            (open_at, OPEN_COLOR, "open"),
            (read_from, READ_COLOR, "fstat + read"),
            (remove_at, REMOVE_COLOR, "remove"),
        ] {
            if let Some(start) = start {
                lane.spans.push(Span {
                    start,
                    end: x_max,
                    color,
                    tooltip: format!(
                        "{w}: {what} from {}, still running at the end of the window",
                        when(start)
                    ),
                });
            }
        }
        lanes.push(lane);
    }
    let title = format!("{}: {} seen by {}", s.name, t.class, t.worker);
    svg::lane_chart(
        m,
        &LaneChart {
            title: &title,
            x,
            x_label: &format!("{unit} relative to the first anomaly"),
            x_format: &format_plain,
            lanes: &lanes,
            origin: Some(0.0),
            width: CONTENT_WIDTH,
        },
    );
    m.open("details", &[]);
    m.elem("summary", &[], &format!("The {} events", t.events.len()));
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in ["t (ns)", "worker", "event", "errno"] {
        m.elem("th", &[], h);
    }
    m.close();
    let mut events: Vec<_> = t.events.iter().collect();
    events.sort_by_key(|e| e.t_ns);
    for e in events {
        m.open(
            "tr",
            if e.kind == EventKind::Anomaly {
                &[("class", "hit")]
            } else {
                &[]
            },
        );
        m.elem("td", &[("class", "num mono")], &e.t_ns.to_string());
        m.elem("td", &[], &e.worker.to_string());
        m.elem("td", &[("class", "mono")], e.kind.name());
        m.elem(
            "td",
            &[],
            &if e.errno == 0 {
                String::new()
            } else {
                errno_text(e.errno, same_os)
            },
        );
        m.close();
    }
    m.close();
    m.close();
}

/// `io_error`, `stale`, `unexpected_errno` and `fd_enoent` by (side,
/// operation, errno): which call failed how, with its rate per cycle.
fn errno_breakdown(m: &mut Markup, r: &Report) {
    if r.scenarios.iter().all(|s| s.errno_breakdown.is_empty()) {
        return;
    }
    let several = r.scenarios.len() > 1;
    m.elem("h2", &[], "By errno");
    m.elem(
        "p",
        &[("class", "note")],
        "The classes an errno decides, split by the side that saw it, the operation that \
         failed and the errno (named on the machine that observed it).",
    );
    m.open("table", &[]);
    m.open("tr", &[]);
    let mut headers = vec!["class", "side", "operation", "errno"];
    if several {
        headers.insert(0, "scenario");
    }
    headers.extend(["count", "per cycle", "1 in", "95% interval"]);
    for h in headers {
        m.elem("th", &[], h);
    }
    m.close();
    for s in &r.scenarios {
        for row in &s.errno_breakdown {
            m.open("tr", &[("class", "hit")]);
            if several {
                m.open("td", &[]);
                m.elem("code", &[], &s.name);
                m.close();
            }
            m.open("td", &[]);
            m.elem("code", &[], row.class.name());
            m.close();
            m.elem("td", &[], row.side.name());
            m.elem("td", &[("class", "mono")], row.op.name());
            let errno = if row.errno_name.is_empty() {
                format!("errno {}", row.errno)
            } else {
                format!("{} ({})", row.errno_name, row.errno)
            };
            m.elem("td", &[("class", "mono")], &errno);
            rate_cells(m, &RateText::from_count(row.count, s.cycles));
            m.close();
        }
    }
    m.close();
}

fn stalls(m: &mut Markup, r: &Report) {
    if r.scenarios.iter().all(|s| s.stalls.is_empty()) {
        return;
    }
    m.elem("h2", &[], "Stalls");
    m.elem(
        "p",
        &[("class", "note")],
        "Syscalls that took longer than the watchdog limit.",
    );
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in ["scenario", "worker", "operation", "blocked for", "state"] {
        m.elem("th", &[], h);
    }
    m.close();
    for s in &r.scenarios {
        for st in &s.stalls {
            m.open("tr", &[("class", "hit")]);
            m.open("td", &[]);
            m.elem("code", &[], &s.name);
            m.close();
            m.elem("td", &[], &st.worker.to_string());
            m.elem(
                "td",
                &[("class", "mono")],
                st.op.map_or("?", |op| op.name()),
            );
            m.elem(
                "td",
                &[("class", "num")],
                &format_duration_ns(st.elapsed_ns as f64),
            );
            m.elem(
                "td",
                &[],
                if st.unfinished {
                    "still blocked when the run ended"
                } else {
                    "returned"
                },
            );
            m.close();
        }
    }
    m.close();
}

fn commands(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Rerun");
    if let [s] = r.scenarios.as_slice() {
        m.open("pre", &[]);
        m.elem("code", &[], &s.command);
        m.close();
        return;
    }
    m.open("details", &[]);
    m.elem(
        "summary",
        &[],
        &format!(
            "The command that reruns each of the {} scenarios",
            r.scenarios.len()
        ),
    );
    m.open("table", &[]);
    for s in &r.scenarios {
        m.open("tr", &[]);
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        m.open("td", &[("class", "cmd")]);
        m.elem("code", &[], &s.command);
        m.close();
        m.close();
    }
    m.close();
    m.close();
}
