//! Deterministic random weights in the published tensor layout, for the tiny test model and
//! for benchmarking full-size shapes without downloading a checkpoint.
//!
//! The generator is a fixed SplitMix64 with Box–Muller, not `rand`, so the same seed gives
//! the same model whatever crate versions are in the lock file.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use crate::config::MusicgenConfig;
use crate::error::Result;

/// How weight-normalised convolutions name their two halves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightNormNaming {
    /// `weight_g` / `weight_v`, as the published checkpoints store them.
    #[default]
    Legacy,
    /// `parametrizations.weight.original0` / `original1`, as recent transformers saves them.
    /// Loading reads both namings; only the tests write this one.
    #[cfg_attr(
        not(any(test, feature = "testing")),
        expect(dead_code, reason = "written only by the tests' tiny models")
    )]
    Parametrizations,
}

pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

struct Builder<'a> {
    rng: Rng,
    device: &'a Device,
    tensors: HashMap<String, Tensor>,
    naming: WeightNormNaming,
}

impl Builder<'_> {
    fn normal(&mut self, name: String, shape: &[usize], std: f32) -> Result<()> {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| self.rng.normal() * std).collect();
        self.tensors
            .insert(name, Tensor::from_vec(data, shape, self.device)?);
        Ok(())
    }

    fn uniform(&mut self, name: String, shape: &[usize], bound: f32) -> Result<()> {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|_| ((self.rng.uniform() * 2.0 - 1.0) as f32) * bound)
            .collect();
        self.tensors
            .insert(name, Tensor::from_vec(data, shape, self.device)?);
        Ok(())
    }

    fn constant(&mut self, name: String, shape: &[usize], value: f32) -> Result<()> {
        let t = Tensor::full(value, shape, self.device)?;
        self.tensors.insert(name, t);
        Ok(())
    }

    fn linear(&mut self, prefix: &str, in_dim: usize, out_dim: usize, bias: bool) -> Result<()> {
        self.normal(
            format!("{prefix}.weight"),
            &[out_dim, in_dim],
            (in_dim as f32).powf(-0.5),
        )?;
        if bias {
            self.constant(format!("{prefix}.bias"), &[out_dim], 0.0)?;
        }
        Ok(())
    }

    fn layer_norm(&mut self, prefix: &str, dim: usize) -> Result<()> {
        self.constant(format!("{prefix}.weight"), &[dim], 1.0)?;
        self.constant(format!("{prefix}.bias"), &[dim], 0.0)
    }

    /// A weight-normalised conv whose effective weight has standard deviation `std`: the
    /// magnitude `g` is set to the norm of `v`, as weight-norm initialisation does.
    fn conv(
        &mut self,
        prefix: &str,
        shape: [usize; 3],
        std: f32,
        out_channels: usize,
    ) -> Result<()> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| self.rng.normal() * std).collect();
        let per_row = n / shape[0];
        let g: Vec<f32> = v
            .chunks(per_row)
            .map(|row| row.iter().map(|x| x * x).sum::<f32>().sqrt())
            .collect();
        let (g_name, v_name) = match self.naming {
            WeightNormNaming::Legacy => ("weight_g", "weight_v"),
            WeightNormNaming::Parametrizations => (
                "parametrizations.weight.original0",
                "parametrizations.weight.original1",
            ),
        };
        let device = self.device;
        self.tensors.insert(
            format!("{prefix}.conv.{v_name}"),
            Tensor::from_vec(v, &shape, device)?,
        );
        self.tensors.insert(
            format!("{prefix}.conv.{g_name}"),
            Tensor::from_vec(g, (shape[0], 1, 1), device)?,
        );
        self.constant(format!("{prefix}.conv.bias"), &[out_channels], 0.0)
    }
}

/// Random weights for every tensor `config` implies, named as published checkpoints name them.
pub(crate) fn random_weights(
    cfg: &MusicgenConfig,
    seed: u64,
    naming: WeightNormNaming,
    device: &Device,
) -> Result<HashMap<String, Tensor>> {
    let mut b = Builder {
        rng: Rng::new(seed),
        device,
        tensors: HashMap::new(),
        naming,
    };
    text_encoder(&mut b, cfg)?;
    decoder(&mut b, cfg)?;
    audio(&mut b, cfg)?;
    Ok(b.tensors)
}

fn text_encoder(b: &mut Builder, cfg: &MusicgenConfig) -> Result<()> {
    let t = &cfg.text_encoder;
    let (d, inner) = (t.d_model, t.num_heads * t.d_kv);
    b.normal("text_encoder.shared.weight".into(), &[t.vocab_size, d], 1.0)?;
    b.normal(
        "text_encoder.encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight".into(),
        &[t.relative_attention_num_buckets, t.num_heads],
        0.5,
    )?;
    for i in 0..t.num_layers {
        let l = format!("text_encoder.encoder.block.{i}.layer");
        for name in ["q", "k", "v"] {
            b.linear(&format!("{l}.0.SelfAttention.{name}"), d, inner, false)?;
        }
        b.linear(&format!("{l}.0.SelfAttention.o"), inner, d, false)?;
        b.constant(format!("{l}.0.layer_norm.weight"), &[d], 1.0)?;
        if t.feed_forward_proj == "gated-gelu" {
            b.linear(&format!("{l}.1.DenseReluDense.wi_0"), d, t.d_ff, false)?;
            b.linear(&format!("{l}.1.DenseReluDense.wi_1"), d, t.d_ff, false)?;
        } else {
            b.linear(&format!("{l}.1.DenseReluDense.wi"), d, t.d_ff, false)?;
        }
        b.linear(&format!("{l}.1.DenseReluDense.wo"), t.d_ff, d, false)?;
        b.constant(format!("{l}.1.layer_norm.weight"), &[d], 1.0)?;
    }
    b.constant(
        "text_encoder.encoder.final_layer_norm.weight".into(),
        &[d],
        1.0,
    )?;
    if cfg.has_enc_to_dec_proj() {
        b.linear("enc_to_dec_proj", d, cfg.decoder.hidden_size, true)?;
    }
    Ok(())
}

