//! Sizes and durations as the command line and the bench's settings spell
//! them (`4K`, `1M`; `90s`, `10m`), parsed and printed.

use std::time::Duration;

/// A size that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size '{0}': expected bytes with an optional K or M suffix (e.g. 7, 4K, 1M)")]
pub struct SizeError(pub String);

/// Parses `7`, `4K`, `4KiB`, `1M`, `1MiB` (binary units).
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let err = || SizeError(s.to_string());
    let upper = t.to_ascii_uppercase();
    let (digits, mult) = if let Some(d) = upper
        .strip_suffix("KIB")
        .or_else(|| upper.strip_suffix("KB"))
        .or_else(|| upper.strip_suffix('K'))
    {
        (d, 1u64 << 10)
    } else if let Some(d) = upper
        .strip_suffix("MIB")
        .or_else(|| upper.strip_suffix("MB"))
        .or_else(|| upper.strip_suffix('M'))
    {
        (d, 1u64 << 20)
    } else if let Some(d) = upper.strip_suffix('B') {
        (d, 1)
    } else {
        (upper.as_str(), 1)
    };
    let n: u64 = digits.trim().parse().map_err(|_| err())?;
    n.checked_mul(mult).ok_or_else(err)
}

/// `7B`, `4K`, `1M`, `1536B`: the shortest exact form.
pub fn format_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{}M", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{}K", bytes >> 10)
    } else {
        format!("{bytes}B")
    }
}

/// A duration that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration '{0}': expected seconds, or a number with s, m or h (e.g. 60, 90s, 10m)")]
pub struct DurationError(pub String);

/// Parses `60`, `1.5`, `90s`, `10m`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    let err = || DurationError(s.to_string());
    let (num, mult) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.trim().parse().map_err(|_| err())?;
    let secs = v * mult;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(err());
    }
    Ok(Duration::from_secs_f64(secs))
}
