//! Rows of floats as small integers with one f32 scale per row: `value ≈ scale · q`, with
//! `scale = max |value| / MAX`. The int8 kernel's activations (rows of a Q8_0 block) and the
//! quantized decoders' attention cache (rows of a head) are both kept this way.

/// An integer width a row can be scaled into.
pub(crate) trait ScaledInt: Copy + Default {
    /// The largest magnitude used: symmetric, so `-MAX..=MAX`.
    const MAX: f32;
    /// `v` already scaled into range; rounded ties-to-even, which compiles to one vector
    /// instruction where `round` is a C library call per value.
    fn from_scaled(v: f32) -> Self;
}

impl ScaledInt for i8 {
    const MAX: f32 = 127.0;
    #[inline(always)]
    fn from_scaled(v: f32) -> Self {
        v.round_ties_even() as i8
    }
}

impl ScaledInt for i16 {
    const MAX: f32 = 32767.0;
    #[inline(always)]
    fn from_scaled(v: f32) -> Self {
        v.round_ties_even() as i16
    }
}

/// `x` in rows of `width` values: the integers, row after row, and one scale per row. An
/// all-zero row gets scale 0 and zeros.
#[inline(always)]
pub(crate) fn scale_rows<T: ScaledInt>(x: &[f32], width: usize) -> (Vec<T>, Vec<f32>) {
    debug_assert_eq!(x.len() % width, 0);
    let mut ints = vec![T::default(); x.len()];
    let mut scales = Vec::with_capacity(x.len() / width);
    for (q, row) in ints.chunks_exact_mut(width).zip(x.chunks_exact(width)) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let inv = if max > 0.0 { T::MAX / max } else { 0.0 };
        for (q, &v) in q.iter_mut().zip(row) {
            *q = T::from_scaled(v * inv);
        }
        scales.push(max / T::MAX);
    }
    (ints, scales)
}

#[cfg(test)]
mod tests {
    use super::scale_rows;

    #[test]
    fn rows_come_back_within_half_a_step_of_their_scale() {
        let x: Vec<f32> = (0..96)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.37)
            .collect();
        let x: Vec<f32> = x.into_iter().chain([0.0; 32]).collect();
        let (q8, s8) = scale_rows::<i8>(&x, 32);
        let (q16, s16) = scale_rows::<i16>(&x, 32);
        assert_eq!((s8.len(), s16.len()), (4, 4));
        assert_eq!((s8[3], s16[3]), (0.0, 0.0), "a zero row keeps scale 0");
        for (row, v) in x.chunks(32).enumerate() {
            let max = v.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (j, &v) in v.iter().enumerate() {
                let back8 = f32::from(q8[row * 32 + j]) * s8[row];
                let back16 = f32::from(q16[row * 32 + j]) * s16[row];
                assert!((back8 - v).abs() <= max / 254.0 + 1e-6, "{back8} vs {v}");
                assert!(
                    (back16 - v).abs() <= max / 65534.0 + 1e-6,
                    "{back16} vs {v}"
                );
            }
            // The largest value lands on the end of the range.
            let peak = q8[row * 32..][..32].iter().map(|q| q.unsigned_abs()).max();
            assert_eq!(peak, Some(if max > 0.0 { 127 } else { 0 }));
        }
    }
}
