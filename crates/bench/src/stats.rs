//! Summary statistics over timed samples.

use std::time::Duration;

/// Percentile `p` (0..=100) of ascending `sorted` values, interpolating
/// linearly between the two nearest ranks; `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let (first, last) = (sorted.first()?, sorted.last()?);
    let p = p.clamp(0.0, 100.0);
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    if lo == hi {
        return Some(sorted[lo]);
    }
    let frac = rank - lo as f64;
    let value = sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    // Interpolation cannot leave the sample's range; clamp guards rounding.
    Some(value.clamp(*first, *last))
}

/// Median, p90, min, max and mean of one sample, in the sample's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// Summarises `values` (any order); `None` for an empty sample or one
    /// holding NaN.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Summary {
            n: sorted.len(),
            min: *sorted.first()?,
            median: percentile(&sorted, 50.0)?,
            p90: percentile(&sorted, 90.0)?,
            max: *sorted.last()?,
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }

    /// Summarises durations in milliseconds.
    pub fn of_millis(samples: &[Duration]) -> Option<Summary> {
        let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        Summary::of(&ms)
    }

    /// The summary as a JSON object.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n,
            "min": self.min,
            "median": self.median,
            "p90": self.p90,
            "max": self.max,
            "mean": self.mean,
        })
    }
}

/// `slow / fast`, or `None` when `fast` is not positive.
pub fn ratio(slow: f64, fast: f64) -> Option<f64> {
    (fast > 0.0).then(|| slow / fast)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_between_ranks() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 100.0), Some(4.0));
        assert_eq!(percentile(&v, 50.0), Some(2.5));
        // rank 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
        let p90 = percentile(&v, 90.0).unwrap();
        assert!((p90 - 3.7).abs() < 1e-12, "{p90}");
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
    }

    #[test]
    fn summary_sorts_and_reports() {
        let s = Summary::of(&[10.0, 1.0, 5.0, 3.0, 2.0, 4.0, 6.0, 8.0, 7.0, 9.0, 100.0]).unwrap();
        assert_eq!(s.n, 11);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 100.0);
        assert_eq!(s.median, 6.0);
        assert_eq!(s.p90, 10.0);
        assert!((s.mean - 155.0 / 11.0).abs() < 1e-12);
    }

    #[test]
    fn summary_rejects_empty_and_nan() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn millis_and_ratio() {
        let s =
            Summary::of_millis(&[Duration::from_micros(1500), Duration::from_millis(3)]).unwrap();
        assert!((s.median - 2.25).abs() < 1e-9);
        assert_eq!(ratio(300.0, 10.0), Some(30.0));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
