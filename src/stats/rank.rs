//! Rank correlation: whether two measures order the same things alike (the
//! pacings, by a proxy and by the ground truth; docs/methods.md#overlapped-opens).
//!
//! Spearman's ρ (Spearman 1904, *The proof and measurement of association
//! between two things*, Am. J. Psychol. 15, 72–101) is Pearson's correlation
//! of the ranks, ties given their mean rank (R's
//! `cor(a, b, method = "spearman")`).

/// Ranks from 1 (the smallest), ties given the mean of the ranks they span.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = mean_rank;
        }
        i = j + 1;
    }
    r
}

/// Spearman's ρ of `a` and `b`, paired by index (the shorter length counts).
/// `None` with fewer than two pairs or when either side is all ties, where
/// no correlation is defined.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 2 {
        return None;
    }
    let (ra, rb) = (ranks(&a[..n]), ranks(&b[..n]));
    let mean = (n as f64 + 1.0) / 2.0;
    let cov: f64 = ra
        .iter()
        .zip(&rb)
        .map(|(x, y)| (x - mean) * (y - mean))
        .sum();
    let va: f64 = ra.iter().map(|x| (x - mean).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mean).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R: `rank(c(3, 1, 4, 1, 5))` is 3.0 1.5 4.0 1.5 5.0.
    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 4.0, 1.0, 5.0]), [3.0, 1.5, 4.0, 1.5, 5.0]);
    }

    /// R: `cor(c(8, 1352, 570, 647, 80), c(8, 743, 358, 286, 23), method =
    /// "spearman")` is 0.9 (raced opens against zombiefs's racing opens at
    /// 1×1, docs/measurements); with ties, `cor(c(1, 2, 2, 3), c(1, 3, 2, 4),
    /// method = "spearman")` is 0.9486833.
    #[test]
    fn spearman_agrees_with_r() {
        let truth = [8.0, 743.0, 358.0, 286.0, 23.0];
        assert_eq!(spearman(&truth, &truth), Some(1.0));
        let raced = [8.0, 1352.0, 570.0, 647.0, 80.0];
        assert!((spearman(&raced, &truth).unwrap() - 0.9).abs() < 1e-12);
        let reversed: Vec<f64> = truth.iter().map(|x| -x).collect();
        assert!((spearman(&reversed, &truth).unwrap() + 1.0).abs() < 1e-12);
        let tied = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((tied - 0.948_683_298_050_513_8).abs() < 1e-12, "{tied}");
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }
}
