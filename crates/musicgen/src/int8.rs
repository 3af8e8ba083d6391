//! Q8_0 matrix products for CPUs on which candle has no fast Q8_0 kernel.
//!
//! candle repacks Q8_0 weights for its AVX-512 VNNI and AVX-VNNI kernels, but on plain AVX2
//! (AMD Zen 1–3, Intel before Alder Lake: much of the cloud) it falls back to one generic dot
//! product call per weight row and activation row, and a Q8_0 decoding step of musicgen-small
//! took ≈ 3× its Q4K step there. Here the same blocks (32 signed bytes, one scale) are kept
//! unpacked and multiplied against activations quantized alike, all activation rows against a
//! weight block while it is in registers, on candle's own worker threads. The AVX2 path is
//! chosen at run time through `pulp` (safe feature dispatch); other CPUs get the portable loop.

use std::ops::Range;

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Result, Tensor};

use crate::kernels::{columns_to_rows, vectorized, ParallelOut};
use crate::weights::Weights;

/// Values per block, as in GGUF's Q8_0.
pub(crate) const BLOCK: usize = 32;
/// Bytes of one GGUF Q8_0 block: an f16 scale, then the 32 values.
const GGUF_BLOCK_BYTES: usize = 2 + BLOCK;
/// Output rows per parallel task: enough work to outweigh taking it from the shared cursor.
const ROWS_PER_TASK: usize = 16;
/// Activation rows multiplied against a weight block while it is loaded (decoding with
/// guidance has two).
const GROUP: usize = 2;

/// Whether Q8_0 layers should use this kernel rather than candle's on this CPU: where candle
/// has a VNNI kernel for them, that one is kept. `CODA_Q8_KERNEL=candle|coda` overrides the
/// choice, so the two can be compared on one machine.
pub(crate) fn preferred() -> bool {
    // Asked once per layer at load: decided once per process.
    static PREFERRED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PREFERRED.get_or_init(decide)
}

