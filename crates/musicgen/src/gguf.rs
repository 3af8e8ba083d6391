//! A self-contained GGUF file for one MusicGen model: every tensor generation needs (decoder
//! and T5 linears quantized, the rest f32, EnCodec's weight norm already folded) plus the
//! `config.json` and `tokenizer.json` text as metadata, so the file alone can be loaded.
//! EnCodec's encoder half, never used to generate, is left out.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::{DType, Device, Tensor};
use tokenizers::Tokenizer;

use crate::config::MusicgenConfig;
use crate::error::{Error, Result};
use crate::quantize::Quantization;
use crate::weights::Weights;

const ARCHITECTURE: &str = "musicgen";
const CONFIG_KEY: &str = "musicgen.config_json";
const TOKENIZER_KEY: &str = "musicgen.tokenizer_json";
const QUANTIZATION_KEY: &str = "musicgen.quantization";

/// Halves of a weight-normalised convolution, as the checkpoints name them (`v` first).
const WEIGHT_NORM_SUFFIXES: [(&str, &str); 2] = [
    (".weight_v", ".weight_g"),
    (
        ".parametrizations.weight.original1",
        ".parametrizations.weight.original0",
    ),
];

/// Whether `path` names a GGUF file rather than a model folder.
pub fn is_gguf(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}

/// The dense tensors as they go to disk: weight norm folded, the EnCodec encoder dropped.
fn dense_tensors_to_write(weights: &Weights) -> Result<Vec<(String, QTensor)>> {
    let mut out = Vec::new();
    let mut names: Vec<&String> = weights.tensors.keys().collect();
    names.sort();
    for name in names {
        if name.starts_with("audio_encoder.encoder.") {
            continue;
        }
        if WEIGHT_NORM_SUFFIXES.iter().any(|(_, g)| name.ends_with(g)) {
            continue;
        }
        let tensor = &weights.tensors[name];
        if let Some((prefix, _)) = WEIGHT_NORM_SUFFIXES
            .iter()
            .find_map(|(v, _)| name.strip_suffix(v).map(|p| (p, v)))
        {
            let folded = weights.weight_norm(prefix, tensor.dims())?;
            out.push((
                format!("{prefix}.weight"),
                QTensor::quantize(&folded, GgmlDType::F32)?,
            ));
            continue;
        }
        out.push((name.clone(), QTensor::quantize(tensor, GgmlDType::F32)?));
    }
    Ok(out)
}

/// Writes `weights` with `config` and `tokenizer` to `path` (via a temporary file renamed into
/// place, so a crash never leaves a truncated model behind).
pub(crate) fn write_gguf(
    path: &Path,
    config: &MusicgenConfig,
    tokenizer: &Tokenizer,
    weights: &Weights,
    quantization: Quantization,
) -> Result<()> {
    let config_json = serde_json::to_string(config).map_err(|source| Error::Json {
        path: path.into(),
        source,
    })?;
    let tokenizer_json = tokenizer
        .to_string(false)
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    let metadata = [
        ("general.architecture", Value::String(ARCHITECTURE.into())),
        (CONFIG_KEY, Value::String(config_json)),
        (TOKENIZER_KEY, Value::String(tokenizer_json)),
        (
            QUANTIZATION_KEY,
            Value::String(quantization.as_str().into()),
        ),
    ];
    let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let dense = dense_tensors_to_write(weights)?;
    let mut tensors: Vec<(&str, &QTensor)> = dense.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let quantized = weights.quantized();
    tensors.extend(quantized.iter().map(|(n, q)| (n.as_str(), q.as_ref())));
    tensors.sort_by_key(|(n, _)| *n);

    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let partial = partial_path(path);
    let file = File::create(&partial).map_err(|e| Error::io(&partial, e))?;
    let mut writer = BufWriter::new(file);
    gguf_file::write(&mut writer, &metadata, &tensors)?;
    writer.flush().map_err(|e| Error::io(&partial, e))?;
    drop(writer);
    std::fs::rename(&partial, path).map_err(|e| Error::io(path, e))
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// What a GGUF written by [`write_gguf`] holds.
pub(crate) struct GgufModel {
    pub config: MusicgenConfig,
    pub tokenizer: Tokenizer,
    pub weights: Weights,
    pub quantization: Option<Quantization>,
}

pub(crate) fn read_gguf(path: &Path, device: &Device) -> Result<GgufModel> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let content = gguf_file::Content::read(&mut reader)?;
    let text = |key: &str| -> Result<&String> {
        content
            .metadata
            .get(key)
            .and_then(|v| v.to_string().ok())
            .ok_or_else(|| Error::InvalidConfig {
                path: path.into(),
                reason: format!(
                    "GGUF metadata `{key}` missing: not a file written by `coda quantize`"
                ),
            })
    };
    let config: MusicgenConfig =
        serde_json::from_str(text(CONFIG_KEY)?).map_err(|source| Error::Json {
            path: path.into(),
            source,
        })?;
    config.validate().map_err(|reason| Error::InvalidConfig {
        path: path.into(),
        reason,
    })?;
    let tokenizer = Tokenizer::from_bytes(text(TOKENIZER_KEY)?.as_bytes())
        .map_err(|e| Error::Tokenizer(format!("{}: {e}", path.display())))?;
    let quantization = text(QUANTIZATION_KEY).ok().and_then(|q| q.parse().ok());

    // One reused read buffer and one allocation per tensor: going through `QTensor` and
    // `dequantize` would copy every f32 tensor three times and leave the heap fragmented
    // (≈ 200 MiB more resident after loading musicgen-small).
    let mut infos: Vec<(&String, &gguf_file::TensorInfo)> = content.tensor_infos.iter().collect();
    infos.sort_by_key(|(_, info)| info.offset);
    let mut weights = Weights::from_map(Default::default());
    let mut buf: Vec<u8> = Vec::new();
    for (name, info) in infos {
        let dtype = info.ggml_dtype;
        let bytes = info.shape.elem_count() / dtype.block_size() * dtype.type_size();
        buf.resize(bytes, 0);
        reader
            .seek(SeekFrom::Start(content.tensor_data_offset + info.offset))
            .and_then(|_| reader.read_exact(&mut buf))
            .map_err(|e| Error::io(path, e))?;
        match dtype {
            GgmlDType::F32 => {
                let data: Vec<f32> = buf
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                let t = Tensor::from_vec(data, info.shape.clone(), device)?;
                weights.tensors.insert(name.clone(), t);
            }
            GgmlDType::F16 | GgmlDType::BF16 => {
                let q = QTensor::new(
                    QStorage::from_data(Cow::Borrowed(&buf), device, dtype)?,
                    info.shape.clone(),
                )?;
                weights
                    .tensors
                    .insert(name.clone(), q.dequantize(device)?.to_dtype(DType::F32)?);
            }
            _ => {
                let q = QTensor::new(
                    QStorage::from_data(Cow::Borrowed(&buf), device, dtype)?,
                    info.shape.clone(),
                )?;
                weights.insert_quantized(name.clone(), Arc::new(q));
            }
        }
    }
    Ok(GgufModel {
        config,
        tokenizer,
        weights,
        quantization,
    })
}
