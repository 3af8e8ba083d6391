//! The convolution and LSTM layers of the EnCodec decoder, with the padding rules of the
//! reference (non-causal: reflect padding split right-heavy for the remainder on the left;
//! transposed convolutions trimmed back to exactly `stride` samples per input step).

use candle_core::{Device, Module, Result as CandleResult, Tensor};

use crate::config::EncodecConfig;
use crate::error::Result;
use crate::kernels::{dot, vectorized, ParallelOut};
use crate::weights::Weights;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PadMode {
    Reflect,
    Zeros,
}

pub(crate) struct Conv1d {
    /// `[c_out, c_in, kernel]`.
    weight: Tensor,
    /// The same weight as one `[c_out, c_in · kernel]` matrix.
    weight_2d: Tensor,
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
            weight_2d: weight.reshape((c_out, c_in * kernel))?,
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
        if self.stride != 1 || padded.dim(0)? != 1 || !padded.device().is_cpu() {
            let y = padded.conv1d(&self.weight, 0, self.stride, self.dilation, 1)?;
            return y.broadcast_add(&self.bias.reshape((1, (), 1))?);
        }
        // One matrix product in the signal's own [channels, time] layout: the unfolded input
        // is built from whole shifted rows, and the output needs no transposition (candle's
        // conv1d unfolds to [time, c_in · kernel] and transposes its result, both on one
        // thread: ≈ 15% of rendering).
        let x = padded.squeeze(0)?;
        let (c_in, padded_len) = x.dims2()?;
        let out_len = padded_len + 1 - kernel;
        if self.weight.dim(0)? <= AUDIO_CHANNELS_MAX {
            return self.to_audio_channels(&x, out_len);
        }
        let cols = if self.kernel == 1 {
            x
        } else {
            let shifted = (0..self.kernel)
                .map(|k| x.narrow(1, k * self.dilation, out_len))
                .collect::<CandleResult<Vec<_>>>()?;
            Tensor::stack(&shifted, 1)?.reshape((c_in * self.kernel, out_len))?
        };
        let y = self.weight_2d.matmul(&cols)?;
        y.broadcast_add(&self.bias.reshape(((), 1))?)?.unsqueeze(0)
    }
}

/// Output widths at or below this are audio channels: see [`Conv1d::to_audio_channels`].
const AUDIO_CHANNELS_MAX: usize = 2;

impl Conv1d {
    /// The last convolution (64 channels to 1 for mono): as a matrix product its unfolded
    /// input would be the largest buffer of the whole render (c_in · kernel × samples, 46 MB
    /// per 32-frame window) for a few million multiply-adds, so it runs as shifted
    /// multiply-adds straight over the input rows instead.
    fn to_audio_channels(&self, x: &Tensor, out_len: usize) -> CandleResult<Tensor> {
        let rows = x.to_vec2::<f32>()?;
        let weight = self.weight.to_vec3::<f32>()?;
        let bias = self.bias.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(weight.len() * out_len);
        vectorized!({
            for (w, b) in weight.iter().zip(bias) {
                let mut y = vec![b; out_len];
                for (row, taps) in rows.iter().zip(w) {
                    for (k, &tap) in taps.iter().enumerate() {
                        let shifted = &row[k * self.dilation..k * self.dilation + out_len];
                        for (acc, v) in y.iter_mut().zip(shifted) {
                            *acc += tap * v;
                        }
                    }
                }
                out.extend(y);
            }
        });
        Tensor::from_vec(out, (1, weight.len(), out_len), x.device())
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
    // Only the mirrored edges need a gather; the body is copied whole.
    let gather = |index: Vec<u32>| -> CandleResult<Tensor> {
        let count = index.len();
        x.index_select(&Tensor::from_vec(index, count, x.device())?, 2)
    };
    let mut parts = Vec::with_capacity(3);
    if left > 0 {
        parts.push(gather((0..left).map(|i| (left - i) as u32).collect())?);
    }
    parts.push(x.clone());
    if right > 0 {
        parts.push(gather((0..right).map(|i| (n - 2 - i) as u32).collect())?);
    }
    Tensor::cat(&parts, 2)?.narrow(2, 0, left + n + right - extra)
}

pub(crate) struct ConvTranspose1d {
    /// `[c_in, c_out, kernel]`, as checkpoints store it.
    weight: Tensor,
    /// `[c_out · kernel, c_in]`: one row per output channel and tap.
    weight_t: Tensor,
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
        Ok(Self::new(weight, bias, stride, style.causal)?)
    }

    /// `weight` `[c_in, c_out, kernel]`, `bias` `[c_out]`.
    fn new(weight: Tensor, bias: Tensor, stride: usize, causal: bool) -> CandleResult<Self> {
        let (c_in, c_out, kernel) = weight.dims3()?;
        Ok(Self {
            weight_t: weight.reshape((c_in, c_out * kernel))?.t()?.contiguous()?,
            weight,
            bias,
            kernel,
            stride,
            causal,
        })
    }

