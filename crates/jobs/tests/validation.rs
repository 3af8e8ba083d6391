//! What a client may ask for, and what a bad request is told.

use coda_jobs::settings::Limits;
use coda_jobs::settings::QueueSettings;
use coda_jobs::{GenerationRequest, JobId, Settings};

fn request() -> GenerationRequest {
    GenerationRequest {
        prompt: "calm ambient pads".into(),
        duration_seconds: 10.0,
        top_k: None,
        top_p: None,
        temperature: None,
        guidance_scale: None,
        seed: None,
    }
}

#[test]
fn defaults_follow_audiocraft_and_seed_is_js_safe() {
    let p = request().validate(&Limits::default()).unwrap();
    assert_eq!(
        (p.top_k, p.top_p, p.temperature, p.guidance_scale),
        (250, 0.0, 1.0, 3.0)
    );
    assert!(p.seed < (1 << 53));
    let q = GenerationRequest {
        prompt: "  padded  ".into(),
        seed: Some(42),
        ..request()
    };
    let q = q.validate(&Limits::default()).unwrap();
    assert_eq!((q.prompt.as_str(), q.seed), ("padded", 42));
}

#[test]
fn bad_inputs_name_their_field() {
    type Tweak = fn(&mut GenerationRequest);
    let cases: Vec<(&str, Tweak)> = vec![
        ("prompt", |r| r.prompt = "   ".into()),
        ("prompt", |r| r.prompt = "x".repeat(501)),
        ("prompt", |r| r.prompt = "bell\u{7}".into()),
        ("duration_seconds", |r| r.duration_seconds = 0.5),
        ("duration_seconds", |r| r.duration_seconds = 30.5),
        ("duration_seconds", |r| r.duration_seconds = f64::NAN),
        ("duration_seconds", |r| r.duration_seconds = f64::INFINITY),
        ("top_k", |r| r.top_k = Some(2049)),
        ("top_p", |r| r.top_p = Some(1.5)),
        ("top_p", |r| r.top_p = Some(-0.1)),
        ("temperature", |r| r.temperature = Some(5.01)),
        ("temperature", |r| r.temperature = Some(f64::NAN)),
        ("guidance_scale", |r| r.guidance_scale = Some(21.0)),
        ("seed", |r| r.seed = Some(1 << 53)),
    ];
    for (field, tweak) in cases {
        let mut r = request();
        tweak(&mut r);
        let err = r.clone().validate(&Limits::default()).expect_err(field);
        assert_eq!(err.field, field, "{r:?}");
        assert!(
            err.message.contains(field),
            "message names the field: {}",
            err.message
        );
    }
}

#[test]
fn limits_come_from_settings() {
    let limits = Limits {
        max_duration_seconds: 5.0,
        max_prompt_chars: 4,
    };
    assert_eq!(
        GenerationRequest {
            duration_seconds: 6.0,
            prompt: "abc".into(),
            ..request()
        }
        .validate(&limits)
        .unwrap_err()
        .field,
        "duration_seconds"
    );
    let err = GenerationRequest {
        duration_seconds: 2.0,
        prompt: "abcde".into(),
        ..request()
    }
    .validate(&limits)
    .unwrap_err();
    assert!(
        err.message.contains('4') && err.message.contains('5'),
        "{}",
        err.message
    );
}

#[test]
fn unknown_fields_are_rejected() {
    let err = serde_json::from_str::<GenerationRequest>(
        r#"{"prompt":"x","duration_seconds":2,"tempo":120}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("tempo"), "{err}");
    let err = serde_json::from_str::<QueueSettings>(r#"{"max_pendin":2}"#).unwrap_err();
    assert!(err.to_string().contains("max_pendin"), "{err}");
}

#[test]
fn settings_validation_names_the_key() {
    let mut s = Settings::default();
    assert!(s.validate().is_ok());
    s.queue.max_pending = 9000;
    assert_eq!(s.validate().unwrap_err().key, "queue.max_pending");
    let mut s = Settings::default();
    s.limits.max_prompt_chars = 0;
    assert_eq!(s.validate().unwrap_err().key, "limits.max_prompt_chars");
    let mut s = Settings::default();
    s.redis.namespace = "two words".into();
    assert_eq!(s.validate().unwrap_err().key, "redis.namespace");
    let mut s = Settings::default();
    s.storage.retention_seconds = Some(0);
    assert_eq!(s.validate().unwrap_err().key, "storage.retention_seconds");
    let s = Settings::default();
    assert_eq!(s.database_url(), "sqlite://./data/coda.db?mode=rwc");
}

#[test]
fn job_ids_are_ulids_only() {
    let id = JobId::new();
    assert_eq!(id.to_string().parse::<JobId>().unwrap(), id);
    for bad in [
        "",
        "../../etc/passwd",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",
        "01ARZ3NDEKTSV4RRFFQ69G5FAV/",
        "coda:job:x",
    ] {
        assert!(bad.parse::<JobId>().is_err(), "{bad:?}");
    }
    let later = JobId::new();
    assert!(later > id, "ids made later sort later");
}
