//! Timelines around the first anomaly: every worker's calls on one time
//! axis. [`lanes`] turns the recorded begin/end events into call spans (a
//! small state machine per worker); the rest draws them.

use super::super::format::format_plain;
use super::super::markup::Markup;
use super::super::svg::{self, Lane, LaneChart, Mark, MarkShape, Scale, Span};
use super::CONTENT_WIDTH;
use crate::report::schema::{EventKind, Report, ScenarioReport, Timeline, WorkerId};

/// Sort key of a worker name: readers, then deleters, by number.
/// Name of a timeline errno. Numbers 1–34 are the same on Linux, macOS and the
/// BSDs; others are named only when the report comes from this OS.
/// Timelines drawn; a grid can have one per scenario and each can hold
/// hundreds of events.
const MAX_TIMELINES: usize = 4;

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

pub(super) fn timelines(m: &mut Markup, r: &Report) {
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
