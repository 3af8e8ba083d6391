//! The model's section of the configuration: `model`. The binary deserialises it from the file
//! and the environment; the worker hands it to [`crate::MusicGen::load`]'s callers as is.

use serde::{Deserialize, Serialize};

use crate::quantize::Quantization;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// `tiny`, a local folder, or a Hugging Face id such as `facebook/musicgen-small`.
    pub id: String,
    /// How the decoder's (and T5's) linear layers are stored: `none`, `q8_0` or `q4k`.
    pub quantization: Quantization,
    /// Inference threads; `None` = one per physical core.
    pub threads: Option<usize>,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            id: "tiny".into(),
            quantization: Quantization::None,
            threads: None,
        }
    }
}

/// A `model.*` value out of range; `key` is the dotted name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidSetting {
    pub key: &'static str,
    pub message: String,
}

impl ModelSettings {
    /// Checks what serde cannot. The message names the key.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.id.trim().is_empty() {
            return Err(InvalidSetting {
                key: "model.id",
                message: "model.id must not be empty".into(),
            });
        }
        if self.threads == Some(0) {
            return Err(InvalidSetting {
                key: "model.threads",
                message: "model.threads must be ≥ 1 when set".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_reads_as_the_names_operators_write() {
        for q in Quantization::ALL {
            let s: ModelSettings =
                serde_json::from_str(&format!(r#"{{"quantization":"{q}"}}"#)).unwrap();
            assert_eq!(s.quantization, q);
        }
        let err = serde_json::from_str::<ModelSettings>(r#"{"quantization":"q3"}"#).unwrap_err();
        assert!(err.to_string().contains("q3"), "{err}");
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        assert!(ModelSettings::default().validate().is_ok());
        let s = ModelSettings {
            threads: Some(0),
            ..ModelSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "model.threads");
        let s = ModelSettings {
            id: " ".into(),
            ..ModelSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "model.id");
    }
}
