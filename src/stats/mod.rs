//! Statistics (docs/methods.md#statistics): rate intervals, time to the first anomaly, and
//! comparisons between runs. This layer knows nothing of the report format:
//! it has its own small types ([`Trial`], [`Survival`]) that `crate::report`
//! turns into the schema's.
//!
//! Every function here is pure and cheap enough to call thousands of times
//! per report. The methods, with their references:
//!
//! - **Rate intervals** ([`interval`]): two-sided, 95% in reports and at
//!   `1 − α` in comparisons ([`rate_interval_at`]). The exact
//!   binomial interval of Clopper & Pearson (1934), *The use of confidence or
//!   fiducial limits illustrated in the case of the binomial*, Biometrika 26,
//!   404–413 (R's `binom.test(k, n)$conf.int`), whose upper end with no event
//!   is `1 − 0.025^(1/n)`; for counts of events that can happen more than
//!   once per cycle, the exact Poisson interval (Garwood 1936, *Fiducial limits
//!   for the Poisson distribution*, Biometrika 28, 437–442; R's
//!   `poisson.test(k, n)$conf.int`). The score interval of Wilson (1927) is
//!   kept for reference.
//! - **Time to the first anomaly** ([`survival()`]): the product-limit
//!   estimator of Kaplan & Meier (1958), *Nonparametric estimation from
//!   incomplete observations*, JASA 53, 457–481, and the maximum-likelihood
//!   per-cycle rate of a geometric time with right censoring; the
//!   Kaplan–Meier median with the distribution-free interval of order
//!   statistics ([`km_median`]).
//! - **Comparing two rates** ([`two_rates`]): the conditional binomial test for
//!   two Poisson rates (Przyborowski & Wilenski 1940, *Homogeneity of results
//!   in testing samples from Poisson series*, Biometrika 31, 313–323; R's
//!   two-sample `poisson.test`), with the central (equal-tailed) p-value so
//!   that it agrees with the Clopper–Pearson interval of the rate ratio; an
//!   equivalence test of the ratio against a margin by two one-sided tests
//!   (Schuirmann 1987, *A comparison of the two one-sided tests procedure and
//!   the power approach for assessing the equivalence of average
//!   bioavailability*, J. Pharmacokin. Biopharm. 15, 657–680); and Holm's
//!   step-down adjustment (Holm 1979, *A simple sequentially rejective
//!   multiple test procedure*, Scand. J. Statist. 6, 65–70; R's
//!   `p.adjust(method = "holm")`). Its power, for the "more cycles would be
//!   needed" sentence, is summed exactly ([`difference_power`]).
//! - **Paired ratios** ([`paired`]): the geometric mean of per-round ratios
//!   with Student's t interval on their logarithms.
//! - **Rank correlation** ([`rank`]): Spearman's ρ, whether a proxy orders
//!   things as the ground truth does.
//!
//! The numerics are in `special`: about 13 significant digits for any count
//! up to 10¹⁰, a few microseconds per interval, and bounded time for any
//! input (every loop is capped, none runs on a NaN). `docs/statistics.md`
//! explains the rules to a reader of the outputs.

pub mod interval;
pub mod paired;
pub mod rank;
mod special;
pub mod survival;
pub mod two_rates;

pub use interval::{
    CONFIDENCE, Interval, class_interval, class_interval_at, clopper_pearson, event_rate_interval,
    poisson_interval, rate, rate_interval, rate_interval_at, wilson,
};
pub use paired::{PairedRatio, geometric_mean, paired_ratio};
pub use rank::{ranks, spearman};
pub use special::{normal_quantile, student_t_quantile};
pub use survival::{
    MedianBounds, MedianEstimate, Survival, SurvivalPoint, Trial, kaplan_meier, km_median,
    median_cycles_at, survival,
};
pub use two_rates::{
    Basis, DEFAULT_ALPHA, DEFAULT_MARGIN, Decision, POWER, RateComparison, Verdict, binomial_test,
    compare_rates, cycles_to_tell, decide, difference_power, events_to_tell, holm, ratio_interval,
};
