//! The one linear-layer type used by the text projection, decoder and heads, so that a
//! quantized matmul can later replace the dense weight in a single place.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Module, Result as CandleResult, Tensor};

use crate::error::Result;
use crate::int8::Int8Matrix;
use crate::weights::Weights;

#[derive(Debug, Clone)]
pub(crate) struct Linear {
    weight: LinearWeight,
    bias: Option<Tensor>,
}

/// The weight of a [`Linear`]: dense, or quantized blocks (GGUF types such as Q8_0 / Q4K).
#[derive(Debug, Clone)]
pub(crate) enum LinearWeight {
    /// `[out, in]`, as PyTorch stores it.
    Dense(Tensor),
    Quantized {
        matmul: QMatMul,
        out_dim: usize,
    },
    /// Q8_0 blocks for [`crate::int8`]'s kernel, on CPUs where candle has no fast Q8_0 one.
    Int8(Arc<Int8Matrix>),
}

/// How often a layer runs, which decides the layout its Q8_0 blocks are kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runs {
    /// On every decoding step: the fastest kernel the CPU has, even where that is candle's
    /// VNNI one, which keeps a repacked second copy of the weights beside the GGUF blocks.
    EveryStep,
    /// Once per job (the T5 encoder): always [`crate::int8`]'s unpacked blocks, one copy in
    /// memory. A prompt's few dozen rows take milliseconds either way.
    OncePerJob,
}

impl Linear {
    pub fn load(
        w: &Weights,
        prefix: &str,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
    ) -> Result<Self> {
        Self::load_for(w, prefix, in_dim, out_dim, bias, Runs::EveryStep)
    }

