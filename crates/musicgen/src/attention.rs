//! Attention of one new position over the self-attention cache, as one CPU kernel.
//!
//! Decoding feeds one position at a time, so each step's self-attention is, per batch row and
//! head, two matrix-vector products against a cache that grows by a row per step. Through
//! `matmul` that is thousands of tiny gemm calls per step (layers × rows × heads × 2), whose
//! fixed costs grew a late step of musicgen-small to twice the cost of an early one. Here
//! scores, softmax and the weighted sum run in one pass per head straight over the cache.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

use crate::cache::RowScales;
use crate::kernels::{dot_widening, vectorized, ParallelOut, Widen};

/// `softmax(q·Kᵀ·scale + bias)·V` for f32 `q` `[b, h, 1, d]` and f32 (or byte rows with
/// `scales`) `k`, `v` `[b, h, T, d]`; views into a cache are fine, only the last dimension
/// must be contiguous. Returns f32 `[b, h, 1, d]`.
pub(crate) fn single_query_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
    bias: Option<&[f32]>,
    scales: Option<RowScales<'_>>,
) -> Result<Tensor> {
    q.apply_op3_no_bwd(
        k,
        v,
        &SingleQuery {
            scale: scale as f32,
            bias,
            scales,
        },
    )
}

struct SingleQuery<'a> {
    scale: f32,
    /// Added to the scores: `[b, T]`, the same for every head.
    bias: Option<&'a [f32]>,
    /// Row scales of integer keys and values: required for them, refused for f32 ones.
    scales: Option<RowScales<'a>>,
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

/// The head width of every MusicGen size, for which the kernel has fixed-size loops: the
/// weighted sum then stays in registers (with a run-time width it is loaded and stored again
/// for every position), and byte rows' scores have an AVX-512 kernel.
const HEAD_DIM: usize = 64;

/// `Σ p_j · row_j` over the rows of `D` values starting every `stride` elements of `values`.
#[inline(always)]
fn weighted_sum<E: CacheElem, const D: usize>(p: &[f32], values: &[E], stride: usize) -> [f32; D] {
    let mut out = [0f32; D];
    for (j, &p) in p.iter().enumerate() {
        let row: &[E; D] = values[j * stride..][..D].try_into().expect("D values");
        for (o, x) in out.iter_mut().zip(row) {
            *o += p * x.widen();
        }
    }
    out
}

/// A cache element, widened to f32 where it is used.
trait CacheElem: Widen + Send + Sync + candle_core::WithDType {
    /// Fills `scores` with `q` against the rows `stride` apart in `keys` where an AVX-512 kernel
    /// for this element and width runs on this CPU; false if none did.
    #[inline(always)]
    fn avx512_scores(_q: &[f32], _keys: &[Self], _stride: usize, _scores: &mut [f32]) -> bool {
        false
    }
}

impl CacheElem for f32 {}

impl CacheElem for u8 {
    #[inline(always)]
    fn avx512_scores(q: &[f32], keys: &[Self], stride: usize, scores: &mut [f32]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let (Some(simd), Ok(q)) = (crate::kernels::avx512(), <&[f32; HEAD_DIM]>::try_from(q)) {
            avx512::byte_scores(simd, q, keys, stride, scores);
            return true;
        }
        let _ = (q, keys, stride, scores);
        false
    }
}

/// The scores of byte rows with explicit AVX-512: the compiler's own vectorisation of
/// [`dot_widening`] sums the 16 lanes of each score one by one (its tree of pairs came out as
/// 2-wide vectors), which was a third of the kernel's time late in a clip.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{__m128i, __m512};

    use pulp::x86::V4;

    use super::HEAD_DIM;
    use crate::kernels::LANES;

    #[inline(always)]
    pub(super) fn byte_scores(
        simd: V4,
        q: &[f32; HEAD_DIM],
        keys: &[u8],
        stride: usize,
        scores: &mut [f32],
    ) {
        let f = simd.avx512f;
        let q: [__m512; HEAD_DIM / LANES] =
            std::array::from_fn(|c| pulp::cast(lanes::<f32>(&q[c * LANES..])));
        for (j, s) in scores.iter_mut().enumerate() {
            let row = &keys[j * stride..][..HEAD_DIM];
            let mut acc = f._mm512_setzero_ps();
            for (c, q) in q.iter().enumerate() {
                let bytes: __m128i = pulp::cast(lanes::<u8>(&row[c * LANES..]));
                let k = f._mm512_cvtepi32_ps(f._mm512_cvtepi8_epi32(bytes));
                acc = f._mm512_fmadd_ps(*q, k, acc);
            }
            *s = f._mm512_reduce_add_ps(acc);
        }
    }

    #[inline(always)]
    fn lanes<T: Copy>(from: &[T]) -> [T; LANES] {
        <[T; LANES]>::try_from(&from[..LANES]).expect("a whole register")
    }
}

