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

impl Linear {
    pub fn load(
        w: &Weights,
        prefix: &str,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
    ) -> Result<Self> {
        let name = format!("{prefix}.weight");
        let weight = match w.get_quantized(&name, &[out_dim, in_dim])? {
            Some(q)
                if q.dtype() == GgmlDType::Q8_0
                    && q.device().is_cpu()
                    && crate::int8::preferred() =>
            {
                let matrix = Int8Matrix::from_q8_0(&q)?;
                w.release_quantized(&name);
                LinearWeight::Int8(Arc::new(matrix))
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
            LinearWeight::Dense(w) => flat.matmul(&w.t()?)?,
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
