//! f32 products of a decoding step's few rows with a dense weight.
//!
//! A step multiplies two rows per job (guidance) by every linear layer's `[out, in]` weight:
//! two alone, sixteen for eight jobs decoded together. candle hands `x · wᵀ` to gemm, which
//! for so few rows still packs the weight into panels on every call: a step of musicgen-small in f32 ran at 5–15 GB/s of weights where the
//! machine reads 20–50. Here each weight row is read from memory once, straight from the tensor,
//! and multiplied against every input row while it is in L1, on candle's own worker threads.
//! More rows (the prompt in T5, a prefill) still go to gemm, which shares its packing among them.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};

use crate::kernels::{columns_to_rows, dot, vectorized, ParallelOut};

/// The most input rows taken here: eight batched jobs with guidance. Up to this many, the
/// input rows stay in L2 while each weight row is used against all of them; beyond it (long
/// prompts in T5) gemm's packing pays for itself.
const MAX_ROWS: usize = 16;

/// `x` `[m, in]` times `w` `[out, in]` transposed: `[m, out]`.
pub(crate) fn times_transposed(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let few_rows = (1..=MAX_ROWS).contains(&x.dim(0)?)
        && x.device().is_cpu()
        && (x.dtype(), w.dtype()) == (DType::F32, DType::F32)
        && w.is_contiguous();
    if few_rows {
        x.contiguous()?.apply_op2_no_bwd(w, &FewRows)
    } else {
        x.matmul(&w.t()?)
    }
}

struct FewRows;

impl CustomOp2 for FewRows {
    fn name(&self) -> &'static str {
        "few-rows-times-transposed"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let ((m, k), (n, wk)) = (xl.shape().dims2()?, wl.shape().dims2()?);
        let (Some((x0, x1)), Some((w0, w1))) = (xl.contiguous_offsets(), wl.contiguous_offsets())
        else {
            candle_core::bail!("few-rows product: both operands must be contiguous");
        };
        if k != wk || m > MAX_ROWS {
            candle_core::bail!("few-rows product: [{m}, {k}] times [{n}, {wk}]ᵀ");
        }
        let x = &xs.as_slice::<f32>()?[x0..x1];
        let w = &ws.as_slice::<f32>()?[w0..w1];
        Ok((CpuStorage::F32(product(x, w, m, k)), Shape::from((m, n))))
    }
}

/// `[m, out]`, spread over candle's threads by output column. Each weight row is multiplied
/// by every input row in turn: after the first, it is read from L1, so the weight crosses the
/// memory bus once per call. (One loop over all input rows at once came out of LLVM as 4-wide
/// shuffles.)
fn product(x: &[f32], w: &[f32], m: usize, k: usize) -> Vec<f32> {
    let n = w.len() / k;
    let by_column = ParallelOut::zeros(n * m, m).fill(|columns, out| {
        vectorized!({
            for (j, out) in columns.zip(out.chunks_exact_mut(m)) {
                let weights = &w[j * k..][..k];
                for (o, row) in out.iter_mut().zip(x.chunks_exact(k)) {
                    *o = dot(row, weights);
                }
            }
        })
    });
    columns_to_rows(by_column, m)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::times_transposed;
    use crate::test_util::max_abs_diff;

    #[test]
    fn few_rows_equal_the_matrix_product() {
        let dev = Device::Cpu;
        // 100: not a whole number of registers, so the tail is covered too; 17 rows go to gemm.
        for (m, k) in [
            (1, 64),
            (2, 100),
            (3, 1024),
            (4, 48),
            (7, 64),
            (16, 100),
            (17, 64),
        ] {
            let x = Tensor::randn(0f32, 1.0, (m, k), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (37, k), &dev).unwrap();
            let got = times_transposed(&x, &w).unwrap();
            let want = x.matmul(&w.t().unwrap()).unwrap();
            assert_eq!(got.dims(), &[m, 37]);
            let diff = max_abs_diff(&got, &want);
            assert!(diff < 1e-4, "{m} rows of {k}: off by {diff}");
        }
    }
}
