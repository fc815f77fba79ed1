//! Inline SVG charts: points with error bars on a category axis, step curves
//! and timeline lanes.
//!
//! The charts know nothing about reports: callers hand them numbers, colors
//! and tooltip text. Everything is drawn with [`Markup`], so labels are
//! escaped and each `<svg>` element is well-formed XML on its own. Tooltips are
//! SVG `<title>` elements: the browser shows them on hover without scripts.
//! Coordinates are written with one decimal to keep pages small.

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
        return super::format::format_rate(v);
    }
    let k = v.log10().floor();
    let mantissa = v / 10f64.powf(k);
    let (mantissa, k) = if (mantissa - 10.0).abs() < 1e-6 {
        (1.0, k + 1.0)
    } else {
        (mantissa, k)
    };
    if (mantissa - mantissa.round()).abs() > 1e-6 {
        return super::format::format_rate(v);
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
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The plotting area inside a chart's margins.
#[derive(Debug, Clone, Copy)]
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Frame {
    fn right(&self) -> f64 {
        self.left + self.width
    }
    fn bottom(&self) -> f64 {
        self.top + self.height
    }
    /// Vertical position of `v`, clamped to the frame.
    fn y(&self, scale: &Scale, v: f64) -> f64 {
        let f = scale.fraction(v).clamp(0.0, 1.0);
        self.bottom() - f * self.height
    }
    /// Horizontal position of `v`, clamped to the frame.
    fn x(&self, scale: &Scale, v: f64) -> f64 {
        let f = scale.fraction(v).clamp(0.0, 1.0);
        self.left + f * self.width
    }
}

fn open_svg(m: &mut Markup, width: f64, height: f64, label: &str) {
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

fn title(m: &mut Markup, x: f64, text: &str) {
    m.elem(
        "text",
        &[("x", &n(x)), ("y", "15"), ("class", "title")],
        text,
    );
}

fn line(m: &mut Markup, (x1, y1): (f64, f64), (x2, y2): (f64, f64), attrs: &[(&str, &str)]) {
    let mut all: Vec<(&str, &str)> = Vec::with_capacity(attrs.len() + 4);
    let (a, b, c, d) = (n(x1), n(y1), n(x2), n(y2));
    all.extend([("x1", a.as_str()), ("y1", &b), ("x2", &c), ("y2", &d)]);
    all.extend_from_slice(attrs);
    m.void("line", &all);
}

/// Horizontal grid lines and labels of a vertical axis, and its title.
fn y_axis(m: &mut Markup, f: &Frame, scale: &Scale, label: &str, fmt: &dyn Fn(f64) -> String) {
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
fn x_axis(m: &mut Markup, f: &Frame, scale: &Scale, label: &str, fmt: &dyn Fn(f64) -> String) {
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
        let x_of = |p: &Point| center(p.category) + offset;
        m.open("g", &[("stroke", s.color), ("fill", s.color)]);
        let mut pts: Vec<&Point> = s.points.iter().collect();
        pts.sort_by_key(|p| p.category);
        // The line joins observed values only: a bound is not a value.
        let seen: Vec<&&Point> = pts.iter().filter(|p| !p.bound).collect();
        if seen.len() > 1 {
            let d: Vec<String> = seen
                .iter()
                .map(|p| format!("{},{}", n(x_of(p)), n(f.y(&c.y, p.value))))
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
            let y = f.y(&c.y, p.value);
            m.open("g", &[]);
            m.elem("title", &[], &p.tooltip);
            if p.bound {
                bound_marker(m, x, y, 1.0);
            } else {
                if let (Some(lo), Some(hi)) = (p.low, p.high) {
                    let (y1, y2) = (f.y(&c.y, lo), f.y(&c.y, hi));
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
    y_axis(m, &f, &y_scale, c.y_label, &super::format::format_plain);
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
            let x = f.x(&c.x, k.at);
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
    }
    m.close();
}
