//! The one linear-layer type used by the text projection, decoder and heads, so that a
//! quantized matmul can later replace the dense weight in a single place.

use candle_core::quantized::QMatMul;
use candle_core::{Module, Result as CandleResult, Tensor};

use crate::error::Result;
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

    fn out_dim(&self) -> CandleResult<usize> {
        match &self.weight {
            LinearWeight::Dense(w) => w.dim(0),
            LinearWeight::Quantized { out_dim, .. } => Ok(*out_dim),
        }
    }
}

impl Module for Linear {
    /// Folds all leading dims into one matrix so the weight is read once per call, not once
    /// per batch row (decoding is bound by memory bandwidth).
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let dims = x.dims();
        let in_dim = dims[dims.len() - 1];
        let rows = x.elem_count() / in_dim;
        let x = x.reshape((rows, in_dim))?;
        let y = match &self.weight {
            LinearWeight::Dense(w) => x.matmul(&w.t()?)?,
            // The quantized kernel reads its input as one contiguous block.
            LinearWeight::Quantized { matmul, .. } => matmul.forward(&x.contiguous()?)?,
        };
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out_dims = dims.to_vec();
        *out_dims.last_mut().expect("input has at least one dim") = self.out_dim()?;
        y.reshape(out_dims)
    }
}
