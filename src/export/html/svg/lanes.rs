//! Timeline lanes: one row per worker, spans for calls, marks for moments.

use super::super::markup::Markup;
use super::{Frame, Scale, line, n, open_svg, title, x_axis};

/// The shape of a [`Mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkShape {
    /// A short vertical line.
    Tick,
    Diamond,
    /// A star-like cross, for the event everything is centered on.
    Star,
}

/// A moment in a lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub at: f64,
    pub color: &'static str,
    pub shape: MarkShape,
    pub tooltip: String,
}

/// An interval in a lane (at least 2 px wide so short calls stay visible).
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub color: &'static str,
    pub tooltip: String,
}

/// One horizontal lane (one worker).
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub label: String,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
}

/// Lanes on one shared time axis, with an optional vertical line at `origin`.
pub struct LaneChart<'a> {
    pub title: &'a str,
    pub x: Scale,
    pub x_label: &'a str,
    pub x_format: &'a dyn Fn(f64) -> String,
    pub lanes: &'a [Lane],
    pub origin: Option<f64>,
    pub width: f64,
}

pub fn lane_chart(m: &mut Markup, c: &LaneChart<'_>) {
    const LANE: f64 = 26.0;
    let f = Frame {
        left: 92.0,
        top: 26.0,
        width: c.width - 92.0 - 14.0,
        height: LANE * c.lanes.len().max(1) as f64,
    };
    let height = f.bottom() + 44.0;
    open_svg(m, c.width, height, c.title);
    title(m, f.left, c.title);
    for (i, _) in c.lanes.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
        m.void(
            "rect",
            &[
                ("x", &n(f.left)),
                ("y", &n(f.top + LANE * i as f64)),
                ("width", &n(f.width)),
                ("height", &n(LANE)),
                ("fill", "#f4f5f8"),
            ],
        );
    }
    x_axis(m, &f, &c.x, c.x_label, c.x_format);
    if let Some(o) = c.origin {
        let x = f.x(&c.x, o);
        line(m, (x, f.top - 4.0), (x, f.bottom()), &[("class", "zero")]);
    }
    for (i, lane) in c.lanes.iter().enumerate() {
        let mid = f.top + LANE * (i as f64 + 0.5);
        m.elem(
            "text",
            &[
                ("x", &n(f.left - 8.0)),
                ("y", &n(mid + 4.0)),
                ("text-anchor", "end"),
            ],
            &lane.label,
        );
        for s in &lane.spans {
            let (x1, x2) = (f.x(&c.x, s.start), f.x(&c.x, s.end));
            let w = (x2 - x1).max(2.0);
            m.open(
                "rect",
                &[
                    ("x", &n(x1)),
                    ("y", &n(mid - 7.0)),
                    ("width", &n(w)),
                    ("height", "14"),
                    ("rx", "2"),
                    ("fill", s.color),
                ],
            );
            m.elem("title", &[], &s.tooltip);
            m.close();
        }
        for k in &lane.marks {
            mark(m, k, f.x(&c.x, k.at), mid);
        }
    }
    m.close();
}

/// A [`Mark`] at `x` in the lane centered on `mid`.
fn mark(m: &mut Markup, k: &Mark, x: f64, mid: f64) {
    m.open("g", &[("stroke", k.color), ("fill", k.color)]);
    m.elem("title", &[], &k.tooltip);
    match k.shape {
        MarkShape::Tick => line(
            m,
            (x, mid - 10.0),
            (x, mid + 10.0),
            &[("stroke-width", "2")],
        ),
        MarkShape::Diamond => {
            m.void(
                "path",
                &[("d", &format!("M{} {}l5 5l-5 5l-5 -5z", n(x), n(mid - 5.0)))],
            );
        }
        MarkShape::Star => {
            let d = format!(
                "M{x} {t}V{b}M{l} {y}H{r}M{l2} {t2}L{r2} {b2}M{l2} {b2}L{r2} {t2}",
                x = n(x),
                t = n(mid - 9.0),
                b = n(mid + 9.0),
                l = n(x - 9.0),
                r = n(x + 9.0),
                y = n(mid),
                l2 = n(x - 6.0),
                r2 = n(x + 6.0),
                t2 = n(mid - 6.0),
                b2 = n(mid + 6.0),
            );
            m.void(
                "path",
                &[("d", &d), ("stroke", "#fff"), ("stroke-width", "5")],
            );
            m.void("path", &[("d", &d), ("stroke-width", "2.5")]);
        }
    }
    m.close();
}
