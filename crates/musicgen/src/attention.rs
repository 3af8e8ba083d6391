//! Attention of one new position over the self-attention cache, as one CPU kernel.
//!
//! Decoding feeds one position at a time, so each step's self-attention is, per batch row and
//! head, two matrix-vector products against a cache that grows by a row per step. Through
//! `matmul` that is thousands of tiny gemm calls per step (layers × rows × heads × 2), whose
//! fixed costs grew a late step of musicgen-small to twice the cost of an early one. Here
//! scores, softmax and the weighted sum run in one pass per head straight over the cache.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

/// `softmax(q·Kᵀ·scale)·V` for `q` `[b, h, 1, d]` and `k`, `v` `[b, h, T, d]` (views into a
/// cache are fine: only the last dimension must be contiguous). Returns `[b, h, 1, d]`.
pub(crate) fn single_query_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
) -> Result<Tensor> {
    q.apply_op3_no_bwd(
        k,
        v,
        &SingleQuery {
            scale: scale as f32,
        },
    )
}

struct SingleQuery {
    scale: f32,
}

/// Element offsets of a 4-d strided view: `(start, [stride0, stride1, stride2])`, checking
/// the last dimension is contiguous.
fn strides4(layout: &Layout, what: &str) -> Result<(usize, [usize; 3])> {
    let s = layout.stride();
    if s.len() != 4 || s[3] != 1 {
        candle_core::bail!(
            "single-query attention: {what} must be 4-d with a contiguous last dim, got {layout:?}"
        );
    }
    Ok((layout.start_offset(), [s[0], s[1], s[2]]))
}

/// Dot product with eight independent accumulators, which the compiler turns into SIMD lanes
/// (a single running sum would be a serial dependency chain).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

impl CustomOp3 for SingleQuery {
    fn name(&self) -> &'static str {
        "single-query-attention"
    }

    fn cpu_fwd(
        &self,
        qs: &CpuStorage,
        ql: &Layout,
        ks: &CpuStorage,
        kl: &Layout,
        vs: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (b, h, one, d) = ql.shape().dims4()?;
        let (kb, kh, t, kd) = kl.shape().dims4()?;
        if one != 1 || (kb, kh, kd) != (b, h, d) || vl.shape() != kl.shape() || t == 0 {
            candle_core::bail!(
                "single-query attention: shapes q {:?}, k {:?}, v {:?}",
                ql.shape(),
                kl.shape(),
                vl.shape()
            );
        }
        let (q, k, v) = (
            qs.as_slice::<f32>()?,
            ks.as_slice::<f32>()?,
            vs.as_slice::<f32>()?,
        );
        let (qo, qst) = strides4(ql, "q")?;
        let (ko, kst) = strides4(kl, "k")?;
        let (vo, vst) = strides4(vl, "v")?;
        // candle's own worker threads, the ones its quantized matmuls use: a second pool
        // (rayon) would compete with them for the same cores while they spin between ops.
        let rows: Vec<Mutex<Vec<f32>>> = (0..b * h).map(|_| Mutex::new(Vec::new())).collect();
        candle_core::utils::barrier_pool().execute_chunked(b * h, |range| {
            let mut scores = Vec::with_capacity(t);
            for bh in range {
                let (bi, hi) = (bh / h, bh % h);
                let q_row = &q[qo + bi * qst[0] + hi * qst[1]..][..d];
                let k_base = ko + bi * kst[0] + hi * kst[1];
                let v_base = vo + bi * vst[0] + hi * vst[1];
                scores.clear();
                scores.extend(
                    (0..t).map(|j| dot(q_row, &k[k_base + j * kst[2]..][..d]) * self.scale),
                );
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut total = 0f32;
                for s in &mut scores {
                    *s = (*s - max).exp();
                    total += *s;
                }
                let mut out = vec![0f32; d];
                for (j, p) in scores.iter().enumerate() {
                    let v_row = &v[v_base + j * vst[2]..][..d];
                    for (o, x) in out.iter_mut().zip(v_row) {
                        *o += p * x;
                    }
                }
                let inv = total.recip();
                out.iter_mut().for_each(|o| *o *= inv);
                *rows[bh]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = out;
            }
        });
        let out: Vec<f32> = rows
            .into_iter()
            .flat_map(|row| {
                row.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .collect();
        Ok((CpuStorage::F32(out), Shape::from((b, h, 1, d))))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, D};

    use super::single_query_attention;

    #[test]
    fn matches_softmax_of_scores_times_values_on_a_cache_view() {
        let dev = Device::Cpu;
        let q = Tensor::randn(0f32, 1.0, (2, 3, 1, 20), &dev).unwrap();
        // A cache of capacity 9 holding 7 positions: a strided view, as the decoder passes it.
        let cache_k = Tensor::randn(0f32, 1.0, (2, 3, 9, 20), &dev).unwrap();
        let cache_v = Tensor::randn(0f32, 1.0, (2, 3, 9, 20), &dev).unwrap();
        let (k, v) = (
            cache_k.narrow(2, 0, 7).unwrap(),
            cache_v.narrow(2, 0, 7).unwrap(),
        );
        let scale = 0.3;
        let got = single_query_attention(&q, &k, &v, scale).unwrap();
        let scores = (q.matmul(&k.t().unwrap()).unwrap() * scale).unwrap();
        let want = candle_nn::ops::softmax(&scores, D::Minus1)
            .unwrap()
            .matmul(&v)
            .unwrap();
        let diff = (got - want)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
    }
}
