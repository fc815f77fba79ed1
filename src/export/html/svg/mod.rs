//! Inline SVG charts: points with error bars on a category axis, step curves
//! and timeline lanes.
//!
//! The charts know nothing about reports: callers hand them numbers, colors
//! and tooltip text. Everything is drawn with [`Markup`], so labels are
//! escaped and each `<svg>` element is well-formed XML on its own. Tooltips are
//! SVG `<title>` elements: the browser shows them on hover without scripts.
//! Coordinates are written with one decimal to keep pages small.

mod lanes;
mod points;
mod steps;

pub use lanes::{Lane, LaneChart, Mark, MarkShape, Span, lane_chart};
pub use points::{Point, PointChart, Series, bound_icon, observed_icon, point_chart};
pub use steps::{StepChart, StepCurve, step_chart};

use super::markup::Markup;

/// Colors for series, safe for the common forms of color blindness
/// (Okabe and Ito's palette, without its yellow, which vanishes on white).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
];

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear {
        min: f64,
        max: f64,
    },
    /// `0 < min < max`; whole decades when built by [`Scale::log_covering`].
    Log {
        min: f64,
        max: f64,
    },
}

impl Scale {
    /// Whole decades covering every positive finite value, at least `min_decades` of them.
    pub fn log_covering(values: impl IntoIterator<Item = f64>, min_decades: u32) -> Scale {
        let (lo, hi) = positive_range(values).unwrap_or((0.1, 1.0));
        let mut a = lo.log10().floor();
        let mut b = hi.log10().ceil();
        if b <= a {
            b = a + 1.0;
        }
        while b - a < f64::from(min_decades) {
            // Grow downwards first: small values are the interesting end.
            a -= 1.0;
            if b - a < f64::from(min_decades) {
                b += 1.0;
            }
        }
        Scale::Log {
            min: 10f64.powf(a),
            max: 10f64.powf(b),
        }
    }

    /// Round bounds covering every finite value (and 0 when `from_zero`).
    pub fn linear_covering(values: impl IntoIterator<Item = f64>, from_zero: bool) -> Scale {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in values.into_iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            return Scale::Linear { min: 0.0, max: 1.0 };
        }
        if from_zero {
            lo = lo.min(0.0);
        }
        if hi <= lo {
            hi = lo + if lo == 0.0 { 1.0 } else { lo.abs() };
        }
        let step = nice_step((hi - lo) / 5.0);
        Scale::Linear {
            min: (lo / step).floor() * step,
            max: (hi / step).ceil() * step,
        }
    }

    /// Log decades when the positive values span more than `ratio`, else linear from 0.
    pub fn auto(values: &[f64], ratio: f64) -> Scale {
        match positive_range(values.iter().copied()) {
            Some((lo, hi)) if hi / lo > ratio => Scale::log_covering(values.iter().copied(), 1),
            _ => Scale::linear_covering(values.iter().copied(), true),
        }
    }

    /// Position of `v` on the axis, 0 at `min` and 1 at `max` (not clamped).
    pub fn fraction(&self, v: f64) -> f64 {
        match *self {
            Scale::Linear { min, max } => (v - min) / (max - min),
            Scale::Log { min, max } => {
                if v <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                (v.log10() - min.log10()) / (max.log10() - min.log10())
            }
        }
    }

    pub fn is_log(&self) -> bool {
        matches!(self, Scale::Log { .. })
    }

    /// Tick values: decades (with 2 and 5 on short log axes) or round steps.
    pub fn ticks(&self) -> Vec<f64> {
        match *self {
            Scale::Linear { min, max } => {
                let step = nice_step((max - min) / 5.0);
                let first = (min / step).ceil() as i64;
                let last = (max / step).floor() as i64;
                (first..=last).map(|i| i as f64 * step).collect()
            }
            Scale::Log { min, max } => {
                let a = min.log10().round() as i32;
                let b = max.log10().round() as i32;
                let decades = b - a;
                let every = if decades > 8 { 2 } else { 1 };
                let mut out = Vec::new();
                for k in a..=b {
                    if (k - a) % every == 0 {
                        out.push(10f64.powi(k));
                    }
                    if decades <= 2 && k < b {
                        out.extend([2.0, 5.0].map(|m| m * 10f64.powi(k)));
                    }
                }
                out
            }
        }
    }
}

fn positive_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = 0.0f64;
    for v in values {
        if v.is_finite() && v > 0.0 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (hi > 0.0).then_some((lo, hi))
}

/// 1, 2 or 5 times a power of ten, close to `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let nice = if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * p
}

