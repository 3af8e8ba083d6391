//! What a running job is doing: one enum, spelled once, for the live hash, the Lua scripts, the
//! views and the OpenAPI document.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStage {
    /// The text encoder reads the prompt.
    EncodingPrompt,
    /// The decoder writes the music, step by step (see `progress`).
    Composing,
    /// The audio decoder turns the codes into sound.
    RenderingAudio,
}

impl JobStage {
    pub const ALL: [JobStage; 3] = [
        JobStage::EncodingPrompt,
        JobStage::Composing,
        JobStage::RenderingAudio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStage::EncodingPrompt => "encoding_prompt",
            JobStage::Composing => "composing",
            JobStage::RenderingAudio => "rendering_audio",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|stage| stage.as_str() == s)
    }
}

impl std::fmt::Display for JobStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::JobStage;

    #[test]
    fn every_stage_reads_back_as_itself_and_serialises_as_its_name() {
        for stage in JobStage::ALL {
            assert_eq!(JobStage::parse(stage.as_str()), Some(stage));
            assert_eq!(
                serde_json::to_value(stage).unwrap(),
                serde_json::json!(stage.as_str())
            );
        }
        assert_eq!(JobStage::parse("composting"), None);
    }
}