/// Strided f32 queries and `E` keys/values, as the kernel reads them.
struct Views<'a, E> {
    q: (&'a [f32], usize, [usize; 3]),
    k: (&'a [E], usize, [usize; 3]),
    v: (&'a [E], usize, [usize; 3]),
}

impl SingleQuery<'_> {
    fn run<E: CacheElem>(&self, views: &Views<'_, E>, (b, h, t, d): Dims4) -> Vec<f32> {
        let (q, qo, qst) = views.q;
        let (k, ko, kst) = views.k;
        let (v, vo, vst) = views.v;
        ParallelOut::zeros(b * h * d, d).fill(|rows, out| {
            vectorized!({
                let mut scores = Vec::with_capacity(t);
                for (bh, out) in rows.zip(out.chunks_exact_mut(d)) {
                    let (bi, hi) = (bh / h, bh % h);
                    let q_row = &q[qo + bi * qst[0] + hi * qst[1]..][..d];
                    let k_base = ko + bi * kst[0] + hi * kst[1];
                    let v_base = vo + bi * vst[0] + hi * vst[1];
                    let keys = &k[k_base..];
                    scores.resize(t, 0.0);
                    if !E::avx512_scores(q_row, keys, kst[2], &mut scores) {
                        for (j, s) in scores.iter_mut().enumerate() {
                            *s = dot_widening(q_row, &keys[j * kst[2]..][..d]);
                        }
                    }
                    let row_scales = self.scales.map(|s| {
                        let at = bh * s.capacity;
                        (&s.k[at..at + t], &s.v[at..at + t])
                    });
                    match row_scales {
                        Some((k_scales, _)) => {
                            for (s, ks) in scores.iter_mut().zip(k_scales) {
                                *s *= ks * self.scale;
                            }
                        }
                        None => {
                            for s in &mut scores {
                                *s *= self.scale;
                            }
                        }
                    }
                    if let Some(bias) = self.bias {
                        for (s, b) in scores.iter_mut().zip(&bias[bi * t..(bi + 1) * t]) {
                            *s += b;
                        }
                    }
                    let mut max = f32::NEG_INFINITY;
                    for &s in &scores {
                        max = max.max(s);
                    }
                    // Vectorised e^x for x ≤ 0 (the C library's expf is a call per score), in a
                    // loop of its own: a running total in it would keep it scalar.
                    for s in &mut scores {
                        *s = crate::activations::exp(*s - max);
                    }
                    let mut total = 0f32;
                    for &s in &scores {
                        total += s;
                    }
                    if let Some((_, v_scales)) = row_scales {
                        for (s, vs) in scores.iter_mut().zip(v_scales) {
                            *s *= vs;
                        }
                    }
                    let values = &v[v_base..];
                    if d == HEAD_DIM {
                        out.copy_from_slice(&weighted_sum::<E, HEAD_DIM>(&scores, values, vst[2]));
                    } else {
                        for (j, p) in scores.iter().enumerate() {
                            for (o, x) in out.iter_mut().zip(&values[j * vst[2]..][..d]) {
                                *o += p * x.widen();
                            }
                        }
                    }
                    let inv = total.recip();
                    out.iter_mut().for_each(|o| *o *= inv);
                }
            })
        })
    }
}

type Dims4 = (usize, usize, usize, usize);

impl CustomOp3 for SingleQuery<'_> {
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
        let bias_len = self.bias.map_or(b * t, <[f32]>::len);
        if one != 1
            || (kb, kh, kd) != (b, h, d)
            || vl.shape() != kl.shape()
            || t == 0
            || bias_len != b * t
        {
            candle_core::bail!(
                "single-query attention: shapes q {:?}, k {:?}, v {:?}",
                ql.shape(),
                kl.shape(),
                vl.shape()
            );
        }
        let (qo, qst) = strides4(ql, "q")?;
        let (ko, kst) = strides4(kl, "k")?;
        let (vo, vst) = strides4(vl, "v")?;
        let q = (qs.as_slice::<f32>()?, qo, qst);
        let dims = (b, h, t, d);
        let out = match (ks, vs) {
            (CpuStorage::U8(k), CpuStorage::U8(v)) => {
                if self.scales.is_none() {
                    candle_core::bail!("single-query attention: integer keys need row scales");
                }
                let views = Views {
                    q,
                    k: (k, ko, kst),
                    v: (v, vo, vst),
                };
                self.run(&views, dims)
            }
            _ => {
                if self.scales.is_some() {
                    candle_core::bail!("single-query attention: row scales given for f32 keys");
                }
                let views = Views {
                    q,
                    k: (ks.as_slice::<f32>()?, ko, kst),
                    v: (vs.as_slice::<f32>()?, vo, vst),
                };
                self.run(&views, dims)
            }
        };
        Ok((CpuStorage::F32(out), Shape::from((b, h, 1, d))))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, D};

    use crate::cache::SelfCache;
    use crate::test_util::max_abs_diff;

    use super::single_query_attention;

    #[test]
    fn matches_softmax_of_scores_times_values_on_a_cache_view() {
        // 64: MusicGen's head width, which has its own fixed-size weighted sum; 20: any other.
        for d in [20, 64] {
            let dev = Device::Cpu;
            let q = Tensor::randn(0f32, 1.0, (2, 3, 1, d), &dev).unwrap();
            // A cache of capacity 9 holding 7 positions: a strided view, as the decoder passes
            // it.
            let cache_k = Tensor::randn(0f32, 1.0, (2, 3, 9, d), &dev).unwrap();
            let cache_v = Tensor::randn(0f32, 1.0, (2, 3, 9, d), &dev).unwrap();
            let (k, v) = (
                cache_k.narrow(2, 0, 7).unwrap(),
                cache_v.narrow(2, 0, 7).unwrap(),
            );
            let scale = 0.3;
            let got = single_query_attention(&q, &k, &v, scale, None, None).unwrap();
            let scores = (q.matmul(&k.t().unwrap()).unwrap() * scale).unwrap();
            let want = candle_nn::ops::softmax(&scores, D::Minus1)
                .unwrap()
                .matmul(&v)
                .unwrap();
            assert!(max_abs_diff(&got, &want) < 1e-5, "width {d}");

            // The scaled byte cache gives the same result to within its rounding.
            let mut cache = SelfCache::new((2, 3, 9, d), true, &dev).unwrap();
            cache
                .append(
                    &cache_k.narrow(2, 0, 7).unwrap(),
                    &cache_v.narrow(2, 0, 7).unwrap(),
                )
                .unwrap();
            let view = cache.view().unwrap();
            let scaled =
                single_query_attention(&q, &view.k, &view.v, scale, None, view.scales).unwrap();
            // Exactly the attention over the rows the cache holds, expanded back to f32...
            let (k_rounded, v_rounded) = view.to_f32().unwrap();
            let scores = (q.matmul(&k_rounded.t().unwrap()).unwrap() * scale).unwrap();
            let want_rounded = candle_nn::ops::softmax(&scores, D::Minus1)
                .unwrap()
                .matmul(&v_rounded)
                .unwrap();
            let diff = max_abs_diff(&scaled, &want_rounded);
            assert!(
                diff < 1e-5,
                "width {d}: differs by {diff} from its own rows"
            );
            // ...which are within their rounding of the f32 ones.
            let diff = max_abs_diff(&scaled, &got);
            assert!(diff < 0.1, "width {d}: scaled cache differs by {diff}");
            assert!(diff > 0.0, "width {d}: the scaled path was not taken");
        }
    }

    #[test]
    fn a_per_row_bias_hides_masked_positions_as_an_added_score_bias_does() {
        let dev = Device::Cpu;
        let q = Tensor::randn(0f32, 1.0, (2, 3, 1, 16), &dev).unwrap();
        let k = Tensor::randn(0f32, 1.0, (2, 3, 5, 16), &dev).unwrap();
        let v = Tensor::randn(0f32, 1.0, (2, 3, 5, 16), &dev).unwrap();
        // Row 0 sees its first three positions; row 1 (the unconditional one) sees nothing.
        let bias: Vec<f32> = [0.0, 0.0, 0.0, -1e30, -1e30]
            .into_iter()
            .chain([-1e30; 5])
            .collect();
        let got = single_query_attention(&q, &k, &v, 0.25, Some(&bias), None).unwrap();
        let scores = ((q.matmul(&k.t().unwrap()).unwrap() * 0.25).unwrap())
            .broadcast_add(&Tensor::from_slice(&bias, (2, 1, 1, 5), &dev).unwrap())
            .unwrap();
        let want = candle_nn::ops::softmax(&scores, D::Minus1)
            .unwrap()
            .matmul(&v)
            .unwrap();
        let diff = max_abs_diff(&got, &want);
        assert!(diff < 1e-5, "differs by {diff}");
    }
}
