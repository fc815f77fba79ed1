//! Timelines around the first anomaly: every worker's calls on one time
//! axis. [`lanes`] turns the recorded begin/end events into call spans (a
//! small state machine per worker); the rest draws them.

use super::super::format::format_plain;
use super::super::markup::Markup;
use super::super::svg::{self, Lane, LaneChart, Mark, MarkShape, Scale, Span};
use super::CONTENT_WIDTH;
use crate::report::schema::{EventKind, Report, ScenarioReport, Timeline, TimelineEvent, WorkerId};

/// Timelines drawn; a grid can have one per scenario and each can hold
/// hundreds of events.
const MAX_TIMELINES: usize = 4;

/// A timeline event's errno as the machine that observed it named it (errno
/// numbers differ between operating systems: 11 is `EAGAIN` on Linux and
/// `EDEADLK` on macOS), or its number when it has no name.
fn errno_text(e: &TimelineEvent) -> String {
    if e.errno_name.is_empty() {
        format!("errno {}", e.errno)
    } else {
        e.errno_name.clone()
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
    m.elem("h2", &[], "Timeline around the first anomaly");
    if with.is_empty() {
        let text = if r.scenarios.iter().any(|s| s.anomalies > 0) {
            "Not recorded: no scenario kept the events around its first anomaly."
        } else {
            "None: no anomaly, so there is nothing to center a timeline on."
        };
        m.elem("p", &[("class", "note")], text);
        return;
    }
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
        timeline_chart(m, s, t);
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

/// The time axis of one timeline: one unit for every tick, 0 at the anomaly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TimeAxis {
    pub(super) unit: &'static str,
    /// Nanoseconds per unit.
    pub(super) per: f64,
    pub(super) scale: Scale,
}

impl TimeAxis {
    /// The unit that keeps the window's ticks short: ns under 2 µs, µs under
    /// 2 ms, ms beyond.
    pub(super) fn of(t: &Timeline) -> TimeAxis {
        let (lo, hi) = t
            .events
            .iter()
            .fold((0i64, 0i64), |(lo, hi), e| (lo.min(e.t_ns), hi.max(e.t_ns)));
        let range = (hi - lo).max(1) as f64;
        let (unit, per) = if range < 2_000.0 {
            ("ns", 1.0)
        } else if range < 2e6 {
            ("µs", 1e3)
        } else {
            ("ms", 1e6)
        };
        let scale = Scale::linear_covering([lo as f64 / per, hi as f64 / per, 0.0], false);
        TimeAxis { unit, per, scale }
    }

    fn at(&self, ns: i64) -> f64 {
        ns as f64 / self.per
    }

    fn when(&self, v: f64) -> String {
        format!("{} {}", format_plain(v), self.unit)
    }

    fn bounds(&self) -> (f64, f64) {
        match self.scale {
            Scale::Linear { min, max } | Scale::Log { min, max } => (min, max),
        }
    }
}

/// One lane per worker, in worker order, with its calls as spans and its
/// recreations and anomalies as marks.
pub(super) fn lanes(t: &Timeline, axis: &TimeAxis) -> Vec<Lane> {
    let mut workers: Vec<WorkerId> = t.events.iter().map(|e| e.worker).collect();
    workers.sort();
    workers.dedup();
    workers
        .into_iter()
        .map(|w| {
            let mut events: Vec<&TimelineEvent> =
                t.events.iter().filter(|e| e.worker == w).collect();
            events.sort_by_key(|e| e.t_ns);
            let mut calls = Calls::new(w, axis, t);
            for e in events {
                calls.step(e);
            }
            calls.finish()
        })
        .collect()
}

/// The state machine of one worker's lane: which call is in progress since
/// when. A call whose start is not in the window began at the worker's
/// previous event at the latest (or before the window).
struct Calls<'a> {
    worker: WorkerId,
    axis: &'a TimeAxis,
    timeline: &'a Timeline,
    lane: Lane,
    previous: f64,
    open_at: Option<f64>,
    read_from: Option<f64>,
    remove_at: Option<f64>,
}

impl<'a> Calls<'a> {
    fn new(worker: WorkerId, axis: &'a TimeAxis, timeline: &'a Timeline) -> Self {
        Calls {
            worker,
            axis,
            timeline,
            lane: Lane {
                label: worker.to_string(),
                spans: Vec::new(),
                marks: Vec::new(),
            },
            previous: axis.bounds().0,
            open_at: None,
            read_from: None,
            remove_at: None,
        }
    }

