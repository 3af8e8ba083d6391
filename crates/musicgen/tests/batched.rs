//! Jobs decoded together by the engine: each one's result is exactly what it is alone, whoever
//! its batch mates are and whenever they join or leave.

mod common;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use coda_engine::{Admission, Answer, Engine, EngineSettings, Failure, Finishing};
use coda_musicgen::{
    Composition, Error, Generation, GenerationObserver, GenerationParams, LoadOptions, MusicGen,
    NoopObserver, Quantization, Stage,
};

fn load(quantization: Quantization) -> Arc<MusicGen> {
    let options = LoadOptions {
        quantization,
        ..LoadOptions::default()
    };
    Arc::new(MusicGen::load(&common::tiny_dir(), &options).expect("load tiny"))
}

fn engine(model: &Arc<MusicGen>, max_batch: usize) -> Engine<MusicGen> {
    let settings = EngineSettings {
        admission: Admission {
            max_batch,
            memory_budget: None,
        },
        finishing: Finishing::default(),
    };
    Engine::start(model.clone(), settings, "test").unwrap()
}

/// Sends the step of every `Composing` report.
struct Steps(mpsc::Sender<(usize, usize)>);

impl GenerationObserver for Steps {
    fn on_stage(&mut self, stage: Stage) {
        if let Stage::Composing { step, together, .. } = stage {
            let _ = self.0.send((step, together));
        }
    }
    fn should_stop(&self) -> bool {
        false
    }
}

fn submit(
    engine: &Engine<MusicGen>,
    params: &GenerationParams,
    observer: Box<dyn GenerationObserver + Send>,
) -> mpsc::Receiver<Answer<MusicGen>> {
    let (tx, rx) = mpsc::channel();
    let request = Composition {
        params: params.clone(),
        observer,
    };
    engine.submit(request, move |answer| tx.send(answer).unwrap());
    rx
}

fn wait(rx: &mpsc::Receiver<Answer<MusicGen>>) -> Answer<MusicGen> {
    rx.recv_timeout(Duration::from_secs(120))
        .expect("an answer")
}

/// The job under test and three mates unlike it: other prompts, lengths, guidance and sampling.
fn jobs() -> (GenerationParams, Vec<GenerationParams>) {
    let job = GenerationParams {
        prompt: "a calm piano melody".into(),
        frames: 40,
        seed: 7,
        ..GenerationParams::default()
    };
    let mates = vec![
        GenerationParams {
            prompt: "drums and bass".into(),
            frames: 60,
            guidance_scale: 1.0,
            seed: 1,
            ..GenerationParams::default()
        },
        GenerationParams {
            prompt: "a fast violin over a long slow drone".into(),
            frames: 25,
            top_k: 0,
            top_p: 0.9,
            temperature: 0.8,
            seed: 3,
            ..GenerationParams::default()
        },
        GenerationParams {
            prompt: "noise".into(),
            frames: 90,
            temperature: 0.0,
            guidance_scale: 5.0,
            ..GenerationParams::default()
        },
    ];
    (job, mates)
}

fn alone(model: &MusicGen, params: &GenerationParams) -> Generation {
    model
        .generate(params, &mut NoopObserver)
        .expect("generate alone")
}

fn same_result(what: &str, got: &Generation, want: &Generation) {
    assert_eq!(
        got.codes, want.codes,
        "{what}: codes differ from the job alone"
    );
    assert!(
        got.samples == want.samples,
        "{what}: audio differs from the job alone"
    );
}

fn independence(quantization: Quantization) {
    let model = load(quantization);
    let (job, mates) = jobs();
    let engine = engine(&model, 4);
    // The mates start first; the job joins once they are a few steps in, and they leave at
    // different steps while it runs (25, 60 and 90 frames around its 40).
    let (tx, steps) = mpsc::channel();
    let mut replies: Vec<_> = mates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let observer: Box<dyn GenerationObserver + Send> = if i == 0 {
                Box::new(Steps(tx.clone()))
            } else {
                Box::new(NoopObserver)
            };
            submit(&engine, p, observer)
        })
        .collect();
    while steps
        .recv_timeout(Duration::from_secs(60))
        .expect("the mates step")
        .0
        < 5
    {}
    let (job_tx, job_steps) = mpsc::channel();
    let job_reply = submit(&engine, &job, Box::new(Steps(job_tx)));
    let together = wait(&job_reply).expect("the job");
    let most_together = job_steps.try_iter().map(|(_, t)| t).max();
    assert_eq!(
        most_together,
        Some(4),
        "the job was decoded beside its three mates"
    );
    same_result(
        "the job beside three others",
        &together,
        &alone(&model, &job),
    );
    for (i, (reply, params)) in replies.drain(..).zip(&mates).enumerate() {
        let got = wait(&reply).expect("a mate");
        same_result(&format!("mate {i}"), &got, &alone(&model, params));
    }
}

#[test]
fn an_f32_jobs_audio_does_not_depend_on_its_batch_mates() {
    independence(Quantization::None);
}

#[test]
fn a_q8_0_jobs_audio_does_not_depend_on_its_batch_mates() {
    independence(Quantization::Q8_0);
}

#[test]
fn a_bad_job_fails_alone_and_its_batch_mates_finish() {
    let model = load(Quantization::None);
    let engine = engine(&model, 4);
    let (job, _) = jobs();
    let bad = GenerationParams {
        frames: 0,
        ..job.clone()
    };
    let good = submit(&engine, &job, Box::new(NoopObserver));
    let failed = submit(&engine, &bad, Box::new(NoopObserver));
    match wait(&failed) {
        Err(Failure::Model(Error::InvalidRequest(message))) => {
            assert!(message.contains("frames"), "{message}")
        }
        other => panic!(
            "expected the bad job's own error, got {:?}",
            other.map(|_| ())
        ),
    }
    // (Against the shared copy of the tiny model: loading is deterministic too.)
    same_result(
        "the good job",
        &wait(&good).unwrap(),
        &alone(common::tiny(), &job),
    );
}