    pub fn load_for(
        w: &Weights,
        prefix: &str,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
        runs: Runs,
    ) -> Result<Self> {
        let name = format!("{prefix}.weight");
        let weight = match w.get_quantized(&name, &[out_dim, in_dim])? {
            Some(q)
                if q.dtype() == GgmlDType::Q8_0
                    && q.device().is_cpu()
                    && (runs == Runs::OncePerJob || crate::int8::preferred()) =>
            {
                LinearWeight::Int8(Arc::new(Int8Matrix::take_from(w, &name, &q)?))
            }
            Some(q) => LinearWeight::Quantized {
                matmul: QMatMul::from_arc(q)?,
                out_dim,
            },
            None => LinearWeight::Dense(w.get(&name, &[out_dim, in_dim])?),
        };
        let bias = if bias {
            Some(w.get(&format!("{prefix}.bias"), &[out_dim])?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    /// `layers[i].forward(x)` for every layer, with one pass over `x` when all are quantized
    /// alike and bias-free (q/k/v, the codebook heads): candle then quantizes the input once
    /// and runs the products in one parallel region instead of one each.
    pub fn forward_shared(layers: &[&Linear], x: &Tensor) -> CandleResult<Vec<Tensor>> {
        let int8: Option<Vec<&Int8Matrix>> = layers
            .iter()
            .map(|l| match (&l.weight, &l.bias) {
                (LinearWeight::Int8(m), None) => Some(m.as_ref()),
                _ => None,
            })
            .collect();
        if let Some(mats) = int8 {
            return Int8Matrix::forward_shared(&mats, &rows(x)?)?
                .into_iter()
                .zip(layers)
                .map(|(y, l)| l.unfold_rows(&y, x.dims()))
                .collect();
        }
        let quantized: Option<Vec<&QTensor>> = layers
            .iter()
            .map(|l| match (&l.weight, &l.bias) {
                (
                    LinearWeight::Quantized {
                        matmul: QMatMul::QTensor(q),
                        ..
                    },
                    None,
                ) => Some(q.as_ref()),
                _ => None,
            })
            .collect();
        if let Some(qs) = quantized {
            if let Some(outs) = QTensor::gemv_fused_shared_lhs(&qs, &rows(x)?.contiguous()?)? {
                return outs
                    .into_iter()
                    .zip(layers)
                    .map(|(y, l)| l.unfold_rows(&y, x.dims()))
                    .collect();
            }
        }
        layers.iter().map(|l| l.forward(x)).collect()
    }

    pub fn is_quantized(&self) -> bool {
        matches!(
            self.weight,
            LinearWeight::Quantized { .. } | LinearWeight::Int8(_)
        )
    }

    /// `y` `[rows, out]` back to the leading dims of the input it came from.
    fn unfold_rows(&self, y: &Tensor, input_dims: &[usize]) -> CandleResult<Tensor> {
        let mut out_dims = input_dims.to_vec();
        *out_dims.last_mut().expect("input has at least one dim") = self.out_dim()?;
        y.reshape(out_dims)
    }

    fn out_dim(&self) -> CandleResult<usize> {
        match &self.weight {
            LinearWeight::Dense(w) => w.dim(0),
            LinearWeight::Quantized { out_dim, .. } => Ok(*out_dim),
            LinearWeight::Int8(m) => Ok(m.out_dim()),
        }
    }
}

impl Module for Linear {
    /// Folds all leading dims into one matrix so the weight is read once per call, not once
    /// per batch row (decoding is bound by memory bandwidth).
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let flat = rows(x)?;
        let y = match &self.weight {
            LinearWeight::Dense(w) => crate::dense::times_transposed(&flat, w)?,
            // The quantized kernel reads its input as one contiguous block.
            LinearWeight::Quantized { matmul, .. } => matmul.forward(&flat.contiguous()?)?,
            LinearWeight::Int8(m) => m.forward(&flat)?,
        };
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        self.unfold_rows(&y, x.dims())
    }
}

/// `x` with all leading dims folded into rows: `[rows, in]`.
fn rows(x: &Tensor) -> CandleResult<Tensor> {
    let in_dim = x.dim(candle_core::D::Minus1)?;
    x.reshape((x.elem_count() / in_dim, in_dim))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Module, Tensor};

    use super::{Linear, LinearWeight, Runs};
    use crate::weights::Weights;

    /// A batched step multiplies every job's rows in one call: each row's product must be
    /// bit for bit what it is alone, for every kind of weight (the shape is one candle's VNNI
    /// kernels take: 16-column tiles, 256-wide blocks).
    #[test]
    fn a_rows_product_does_not_depend_on_the_rows_beside_it() {
        let dev = Device::Cpu;
        let (out, inp) = (64, 512);
        let dense = Tensor::randn(0f32, 1.0, (out, inp), &dev).unwrap();
        let q = || Arc::new(QTensor::quantize(&dense, GgmlDType::Q8_0).unwrap());
        let mut weights =
            Weights::from_map(HashMap::from([("dense.weight".to_string(), dense.clone())]));
        weights.insert_quantized("q8.weight".into(), q());
        weights.insert_quantized("once.weight".into(), q());
        let layers = [
            Linear::load(&weights, "dense", inp, out, false).unwrap(),
            Linear::load(&weights, "q8", inp, out, false).unwrap(),
            Linear::load_for(&weights, "once", inp, out, false, Runs::OncePerJob).unwrap(),
        ];
        let x = Tensor::randn(0f32, 1.0, (16, inp), &dev).unwrap();
        for (i, layer) in layers.iter().enumerate() {
            let batch = layer.forward(&x).unwrap();
            let shared = Linear::forward_shared(&[layer, layer], &x).unwrap();
            for row in [0, 5, 15] {
                let alone = layer.forward(&x.narrow(0, row, 1).unwrap()).unwrap();
                let alone: Vec<f32> = alone.flatten_all().unwrap().to_vec1().unwrap();
                for (what, got) in [("forward", &batch), ("forward_shared", &shared[1])] {
                    let got: Vec<f32> = got.get(row).unwrap().to_vec1().unwrap();
                    assert!(
                        got == alone,
                        "layer {i}, {what}, row {row}: depends on its mates"
                    );
                }
            }
        }
    }

    #[test]
    fn layers_run_once_per_job_keep_one_unpacked_copy_of_their_q8_0_blocks() {
        let dev = Device::Cpu;
        let dense = Tensor::randn(0f32, 1.0, (48, 128), &dev).unwrap();
        let mut weights = Weights::from_map(HashMap::new());
        let q = QTensor::quantize(&dense, GgmlDType::Q8_0).unwrap();
        weights.insert_quantized("enc.wo.weight".into(), Arc::new(q));

        let layer = Linear::load_for(&weights, "enc.wo", 128, 48, false, Runs::OncePerJob).unwrap();
        // Whatever the CPU: candle's VNNI kernels would add a repacked copy at the first call.
        assert!(matches!(layer.weight, LinearWeight::Int8(_)));
        assert!(
            weights
                .get_quantized("enc.wo.weight", &[48, 128])
                .unwrap()
                .is_none(),
            "the GGUF blocks are still held beside the unpacked ones"
        );

        let x = Tensor::randn(0f32, 1.0, (13, 128), &dev).unwrap();
        let got = layer.forward(&x).unwrap();
        let want = x.matmul(&dense.t().unwrap()).unwrap();
        let err = (&got - &want).unwrap().sqr().unwrap().sum_all().unwrap();
        let norm = want.sqr().unwrap().sum_all().unwrap();
        let rel = (err.to_scalar::<f32>().unwrap() / norm.to_scalar::<f32>().unwrap()).sqrt();
        assert!(rel < 0.02, "relative error {rel} is not Q8_0's");
    }
}