fn decoder(b: &mut Builder, cfg: &MusicgenConfig) -> Result<()> {
    let dc = &cfg.decoder;
    let d = dc.hidden_size;
    let cross = dc
        .cross_attention_hidden_size
        .unwrap_or(if cfg.has_enc_to_dec_proj() {
            d
        } else {
            cfg.text_encoder.d_model
        });
    let p = "decoder.model.decoder";
    for k in 0..dc.num_codebooks {
        b.normal(
            format!("{p}.embed_tokens.{k}.weight"),
            &[dc.vocab_size + 1, d],
            0.5,
        )?;
    }
    for i in 0..dc.num_hidden_layers {
        let l = format!("{p}.layers.{i}");
        for (attn, kv_dim) in [("self_attn", d), ("encoder_attn", cross)] {
            b.linear(&format!("{l}.{attn}.q_proj"), d, d, false)?;
            b.linear(&format!("{l}.{attn}.k_proj"), kv_dim, d, false)?;
            b.linear(&format!("{l}.{attn}.v_proj"), kv_dim, d, false)?;
            b.linear(&format!("{l}.{attn}.out_proj"), d, d, false)?;
        }
        for norm in [
            "self_attn_layer_norm",
            "encoder_attn_layer_norm",
            "final_layer_norm",
        ] {
            b.layer_norm(&format!("{l}.{norm}"), d)?;
        }
        b.linear(&format!("{l}.fc1"), d, dc.ffn_dim, false)?;
        b.linear(&format!("{l}.fc2"), dc.ffn_dim, d, false)?;
    }
    b.layer_norm(&format!("{p}.layer_norm"), d)?;
    for k in 0..dc.num_codebooks {
        b.linear(&format!("decoder.lm_heads.{k}"), d, dc.vocab_size, false)?;
    }
    Ok(())
}

fn audio(b: &mut Builder, cfg: &MusicgenConfig) -> Result<()> {
    let a = &cfg.audio_encoder;
    for i in 0..cfg.decoder.num_codebooks {
        b.normal(
            format!("audio_encoder.quantizer.layers.{i}.codebook.embed"),
            &[a.codebook_size, a.codebook_dim()],
            1.0,
        )?;
    }
    let p = |i: usize| format!("audio_encoder.decoder.layers.{i}");
    let conv_std = |c_in: usize, k: usize| ((c_in * k) as f32).powf(-0.5);
    let mut scale = 1usize << a.upsampling_ratios.len();
    let width = scale * a.num_filters;
    b.conv(
        &p(0),
        [width, a.hidden_size, a.kernel_size],
        conv_std(a.hidden_size, a.kernel_size),
        width,
    )?;
    let bound = (width as f32).powf(-0.5);
    for l in 0..a.num_lstm_layers {
        let lstm = format!("{}.lstm", p(1));
        b.uniform(format!("{lstm}.weight_ih_l{l}"), &[4 * width, width], bound)?;
        b.uniform(format!("{lstm}.weight_hh_l{l}"), &[4 * width, width], bound)?;
        b.uniform(format!("{lstm}.bias_ih_l{l}"), &[4 * width], bound)?;
        b.uniform(format!("{lstm}.bias_hh_l{l}"), &[4 * width], bound)?;
    }
    let mut index = 2;
    for &ratio in &a.upsampling_ratios {
        let width = scale * a.num_filters;
        index += 1; // ELU
                    // Each output sample of a stride-r, kernel-2r transposed conv sums 2 taps per input.
        b.conv(
            &p(index),
            [width, width / 2, 2 * ratio],
            conv_std(width, 2),
            width / 2,
        )?;
        index += 1;
        let dim = width / 2;
        let hidden = dim / a.compress;
        for _ in 0..a.num_residual_layers {
            let r = p(index);
            let k = a.residual_kernel_size;
            b.conv(
                &format!("{r}.block.1"),
                [hidden, dim, k],
                conv_std(dim, k),
                hidden,
            )?;
            b.conv(
                &format!("{r}.block.3"),
                [dim, hidden, 1],
                conv_std(hidden, 1),
                dim,
            )?;
            if a.use_conv_shortcut {
                b.conv(
                    &format!("{r}.shortcut"),
                    [dim, dim, 1],
                    conv_std(dim, 1),
                    dim,
                )?;
            }
            index += 1;
        }
        scale /= 2;
    }
    index += 1; // ELU
    let k = a.last_kernel_size;
    b.conv(
        &p(index),
        [a.audio_channels, a.num_filters, k],
        conv_std(a.num_filters, k),
        a.audio_channels,
    )
}
