//! Named tensors from `model.safetensors`, with shape checks and weight-norm folding.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use candle_core::quantized::QTensor;
use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};

/// All tensors of a checkpoint, converted to f32 on the target device.
pub(crate) struct Weights {
    pub(crate) tensors: HashMap<String, Tensor>,
    /// Linear weights held as quantized blocks (from a GGUF file or quantized at load); a name
    /// is in one map or the other, never both. Behind a lock so that a layer converting its
    /// blocks to another layout can drop the originals while the rest of the model loads.
    quantized: Mutex<HashMap<String, Arc<QTensor>>>,
}

impl Weights {
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "model.safetensors not found"),
            ));
        }
        let raw = candle_core::safetensors::load(path, device)?;
        let tensors = raw
            .into_iter()
            .map(|(name, t)| Ok((name, t.to_dtype(DType::F32)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Ok(Self::from_map(tensors))
    }

    pub fn from_map(tensors: HashMap<String, Tensor>) -> Self {
        Self {
            tensors,
            quantized: Mutex::default(),
        }
    }

    /// The quantized tensors, by name.
    pub fn quantized(&self) -> MutexGuard<'_, HashMap<String, Arc<QTensor>>> {
        self.quantized
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds (or replaces) the quantized tensor `name`, taking it out of the dense ones.
    pub fn insert_quantized(&mut self, name: String, q: Arc<QTensor>) {
        self.tensors.remove(&name);
        self.quantized().insert(name, q);
    }

    /// Drops the weights' hold on the quantized tensor `name`, once a layer has made its own
    /// copy in another layout: a model's load then never holds both copies of every layer.
    pub fn release_quantized(&self, name: &str) {
        self.quantized().remove(name);
    }

    /// The quantized tensor `name`, if the weights hold it quantized; it must have `shape`.
    pub fn get_quantized(&self, name: &str, shape: &[usize]) -> Result<Option<Arc<QTensor>>> {
        let Some(q) = self.quantized().get(name).cloned() else {
            return Ok(None);
        };
        if q.shape().dims() != shape {
            return Err(Error::TensorShape {
                name: name.to_string(),
                expected: shape.to_vec(),
                actual: q.shape().dims().to_vec(),
            });
        }
        Ok(Some(q))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The tensor `name`, which must have exactly `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let t = self.tensors.get(name).ok_or_else(|| Error::MissingTensor {
            name: name.to_string(),
        })?;
        check_shape(name, t, shape)?;
        Ok(t.clone())
    }

    /// The first of `names` present (checkpoints spell tied or renamed tensors differently).
    pub fn get_first(&self, names: &[&str], shape: &[usize]) -> Result<Tensor> {
        match names.iter().find(|n| self.contains(n)) {
            Some(name) => self.get(name, shape),
            None => Err(Error::MissingTensor {
                name: names.join(" | "),
            }),
        }
    }

    /// The effective weight of a weight-normalised layer at `prefix`, folded once at load:
    /// `g · v / ‖v‖`, the norm taken over every dim but the first. Published checkpoints store
    /// `weight_g`/`weight_v`; newer transformers saves `parametrizations.weight.original0/1`.
    /// A plain `weight` (norm already removed) is accepted as is.
    pub fn weight_norm(&self, prefix: &str, shape: &[usize]) -> Result<Tensor> {
        let pairs = [
            ("weight_g", "weight_v"),
            (
                "parametrizations.weight.original0",
                "parametrizations.weight.original1",
            ),
        ];
        for (g_name, v_name) in pairs {
            let (g_name, v_name) = (format!("{prefix}.{g_name}"), format!("{prefix}.{v_name}"));
            if self.contains(&v_name) {
                let v = self.get(&v_name, shape)?;
                let mut g_shape = vec![1; shape.len()];
                g_shape[0] = shape[0];
                let g = self.get(&g_name, &g_shape)?;
                let norm = v
                    .sqr()?
                    .flatten_from(1)?
                    .sum_keepdim(1)?
                    .sqrt()?
                    .reshape(g_shape.as_slice())?;
                return Ok(v.broadcast_mul(&g.broadcast_div(&norm)?)?);
            }
        }
        self.get(&format!("{prefix}.weight"), shape)
    }
}

fn check_shape(name: &str, t: &Tensor, shape: &[usize]) -> Result<()> {
    if t.dims() != shape {
        return Err(Error::TensorShape {
            name: name.to_string(),
            expected: shape.to_vec(),
            actual: t.dims().to_vec(),
        });
    }
    Ok(())
}
