//! Command-line surface. Flags override the config file and `CODA_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use coda_musicgen::Quantization;

#[derive(Debug, Parser)]
#[command(
    name = "coda",
    version,
    about = "A queue for slow generative jobs: text to music, one job at a time."
)]
pub struct Cli {
    /// TOML config file; keys can be overridden by `CODA_<SECTION>__<KEY>` env vars, then by flags.
    #[arg(long, global = true, env = "CODA_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log format.
    #[arg(long, global = true, env = "CODA_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the api and a worker in one process: the single-box default.
    Up(ServeArgs),
    /// Run only the HTTP api (jobs are queued for workers elsewhere).
    Api(ServeArgs),
    /// Run only a worker, pulling jobs from the queue.
    Worker(ServeArgs),
    /// Apply the ledger's SQL migrations and exit.
    Migrate(ServeArgs),
    /// Write the small random test model (Hugging Face layout) into a folder.
    MakeTinyModel(MakeTinyModelArgs),
    /// Generate one clip from a prompt straight to a WAV file, without the queue.
    Generate(GenerateArgs),
    /// Write a GGUF file with the decoder's linear layers quantized (Q8_0 or Q4K).
    Quantize(QuantizeArgs),
    /// Measure decoding speed, prompt encoding, audio rendering and peak memory.
    Bench(BenchArgs),
}

/// Flags shared by the long-running commands; each overrides one config key.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// `http.addr`: where the api listens.
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// `redis.url`.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// `redis.namespace`: key prefix and queue name.
    #[arg(long)]
    pub namespace: Option<String>,
    /// `database.url`: `sqlite://…` or `postgres://…`.
    #[arg(long)]
    pub database_url: Option<String>,
    /// `storage.dir`: audio, the ledger's SQLite file and generated models.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `worker.concurrency`: jobs this process composes together (its batch size).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// `model.id`: `tiny`, a local folder or a Hugging Face hub id.
    #[arg(long)]
    pub model: Option<String>,
    /// `model.quantization`: the decoder's linear layers as stored (`none` is f32); a checkpoint
    /// is quantized once into `storage.dir` and reused.
    #[arg(long)]
    pub quantization: Option<Quantization>,
    /// Directory of the web page served at `/`.
    #[arg(long, env = "CODA_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MakeTinyModelArgs {
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// `tiny`, a local folder in the Hugging Face layout, a hub id such as
    /// `facebook/musicgen-small`, or a GGUF file written by `coda quantize`.
    #[arg(long, default_value = "tiny")]
    pub model: String,
    /// What the music should sound like.
    #[arg(long)]
    pub prompt: String,
    /// Length of the clip in seconds.
    #[arg(long, conflicts_with = "frames", default_value_t = 5.0)]
    pub duration: f64,
    /// Length of the clip in frames (50 per second), instead of `--duration`.
    #[arg(long)]
    pub frames: Option<usize>,
    /// Sample among the k most likely tokens (0 = off).
    #[arg(long, default_value_t = 250)]
    pub top_k: usize,
    /// Nucleus sampling threshold (0 = off; when set it replaces top-k).
    #[arg(long, default_value_t = 0.0)]
    pub top_p: f64,
    /// Sampling temperature (0 = always the most likely token).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Classifier-free guidance scale.
    #[arg(long, default_value_t = 3.0)]
    pub guidance: f64,
    /// Random seed: the same seed gives the same clip.
    #[arg(long)]
    pub seed: Option<u64>,
    /// CPU threads for the model (default: the library's choice).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Where the tiny model and hub downloads are kept.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Output WAV file.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the generated codes (delay removed) as JSON: one array per codebook.
    #[arg(long)]
    pub codes_out: Option<PathBuf>,
}

/// Published MusicGen sizes (`tiny` is the project's small test model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    Tiny,
    Small,
    Medium,
    Large,
}

#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// `tiny`, a local folder in the Hugging Face layout, or a hub id such as `facebook/musicgen-small`.
    #[arg(long, required_unless_present = "preset")]
    pub model: Option<String>,
    /// Quantize random weights of a published size instead of a checkpoint (for offline
    /// load-time and memory measurements; the audio is noise).
    #[arg(long, conflicts_with = "model")]
    pub preset: Option<Preset>,
    /// Block type of the decoder's linear layers.
    #[arg(long)]
    pub dtype: Quantization,
    /// Output GGUF file; it holds the config and tokenizer too, so it loads on its own.
    #[arg(long)]
    pub out: PathBuf,
    /// Where the tiny model and hub downloads are kept.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
}

/// Where a benchmark's weights come from when no `--model` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum WeightSource {
    /// Deterministic random weights of the preset's shapes: no download needed.
    #[default]
    Random,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model shapes for random weights.
    #[arg(long, default_value = "small", conflicts_with = "model")]
    pub preset: Preset,
    /// Weights for `--preset`.
    #[arg(long, default_value = "random")]
    pub weights: WeightSource,
    /// Measure a real model instead: `tiny`, a folder, a hub id or a GGUF file from `coda quantize`.
    #[arg(long)]
    pub model: Option<String>,
    /// Decoder linear layers: none (f32), q8_0 or q4k, quantized at load.
    #[arg(long, default_value = "none")]
    pub quantization: Quantization,
    /// Timed decoding steps; the default covers a 10 s clip. Later steps cost more (attention
    /// reads the whole cache), so fewer steps make the clip figure an extrapolated underestimate.
    #[arg(long, default_value_t = 503)]
    pub steps: usize,
    /// Feed this many positions in one go before timing, to time steps from the middle of a
    /// clip (e.g. `--start-position 250 --steps 20`) without decoding all the way there.
    #[arg(long, default_value_t = 0)]
    pub start_position: usize,
    /// CPU threads for the model (default: one per physical core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Classifier-free guidance scale (anything but 1 decodes a batch of two).
    /// Jobs decoded together in one pass per step, each with its own cache and sampler (the
    /// worker batches up to `worker.concurrency` jobs); figures are per step of the whole batch
    /// and per job-step.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub batch: u64,
    /// Run `--batch` jobs of staggered lengths (the longest `--clip-seconds`) through the
    /// worker's batching engine instead: wall time until all are done, the step time at each
    /// batch size the engine went through, and while a finished job renders beside the others.
    #[arg(long)]
    pub engine: bool,
    /// With `--engine`: render each finished job on the stepping thread between two steps
    /// (the others wait for it) instead of on its own thread beside them.
    #[arg(long, requires = "engine")]
    pub render_between_steps: bool,
    #[arg(long, default_value_t = 3.0)]
    pub guidance: f64,
    /// Frames EnCodec renders for its timing (scaled to the clip for the real-time factor).
    #[arg(long, default_value_t = 250)]
    pub audio_frames: usize,
    /// Clip length for the real-time factor.
    #[arg(long, default_value_t = 10.0)]
    pub clip_seconds: f64,
    /// Print one JSON object instead of one line per figure.
    #[arg(long)]
    pub json: bool,
    /// Where the tiny model and hub downloads are kept.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
}
