//! The convolution and LSTM layers of the EnCodec decoder, with the padding rules of the
//! reference (non-causal: reflect padding split right-heavy for the remainder on the left;
//! transposed convolutions trimmed back to exactly `stride` samples per input step).

use candle_core::{Device, Module, Result as CandleResult, Tensor};

use crate::config::EncodecConfig;
use crate::error::Result;
use crate::weights::Weights;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PadMode {
    Reflect,
    Zeros,
}

pub(crate) struct Conv1d {
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
    stride: usize,
    dilation: usize,
    causal: bool,
    pad_mode: PadMode,
}

/// What every convolution of one model shares.
#[derive(Clone, Copy)]
pub(crate) struct ConvStyle {
    pub causal: bool,
    pub pad_mode: PadMode,
}

impl ConvStyle {
    pub fn from_config(cfg: &EncodecConfig) -> Self {
        Self {
            causal: cfg.use_causal_conv,
            pad_mode: if cfg.pad_mode == "reflect" {
                PadMode::Reflect
            } else {
                PadMode::Zeros
            },
        }
    }
}

impl Conv1d {
    /// `prefix` names the wrapper module; the weights sit under `{prefix}.conv`.
    pub fn load(
        w: &Weights,
        prefix: &str,
        (c_in, c_out, kernel): (usize, usize, usize),
        dilation: usize,
        style: ConvStyle,
    ) -> Result<Self> {
        let weight = w.weight_norm(&format!("{prefix}.conv"), &[c_out, c_in, kernel])?;
        let bias = w.get(&format!("{prefix}.conv.bias"), &[c_out])?;
        Ok(Self {
            weight,
            bias,
            kernel,
            stride: 1,
            dilation,
            causal: style.causal,
            pad_mode: style.pad_mode,
        })
    }
}

impl Module for Conv1d {
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let len = x.dim(2)?;
        let kernel = (self.kernel - 1) * self.dilation + 1;
        let total = kernel - self.stride;
        // Extra right padding so the last window is whole (only matters for stride > 1).
        let frames = (len + total).saturating_sub(kernel) as f64 / self.stride as f64 + 1.0;
        let ideal = (frames.ceil() as usize - 1) * self.stride + kernel - total;
        let extra = ideal.saturating_sub(len);
        let (left, right) = if self.causal {
            (total, extra)
        } else {
            (total - total / 2, total / 2 + extra)
        };
        let padded = pad1d(x, left, right, self.pad_mode)?;
        let y = padded.conv1d(&self.weight, 0, self.stride, self.dilation, 1)?;
        y.broadcast_add(&self.bias.reshape((1, (), 1))?)
    }
}

/// Pads the last dim. Reflect padding of a signal shorter than the pad first extends it with
/// zeros, as the reference does, so one-frame inputs still decode.
pub(crate) fn pad1d(x: &Tensor, left: usize, right: usize, mode: PadMode) -> CandleResult<Tensor> {
    if left == 0 && right == 0 {
        return Ok(x.clone());
    }
    if mode == PadMode::Zeros {
        return x.pad_with_zeros(2, left, right);
    }
    let len = x.dim(2)?;
    let max_pad = left.max(right);
    let extra = if len <= max_pad { max_pad - len + 1 } else { 0 };
    // index_select needs a contiguous source; padding a transposed input may not give one.
    let x = if extra > 0 {
        x.pad_with_zeros(2, 0, extra)?.contiguous()?
    } else {
        x.contiguous()?
    };
    let n = len + extra;
    let index: Vec<u32> = (0..left)
        .map(|i| left - i)
        .chain(0..n)
        .chain((0..right).map(|i| n - 2 - i))
        .map(|i| i as u32)
        .collect();
    let index = Tensor::from_vec(index, left + n + right, x.device())?;
    let padded = x.index_select(&index, 2)?;
    padded.narrow(2, 0, left + n + right - extra)
}

pub(crate) struct ConvTranspose1d {
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
    stride: usize,
    causal: bool,
}

