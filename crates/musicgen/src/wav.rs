//! WAV output.

use std::path::Path;

use crate::error::Result;

/// Writes mono 16-bit PCM. Samples are clamped to [−1, 1] first: a random or over-driven
/// model must produce a clipped file, never wrapped-around noise.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        let s = if s.is_finite() {
            s.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        writer.write_sample((s * f32::from(i16::MAX)).round() as i16)?;
    }
    writer.finalize()?;
    Ok(())
}
