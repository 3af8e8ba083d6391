//! The one linear-layer type used by the text projection, decoder and heads, so that a
//! quantized matmul can later replace the dense weight in a single place.

use candle_core::{Module, Result as CandleResult, Tensor};

use crate::error::Result;
use crate::weights::Weights;

#[derive(Debug, Clone)]
pub(crate) struct Linear {
    /// `[out, in]`, as PyTorch stores it.
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    pub fn load(w: &Weights, prefix: &str, in_dim: usize, out_dim: usize, bias: bool) -> Result<Self> {
        let weight = w.get(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
        let bias = if bias {
            Some(w.get(&format!("{prefix}.bias"), &[out_dim])?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }
}

impl Module for Linear {
    /// Folds all leading dims into one matrix so the weight is read once per call, not once
    /// per batch row (decoding is bound by memory bandwidth).
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let dims = x.dims();
        let in_dim = dims[dims.len() - 1];
        let rows = x.elem_count() / in_dim;
        let y = x.reshape((rows, in_dim))?.matmul(&self.weight.t()?)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out_dims = dims.to_vec();
        *out_dims.last_mut().expect("input has at least one dim") = self.weight.dim(0)?;
        y.reshape(out_dims)
    }
}
