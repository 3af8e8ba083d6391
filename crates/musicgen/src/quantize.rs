//! Quantizing the decoder's linear layers to GGUF block types.
//!
//! Decoding one frame reads every decoder weight once, so its speed is bound by how many bytes
//! the linear layers take: they are ≈ 99% of the decoder. Only those are quantized; the
//! decoder's token embeddings, norms, `enc_to_dec_proj` and EnCodec stay f32 (EnCodec has no
//! quantized convolution in candle). The codebook heads, which decide every sampled token, get
//! Q8_0 whatever the requested type, and so do the T5 encoder's linear layers and its token
//! table: T5 runs once per job, so speed is not the point, but in f32 they are ≈ 440 MB of a
//! musicgen-small worker's memory and in Q8_0 ≈ 118 MB (one copy: see `linear::Runs`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QTensor};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::weights::Weights;

const LAYERS_PREFIX: &str = "decoder.model.decoder.layers.";
const HEADS_PREFIX: &str = "decoder.lm_heads.";
const T5_PREFIX: &str = "text_encoder.encoder.block.";
/// A rank-2 T5 tensor that is a lookup table, not a linear layer.
const T5_RELATIVE_BIAS: &str = "relative_attention_bias";

/// How the decoder's linear layers are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantization {
    /// f32, as in the checkpoint.
    #[default]
    None,
    /// 8-bit blocks of 32 (8.5 bits per weight).
    Q8_0,
    /// 4-bit k-quant super-blocks of 256 (4.5 bits per weight).
    Q4k,
}

impl Quantization {
    pub const ALL: [Quantization; 3] = [Quantization::None, Quantization::Q8_0, Quantization::Q4k];

    pub fn as_str(self) -> &'static str {
        match self {
            Quantization::None => "none",
            Quantization::Q8_0 => "q8_0",
            Quantization::Q4k => "q4k",
        }
    }

    fn ggml(self) -> Option<GgmlDType> {
        match self {
            Quantization::None => None,
            Quantization::Q8_0 => Some(GgmlDType::Q8_0),
            Quantization::Q4k => Some(GgmlDType::Q4K),
        }
    }
}

impl fmt::Display for Quantization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quantization {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Quantization::ALL
            .into_iter()
            .find(|q| q.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownQuantization(s.to_string()))
    }
}

/// What [`quantize_weights`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuantizeSummary {
    /// Tensors per stored type name (`q8_0`, `q4k`, `f32`): linear weights and T5's token table.
    pub tensors_by_type: BTreeMap<String, usize>,
    /// Tensors that could not take the requested type because their input width is not a
    /// multiple of its block size, with the type they got instead.
    pub fallbacks: Vec<(String, String)>,
}

/// The type a linear weight with input width `in_dim` gets when `wanted` is asked for: the
/// first of `wanted`, Q8_0, f32 whose block size divides the width (candle's quantized matmul
/// needs whole blocks along the input dimension).
fn fitting_type(wanted: GgmlDType, in_dim: usize) -> Option<GgmlDType> {
    [wanted, GgmlDType::Q8_0]
        .into_iter()
        .find(|t| in_dim.is_multiple_of(t.block_size()))
}

fn type_name(t: Option<GgmlDType>) -> String {
    match t {
        Some(GgmlDType::Q8_0) => "q8_0".into(),
        Some(GgmlDType::Q4K) => "q4k".into(),
        Some(other) => format!("{other:?}").to_lowercase(),
        None => "f32".into(),
    }
}

/// Moves the decoder's linear weights of `weights` from f32 to `quantization` (and the heads'
/// and T5's to Q8_0), in place.
/// A no-op for [`Quantization::None`].
pub(crate) fn quantize_weights(
    weights: &mut Weights,
    quantization: Quantization,
) -> Result<QuantizeSummary> {
    let mut summary = QuantizeSummary::default();
    let Some(wanted) = quantization.ggml() else {
        return Ok(summary);
    };
    let mut plan: Vec<(String, Option<GgmlDType>)> = weights
        .tensors
        .iter()
        .filter(|(_, t)| t.rank() == 2)
        .filter_map(|(name, t)| {
            let target = if name.starts_with(LAYERS_PREFIX) {
                wanted
            } else if name.starts_with(HEADS_PREFIX)
                || (name.starts_with(T5_PREFIX) && !name.contains(T5_RELATIVE_BIAS))
                // Only a prompt's rows of T5's token table are read, and it is the largest
                // f32 tensor left otherwise.
                || crate::t5::TOKEN_TABLES.contains(&name.as_str())
            {
                GgmlDType::Q8_0
            } else {
                return None;
            };
            let in_dim = t.dim(1).ok()?;
            let got = fitting_type(target, in_dim);
            if got != Some(target) {
                summary.fallbacks.push((name.clone(), type_name(got)));
            }
            Some((name.clone(), got))
        })
        .collect();
    plan.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, t) in &plan {
        *summary.tensors_by_type.entry(type_name(*t)).or_default() += 1;
    }
    let tensors = &weights.tensors;
    let quantized = plan
        .par_iter()
        .filter_map(|(name, t)| t.map(|t| (name, t)))
        .map(|(name, t)| {
            Ok((
                name.clone(),
                Arc::new(QTensor::quantize(&tensors[name], t)?),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    for (name, q) in quantized {
        weights.insert_quantized(name, q);
    }
    summary.fallbacks.sort();
    if !summary.fallbacks.is_empty() {
        tracing::info!(
            requested = %quantization,
            tensors = summary.fallbacks.len(),
            first = %summary.fallbacks[0].0,
            got = %summary.fallbacks[0].1,
            "some linear layers are too narrow for the requested block size and use another type"
        );
    }
    tracing::debug!(requested = %quantization, by_type = ?summary.tensors_by_type, "decoder quantized");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for q in Quantization::ALL {
            assert_eq!(q.as_str().parse::<Quantization>().unwrap(), q);
        }
        assert!("q5".parse::<Quantization>().is_err());
    }

    #[test]
    fn narrow_layers_fall_back_to_q8_0_then_f32() {
        assert_eq!(fitting_type(GgmlDType::Q4K, 1024), Some(GgmlDType::Q4K));
        assert_eq!(fitting_type(GgmlDType::Q4K, 160), Some(GgmlDType::Q8_0));
        assert_eq!(fitting_type(GgmlDType::Q8_0, 48), None);
    }
}
