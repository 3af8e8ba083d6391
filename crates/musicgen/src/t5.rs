//! T5 encoder, as MusicGen uses it for the prompt.
//!
//! Written here rather than taken from candle-transformers because that one ignores the
//! attention mask (padded batches come out wrong) and needs `&mut self`, which would force a
//! lock around a model that is otherwise shared read-only between threads.

use candle_core::{DType, Device, Module, Result as CandleResult, Tensor, D};
use candle_nn::Embedding;

use crate::config::T5Config;
use crate::error::Result;
use crate::int8::Int8Matrix;
use crate::linear::{Linear, Runs};
use crate::weights::Weights;

/// Added to attention scores at masked keys; finite so an all-masked row stays a uniform
/// softmax (as in transformers) instead of NaN.
const MASKED: f32 = -1e30;

struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn load(w: &Weights, prefix: &str, dim: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: w.get(&format!("{prefix}.weight"), &[dim])?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let variance = x.sqr()?.mean_keepdim(D::Minus1)?;
        x.broadcast_div(&(variance + self.eps)?.sqrt()?)?
            .broadcast_mul(&self.weight)
    }
}

enum FeedForward {
    Relu {
        wi: Linear,
        wo: Linear,
    },
    GatedGelu {
        wi_0: Linear,
        wi_1: Linear,
        wo: Linear,
    },
}

impl FeedForward {
    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        match self {
            Self::Relu { wi, wo } => wo.forward(&wi.forward(x)?.relu()?),
            // T5 v1.1 "gated-gelu" is the tanh approximation (gelu_new).
            Self::GatedGelu { wi_0, wi_1, wo } => {
                wo.forward(&(wi_0.forward(x)?.gelu()? * wi_1.forward(x)?)?)
            }
        }
    }
}

struct Block {
    attn_norm: RmsNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ff_norm: RmsNorm,
    ff: FeedForward,
}

/// The names checkpoints give T5's token table (tied weights are saved under either).
pub(crate) const TOKEN_TABLES: [&str; 2] = [
    "text_encoder.shared.weight",
    "text_encoder.encoder.embed_tokens.weight",
];

/// The token table: f32, or Q8_0 rows expanded as a prompt looks them up (t5-base's
/// 32128 × 768 table is ≈ 99 MB in f32, ≈ 28 MB in Q8_0, and only a prompt's few rows are read).
enum TokenTable {
    Dense(Embedding),
    Int8(Int8Matrix),
}

impl TokenTable {
    /// Takes the first of `names` the weights hold, quantized or not.
    fn load(w: &Weights, names: &[&str], shape: [usize; 2]) -> Result<Self> {
        for name in names {
            if let Some(q) = w.get_quantized(name, &shape)? {
                return Ok(Self::Int8(Int8Matrix::take_from(w, name, &q)?));
            }
        }
        let dense = w.get_first(names, &shape)?;
        Ok(Self::Dense(Embedding::new(dense, shape[1])))
    }

    /// `ids` `[b, len]` → `[b, len, d]`.
    fn forward(&self, ids: &Tensor) -> CandleResult<Tensor> {
        match self {
            Self::Dense(e) => e.forward(ids),
            Self::Int8(table) => {
                let (b, len) = ids.dims2()?;
                let rows = table.gather_rows(&ids.flatten_all()?.to_vec1::<u32>()?)?;
                Tensor::from_vec(rows, (b, len, table.cols()), ids.device())
            }
        }
    }
}

pub(crate) struct T5Encoder {
    embed: TokenTable,
    relative_bias: Embedding,
    blocks: Vec<Block>,
    final_norm: RmsNorm,
    cfg: T5Config,
    device: Device,
}

