//! Rows of floats as signed bytes with one f32 scale per row: `value ≈ scale · q`, with
//! `scale = max |value| / 127`. The int8 kernel's activations (rows of a Q8_0 block) and the
//! quantized decoders' attention cache (rows of a head) are both kept this way.

/// `x` in rows of `width` values: the bytes, row after row, and one scale per row. An all-zero
/// row gets scale 0 and zeros.
#[inline(always)]
pub(crate) fn scale_rows(x: &[f32], width: usize) -> (Vec<i8>, Vec<f32>) {
    debug_assert_eq!(x.len() % width, 0);
    let mut ints = vec![0i8; x.len()];
    let mut scales = Vec::with_capacity(x.len() / width);
    for (q, row) in ints.chunks_exact_mut(width).zip(x.chunks_exact(width)) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let inv = if max > 0.0 { 127.0 / max } else { 0.0 };
        for (q, &v) in q.iter_mut().zip(row) {
            // Ties-to-even compiles to one vector instruction where `round` is a C library
            // call per value.
            *q = (v * inv).round_ties_even() as i8;
        }
        scales.push(max / 127.0);
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
        let (q, s) = scale_rows(&x, 32);
        assert_eq!(s.len(), 4);
        assert_eq!(s[3], 0.0, "a zero row keeps scale 0");
        for (row, v) in x.chunks(32).enumerate() {
            let max = v.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (j, &v) in v.iter().enumerate() {
                let back = f32::from(q[row * 32 + j]) * s[row];
                assert!((back - v).abs() <= max / 254.0 + 1e-6, "{back} vs {v}");
            }
            // The largest value lands on the end of the range.
            let peak = q[row * 32..][..32].iter().map(|q| q.unsigned_abs()).max();
            assert_eq!(peak, Some(if max > 0.0 { 127 } else { 0 }));
        }
    }
}
