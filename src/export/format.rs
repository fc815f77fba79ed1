//! Number formatting shared by every output: counts with thousands
//! separators and numbers with a fixed number of significant digits.

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

/// `digits` significant digits: fixed notation from 0.01 to 10⁶, scientific
/// outside (`5.00e-5`).
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
