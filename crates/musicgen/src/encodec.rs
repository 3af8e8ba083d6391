//! EnCodec decoding: codebook indices → quantized latents → waveform.
//!
//! Layer indices follow transformers' `EncodecDecoder` module list (ELU activations take an
//! index too), so tensor names are those of published checkpoints.
//!
//! Past the LSTM every layer is a convolution with a short reach, so the upsampling stack
//! renders the clip in windows of frames (each with a margin of context on both sides, cut off
//! afterwards) instead of all at once: its unfolded convolution buffers then scale with the
//! window, not the clip (≈ 0.8 GB less at the peak of a 10 s clip).

use candle_core::{Device, Module, Result as CandleResult, Tensor};

use crate::activations::elu;
use crate::config::EncodecConfig;
use crate::encodec_layers::{Conv1d, ConvStyle, ConvTranspose1d, Lstm};
use crate::error::{Error, Result};
use crate::weights::Weights;

enum Layer {
    Conv(Conv1d),
    Lstm(Lstm),
    Elu,
    Upsample(ConvTranspose1d),
    Residual(ResidualBlock),
}

struct ResidualBlock {
    convs: Vec<Conv1d>,
    shortcut: Option<Conv1d>,
}

impl Module for ResidualBlock {
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let mut h = x.clone();
        for conv in &self.convs {
            h = conv.forward(&elu(&h)?)?;
        }
        let skip = match &self.shortcut {
            Some(conv) => conv.forward(x)?,
            None => x.clone(),
        };
        skip + h
    }
}

/// Frames rendered per window by [`EncodecDecoder::decode`]: a window's buffers stay near
/// 20 MB, and the margins (4 frames a side for 32 kHz EnCodec) cost little. Measured on
/// musicgen-small, 10 s: 32 and 64 frames render equally fast; 64 peaks 60 MB higher.
pub(crate) const DEFAULT_WINDOW_FRAMES: usize = 32;

pub(crate) struct EncodecDecoder {
    codebooks: Vec<Tensor>,
    /// The first convolution and the LSTM: run over the whole clip (the LSTM's state carries
    /// across every frame).
    head: Vec<Layer>,
    /// Everything after the LSTM: run window by window.
    tail: Vec<Layer>,
    /// Frames of context each window needs on either side for its kept frames to come out
    /// as if the whole clip had been rendered at once.
    margin: usize,
    codebook_size: usize,
    device: Device,
}

/// How far, in frames, the tail's output can depend on input frames away from it: each
/// convolution reaches `(kernel − 1) · dilation` samples at its rate, each transposed one two
/// input samples; a sample at rate `u` samples per frame spans `1/u` frames. Rounded up, plus
/// one frame so window edges (reflect-padded as if they were the clip's ends) never reach a
/// kept frame.
fn tail_margin(cfg: &EncodecConfig) -> usize {
    let mut per_frame = 1.0;
    let mut reach = 0.0;
    for &ratio in &cfg.upsampling_ratios {
        reach += 2.0 / per_frame;
        per_frame *= ratio as f64;
        for j in 0..cfg.num_residual_layers {
            let dilation = cfg.dilation_growth_rate.pow(j as u32) as f64;
            reach += (cfg.residual_kernel_size as f64 - 1.0) * dilation / per_frame;
        }
    }
    reach += (cfg.last_kernel_size as f64 - 1.0) / per_frame;
    reach.ceil() as usize + 1
}

impl EncodecDecoder {
    /// Loads the first `num_codebooks` quantizer codebooks and the decoder stack.
    pub fn load(
        w: &Weights,
        cfg: &EncodecConfig,
        num_codebooks: usize,
        device: &Device,
    ) -> Result<Self> {
        let codebooks = (0..num_codebooks)
            .map(|i| {
                w.get(
                    &format!("audio_encoder.quantizer.layers.{i}.codebook.embed"),
                    &[cfg.codebook_size, cfg.codebook_dim()],
                )
            })
            .collect::<Result<Vec<_>>>()?;
        if cfg.codebook_dim() != cfg.hidden_size {
            return Err(Error::InvalidConfig {
                path: "config.json".into(),
                reason: "audio_encoder.codebook_dim must equal hidden_size".into(),
            });
        }
        let style = ConvStyle::from_config(cfg);
        let p = |i: usize| format!("audio_encoder.decoder.layers.{i}");
        let mut layers = Vec::new();
        let mut head = Vec::new();
        let mut scale = 1usize << cfg.upsampling_ratios.len();
        let first_width = scale * cfg.num_filters;
        head.push(Layer::Conv(Conv1d::load(
            w,
            &p(0),
            (cfg.hidden_size, first_width, cfg.kernel_size),
            1,
            style,
        )?));
        head.push(Layer::Lstm(Lstm::load(
            w,
            &p(1),
            first_width,
            cfg.num_lstm_layers,
        )?));
        // Checkpoint names count every module of the stack, the head's included.
        let p = |i: usize| p(i + head.len());
        for &ratio in &cfg.upsampling_ratios {
            let width = scale * cfg.num_filters;
            layers.push(Layer::Elu);
            let up = ConvTranspose1d::load(
                w,
                &p(layers.len()),
                (width, width / 2, 2 * ratio),
                ratio,
                style,
            )?;
            layers.push(Layer::Upsample(up));
            for j in 0..cfg.num_residual_layers {
                let block = load_residual(
                    w,
                    &p(layers.len()),
                    cfg,
                    width / 2,
                    cfg.dilation_growth_rate.pow(j as u32),
                    style,
                )?;
                layers.push(Layer::Residual(block));
            }
            scale /= 2;
        }
        layers.push(Layer::Elu);
        layers.push(Layer::Conv(Conv1d::load(
            w,
            &p(layers.len()),
            (cfg.num_filters, cfg.audio_channels, cfg.last_kernel_size),
            1,
            style,
        )?));
        Ok(Self {
            codebooks,
            head,
            tail: layers,
            margin: tail_margin(cfg),
            codebook_size: cfg.codebook_size,
            device: device.clone(),
        })
    }