    /// The transposed conv yields `kernel − stride` samples too many; trimming them (split
    /// as the reference does) maps each input step to exactly `stride` outputs.
    fn trim(&self) -> (usize, usize) {
        let total = self.kernel - self.stride;
        if self.causal {
            (0, total)
        } else {
            (total - total / 2, total / 2)
        }
    }

    /// `[c_in, T]` → `[c_out, T · stride]` on the host: one matrix product gives every output
    /// channel and tap its row over the input steps, and each output row is the sum of its
    /// taps' rows shifted by `stride` per step. candle's own path multiplies in the transposed
    /// `[time, channels]` layout and scatters the result back on one thread (≈ 6% of
    /// rendering on a 2-core box).
    fn forward_cpu(&self, x: &Tensor) -> CandleResult<Tensor> {
        let x = x.squeeze(0)?.contiguous()?;
        let steps = x.dim(1)?;
        let (k, s) = (self.kernel, self.stride);
        let (left, _) = self.trim();
        let cols = self.weight_t.matmul(&x)?.flatten_all()?.to_vec1::<f32>()?;
        let bias = self.bias.to_vec1::<f32>()?;
        let out_len = steps * s;
        let out = ParallelOut::zeros(bias.len() * out_len, out_len).fill(|channels, rows| {
            for (c, row) in channels.zip(rows.chunks_exact_mut(out_len)) {
                row.fill(bias[c]);
                let taps = &cols[c * k * steps..][..k * steps];
                for (j, tap) in taps.chunks_exact(steps).enumerate() {
                    // Output sample of step t and tap j: t · s + j − left, when inside the row.
                    let first = left.saturating_sub(j).div_ceil(s);
                    for (t, v) in tap.iter().enumerate().skip(first) {
                        match row.get_mut(t * s + j - left) {
                            Some(o) => *o += v,
                            None => break,
                        }
                    }
                }
            }
        });
        Tensor::from_vec(out, (1, bias.len(), out_len), x.device())
    }
}

impl Module for ConvTranspose1d {
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        if x.device().is_cpu() && x.dim(0)? == 1 {
            return self.forward_cpu(x);
        }
        let y = x.conv_transpose1d(&self.weight, 0, 0, self.stride, 1, 1)?;
        let (left, right) = self.trim();
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
    /// `[4C, C]` row-major on the host: the recurrence multiplies it by one vector per step.
    w_hh: Vec<f32>,
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
                    w_hh: w_hh.flatten_all()?.to_vec1()?,
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

/// Outputs of the recurrent product per parallel task: 256 rows of 4 KiB each.
const ROWS_PER_TASK: usize = 256;

impl LstmLayer {
    /// The input projection runs as one matmul. The recurrence, inherently sequential, is a
    /// 4C × C matrix-vector product per step (16 MiB for EnCodec's 1024 wide LSTM), spread
    /// over candle's threads, then the gate arithmetic on plain floats.
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
            let rec =
                ParallelOut::zeros(4 * hidden, 1).fill_in_tasks_of(ROWS_PER_TASK, |rows, rec| {
                    let weights = &self.w_hh[rows.start * hidden..rows.end * hidden];
                    vectorized!({
                        for (r, row) in rec.iter_mut().zip(weights.chunks_exact(hidden)) {
                            *r = dot(row, &h);
                        }
                    })
                });
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

#[cfg(test)]
mod tests {
    use candle_core::{Device, Module, Tensor};

    use super::ConvTranspose1d;
    use crate::test_util::max_abs_diff;

    #[test]
    fn host_transposed_conv_equals_candles_trimmed_output() {
        // EnCodec's shapes (kernel = 2 · stride) and an odd kernel, both trimming rules.
        for (kernel, stride) in [(16, 8), (10, 5), (8, 4), (7, 3)] {
            for causal in [false, true] {
                let dev = Device::Cpu;
                let weight = Tensor::randn(0f32, 1.0, (6, 5, kernel), &dev).unwrap();
                let bias = Tensor::randn(0f32, 1.0, 5, &dev).unwrap();
                let conv = ConvTranspose1d::new(weight, bias, stride, causal).unwrap();
                let x = Tensor::randn(0f32, 1.0, (1, 6, 11), &Device::Cpu).unwrap();
                let got = conv.forward(&x).unwrap();
                let full = x
                    .conv_transpose1d(&conv.weight, 0, 0, stride, 1, 1)
                    .unwrap();
                let (left, right) = conv.trim();
                let len = full.dim(2).unwrap();
                let want = full
                    .narrow(2, left, len - left - right)
                    .unwrap()
                    .broadcast_add(&conv.bias.reshape((1, (), 1)).unwrap())
                    .unwrap();
                assert_eq!(got.dims(), want.dims());
                assert_eq!(got.dim(2).unwrap(), 11 * stride);
                let diff = max_abs_diff(&got, &want);
                assert!(
                    diff < 1e-4,
                    "kernel {kernel}, stride {stride}, causal {causal}: {diff}"
                );
            }
        }
    }
}