impl ConvTranspose1d {
    pub fn load(
        w: &Weights,
        prefix: &str,
        (c_in, c_out, kernel): (usize, usize, usize),
        stride: usize,
        style: ConvStyle,
    ) -> Result<Self> {
        let weight = w.weight_norm(&format!("{prefix}.conv"), &[c_in, c_out, kernel])?;
        let bias = w.get(&format!("{prefix}.conv.bias"), &[c_out])?;
        Ok(Self {
            weight,
            bias,
            kernel,
            stride,
            causal: style.causal,
        })
    }
}

impl Module for ConvTranspose1d {
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let y = x.conv_transpose1d(&self.weight, 0, 0, self.stride, 1, 1)?;
        // The transposed conv yields `kernel − stride` samples too many; trim them so each
        // input step maps to exactly `stride` outputs.
        let total = self.kernel - self.stride;
        let (left, right) = if self.causal {
            (0, total)
        } else {
            (total - total / 2, total / 2)
        };
        let len = y.dim(2)?;
        y.narrow(2, left, len - left - right)?
            .broadcast_add(&self.bias.reshape((1, (), 1))?)
    }
}

/// Multi-layer LSTM over time with a residual connection, for batch 1: `[1, C, T]` in and out.
pub(crate) struct Lstm {
    layers: Vec<LstmLayer>,
    hidden: usize,
}

struct LstmLayer {
    /// `[C, 4C]`, transposed once at load.
    w_ih_t: Tensor,
    w_hh_t: Tensor,
    /// `b_ih + b_hh`.
    bias: Tensor,
}

impl Lstm {
    pub fn load(w: &Weights, prefix: &str, hidden: usize, num_layers: usize) -> Result<Self> {
        let layers = (0..num_layers)
            .map(|l| {
                let get = |name: &str, shape: &[usize]| {
                    w.get(&format!("{prefix}.lstm.{name}_l{l}"), shape)
                };
                let w_ih = get("weight_ih", &[4 * hidden, hidden])?;
                let w_hh = get("weight_hh", &[4 * hidden, hidden])?;
                let bias = (get("bias_ih", &[4 * hidden])? + get("bias_hh", &[4 * hidden])?)?;
                Ok(LstmLayer {
                    w_ih_t: w_ih.t()?.contiguous()?,
                    w_hh_t: w_hh.t()?.contiguous()?,
                    bias,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers, hidden })
    }
}

impl Module for Lstm {
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let seq = x.squeeze(0)?.t()?.contiguous()?; // [T, C]
        let mut h_seq = seq.clone();
        for layer in &self.layers {
            h_seq = layer.run(&h_seq, self.hidden, x.device())?;
        }
        (h_seq + seq)?.t()?.unsqueeze(0)
    }
}

impl LstmLayer {
    /// The input projection runs as one matmul; the recurrence, inherently sequential, keeps
    /// only the `h · W_hh` product in candle and does the gate arithmetic on plain floats.
    fn run(&self, input: &Tensor, hidden: usize, device: &Device) -> CandleResult<Tensor> {
        let steps = input.dim(0)?;
        let projected = input
            .matmul(&self.w_ih_t)?
            .broadcast_add(&self.bias)?
            .to_vec2::<f32>()?;
        let mut h = vec![0f32; hidden];
        let mut c = vec![0f32; hidden];
        let mut out = Vec::with_capacity(steps * hidden);
        for x_gates in projected {
            let h_t = Tensor::from_slice(&h, (1, hidden), device)?;
            let rec = h_t.matmul(&self.w_hh_t)?.squeeze(0)?.to_vec1::<f32>()?;
            let gate = |g: usize, j: usize| x_gates[g * hidden + j] + rec[g * hidden + j];
            // PyTorch gate order: input, forget, cell, output.
            for j in 0..hidden {
                let i = sigmoid(gate(0, j));
                let f = sigmoid(gate(1, j));
                let g = gate(2, j).tanh();
                let o = sigmoid(gate(3, j));
                c[j] = f * c[j] + i * g;
                h[j] = o * c[j].tanh();
            }
            out.extend_from_slice(&h);
        }
        Tensor::from_vec(out, (steps, hidden), device)
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
