//! Estimates as ranges: what the page shows and what every ETA computes.

use serde::Serialize;
use utoipa::ToSchema;

/// An estimate as a range: the truth is expected between `low` and `high`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Range {
    pub low: f64,
    pub high: f64,
}

impl Range {
    pub fn point(value: f64) -> Self {
        Range {
            low: value,
            high: value,
        }
    }
}
