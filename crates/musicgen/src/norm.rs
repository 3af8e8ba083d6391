//! Layer normalisation of the decoder's few rows per call, on the calling thread.
//!
//! candle's layer-norm kernel hands rows to rayon's pool. A decoding step normalises one row
//! per batch entry, 73 times for musicgen-small, and waking rayon for so little work costs
//! more than the arithmetic; worse, the woken threads then spin for CPU the step's own
//! threads need. Same arithmetic as candle's kernel (one pass of sums in f32).

use candle_core::{CpuStorage, CustomOp1, Layout, Module, Result, Shape, Tensor};

#[derive(Debug, Clone)]
pub(crate) struct LayerNorm {
    /// The tensor form, for devices other than the CPU.
    module: candle_nn::LayerNorm,
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    pub fn new(weight: Tensor, bias: Tensor, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: weight.to_vec1()?,
            bias: bias.to_vec1()?,
            eps: eps as f32,
            module: candle_nn::LayerNorm::new(weight, bias, eps),
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !x.device().is_cpu() {
            return self.module.forward(x);
        }
        x.contiguous()?.apply_op1_no_bwd(self)
    }
}

impl CustomOp1 for LayerNorm {
    fn name(&self) -> &'static str {
        "serial-layer-norm"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("layer norm: input must be contiguous");
        };
        let src = &storage.as_slice::<f32>()?[start..end];
        let dim = self.weight.len();
        if layout.dims().last() != Some(&dim) {
            candle_core::bail!("layer norm over {dim} values, input {:?}", layout.shape());
        }
        let mut dst = vec![0f32; src.len()];
        crate::kernels::vectorized!({
            for (src, dst) in src.chunks_exact(dim).zip(dst.chunks_exact_mut(dim)) {
                let (sum, sum2) = src
                    .iter()
                    .fold((0f32, 0f32), |(s, s2), &v| (s + v, s2 + v * v));
                let mean = sum / dim as f32;
                let var = sum2 / dim as f32 - mean * mean;
                let inv_std = (var + self.eps).sqrt().recip();
                for (((d, s), w), b) in dst.iter_mut().zip(src).zip(&self.weight).zip(&self.bias) {
                    *d = (s - mean) * inv_std * w + b;
                }
            }
        });
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Module, Tensor};

    use super::LayerNorm;
    use crate::test_util::max_abs_diff;

    #[test]
    fn matches_candles_layer_norm() {
        let dev = Device::Cpu;
        let x = (Tensor::randn(0f32, 3.0, (2, 3, 48), &dev).unwrap() + 1.5).unwrap();
        let w = Tensor::randn(0f32, 1.0, 48, &dev).unwrap();
        let b = Tensor::randn(0f32, 1.0, 48, &dev).unwrap();
        let ours = LayerNorm::new(w.clone(), b.clone(), 1e-5)
            .unwrap()
            .forward(&x)
            .unwrap();
        let theirs = candle_nn::LayerNorm::new(w, b, 1e-5).forward(&x).unwrap();
        let diff = max_abs_diff(&ours, &theirs);
        assert!(diff < 1e-5, "differs by {diff}");
    }
}
