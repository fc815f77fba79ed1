//! Survival-like step curves over a value axis.

use super::super::markup::Markup;
use super::{Frame, Scale, line, n, open_svg, title, x_axis, y_axis};

/// One Kaplan–Meier style curve.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCurve {
    pub color: &'static str,
    /// Where the curve starts at 1.
    pub start: f64,
    /// `(x, y)`: the curve drops to `y` at `x`.
    pub steps: Vec<(f64, f64)>,
    /// Where the curve stops (the longest trial).
    pub end: f64,
    /// Censored observations, marked with a tick on the curve.
    pub censored: Vec<f64>,
    /// A reference curve drawn dashed (e.g. a fitted model).
    pub model: Vec<(f64, f64)>,
}

impl StepCurve {
    /// The curve's value at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.steps
            .iter()
            .take_while(|(sx, _)| *sx <= x)
            .last()
            .map_or(1.0, |&(_, y)| y)
    }
}

/// Survival-like curves: y from 0 to 1 over a value axis.
pub struct StepChart<'a> {
    pub title: &'a str,
    pub x: Scale,
    pub x_label: &'a str,
    pub x_format: &'a dyn Fn(f64) -> String,
    pub y_label: &'a str,
    pub curves: &'a [StepCurve],
    pub width: f64,
    pub height: f64,
}

pub fn step_chart(m: &mut Markup, c: &StepChart<'_>) {
    let f = Frame {
        left: 58.0,
        top: 26.0,
        width: c.width - 58.0 - 14.0,
        height: c.height - 26.0 - 44.0,
    };
    let y_scale = Scale::Linear { min: 0.0, max: 1.0 };
    open_svg(m, c.width, c.height, c.title);
    title(m, f.left, c.title);
    y_axis(
        m,
        &f,
        &y_scale,
        c.y_label,
        &super::super::format::format_plain,
    );
    x_axis(m, &f, &c.x, c.x_label, c.x_format);
    for curve in c.curves {
        if curve.model.len() > 1 {
            let d: Vec<String> = curve
                .model
                .iter()
                .map(|&(x, y)| format!("{},{}", n(f.x(&c.x, x)), n(f.y(&y_scale, y))))
                .collect();
            m.void(
                "polyline",
                &[
                    ("points", &d.join(" ")),
                    ("fill", "none"),
                    ("stroke", curve.color),
                    ("stroke-opacity", "0.6"),
                    ("stroke-dasharray", "5 4"),
                ],
            );
        }
        let mut d = format!("M{} {}", n(f.x(&c.x, curve.start)), n(f.y(&y_scale, 1.0)));
        for &(x, y) in &curve.steps {
            d.push_str(&format!("H{}V{}", n(f.x(&c.x, x)), n(f.y(&y_scale, y))));
        }
        d.push_str(&format!("H{}", n(f.x(&c.x, curve.end))));
        m.void(
            "path",
            &[
                ("d", &d),
                ("fill", "none"),
                ("stroke", curve.color),
                ("stroke-width", "2"),
            ],
        );
        for &x in &curve.censored {
            let (px, py) = (f.x(&c.x, x), f.y(&y_scale, curve.at(x)));
            line(
                m,
                (px, py - 5.0),
                (px, py + 5.0),
                &[("stroke", curve.color), ("stroke-width", "1.5")],
            );
        }
    }
    m.close();
}