fn decide() -> bool {
    match std::env::var("CODA_Q8_KERNEL").as_deref() {
        Ok("candle") => return false,
        Ok("coda") => return true,
        _ => {}
    }
    #[cfg(target_arch = "x86_64")]
    {
        let candle_fast = (std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vnni"))
            || std::is_x86_feature_detected!("avxvnni");
        !candle_fast
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A `[rows, cols]` weight of Q8_0 blocks along `cols`: `value = scale · q`.
#[derive(Debug)]
pub(crate) struct Int8Matrix {
    rows: usize,
    cols: usize,
    qs: Vec<i8>,
    /// One per block, row-major: `rows × cols / BLOCK`.
    scales: Vec<f32>,
}

impl Int8Matrix {
    /// Unpacks a 2-d Q8_0 tensor (`[rows, cols]`, as GGUF stores a linear layer's weight).
    pub fn from_q8_0(t: &QTensor) -> Result<Self> {
        if t.dtype() != GgmlDType::Q8_0 {
            candle_core::bail!("int8 matrix: expected Q8_0 blocks, got {:?}", t.dtype());
        }
        let (rows, cols) = t.shape().dims2()?;
        if cols % BLOCK != 0 {
            candle_core::bail!("int8 matrix: {cols} columns are not whole blocks of {BLOCK}");
        }
        let data = t.data()?;
        let blocks = rows * cols / BLOCK;
        if data.len() != blocks * GGUF_BLOCK_BYTES {
            candle_core::bail!("int8 matrix: {} bytes for {blocks} Q8_0 blocks", data.len());
        }
        let mut qs = Vec::with_capacity(rows * cols);
        let mut scales = Vec::with_capacity(blocks);
        for block in data.chunks_exact(GGUF_BLOCK_BYTES) {
            scales.push(half::f16::from_le_bytes([block[0], block[1]]).to_f32());
            qs.extend(block[2..].iter().map(|&b| b as i8));
        }
        Ok(Self {
            rows,
            cols,
            qs,
            scales,
        })
    }

    /// [`from_q8_0`](Self::from_q8_0) of the quantized weight `name` in `w`, then drops the
    /// weights' hold on its GGUF blocks: a model's load never holds both copies of a layer.
    pub fn take_from(w: &Weights, name: &str, q: &QTensor) -> Result<Self> {
        let matrix = Self::from_q8_0(q)?;
        w.release_quantized(name);
        Ok(matrix)
    }

    pub fn out_dim(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `x` `[m, cols]` (contiguous f32) times this matrix transposed: `[m, rows]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(Self::forward_shared(&[self], x)?.remove(0))
    }

    /// [`forward`](Self::forward) for several matrices of the same input width: the input is
    /// quantized once and all products run in one parallel region.
    pub fn forward_shared(mats: &[&Self], x: &Tensor) -> Result<Vec<Tensor>> {
        let (m, cols) = x.dims2()?;
        if let Some(bad) = mats.iter().find(|w| w.cols != cols) {
            candle_core::bail!("int8 matrix: input has {cols} columns, weight {}", bad.cols);
        }
        let x = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let act = vectorized!(quantize_rows(&x, cols));
        let outs = products(mats, &act);
        outs.into_iter()
            .zip(mats)
            .map(|(y, w)| Tensor::from_vec(y, (m, w.rows), &candle_core::Device::Cpu))
            .collect()
    }

    /// Rows `ids` expanded to f32, `[ids.len(), cols]`: the matrix used as a lookup table.
    pub fn gather_rows(&self, ids: &[u32]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(ids.len() * self.cols);
        for &id in ids {
            let r = id as usize;
            if r >= self.rows {
                candle_core::bail!("int8 matrix: row {r} looked up in a table of {}", self.rows);
            }
            let (qs, scales) = self.row(r);
            for (block, s) in qs.chunks_exact(BLOCK).zip(scales) {
                out.extend(block.iter().map(|&q| f32::from(q) * s));
            }
        }
        Ok(out)
    }

    fn row(&self, r: usize) -> (&[i8], &[f32]) {
        let per_row = self.cols / BLOCK;
        (
            &self.qs[r * self.cols..(r + 1) * self.cols],
            &self.scales[r * per_row..(r + 1) * per_row],
        )
    }
}

/// Rows of `cols` values (activations) quantized to the same blocks: each block of 32 values
/// → round(value / scale) with `scale = max |value| / 127`.
#[inline(always)]
fn quantize_rows(x: &[f32], cols: usize) -> Int8Matrix {
    let (qs, scales) = crate::scaled::scale_rows(x, BLOCK);
    Int8Matrix {
        rows: x.len() / cols,
        cols,
        qs,
        scales,
    }
}

/// Every activation row times every matrix: one `Vec` `[act.rows, rows]` per matrix.
fn products(mats: &[&Int8Matrix], act: &Int8Matrix) -> Vec<Vec<f32>> {
    let m = act.rows;
    // The weight rows of all matrices, one after another: one parallel region for all.
    let mut starts = vec![0];
    for w in mats {
        starts.push(starts[starts.len() - 1] + w.rows);
    }
    let total = starts[mats.len()];
    let mut by_row = ParallelOut::zeros(total * m, m)
        .fill_in_tasks_of(ROWS_PER_TASK, |rows, out| {
            run_task(rows, out, mats, &starts, act)
        });
    // Split from the end: each matrix's values are copied out once, whatever follows them.
    let mut outs: Vec<Vec<f32>> = mats
        .iter()
        .rev()
        .map(|w| {
            let own = by_row.split_off(by_row.len() - w.rows * m);
            columns_to_rows(own, m)
        })
        .collect();
    outs.reverse();
    outs
}

/// A task's run of weight rows (numbered across all `mats`, first rows at `starts`), into
/// `out` `[rows, act.rows]`; the CPU's features are looked up once per task, not per row.
fn run_task(
    rows: Range<usize>,
    out: &mut [f32],
    mats: &[&Int8Matrix],
    starts: &[usize],
    act: &Int8Matrix,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = crate::kernels::avx2() {
        // The whole task in one AVX2 context, so the loops around the kernel inline into it.
        return simd.vectorize(|| share(rows, out, mats, starts, act, avx2::Avx2(simd)));
    }
    share(rows, out, mats, starts, act, Portable);
}

/// [`task`] for each matrix the run of rows reaches into.
#[inline(always)]
fn share(
    rows: Range<usize>,
    out: &mut [f32],
    mats: &[&Int8Matrix],
    starts: &[usize],
    act: &Int8Matrix,
    kernel: impl Dots + Copy,
) {
    let m = act.rows;
    let mut r = rows.start;
    while r < rows.end {
        // The last matrix starting at or before row `r` (skipping any with no rows).
        let i = starts.partition_point(|&s| s <= r) - 1;
        let end = rows.end.min(starts[i + 1]);
        let at = (r - rows.start) * m..(end - rows.start) * m;
        task(
            mats[i],
            r - starts[i]..end - starts[i],
            act,
            &mut out[at],
            kernel,
        );
        r = end;
    }
}

/// Dot products of one weight row with one or two activation rows. Implemented by types, not
/// passed as closures: a closure is a function of its own, compiled without the AVX2 context
/// it is created in unless it happens to be inlined.
trait Dots {
    fn dots(&self, wq: &[i8], ws: &[f32], acts: &[Act<'_>]) -> [f32; GROUP];
}

#[derive(Clone, Copy)]
struct Portable;

impl Dots for Portable {
    #[inline(always)]
    fn dots(&self, wq: &[i8], ws: &[f32], acts: &[Act<'_>]) -> [f32; GROUP] {
        let mut out = [0f32; GROUP];
        for (o, &(a, sa)) in out.iter_mut().zip(acts) {
            *o = wq
                .chunks_exact(BLOCK)
                .zip(a.chunks_exact(BLOCK))
                .zip(ws.iter().zip(sa))
                .map(|((w, a), (sw, sa))| {
                    let dot: i32 = w
                        .iter()
                        .zip(a)
                        .map(|(&w, &a)| i32::from(w) * i32::from(a))
                        .sum();
                    dot as f32 * (sw * sa)
                })
                .sum();
        }
        out
    }
}

/// One weight row against one or two activation rows (`(qs, scales)` each).
type Act<'a> = (&'a [i8], &'a [f32]);

/// Weight rows `rows` of `w` against every activation row, into `out` `[rows, act.rows]`.
#[inline(always)]
fn task(w: &Int8Matrix, rows: Range<usize>, act: &Int8Matrix, out: &mut [f32], kernel: impl Dots) {
    let m = act.rows;
    for (r, out) in rows.zip(out.chunks_exact_mut(m)) {
        let (wq, ws) = w.row(r);
        for g in (0..m).step_by(GROUP) {
            let n = GROUP.min(m - g);
            let group: [Act<'_>; GROUP] = std::array::from_fn(|j| act.row(g + j.min(n - 1)));
            let d = kernel.dots(wq, ws, &group[..n]);
            out[g..g + n].copy_from_slice(&d[..n]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::{__m256, __m256i};

    use pulp::x86::V3;

    use super::{Act, Dots, BLOCK, GROUP};

    #[derive(Clone, Copy)]
    pub(super) struct Avx2(pub V3);

    impl Dots for Avx2 {
        #[inline(always)]
        fn dots(&self, wq: &[i8], ws: &[f32], acts: &[Act<'_>]) -> [f32; GROUP] {
            dots(self.0, wq, ws, acts)
        }
    }

    /// The products follow ggml's AVX2 ones: |w| (unsigned) times a with w's sign, pairwise
    /// sums to 16 bits (at most 2 · 128 · 127: no overflow), then to 32 bits, scaled per block
    /// into f32 lanes summed once at the end. Two accumulators per row (even and odd blocks)
    /// so consecutive blocks do not wait on one another's multiply-add.
    #[inline(always)]
    pub(super) fn dots(simd: V3, wq: &[i8], ws: &[f32], acts: &[Act<'_>]) -> [f32; GROUP] {
        match acts {
            [a] => {
                let [x] = rows::<1>(simd, wq, ws, [*a]);
                [x, 0.0]
            }
            [a, b] => rows::<2>(simd, wq, ws, [*a, *b]),
            _ => unreachable!("groups hold one or two rows"),
        }
    }

    #[inline(always)]
    fn rows<const G: usize>(simd: V3, wq: &[i8], ws: &[f32], acts: [Act<'_>; G]) -> [f32; G] {
        let zero = simd.avx._mm256_setzero_ps();
        let mut acc = [[zero; 2]; G];
        let blocks = ws.len();
        assert!(wq.len() == blocks * BLOCK);
        for (a, sa) in &acts {
            assert!(a.len() == blocks * BLOCK && sa.len() == blocks);
        }
        let mut b = 0;
        while b + 1 < blocks {
            block(simd, (wq, ws), &acts, b, 0, &mut acc);
            block(simd, (wq, ws), &acts, b + 1, 1, &mut acc);
            b += 2;
        }
        if b < blocks {
            block(simd, (wq, ws), &acts, b, 0, &mut acc);
        }
        let mut out = [0f32; G];
        for (o, [even, odd]) in out.iter_mut().zip(acc) {
            let lanes: [f32; 8] = pulp::cast(simd.avx._mm256_add_ps(even, odd));
            *o = lanes.iter().sum();
        }
        out
    }

    /// Block `b` of the weight row into accumulator `lane` of every activation row.
    #[inline(always)]
    fn block<const G: usize>(
        simd: V3,
        (wq, ws): (&[i8], &[f32]),
        acts: &[Act<'_>; G],
        b: usize,
        lane: usize,
        acc: &mut [[__m256; 2]; G],
    ) {
        let ones = simd.avx._mm256_set1_epi16(1);
        let w: __m256i = pulp::cast(load(&wq[b * BLOCK..]));
        let w_abs = simd.avx2._mm256_abs_epi8(w);
        let sw = simd.avx._mm256_set1_ps(ws[b]);
        for g in 0..G {
            let (a, sa) = acts[g];
            let a: __m256i = pulp::cast(load(&a[b * BLOCK..]));
            let signed = simd.avx2._mm256_sign_epi8(a, w);
            let pairs = simd.avx2._mm256_maddubs_epi16(w_abs, signed);
            let sums = simd
                .avx
                ._mm256_cvtepi32_ps(simd.avx2._mm256_madd_epi16(pairs, ones));
            let scale = simd.avx._mm256_mul_ps(sw, simd.avx._mm256_set1_ps(sa[b]));
            acc[g][lane] = simd.fma._mm256_fmadd_ps(sums, scale, acc[g][lane]);
        }
    }

    #[inline(always)]
    fn load(from: &[i8]) -> [i8; BLOCK] {
        <[i8; BLOCK]>::try_from(&from[..BLOCK]).expect("a whole block")
    }
}

#[cfg(test)]
mod tests {
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    use super::{quantize_rows, Dots, Int8Matrix, Portable, BLOCK};

    fn weight(rows: usize, cols: usize) -> (Tensor, QTensor) {
        let w = Tensor::randn(0f32, 1.0, (rows, cols), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&w, GgmlDType::Q8_0).unwrap();
        (w, q)
    }

    /// Reference: dequantized weights times dequantized activations, summed in f64.
    fn reference(q: &QTensor, x: &[f32], cols: usize) -> Vec<f32> {
        let w = q
            .dequantize(&Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let act = quantize_rows(x, cols);
        let a: Vec<f64> = act
            .qs
            .iter()
            .enumerate()
            .map(|(i, &v)| f64::from(v) * f64::from(act.scales[i / BLOCK]))
            .collect();
        a.chunks(cols)
            .flat_map(|a| {
                w.iter()
                    .map(|row| {
                        row.iter()
                            .zip(a)
                            .map(|(&w, &a)| f64::from(w) * a)
                            .sum::<f64>() as f32
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn products_equal_the_dequantized_product_for_every_row_count() {
        let (w, q) = weight(40, 96);
        let m = Int8Matrix::from_q8_0(&q).unwrap();
        // 1..=9 rows: every group size of the kernel, and more rows than one group.
        for rows in 1..=9 {
            let x = Tensor::randn(0f32, 1.0, (rows, 96), &Device::Cpu).unwrap();
            let got = m.forward(&x).unwrap();
            assert_eq!(got.dims(), &[rows, 40]);
            let got = got.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let want = reference(&q, &x.flatten_all().unwrap().to_vec1().unwrap(), 96);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{g} vs {w}");
            }
            // And close to the unquantized product, as Q8_0 is.
            let dense = x.matmul(&w.t().unwrap()).unwrap();
            let dense = dense.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let err: f32 = got.iter().zip(&dense).map(|(a, b)| (a - b).powi(2)).sum();
            let norm: f32 = dense.iter().map(|b| b * b).sum();
            assert!(
                (err / norm).sqrt() < 0.02,
                "relative error {}",
                (err / norm).sqrt()
            );
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_vector_path_agrees_with_the_portable_loop() {
        let (_, q) = weight(8, 256);
        let m = Int8Matrix::from_q8_0(&q).unwrap();
        let x = Tensor::randn(0f32, 3.0, (2, 256), &Device::Cpu).unwrap();
        let act = quantize_rows(&x.flatten_all().unwrap().to_vec1().unwrap(), 256);
        let acts = [act.row(0), act.row(1)];
        for r in 0..8 {
            let (wq, ws) = m.row(r);
            let plain = Portable.dots(wq, ws, &acts);
            let fast = match crate::kernels::avx2() {
                Some(simd) => simd.vectorize(|| super::avx2::Avx2(simd).dots(wq, ws, &acts)),
                None => return, // no AVX2 here: only the portable loop runs
            };
            for (f, p) in fast.iter().zip(plain) {
                assert!((f - p).abs() <= 1e-4 * p.abs().max(1.0), "{f} vs {p}");
            }
        }
    }

    #[test]
    fn shared_products_equal_separate_ones() {
        // 40 and 20 rows: tasks of 16 rows straddle the matrices' boundaries.
        let mats: Vec<Int8Matrix> = [32, 48, 40, 20, 8]
            .into_iter()
            .map(|rows| Int8Matrix::from_q8_0(&weight(rows, 64).1).unwrap())
            .collect();
        let refs: Vec<&Int8Matrix> = mats.iter().collect();
        for rows in [1, 2, 3] {
            let x = Tensor::randn(0f32, 1.0, (rows, 64), &Device::Cpu).unwrap();
            let shared = Int8Matrix::forward_shared(&refs, &x).unwrap();
            assert_eq!(shared.len(), mats.len());
            for (s, m) in shared.iter().zip(&mats) {
                let alone = m.forward(&x).unwrap();
                assert_eq!(s.dims(), alone.dims());
                let d = (s - &alone).unwrap().abs().unwrap().max_all().unwrap();
                assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
            }
        }
    }

    #[test]
    fn looked_up_rows_are_the_rows_the_blocks_hold() {
        let (_, q) = weight(40, 96);
        let table = Int8Matrix::from_q8_0(&q).unwrap();
        let want = q
            .dequantize(&Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let ids = [3, 0, 39, 3];
        let got = table.gather_rows(&ids).unwrap();
        let want: Vec<f32> = ids.iter().flat_map(|&i| want[i as usize].clone()).collect();
        assert_eq!(got, want);
        let err = table.gather_rows(&[40]).unwrap_err().to_string();
        assert!(err.contains("row 40") && err.contains("of 40"), "{err}");
    }

    #[test]
    fn refuses_other_block_types() {
        let w = Tensor::randn(0f32, 1.0, (4, 256), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&w, GgmlDType::Q4K).unwrap();
        let err = Int8Matrix::from_q8_0(&q).unwrap_err().to_string();
        assert!(err.contains("Q8_0"), "{err}");
    }
}
