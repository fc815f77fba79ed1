//! Number formatting for people, shared by every output (terminal, Markdown,
//! HTML): counts with thousands separators, numbers with a fixed number of
//! significant digits, rates, magnitudes, durations and dates.
//!
//! One rule for every number: [`format_significant`]. Rates are written with
//! [`RATE_DIGITS`] significant digits wherever they appear; only comparison
//! tables ask for more, through the same function. Every rate a page or the
//! terminal shows as text goes through [`RateText`], so a rate always comes
//! with its 95% interval and a zero count is always written as an upper bound
//! (`< 3.0e-6`), never as `0`.

use crate::stats::{Interval, RateComparison, rate, rate_interval};

/// Significant digits of a rate in reports and in the terminal summary.
pub const RATE_DIGITS: usize = 2;

/// `1,000,000`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `digits` significant digits (at least 1): fixed notation from 0.01 to 10⁶,
/// scientific outside (`5.00e-5`); `–` for NaN.
pub fn format_significant(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.is_nan() {
        return "–".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    let digits = digits.max(1);
    let magnitude = x.abs().log10().floor() as i32;
    if (-2..6).contains(&magnitude) {
        let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.*e}", digits - 1)
    }
}

/// A rate, written with [`RATE_DIGITS`] significant digits: `0.25`, `0.031`,
/// `3.1e-7`.
pub fn format_rate(rate: f64) -> String {
    format_significant(rate, RATE_DIGITS)
}

/// A rate with `sig` significant digits (at least 1): [`format_significant`].
pub fn format_rate_sig(rate: f64, sig: usize) -> String {
    format_significant(rate, sig)
}

