//! Seconds of audio to decoder frames: one rule for the estimate and for the run, so that the
//! ETA counts exactly the steps the model will take.

/// Frames the model decodes for `seconds` of audio at `frame_rate` frames per second: the
/// nearest whole frame, at least one. Rounding (not `ceil`) keeps durations such as 1.1 s,
/// whose product is a hair above a whole number in floating point, from gaining a frame.
pub fn frames_for_seconds(seconds: f64, frame_rate: f64) -> usize {
    ((seconds * frame_rate).round() as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::frames_for_seconds;

    #[test]
    fn a_clip_gets_the_nearest_whole_frame_and_never_none() {
        assert_eq!(frames_for_seconds(10.0, 50.0), 500);
        assert_eq!(frames_for_seconds(1.1, 50.0), 55);
        assert_eq!(frames_for_seconds(0.001, 50.0), 1);
        assert_eq!(frames_for_seconds(2.5, 12.5), 31);
    }
}
