//! EnCodec decoding: codebook indices → quantized latents → waveform.
//!
//! Layer indices follow transformers' `EncodecDecoder` module list (ELU activations take an
//! index too), so tensor names are those of published checkpoints.

use candle_core::{Device, Module, Result as CandleResult, Tensor};

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
            h = conv.forward(&h.elu(1.0)?)?;
        }
        let skip = match &self.shortcut {
            Some(conv) => conv.forward(x)?,
            None => x.clone(),
        };
        skip + h
    }
}

pub(crate) struct EncodecDecoder {
    codebooks: Vec<Tensor>,
    layers: Vec<Layer>,
    codebook_size: usize,
    device: Device,
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
        let mut scale = 1usize << cfg.upsampling_ratios.len();
        let first_width = scale * cfg.num_filters;
        layers.push(Layer::Conv(Conv1d::load(
            w,
            &p(0),
            (cfg.hidden_size, first_width, cfg.kernel_size),
            1,
            style,
        )?));
        layers.push(Layer::Lstm(Lstm::load(
            w,
            &p(1),
            first_width,
            cfg.num_lstm_layers,
        )?));
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
            layers,
            codebook_size: cfg.codebook_size,
            device: device.clone(),
        })
    }

    /// `codes`: one row of indices per codebook, all of the same length. Returns mono samples,
    /// exactly `frames × hop` of them.
    pub fn decode(&self, codes: &[Vec<u32>]) -> Result<Vec<f32>> {
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
        let mut x = latent.expect("at least one codebook").t()?.unsqueeze(0)?;
        for layer in &self.layers {
            x = match layer {
                Layer::Conv(conv) => conv.forward(&x)?,
                Layer::Lstm(lstm) => lstm.forward(&x)?,
                Layer::Elu => x.elu(1.0)?,
                Layer::Upsample(up) => up.forward(&x)?,
                Layer::Residual(block) => block.forward(&x)?,
            };
        }
        Ok(x.flatten_all()?.to_vec1::<f32>()?)
    }
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