/// `"3.2 M"`, `"850 K"`, `"12"`, `"1.5"`: a magnitude with a metric suffix and
/// two significant digits.
pub fn format_si(x: f64) -> String {
    if !x.is_finite() {
        return "∞".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    const SUFFIXES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")];
    for (scale, suffix) in SUFFIXES {
        // Round first so 999_960 becomes "1.0 M", not "1000 K".
        if round_sig(x, 2) >= scale {
            return format!("{} {suffix}", short_number(x / scale));
        }
    }
    short_number(x)
}

/// `"1 raced open"`, `"1,234 raced opens"`.
pub fn raced_opens_phrase(n: u64) -> String {
    format!(
        "{} raced open{}",
        format_count(n),
        if n == 1 { "" } else { "s" }
    )
}

/// `"1 overlapped open"`, `"1,234 overlapped opens"`.
pub fn overlapped_opens_phrase(n: u64) -> String {
    format!(
        "{} overlapped open{}",
        format_count(n),
        if n == 1 { "" } else { "s" }
    )
}

/// A count for a sentence: exact below 1,000 (`"3"`, never `"3.0"`), then
/// [`format_si`] (`"1.2 K"`, `"470 K"`).
pub fn format_count_si(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else {
        format_si(n as f64)
    }
}

fn round_sig(x: f64, sig: i32) -> f64 {
    if x <= 0.0 {
        return x;
    }
    // Divide or multiply by an exact power of ten, never by an inexact inverse.
    let e = x.log10().floor() as i32 - (sig - 1);
    if e >= 0 {
        let p = 10f64.powi(e);
        (x / p).round() * p
    } else {
        let p = 10f64.powi(-e);
        (x * p).round() / p
    }
}

/// Two significant digits: `1.5`, `12`, `850`.
fn short_number(x: f64) -> String {
    let r = round_sig(x, 2);
    if r < 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

/// `"1 in 3.2 M cycles"` for a positive rate; `"2.5 per cycle"` for a class
/// counted more than once per cycle (`remove_enoent` counts each deleter's
/// attempt), where "1 in 0.4" would read as nonsense.
pub fn format_one_in(rate: f64) -> String {
    if rate <= 0.0 || !rate.is_finite() {
        return "none".into();
    }
    let cell = one_in_cell(rate);
    if rate > 1.0 {
        cell
    } else {
        format!("{cell} cycles")
    }
}

/// `"1 in 3.2 M"`, or `"2.5 per cycle"` above once per cycle: the short
/// form of [`format_one_in`] for tables.
fn one_in_cell(rate: f64) -> String {
    if rate > 1.0 {
        format!("{} per cycle", format_si(rate))
    } else {
        format!("1 in {}", format_si(1.0 / rate))
    }
}

/// `1.5`, `-20`, `0.25`: a plain number with at most three decimals and no
/// float noise (axis ticks).
pub fn format_plain(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// `"850 ns"`, `"1.2 µs"`, `"3.4 ms"`, `"2.1 s"`, `"4.0 min"`, `"2.5 h"`, `"3.1 days"`.
pub fn format_duration_ns(ns: f64) -> String {
    if !ns.is_finite() || ns < 0.0 {
        return "n/a".into();
    }
    const UNITS: [(f64, &str); 7] = [
        (86_400e9, "days"),
        (3_600e9, "h"),
        (60e9, "min"),
        (1e9, "s"),
        (1e6, "ms"),
        (1e3, "µs"),
        (1.0, "ns"),
    ];
    for (scale, unit) in UNITS {
        if round_sig(ns, 2) >= scale {
            return format!("{} {unit}", short_number(ns / scale));
        }
    }
    "0 ns".into()
}

/// Seconds since the epoch as `2024-05-01 12:34 UTC`.
pub fn format_unix_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (era arithmetic:
/// 400-year eras of 146 097 days, years starting in March).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A count out of a number of cycles, with its 95% interval, ready to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateText {
    pub count: u64,
    pub cycles: u64,
    pub rate: f64,
    pub interval: Interval,
}

impl RateText {
    /// From a count: the interval comes from [`rate_interval`].
    pub fn from_count(count: u64, cycles: u64) -> RateText {
        RateText {
            count,
            cycles,
            rate: rate(count, cycles),
            interval: rate_interval(count, cycles),
        }
    }

    /// From a rate and interval stored in a report.
    pub fn stored(count: u64, cycles: u64, rate: f64, low: f64, high: f64) -> RateText {
        RateText {
            count,
            cycles,
            rate,
            interval: Interval { low, high },
        }
    }

    /// `true` when nothing was seen: only an upper bound is known.
    pub fn is_bound(&self) -> bool {
        self.count == 0
    }

    /// `"3.1e-7"` or `"< 3.0e-6"`.
    pub fn rate(&self) -> String {
        if self.is_bound() {
            format!("< {}", format_rate(self.interval.high))
        } else {
            format_rate(self.rate)
        }
    }

    /// `"1 in 3.2 M cycles"` or `"fewer than 1 in 330 K cycles"`.
    pub fn one_in(&self) -> String {
        if self.is_bound() {
            format!("fewer than {}", format_one_in(self.interval.high))
        } else {
            format_one_in(self.rate)
        }
    }

    /// `"2.3e-7 – 4.4e-7"` or `"< 3.0e-6 (upper bound)"`. Narrow intervals get
    /// more digits, so the two ends never read the same.
    pub fn interval(&self) -> String {
        if self.is_bound() {
            return format!("< {} (upper bound)", format_rate(self.interval.high));
        }
        let (low, high) = (self.interval.low, self.interval.high);
        let mut sig = 2;
        while sig < 6 && low != high && format_rate_sig(low, sig) == format_rate_sig(high, sig) {
            sig += 1;
        }
        format!(
            "{} – {}",
            format_rate_sig(low, sig),
            format_rate_sig(high, sig)
        )
    }

    /// `"1 in 3.2 M"` or `"< 1 in 330 K"`: [`RateText::one_in`] for tables.
    pub fn one_in_short(&self) -> String {
        let r = if self.is_bound() {
            self.interval.high
        } else {
            self.rate
        };
        if r <= 0.0 {
            return "none".into();
        }
        let text = one_in_cell(r);
        if self.is_bound() {
            format!("< {text}")
        } else {
            text
        }
    }

    /// [`RateText::interval`] for a table that already shows the bound:
    /// `"upper bound"` when nothing was seen.
    pub fn interval_short(&self) -> String {
        if self.is_bound() {
            "95% upper bound".into()
        } else {
            self.interval()
        }
    }

    /// `"1 in 4.4 M – 1 in 2.4 M"`: the interval in the `1 in` form.
    pub fn one_in_interval(&self) -> String {
        let one_in = |r: f64| {
            if r <= 0.0 {
                "∞".to_string()
            } else {
                one_in_cell(r)
            }
        };
        format!(
            "{} – {}",
            one_in(self.interval.low),
            one_in(self.interval.high)
        )
    }
}

// Figures of comparisons: ratios, p-values and intervals at more than one
// precision.

/// A confidence level as a percentage: `95%`, `90%`, `99.9%`.
pub fn format_level(confidence: f64) -> String {
    let percent = format!("{:.4}", 100.0 * confidence);
    format!("{}%", percent.trim_end_matches('0').trim_end_matches('.'))
}

/// `x` to `digits` significant digits, rounded by `round` (`f64::ceil`,
/// `f64::floor`).
pub fn round_significant(x: f64, digits: i32, round: fn(f64) -> f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let magnitude = 10f64.powi(x.log10().floor() as i32 + 1 - digits);
    round(x / magnitude) * magnitude
}

/// A figure with two significant digits, rounded: `0.24`, `3.0`, `160`,
/// `64,000`, `1.2e7` (from 10⁷).
pub fn format_figure(x: f64) -> String {
    format_figure_digits(x, 2)
}

/// [`format_figure`] with `digits` significant digits.
fn format_figure_digits(x: f64, digits: usize) -> String {
    if (100.0..1e7).contains(&x) {
        let magnitude = 10f64.powi(x.log10().floor() as i32 + 1 - digits as i32);
        format_count(((x / magnitude).round() * magnitude) as u64)
    } else {
        format_significant(x, digits)
    }
}

/// A value and the ends of its interval with two significant digits, or
/// more (up to four) where two would print an end equal to the value
/// although they differ (`×1.00 [0.962–1.04]`, not `×1.0 [0.96–1.0]`).
pub fn format_figures(x: f64, low: f64, high: Option<f64>) -> (String, String, String) {
    let distinct = |digits| {
        let (a, b) = (
            format_figure_digits(x, digits),
            format_figure_digits(low, digits),
        );
        let c = high.map(|h| format_figure_digits(h, digits));
        let clash = (a == b && low != x) || c.as_ref().is_some_and(|c| *c == a && high != Some(x));
        (!clash).then_some((a, b, c))
    };
    let (a, b, c) = (2..=4).find_map(distinct).unwrap_or_else(|| {
        (
            format_figure(x),
            format_figure(low),
            high.map(format_figure),
        )
    });
    (a, b, c.unwrap_or_else(|| "∞".into()))
}

/// `[3.7e-5, 6.6e-5]`.
pub fn format_interval(i: Interval) -> String {
    format!(
        "[{}, {}]",
        format_significant(i.low, 2),
        format_significant(i.high, 2)
    )
}

/// The rate ratio B/A: `1.33`, `∞` (A has no event), `–` (neither has).
pub fn format_ratio(r: &RateComparison) -> String {
    match r.ratio {
        Some(ratio) => format_significant(ratio, 3),
        None if r.ratio_is_infinite() => "∞".into(),
        None => "–".into(),
    }
}

/// `[0.41, 2.9]`, `[13, ∞)`, `[0, ∞)`; more digits where two would not
/// tell the ends from the ratio (`[0.964, 1.04]`).
pub fn format_ratio_interval(r: &RateComparison) -> String {
    let (_, low, high) = format_figures(r.ratio.unwrap_or(r.ratio_low), r.ratio_low, r.ratio_high);
    match r.ratio_high {
        Some(_) => format!("[{low}, {high}]"),
        None => format!("[{low}, ∞)"),
    }
}

/// A p-value with two significant digits: `1`, `0.38`, `1.8e-15`.
pub fn format_p(p: f64) -> String {
    // Two significant digits of 0.995 and above round to 1.
    if p >= 0.995 {
        "1".into()
    } else if p < 1e-300 {
        "<1e-300".into()
    } else {
        format_significant(p, 2)
    }
}

/// Nanoseconds per cycle: `812`, `12,345`, `64.0`.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() || ns <= 0.0 {
        "–".into()
    } else if ns >= 1000.0 {
        format_count(ns.round() as u64)
    } else {
        format_significant(ns, 3)
    }
}

/// A ratio of times: `0.79`, `1.00`, `12.5`.
pub fn format_factor(x: f64) -> String {
    if (0.01..10.0).contains(&x) {
        format!("{x:.2}")
    } else {
        format_significant(x, 3)
    }
}
