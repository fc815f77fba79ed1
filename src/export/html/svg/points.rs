//! Values over a category axis with error bars and upper-bound markers.

use super::super::markup::Markup;
use super::{Frame, Scale, line, n, open_svg, title, y_axis};

/// One value of a [`Series`].
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index into [`PointChart::categories`].
    pub category: usize,
    /// The value; the upper bound when `bound` is set.
    pub value: f64,
    /// Error bar, when known.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Nothing was observed: `value` is an upper bound, drawn as a cap with a
    /// downward arrow instead of a dot.
    pub bound: bool,
    pub tooltip: String,
}

/// Points of one color, joined by a thin line in category order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub color: &'static str,
    pub points: Vec<Point>,
}

/// Values over a category axis (thread counts, file sizes), with error bars.
pub struct PointChart<'a> {
    pub title: &'a str,
    pub categories: &'a [String],
    pub x_label: &'a str,
    pub y: Scale,
    pub y_label: &'a str,
    pub y_format: &'a dyn Fn(f64) -> String,
    pub series: &'a [Series],
    pub width: f64,
    pub height: f64,
}

/// Draws a [`PointChart`]. Series are offset sideways a little so their error
/// bars do not hide each other.
pub fn point_chart(m: &mut Markup, c: &PointChart<'_>) {
    let f = Frame {
        left: 68.0,
        top: 26.0,
        width: c.width - 68.0 - 10.0,
        height: c.height - 26.0 - 44.0,
    };
    open_svg(m, c.width, c.height, c.title);
    title(m, f.left, c.title);
    y_axis(m, &f, &c.y, c.y_label, c.y_format);
    let slots = c.categories.len().max(1) as f64;
    let band = f.width / slots;
    let center = |i: usize| f.left + band * (i as f64 + 0.5);
    for (i, cat) in c.categories.iter().enumerate() {
        m.elem(
            "text",
            &[
                ("x", &n(center(i))),
                ("y", &n(f.bottom() + 15.0)),
                ("text-anchor", "middle"),
            ],
            cat,
        );
    }
    m.elem(
        "text",
        &[
            ("x", &n(f.left + f.width / 2.0)),
            ("y", &n(f.bottom() + 32.0)),
            ("text-anchor", "middle"),
        ],
        c.x_label,
    );
    let count = c.series.len().max(1) as f64;
    let spread = (band * 0.6).min(count * 9.0);
    for (si, s) in c.series.iter().enumerate() {
        let offset = if count > 1.0 {
            spread * (si as f64 / (count - 1.0) - 0.5)
        } else {
            0.0
        };
        series(m, s, &f, &c.y, &|p: &Point| center(p.category) + offset);
    }
    m.close();
}

/// The marker of an observed value with its error bar, for legends.
pub fn observed_icon(m: &mut Markup) {
    m.open(
        "svg",
        &[
            ("class", "icon"),
            ("width", "14"),
            ("height", "18"),
            ("viewBox", "0 0 14 18"),
        ],
    );
    m.open("g", &[("stroke", "#333"), ("fill", "#333")]);
    line(m, (7.0, 2.0), (7.0, 16.0), &[("stroke-width", "1.5")]);
    line(m, (4.0, 2.0), (10.0, 2.0), &[("stroke-width", "1.5")]);
    line(m, (4.0, 16.0), (10.0, 16.0), &[("stroke-width", "1.5")]);
    m.void("circle", &[("cx", "7"), ("cy", "9"), ("r", "3.5")]);
    m.close().close();
}

/// The marker of an upper bound, for legends.
pub fn bound_icon(m: &mut Markup) {
    m.open(
        "svg",
        &[
            ("class", "icon"),
            ("width", "14"),
            ("height", "18"),
            ("viewBox", "0 0 14 18"),
        ],
    );
    m.open("g", &[("stroke", "#333")]);
    bound_marker(m, 7.0, 2.0, 0.62);
    m.close().close();
}

/// Cap at the bound, dashed stem and an open arrowhead pointing down.
fn bound_marker(m: &mut Markup, x: f64, y: f64, scale: f64) {
    line(m, (x - 5.0, y), (x + 5.0, y), &[("stroke-width", "2")]);
    line(
        m,
        (x, y),
        (x, y + 13.0 * scale),
        &[("stroke-width", "1.3"), ("stroke-dasharray", "2 2")],
    );
    m.void(
        "path",
        &[
            (
                "d",
                &format!("M{} {}l4 -6h-8z", n(x), n(y + 13.0 * scale + 6.0)),
            ),
            ("fill", "#fff"),
            ("stroke-width", "1.3"),
        ],
    );
}

/// One series: a thin line through its observed values, then each point
/// with its error bar or bound marker, at `x_of`.
fn series(m: &mut Markup, s: &Series, f: &Frame, scale: &Scale, x_of: &dyn Fn(&Point) -> f64) {
    m.open("g", &[("stroke", s.color), ("fill", s.color)]);
    let mut pts: Vec<&Point> = s.points.iter().collect();
    pts.sort_by_key(|p| p.category);
    // The line joins observed values only: a bound is not a value.
    let seen: Vec<&&Point> = pts.iter().filter(|p| !p.bound).collect();
    if seen.len() > 1 {
        let d: Vec<String> = seen
            .iter()
            .map(|p| format!("{},{}", n(x_of(p)), n(f.y(scale, p.value))))
            .collect();
        m.void(
            "polyline",
            &[
                ("points", &d.join(" ")),
                ("fill", "none"),
                ("stroke-width", "1.2"),
                ("stroke-opacity", "0.45"),
            ],
        );
    }
    for p in pts {
        let x = x_of(p);
        let y = f.y(scale, p.value);
        m.open("g", &[]);
        m.elem("title", &[], &p.tooltip);
        if p.bound {
            bound_marker(m, x, y, 1.0);
        } else {
            if let (Some(lo), Some(hi)) = (p.low, p.high) {
                let (y1, y2) = (f.y(scale, lo), f.y(scale, hi));
                line(m, (x, y1), (x, y2), &[("stroke-width", "1.5")]);
                line(m, (x - 4.0, y1), (x + 4.0, y1), &[("stroke-width", "1.5")]);
                line(m, (x - 4.0, y2), (x + 4.0, y2), &[("stroke-width", "1.5")]);
            }
            m.void("circle", &[("cx", &n(x)), ("cy", &n(y)), ("r", "4")]);
        }
        m.close();
    }
    m.close();
}