/// `10⁻⁶` for a power of ten, `5×10⁻⁶` for a small multiple of one, else the
/// value with two significant digits.
pub fn power_of_ten(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return super::super::format::format_rate(v);
    }
    let k = v.log10().floor();
    let mantissa = v / 10f64.powf(k);
    let (mantissa, k) = if (mantissa - 10.0).abs() < 1e-6 {
        (1.0, k + 1.0)
    } else {
        (mantissa, k)
    };
    if (mantissa - mantissa.round()).abs() > 1e-6 {
        return super::super::format::format_rate(v);
    }
    let power = match k as i32 {
        0 => "1".to_string(),
        1 => "10".to_string(),
        k => format!("10{}", superscript(k)),
    };
    match mantissa.round() as i64 {
        1 => power,
        m if k as i32 == 0 => m.to_string(),
        m => format!("{m}×{power}"),
    }
}

fn superscript(k: i32) -> String {
    k.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// A coordinate with at most one decimal.
pub(super) fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The plotting area inside a chart's margins.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    pub(super) left: f64,
    pub(super) top: f64,
    pub(super) width: f64,
    pub(super) height: f64,
}

impl Frame {
    pub(super) fn right(&self) -> f64 {
        self.left + self.width
    }
    pub(super) fn bottom(&self) -> f64 {
        self.top + self.height
    }
    /// Vertical position of `v`, clamped to the frame.
    pub(super) fn y(&self, scale: &Scale, v: f64) -> f64 {
        let f = scale.fraction(v).clamp(0.0, 1.0);
        self.bottom() - f * self.height
    }
    /// Horizontal position of `v`, clamped to the frame.
    pub(super) fn x(&self, scale: &Scale, v: f64) -> f64 {
        let f = scale.fraction(v).clamp(0.0, 1.0);
        self.left + f * self.width
    }
}

pub(super) fn open_svg(m: &mut Markup, width: f64, height: f64, label: &str) {
    m.open(
        "svg",
        &[
            ("width", &n(width)),
            ("height", &n(height)),
            ("viewBox", &format!("0 0 {} {}", n(width), n(height))),
            ("role", "img"),
            ("aria-label", label),
        ],
    );
}

pub(super) fn title(m: &mut Markup, x: f64, text: &str) {
    m.elem(
        "text",
        &[("x", &n(x)), ("y", "15"), ("class", "title")],
        text,
    );
}

pub(super) fn line(
    m: &mut Markup,
    (x1, y1): (f64, f64),
    (x2, y2): (f64, f64),
    attrs: &[(&str, &str)],
) {
    let mut all: Vec<(&str, &str)> = Vec::with_capacity(attrs.len() + 4);
    let (a, b, c, d) = (n(x1), n(y1), n(x2), n(y2));
    all.extend([("x1", a.as_str()), ("y1", &b), ("x2", &c), ("y2", &d)]);
    all.extend_from_slice(attrs);
    m.void("line", &all);
}

/// Horizontal grid lines and labels of a vertical axis, and its title.
pub(super) fn y_axis(
    m: &mut Markup,
    f: &Frame,
    scale: &Scale,
    label: &str,
    fmt: &dyn Fn(f64) -> String,
) {
    for t in scale.ticks() {
        let y = f.y(scale, t);
        line(m, (f.left, y), (f.right(), y), &[("class", "grid")]);
        m.elem(
            "text",
            &[
                ("x", &n(f.left - 6.0)),
                ("y", &n(y + 4.0)),
                ("text-anchor", "end"),
            ],
            &fmt(t),
        );
    }
    line(
        m,
        (f.left, f.top),
        (f.left, f.bottom()),
        &[("class", "axis")],
    );
    line(
        m,
        (f.left, f.bottom()),
        (f.right(), f.bottom()),
        &[("class", "axis")],
    );
    let (x, y) = (12.0, f.top + f.height / 2.0);
    m.elem(
        "text",
        &[
            ("x", &n(x)),
            ("y", &n(y)),
            ("text-anchor", "middle"),
            ("transform", &format!("rotate(-90 {} {})", n(x), n(y))),
        ],
        label,
    );
}

/// Vertical grid lines and labels of a horizontal value axis, and its title.
pub(super) fn x_axis(
    m: &mut Markup,
    f: &Frame,
    scale: &Scale,
    label: &str,
    fmt: &dyn Fn(f64) -> String,
) {
    for t in scale.ticks() {
        let x = f.x(scale, t);
        line(m, (x, f.top), (x, f.bottom()), &[("class", "grid")]);
        m.elem(
            "text",
            &[
                ("x", &n(x)),
                ("y", &n(f.bottom() + 15.0)),
                ("text-anchor", "middle"),
            ],
            &fmt(t),
        );
    }
    line(
        m,
        (f.left, f.bottom()),
        (f.right(), f.bottom()),
        &[("class", "axis")],
    );
    m.elem(
        "text",
        &[
            ("x", &n(f.left + f.width / 2.0)),
            ("y", &n(f.bottom() + 32.0)),
            ("text-anchor", "middle"),
        ],
        label,
    );
}
