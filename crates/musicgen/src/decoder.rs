//! The MusicGen decoder: summed codebook embeddings plus sinusoidal positions, pre-norm
//! layers with cached self-attention and cross-attention to the prompt, one head per codebook.
//!
//! The model holds only weights; everything that changes during a job lives in
//! [`DecoderState`], so one loaded model can serve jobs from any thread.

use candle_core::{DType, Device, Module, Result as CandleResult, Tensor};
use candle_nn::Embedding;

use crate::activations::gelu_erf;
use crate::cache::{CacheView, SelfCache};
use crate::config::DecoderConfig;
use crate::error::Result;
use crate::linear::Linear;
use crate::norm::LayerNorm;
use crate::weights::Weights;

const LAYER_NORM_EPS: f64 = 1e-5;
/// See `t5::MASKED`: finite, so a fully masked (unconditional) row stays well defined.
const MASKED: f32 = -1e30;

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn load(w: &Weights, prefix: &str, dim: usize, kv_dim: usize, heads: usize) -> Result<Self> {
        Ok(Self {
            q: Linear::load(w, &format!("{prefix}.q_proj"), dim, dim, false)?,
            k: Linear::load(w, &format!("{prefix}.k_proj"), kv_dim, dim, false)?,
            v: Linear::load(w, &format!("{prefix}.v_proj"), kv_dim, dim, false)?,
            out: Linear::load(w, &format!("{prefix}.out_proj"), dim, dim, false)?,
            heads,
            head_dim: dim / heads,
        })
    }

    /// `[b, t, dim]` → `[b, heads, t, head_dim]`.
    fn split(&self, x: &Tensor) -> CandleResult<Tensor> {
        let (b, t, _) = x.dims3()?;
        x.reshape((b, t, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Attention of the projected queries `q` `[b, t, dim]` over keys and values
    /// `[b, heads, T, head_dim]`, through the output projection.
    fn attend(&self, q: &Tensor, kv: &CacheView<'_>, bias: Option<&Bias>) -> CandleResult<Tensor> {
        self.out.forward(&self.mix(q, kv, bias)?)
    }

    /// [`attend`](Self::attend) before the output projection: the heads' weighted values,
    /// `[b, t, dim]`. A batched step mixes each job over its own cache, then projects all rows
    /// at once.
    fn mix(&self, q: &Tensor, kv: &CacheView<'_>, bias: Option<&Bias>) -> CandleResult<Tensor> {
        let (b, t, dim) = q.dims3()?;
        let rows = bias.map(|bias| bias.rows.as_deref());
        if t == 1 && q.device().is_cpu() && rows != Some(None) {
            // One new position: one kernel instead of many tiny matmuls.
            let q = self.split(q)?;
            let scale = (self.head_dim as f64).powf(-0.5);
            let attn = crate::attention::single_query_attention(
                &q,
                &kv.k,
                &kv.v,
                scale,
                rows.flatten(),
                kv.scales,
            )?;
            return attn.reshape((b, t, dim));
        }
        let q = (self.split(q)? * (self.head_dim as f64).powf(-0.5))?;
        let (k, v) = kv.to_f32()?;
        let scores = q.matmul(&k.t()?)?;
        let scores = match bias {
            Some(bias) => scores.broadcast_add(&bias.tensor)?,
            None => scores,
        };
        let attn = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&v)?;
        attn.transpose(1, 2)?.reshape((b, t, dim))
    }
}

/// An additive attention bias (0 = attend, [`MASKED`] = hidden).
struct Bias {
    /// Broadcast onto the scores `[b, heads, t, T]`.
    tensor: Tensor,
    /// The same values as `[b, T]` on the host, when they do not depend on the query position
    /// (the prompt mask), so the single-query kernel can apply them.
    rows: Option<Vec<f32>>,
}

struct Layer {
    self_attn_norm: LayerNorm,
    self_attn: Attention,
    cross_attn_norm: LayerNorm,
    cross_attn: Attention,
    ff_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

fn layer_norm(w: &Weights, prefix: &str, dim: usize) -> Result<LayerNorm> {
    Ok(LayerNorm::new(
        w.get(&format!("{prefix}.weight"), &[dim])?,
        w.get(&format!("{prefix}.bias"), &[dim])?,
        LAYER_NORM_EPS,
    )?)
}

pub(crate) struct Decoder {
    embeds: Vec<Embedding>,
    layers: Vec<Layer>,
    norm: LayerNorm,
    heads: Vec<Linear>,
    cfg: DecoderConfig,
    /// Scaled byte rows when the layers are quantized (see `crate::cache`); f32 models keep
    /// an f32 cache and match the reference exactly.
    scaled_cache: bool,
    device: Device,
}

/// Per-job decoder state: self-attention caches, cross-attention keys/values computed once
/// from the prompt, the cross-attention mask and the next position.
pub(crate) struct DecoderState {
    /// Batch rows of this job: two with guidance.
    rows: usize,
    self_kv: Vec<SelfCache>,
    cross_kv: Vec<CacheView<'static>>,
    cross_bias: Bias,
    position: usize,
}

impl Decoder {
    /// `text_dim`: width of the encoder states cross-attention reads (after any projection).
    pub fn load(
        w: &Weights,
        cfg: &DecoderConfig,
        text_dim: usize,
        device: &Device,
    ) -> Result<Self> {
        let p = "decoder.model.decoder";
        let d = cfg.hidden_size;
        let embeds = (0..cfg.num_codebooks)
            .map(|k| {
                let t = w.get(
                    &format!("{p}.embed_tokens.{k}.weight"),
                    &[cfg.vocab_size + 1, d],
                )?;
                Ok(Embedding::new(t, d))
            })
            .collect::<Result<Vec<_>>>()?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| {
                let l = format!("{p}.layers.{i}");
                let heads = cfg.num_attention_heads;
                Ok(Layer {
                    self_attn_norm: layer_norm(w, &format!("{l}.self_attn_layer_norm"), d)?,
                    self_attn: Attention::load(w, &format!("{l}.self_attn"), d, d, heads)?,
                    cross_attn_norm: layer_norm(w, &format!("{l}.encoder_attn_layer_norm"), d)?,
                    cross_attn: Attention::load(
                        w,
                        &format!("{l}.encoder_attn"),
                        d,
                        text_dim,
                        heads,
                    )?,
                    ff_norm: layer_norm(w, &format!("{l}.final_layer_norm"), d)?,
                    fc1: Linear::load(w, &format!("{l}.fc1"), d, cfg.ffn_dim, false)?,
                    fc2: Linear::load(w, &format!("{l}.fc2"), cfg.ffn_dim, d, false)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let heads = (0..cfg.num_codebooks)
            .map(|k| {
                Linear::load(
                    w,
                    &format!("decoder.lm_heads.{k}"),
                    d,
                    cfg.vocab_size,
                    false,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let quantized = layers.iter().any(|l| l.fc1.is_quantized());
        Ok(Self {
            embeds,
            layers,
            norm: layer_norm(w, &format!("{p}.layer_norm"), d)?,
            heads,
            cfg: cfg.clone(),
            scaled_cache: quantized && device.is_cpu(),
            device: device.clone(),
        })
    }

    /// Bytes of the self-attention cache of a job feeding `positions` positions to `rows`
    /// batch rows (keys and values, every layer).
    pub fn cache_bytes(&self, rows: usize, positions: usize) -> u64 {
        let per_position = 2 * self.cfg.num_hidden_layers * rows * self.cfg.hidden_size;
        let head_dim = self.cfg.hidden_size / self.cfg.num_attention_heads;
        let bytes = SelfCache::bytes_per_value(self.scaled_cache, head_dim);
        (per_position as f64 * positions as f64 * bytes) as u64
    }

    /// Prepares a job: `encoder` `[b, s, text_dim]` (already projected and masked), `mask`
    /// `[b, s]` (1 = attend). `max_len`: how many positions the job will feed in total.
    pub fn start(
        &self,
        encoder: &Tensor,
        mask: &Tensor,
        max_len: usize,
    ) -> CandleResult<DecoderState> {
        let (b, s, _) = encoder.dims3()?;
        let cross_kv = self
            .layers
            .iter()
            .map(|l| {
                let a = &l.cross_attn;
                Ok(CacheView {
                    k: a.split(&a.k.forward(encoder)?)?,
                    v: a.split(&a.v.forward(encoder)?)?,
                    scales: None,
                })
            })
            .collect::<CandleResult<Vec<_>>>()?;
        let cross_bias = ((1.0 - mask.to_dtype(DType::F32)?)? * f64::from(MASKED))?;
        let cross_bias = Bias {
            rows: Some(cross_bias.flatten_all()?.to_vec1()?),
            tensor: cross_bias.reshape((b, 1, 1, s))?,
        };
        Ok(DecoderState {
            rows: b,
            self_kv: self
                .layers
                .iter()
                .map(|l| {
                    let a = &l.self_attn;
                    let shape = (b, a.heads, max_len.max(1), a.head_dim);
                    SelfCache::new(shape, self.scaled_cache, &self.device)
                })
                .collect::<CandleResult<_>>()?,
            cross_kv,
            cross_bias,
            position: 0,
        })
    }

    /// Feeds `tokens` `[b, K, t]` (the next t positions of every codebook) and returns the
    /// logits for the last position, `[b, K, vocab]`.
    pub fn step(&self, state: &mut DecoderState, tokens: &Tensor) -> CandleResult<Tensor> {
        let (b, k, t) = tokens.dims3()?;
        let d = self.cfg.hidden_size;
        let mut x = self.embeds[0].forward(&tokens.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?)?;
        for (i, embed) in self.embeds.iter().enumerate().take(k).skip(1) {
            x = (x + embed.forward(&tokens.narrow(1, i, 1)?.squeeze(1)?.contiguous()?)?)?;
        }
        if self.cfg.scale_embedding {
            x = (x * (d as f64).sqrt())?;
        }
        let positions = sinusoidal_positions(state.position, t, d, &self.device)?;
        x = x.broadcast_add(&positions)?;
        let past = state.position;
        let causal = (t > 1)
            .then(|| {
                Ok::<_, candle_core::Error>(Bias {
                    tensor: causal_bias(past, t, &self.device)?,
                    rows: None,
                })
            })
            .transpose()?;

        for (i, layer) in self.layers.iter().enumerate() {
            let h = layer.self_attn_norm.forward(&x)?;
            let a = &layer.self_attn;
            let [q, k, v]: [Tensor; 3] = Linear::forward_shared(&[&a.q, &a.k, &a.v], &h)?
                .try_into()
                .expect("three projections in, three out");
            state.self_kv[i].append(&a.split(&k)?, &a.split(&v)?)?;
            x = (x + a.attend(&q, &state.self_kv[i].view()?, causal.as_ref())?)?;

            let h = layer.cross_attn_norm.forward(&x)?;
            let c = &layer.cross_attn;
            let prompt = &state.cross_kv[i];
            x = (x + c.attend(&c.q.forward(&h)?, prompt, Some(&state.cross_bias))?)?;

            let h = layer.ff_norm.forward(&x)?;
            x = (&x + layer.fc2.forward(&gelu_erf(&layer.fc1.forward(&h)?)?)?)?;
        }
        state.position += t;
        let last = self
            .norm
            .forward(&x.narrow(1, t - 1, 1)?)?
            .reshape((b, d))?;
        let heads: Vec<&Linear> = self.heads.iter().collect();
        Tensor::stack(&Linear::forward_shared(&heads, &last)?, 1)
    }
}

impl DecoderState {
    /// A state that goes on from where this one is, on its own copy of the caches (the
    /// prompt's keys and values, never written, are shared).
    pub fn duplicate(&self) -> CandleResult<Self> {
        Ok(Self {
            rows: self.rows,
            self_kv: self
                .self_kv
                .iter()
                .map(SelfCache::duplicate)
                .collect::<CandleResult<_>>()?,
            cross_kv: self
                .cross_kv
                .iter()
                .map(|kv| CacheView {
                    k: kv.k.clone(),
                    v: kv.v.clone(),
                    scales: None,
                })
                .collect(),
            cross_bias: Bias {
                tensor: self.cross_bias.tensor.clone(),
                rows: self.cross_bias.rows.clone(),
            },
            position: self.position,
        })
    }
}

impl Decoder {
    /// One position for each of several jobs in one pass: `tokens[j]` holds job `j`'s next
    /// token of every codebook (the same for each of its rows). Every job keeps its own cache,
    /// position and prompt; the projections and the feed-forward run over all rows together, so
    /// each weight is read once per step whatever the number of jobs. Returns each job's logits
    /// `[rows_j, K, vocab]`. A job's rows go through exactly the arithmetic they would alone:
    /// its result does not depend on its batch mates.
    pub fn step_batch(
        &self,
        states: &mut [&mut DecoderState],
        tokens: &[&[u32]],
    ) -> CandleResult<Vec<Tensor>> {
        let d = self.cfg.hidden_size;
        let k = self.embeds.len();
        if states.len() != tokens.len() || tokens.iter().any(|t| t.len() != k) {
            candle_core::bail!(
                "batched step: {} jobs, {} token rows",
                states.len(),
                tokens.len()
            );
        }
        let rows: Vec<usize> = states.iter().map(|s| s.rows).collect();
        let total: usize = rows.iter().sum();
        // [total, K]: each job's tokens repeated over its rows.
        let flat: Vec<u32> = tokens
            .iter()
            .zip(&rows)
            .flat_map(|(t, &r)| std::iter::repeat_n(*t, r).flatten().copied())
            .collect();
        let ids = Tensor::from_vec(flat, (total, k), &self.device)?;
        let mut x = self.embeds[0].forward(&ids.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?)?;
        for (i, embed) in self.embeds.iter().enumerate().skip(1) {
            x = (x + embed.forward(&ids.narrow(1, i, 1)?.squeeze(1)?.contiguous()?)?)?;
        }
        if self.cfg.scale_embedding {
            x = (x * (d as f64).sqrt())?;
        }
        let positions = states
            .iter()
            .zip(&rows)
            .map(|(s, &r)| sinusoidal_positions(s.position, 1, d, &self.device)?.repeat((r, 1, 1)))
            .collect::<CandleResult<Vec<_>>>()?;
        let x = x.reshape((total, 1, d))?;
        let mut x = (x + Tensor::cat(&positions, 0)?)?;

        for (i, layer) in self.layers.iter().enumerate() {
            let h = layer.self_attn_norm.forward(&x)?;
            let a = &layer.self_attn;
            let [q, kk, v]: [Tensor; 3] = Linear::forward_shared(&[&a.q, &a.k, &a.v], &h)?
                .try_into()
                .expect("three projections in, three out");
            let mut mixed = Vec::with_capacity(states.len());
            let mut at = 0;
            for (state, &r) in states.iter_mut().zip(&rows) {
                let cache = &mut state.self_kv[i];
                cache.append(
                    &a.split(&kk.narrow(0, at, r)?)?,
                    &a.split(&v.narrow(0, at, r)?)?,
                )?;
                mixed.push(a.mix(&q.narrow(0, at, r)?, &cache.view()?, None)?);
                at += r;
            }
            x = (x + a.out.forward(&Tensor::cat(&mixed, 0)?)?)?;

            let h = layer.cross_attn_norm.forward(&x)?;
            let c = &layer.cross_attn;
            let q = c.q.forward(&h)?;
            let mut mixed = Vec::with_capacity(states.len());
            let mut at = 0;
            for (state, &r) in states.iter().zip(&rows) {
                let q = q.narrow(0, at, r)?;
                mixed.push(c.mix(&q, &state.cross_kv[i], Some(&state.cross_bias))?);
                at += r;
            }
            x = (x + c.out.forward(&Tensor::cat(&mixed, 0)?)?)?;

            let h = layer.ff_norm.forward(&x)?;
            x = (&x + layer.fc2.forward(&gelu_erf(&layer.fc1.forward(&h)?)?)?)?;
        }
        for state in states.iter_mut() {
            state.position += 1;
        }
        let last = self.norm.forward(&x)?.reshape((total, d))?;
        let heads: Vec<&Linear> = self.heads.iter().collect();
        let logits = Tensor::stack(&Linear::forward_shared(&heads, &last)?, 1)?;
        let mut at = 0;
        rows.iter()
            .map(|&r| {
                let own = logits.narrow(0, at, r);
                at += r;
                own
            })
            .collect()
    }
}

/// `[t, d]` embeddings of positions `start..start + t`: cosines in the first half, sines in the
/// second, frequencies `exp(−j·ln(10000)/(half−1))` — the layout transformers uses for MusicGen.
pub(crate) fn sinusoidal_positions(
    start: usize,
    t: usize,
    d: usize,
    device: &Device,
) -> CandleResult<Tensor> {
    let half = d / 2;
    // f32 throughout, like the reference, so positions far into a long piece still agree.
    let step = ((10000f64).ln() / (half as f64 - 1.0).max(1.0)) as f32;
    let freqs: Vec<f32> = (0..half).map(|j| (j as f32 * -step).exp()).collect();
    let mut out = vec![0f32; t * d];
    for (row, chunk) in out.chunks_mut(d).enumerate() {
        let p = (start + row) as f32;
        for (j, f) in freqs.iter().enumerate() {
            chunk[j] = (p * f).cos();
            chunk[half + j] = (p * f).sin();
        }
    }
    Tensor::from_vec(out, (1, t, d), device)
}

/// `[1, 1, t, past + t]` additive mask hiding future positions within a multi-token feed.
fn causal_bias(past: usize, t: usize, device: &Device) -> CandleResult<Tensor> {
    let total = past + t;
    let data: Vec<f32> = (0..t)
        .flat_map(|i| (0..total).map(move |j| if j > past + i { MASKED } else { 0.0 }))
        .collect();
    Tensor::from_vec(data, (1, 1, t, total), device)
}