impl T5Encoder {
    pub fn load(w: &Weights, cfg: &T5Config, device: &Device) -> Result<Self> {
        let p = "text_encoder";
        let (d, inner) = (cfg.d_model, cfg.num_heads * cfg.d_kv);
        let embed = TokenTable::load(w, &TOKEN_TABLES, [cfg.vocab_size, d])?;
        let relative_bias = w.get(
            &format!("{p}.encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
            &[cfg.relative_attention_num_buckets, cfg.num_heads],
        )?;
        let eps = cfg.layer_norm_epsilon;
        let linear = |name: String, in_dim, out_dim| {
            Linear::load_for(w, &name, in_dim, out_dim, false, Runs::OncePerJob)
        };
        let blocks = (0..cfg.num_layers)
            .map(|i| {
                let b = format!("{p}.encoder.block.{i}.layer");
                let a = format!("{b}.0.SelfAttention");
                let f = format!("{b}.1.DenseReluDense");
                let ff = if cfg.feed_forward_proj == "gated-gelu" {
                    FeedForward::GatedGelu {
                        wi_0: linear(format!("{f}.wi_0"), d, cfg.d_ff)?,
                        wi_1: linear(format!("{f}.wi_1"), d, cfg.d_ff)?,
                        wo: linear(format!("{f}.wo"), cfg.d_ff, d)?,
                    }
                } else {
                    FeedForward::Relu {
                        wi: linear(format!("{f}.wi"), d, cfg.d_ff)?,
                        wo: linear(format!("{f}.wo"), cfg.d_ff, d)?,
                    }
                };
                Ok(Block {
                    attn_norm: RmsNorm::load(w, &format!("{b}.0.layer_norm"), d, eps)?,
                    q: linear(format!("{a}.q"), d, inner)?,
                    k: linear(format!("{a}.k"), d, inner)?,
                    v: linear(format!("{a}.v"), d, inner)?,
                    o: linear(format!("{a}.o"), inner, d)?,
                    ff_norm: RmsNorm::load(w, &format!("{b}.1.layer_norm"), d, eps)?,
                    ff,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            embed,
            relative_bias: Embedding::new(relative_bias, cfg.num_heads),
            blocks,
            final_norm: RmsNorm::load(w, &format!("{p}.encoder.final_layer_norm"), d, eps)?,
            cfg: cfg.clone(),
            device: device.clone(),
        })
    }

    /// `ids`, `mask`: `[batch, len]` (u32). Returns the last hidden state `[batch, len, d_model]`.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> CandleResult<Tensor> {
        let (b, len) = ids.dims2()?;
        let (heads, d_kv) = (self.cfg.num_heads, self.cfg.d_kv);
        // Position bias [1, heads, len, len] plus the key mask [b, 1, 1, len], shared by all layers.
        let buckets = Tensor::from_vec(self.buckets(len), (len, len), &self.device)?;
        let position_bias = self
            .relative_bias
            .forward(&buckets)?
            .permute((2, 0, 1))?
            .unsqueeze(0)?;
        let key_mask =
            ((1.0 - mask.to_dtype(DType::F32)?)? * f64::from(MASKED))?.reshape((b, 1, 1, len))?;
        let bias = position_bias.broadcast_add(&key_mask)?;

        let mut x = self.embed.forward(ids)?;
        for block in &self.blocks {
            let h = block.attn_norm.forward(&x)?;
            let split = |t: Tensor| -> CandleResult<Tensor> {
                t.reshape((b, len, heads, d_kv))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = split(block.q.forward(&h)?)?;
            let k = split(block.k.forward(&h)?)?;
            let v = split(block.v.forward(&h)?)?;
            // T5 does not scale scores by 1/sqrt(d_kv): the initialisation accounts for it.
            let scores = q.matmul(&k.t()?)?.broadcast_add(&bias)?;
            let attn = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&v)?;
            let attn = attn.transpose(1, 2)?.reshape((b, len, heads * d_kv))?;
            x = (x + block.o.forward(&attn)?)?;
            let h = block.ff_norm.forward(&x)?;
            x = (&x + block.ff.forward(&h)?)?;
        }
        self.final_norm.forward(&x)
    }

    /// Bidirectional relative-position buckets, `[query][key]` flattened, computed in f32 like
    /// transformers so the rounding at bucket edges agrees.
    fn buckets(&self, len: usize) -> Vec<u32> {
        let num_buckets = (self.cfg.relative_attention_num_buckets / 2) as i64;
        let max_exact = num_buckets / 2;
        let max_distance = self.cfg.relative_attention_max_distance as f32;
        let mut out = Vec::with_capacity(len * len);
        for i in 0..len as i64 {
            for j in 0..len as i64 {
                let rel = j - i;
                let mut bucket = if rel > 0 { num_buckets } else { 0 };
                let dist = rel.abs();
                bucket += if dist < max_exact {
                    dist
                } else {
                    let scaled = (dist as f32 / max_exact as f32).ln()
                        / (max_distance / max_exact as f32).ln()
                        * (num_buckets - max_exact) as f32;
                    (max_exact + scaled as i64).min(num_buckets - 1)
                };
                out.push(bucket as u32);
            }
        }
        out
    }
}
