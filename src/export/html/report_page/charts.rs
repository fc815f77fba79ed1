//! Rate and time-per-cycle charts of a grid report (one panel per file size
//! or one for every size).
//!
//! One rule for axes: quantities that span decades (rates, times, cycle
//! counts) are drawn on log axes in every report, so two reports read the
//! same way; each axis writes its ticks in one unit, named in its label.

use super::super::format::{format_count, format_duration_ns, format_plain, format_si};
use super::super::markup::Markup;
use super::super::svg::{self, Point, PointChart, Scale, Series};
use super::chart_layout::{Grid, XAxis};
use super::scenario_rate;
use crate::report::schema::{Report, ScenarioReport, Source};

pub(super) fn charts(m: &mut Markup, r: &Report) {
    // The charts are of readers × deleters: the create race has its own
    // section (see `pressure.rs`).
    let opens_only;
    let r = if r.scenarios.iter().any(crate::export::create::is_create) {
        opens_only = Report {
            scenarios: r
                .scenarios
                .iter()
                .filter(|s| !crate::export::create::is_create(s))
                .cloned()
                .collect(),
            ..r.clone()
        };
        &opens_only
    } else {
        r
    };
    let Some(grid) = Grid::new(r) else {
        return;
    };
    rate_charts(m, r, &grid);
    time_charts(m, r, &grid);
}

/// The y axis of the rate charts: whole decades covering every interval,
/// with room below each bound for its arrow.
pub(super) fn rate_scale(scenarios: &[ScenarioReport]) -> Scale {
    let rates = scenarios.iter().flat_map(|s| {
        let t = scenario_rate(s);
        // A bound's arrow points down: leave it half a decade of room.
        let bottom = if t.is_bound() {
            t.interval.high / 1.5
        } else {
            t.interval.low
        };
        [t.interval.high, bottom, t.rate]
    });
    Scale::log_covering(rates, 1)
}

fn rate_point(s: &ScenarioReport, category: usize) -> Point {
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
}

fn rate_charts(m: &mut Markup, r: &Report, grid: &Grid<'_>) {
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
    legend(m, &grid.series, true);
    let y = rate_scale(&r.scenarios);
    let draw = |m: &mut Markup, title: &str, series: &[Series]| {
        let chart = PointChart {
            title,
            categories: &grid.labels,
            x_label: grid.x_label(),
            y,
            y_label: "anomalies per cycle",
            y_format: &svg::power_of_ten,
            series,
            width: grid.panel_width(),
            height: 290.0,
        };
        svg::point_chart(m, &chart);
    };
    panels(m, grid, &rate_point, &draw);
}

/// The unit a time axis writes its ticks in: the largest of ns, µs, ms, s
/// in which the largest value is at least 1.
pub(super) fn time_unit(max_ns: f64) -> (&'static str, f64) {
    [("s", 1e9), ("ms", 1e6), ("µs", 1e3)]
        .into_iter()
        .find(|&(_, scale)| max_ns >= scale)
        .unwrap_or(("ns", 1.0))
}

/// The time-per-cycle axis: log decades (like every time axis of the
/// report), ticks in one unit.
pub(super) fn time_scale(scenarios: &[ScenarioReport]) -> (Scale, &'static str, f64) {
    let ns: Vec<f64> = scenarios.iter().map(|s| s.ns_per_cycle).collect();
    let y = Scale::log_covering(ns.iter().copied(), 1);
    let (unit, per) = time_unit(ns.iter().copied().fold(0.0, f64::max));
    (y, unit, per)
}

fn time_point(s: &ScenarioReport, category: usize) -> Point {
    Point {
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
    }
}

fn time_charts(m: &mut Markup, r: &Report, grid: &Grid<'_>) {
    m.elem(
        "h2",
        &[],
        match grid.x {
            XAxis::Threads => "Time per cycle by thread count",
            XAxis::Size => "Time per cycle by file size",
        },
    );
    let (y, unit, per) = time_scale(&r.scenarios);
    m.elem(
        "p",
        &[("class", "note")],
        &format!(
            "Wall time of one reader cycle{}, log scale.",
            if r.source == Source::Bench {
                " (Criterion's estimate; the Scenarios table links to each benchmark's page)"
            } else {
                ""
            },
        ),
    );
    legend(m, &grid.series, false);
    let y_label = format!("time per cycle ({unit})");
    let y_format = move |v: f64| format_plain(v / per);
    let draw = |m: &mut Markup, title: &str, series: &[Series]| {
        let chart = PointChart {
            title,
            categories: &grid.labels,
            x_label: grid.x_label(),
            y,
            y_label: &y_label,
            y_format: &y_format,
            series,
            width: grid.panel_width(),
            height: 260.0,
        };
        svg::point_chart(m, &chart);
    };
    panels(m, grid, &time_point, &draw);
}

/// A panel's chart: its title and series in, markup out.
type Draw<'d> = &'d dyn Fn(&mut Markup, &str, &[Series]);

/// One chart per panel of `grid`, side by side, wrapping on narrow screens.
fn panels(
    m: &mut Markup,
    grid: &Grid<'_>,
    point: &dyn Fn(&ScenarioReport, usize) -> Point,
    draw: Draw<'_>,
) {
    m.open("div", &[("class", "panels")]);
    for (title, members) in &grid.panels {
        let series = grid.series_for(members, point);
        draw(m, title, &series);
    }
    m.close();
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