    /// Bytes the render of `frames` frames holds at its peak: the samples, plus one window's
    /// widest activations (input, output and residual of the last stage, and the last
    /// residual convolution's unfolded input).
    pub fn working_bytes(&self, frames: usize, hop: usize, cfg: &EncodecConfig) -> u64 {
        let window_samples = (DEFAULT_WINDOW_FRAMES.min(frames) + 2 * self.margin) * hop;
        let widest = cfg.num_filters * (3 + cfg.residual_kernel_size);
        ((frames * hop + widest * window_samples) * std::mem::size_of::<f32>()) as u64
    }

    /// `codes`: one row of indices per codebook, all of the same length. Returns mono samples,
    /// exactly `frames × hop` of them.
    pub fn decode(&self, codes: &[Vec<u32>]) -> Result<Vec<f32>> {
        self.decode_in_windows(codes, DEFAULT_WINDOW_FRAMES)
    }

    /// [`decode`](Self::decode) with the upsampling stack run `window` frames at a time.
    pub fn decode_in_windows(&self, codes: &[Vec<u32>], window: usize) -> Result<Vec<f32>> {
        if window == 0 {
            return Err(Error::InvalidRequest(
                "window must be at least 1 frame".into(),
            ));
        }
        if codes.len() != self.codebooks.len() {
            return Err(Error::InvalidRequest(format!(
                "expected {} codebook rows, got {}",
                self.codebooks.len(),
                codes.len()
            )));
        }
        let frames = codes[0].len();
        if frames == 0 || codes.iter().any(|row| row.len() != frames) {
            return Err(Error::InvalidRequest(
                "codebook rows must be non-empty and of equal length".into(),
            ));
        }
        if let Some(bad) = codes
            .iter()
            .flatten()
            .find(|&&c| c as usize >= self.codebook_size)
        {
            return Err(Error::InvalidRequest(format!(
                "code {bad} is outside the codebook of {}",
                self.codebook_size
            )));
        }
        let mut latent: Option<Tensor> = None;
        for (row, book) in codes.iter().zip(&self.codebooks) {
            let ids = Tensor::from_slice(row, frames, &self.device)?;
            let part = book.embedding(&ids)?;
            latent = Some(match latent {
                Some(sum) => (sum + part)?,
                None => part,
            });
        }
        let x = run(
            &self.head,
            latent.expect("at least one codebook").t()?.unsqueeze(0)?,
        )?;
        let mut samples = Vec::new();
        for start in (0..frames).step_by(window) {
            let end = (start + window).min(frames);
            let from = start.saturating_sub(self.margin);
            let to = (end + self.margin).min(frames);
            let y = run(&self.tail, x.narrow(2, from, to - from)?)?.flatten_all()?;
            // The tail turns every frame into the same number of samples.
            let hop = y.dim(0)? / (to - from);
            let kept = y.narrow(0, (start - from) * hop, (end - start) * hop)?;
            samples.extend(kept.to_vec1::<f32>()?);
        }
        Ok(samples)
    }
}

fn run(layers: &[Layer], mut x: Tensor) -> CandleResult<Tensor> {
    for layer in layers {
        x = match layer {
            Layer::Conv(conv) => conv.forward(&x)?,
            Layer::Lstm(lstm) => lstm.forward(&x)?,
            Layer::Elu => elu(&x)?,
            Layer::Upsample(up) => up.forward(&x)?,
            Layer::Residual(block) => block.forward(&x)?,
        };
    }
    Ok(x)
}

fn load_residual(
    w: &Weights,
    prefix: &str,
    cfg: &EncodecConfig,
    dim: usize,
    dilation: usize,
    style: ConvStyle,
) -> Result<ResidualBlock> {
    let hidden = dim / cfg.compress;
    // Module list: [ELU, conv(dim→hidden, k, dilation), ELU, conv(hidden→dim, 1)].
    let convs = vec![
        Conv1d::load(
            w,
            &format!("{prefix}.block.1"),
            (dim, hidden, cfg.residual_kernel_size),
            dilation,
            style,
        )?,
        Conv1d::load(w, &format!("{prefix}.block.3"), (hidden, dim, 1), 1, style)?,
    ];
    let shortcut = if cfg.use_conv_shortcut {
        Some(Conv1d::load(
            w,
            &format!("{prefix}.shortcut"),
            (dim, dim, 1),
            1,
            style,
        )?)
    } else {
        None
    };
    Ok(ResidualBlock { convs, shortcut })
}
