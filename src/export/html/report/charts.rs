//! Rate and time-per-cycle charts of a grid report (one panel per file size
//! or one for every size).

use super::super::format::{format_count, format_duration_ns, format_si};
use super::super::markup::Markup;
use super::super::svg::{self, Point, PointChart, Scale};
use super::grid::{Grid, XAxis};
use super::scenario_rate;
use crate::report::schema::{Report, Source};

pub(super) fn charts(m: &mut Markup, r: &Report) {
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
