use std::path::PathBuf;

/// Everything that can go wrong while resolving, loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The observer asked generation to stop.
    #[error("generation stopped on request")]
    Stopped,
    /// The model id is neither a folder, `tiny`, nor something the hub could deliver.
    #[error("model `{id}` not found: {reason}")]
    ModelNotFound { id: String, reason: String },
    /// `config.json` is missing a field, has an unsupported value, or disagrees with the weights.
    #[error("invalid model config in {path}: {reason}")]
    InvalidConfig { path: PathBuf, reason: String },
    /// A tensor the architecture needs is absent from `model.safetensors`.
    #[error("missing tensor `{name}` in model weights")]
    MissingTensor { name: String },
    /// A tensor has a shape other than the config implies.
    #[error("tensor `{name}` has shape {actual:?}, expected {expected:?}")]
    TensorShape {
        name: String,
        expected: Vec<usize>,
        actual: Vec<usize>,
    },
    /// The request cannot be served as given (empty prompt, zero frames, bad sampling values).
    #[error("invalid generation request: {0}")]
    InvalidRequest(String),
    /// A quantization name other than `none`, `q8_0` or `q4k`.
    #[error("unknown quantization `{0}`: expected none, q8_0 or q4k")]
    UnknownQuantization(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("WAV encoding: {0}")]
    Wav(#[from] hound::Error),
    #[error("JSON in {path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
