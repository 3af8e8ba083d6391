//! The dot product the kernels share: attention scores, few-row products, the LSTM step.

/// One AVX-512 register of f32.
pub(crate) const LANES: usize = 16;

/// A value a dot product reads as f32.
pub(crate) trait Widen: Copy {
    fn widen(self) -> f32;
}

impl Widen for f32 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

impl Widen for u8 {
    /// The signed byte rows of a scaled cache (`crate::cache`), stored as `u8` because candle
    /// has no `i8`; the kernel applies the scales.
    #[inline(always)]
    fn widen(self) -> f32 {
        f32::from(self as i8)
    }
}

/// Dot product over [`LANES`] independent accumulators, which the compiler turns into SIMD
/// lanes (a single running sum would be a serial dependency chain).
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    dot_widening(a, b)
}

/// [`dot`] against values widened to f32 as they are read.
#[inline(always)]
pub(crate) fn dot_widening<E: Widen>(a: &[f32], b: &[E]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let mut tail = 0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y.widen();
    }
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i].widen();
        }
    }
    // A plain running sum of the lanes: LLVM turned a pairwise tree into 2-wide vectors.
    for a in acc {
        tail += a;
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::{dot, dot_widening};

    #[test]
    fn dots_of_every_length_around_the_lane_count_equal_the_plain_sum() {
        for len in 0..70 {
            let a: Vec<f32> = (0..len).map(|i| (i % 9) as f32 - 4.0).collect();
            let b: Vec<f32> = (0..len).map(|i| (i % 4) as f32 * 0.25).collect();
            let want: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), want, "length {len}");
            let bytes: Vec<u8> = (0..len).map(|i| (i as i8 - 30) as u8).collect();
            let want: f32 = a
                .iter()
                .zip(&bytes)
                .map(|(x, &y)| x * f32::from(y as i8))
                .sum();
            assert_eq!(dot_widening(&a, &bytes), want, "length {len}, signed bytes");
        }
    }
}