    /// `", ENOENT"` for a failed call; `", succeeded"` (or nothing) otherwise.
    fn result(&self, e: &TimelineEvent, ok: Option<&str>) -> String {
        match (e.errno, ok) {
            (0, Some(ok)) => format!(", {ok}"),
            (0, None) => String::new(),
            _ => format!(", {}", errno_text(e)),
        }
    }

    fn span(&mut self, start: f64, end: f64, color: &'static str, what: &str, result: String) {
        let (w, when) = (self.worker, |v| self.axis.when(v));
        let tooltip = format!("{w}: {what} {} → {}{result}", when(start), when(end));
        self.lane.spans.push(Span {
            start,
            end,
            color,
            tooltip,
        });
    }

    fn mark(&mut self, at: f64, color: &'static str, shape: MarkShape, what: String) {
        let tooltip = format!("{}: {what} at {}", self.worker, self.axis.when(at));
        self.lane.marks.push(Mark {
            at,
            color,
            shape,
            tooltip,
        });
    }

    fn step(&mut self, e: &TimelineEvent) {
        let now = self.axis.at(e.t_ns);
        match e.kind {
            EventKind::OpenBegin => self.open_at = Some(now),
            EventKind::OpenEnd => {
                let start = self.open_at.take().unwrap_or(self.previous);
                let ok = e.errno == 0;
                let color = if ok { OPEN_COLOR } else { OPEN_FAILED_COLOR };
                let result = self.result(e, Some("succeeded"));
                self.span(start, now, color, "open", result);
                self.read_from = ok.then_some(now);
            }
            EventKind::ReadEnd => {
                let start = self.read_from.take().unwrap_or(self.previous);
                let result = self.result(e, None);
                self.span(start, now, READ_COLOR, "fstat + read", result);
            }
            EventKind::RemoveBegin => self.remove_at = Some(now),
            EventKind::RemoveEnd => {
                let start = self.remove_at.take().unwrap_or(self.previous);
                let result = self.result(e, Some("removed"));
                self.span(start, now, REMOVE_COLOR, "remove", result);
            }
            EventKind::Recreate => {
                self.mark(now, RECREATE_COLOR, MarkShape::Diamond, "recreate".into());
            }
            EventKind::Anomaly => {
                let class = self.timeline.class.to_string();
                self.mark(now, ANOMALY_COLOR, MarkShape::Star, class);
            }
        }
        self.previous = now;
    }

    /// The lane, with the calls still running when the window ends drawn to
    /// its right edge.
    fn finish(mut self) -> Lane {
        let end = self.axis.bounds().1;
        for (start, color, what) in [
            (self.open_at, OPEN_COLOR, "open"),
            (self.read_from, READ_COLOR, "fstat + read"),
            (self.remove_at, REMOVE_COLOR, "remove"),
        ] {
            if let Some(start) = start {
                let tooltip = format!(
                    "{}: {what} from {}, still running at the end of the window",
                    self.worker,
                    self.axis.when(start)
                );
                self.lane.spans.push(Span {
                    start,
                    end,
                    color,
                    tooltip,
                });
            }
        }
        self.lane
    }
}

fn timeline_chart(m: &mut Markup, s: &ScenarioReport, t: &Timeline) {
    let axis = TimeAxis::of(t);
    let lanes = lanes(t, &axis);
    let title = format!("{}: {} seen by {}", s.name, t.class, t.worker);
    svg::lane_chart(
        m,
        &LaneChart {
            title: &title,
            x: axis.scale,
            x_label: &format!("{} relative to the first anomaly", axis.unit),
            x_format: &format_plain,
            lanes: &lanes,
            origin: Some(0.0),
            width: CONTENT_WIDTH,
        },
    );
    events_table(m, t);
}

/// Every event of the window, in time order, folded away.
fn events_table(m: &mut Markup, t: &Timeline) {
    m.open("details", &[]);
    m.elem("summary", &[], &format!("The {} events", t.events.len()));
    m.open("div", &[("class", "scroll")]);
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in ["t (ns)", "worker", "event", "errno"] {
        m.elem("th", &[], h);
    }
    m.close();
    let mut events: Vec<_> = t.events.iter().collect();
    events.sort_by_key(|e| e.t_ns);
    for e in events {
        let hit: &[(&str, &str)] = if e.kind == EventKind::Anomaly {
            &[("class", "hit")]
        } else {
            &[]
        };
        m.open("tr", hit);
        m.elem("td", &[("class", "num mono")], &e.t_ns.to_string());
        m.elem("td", &[], &e.worker.to_string());
        m.elem("td", &[("class", "mono")], e.kind.name());
        let errno = if e.errno == 0 {
            String::new()
        } else {
            errno_text(e)
        };
        m.elem("td", &[], &errno);
        m.close();
    }
    m.close();
    m.close();
    m.close();
}
