//! Times one linear layer of musicgen-small's decoder in f32, Q8_0 and Q4K at decoding shape
//! (two rows: the prompt and the unconditional row), to tell the matmul kernels' cost apart
//! from the rest of a decoding step.
//!
//! `cargo run --release -p coda-musicgen --example linear_speed -- [threads]`

use std::time::Instant;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

fn time_ms(mut f: impl FnMut(), reps: usize) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..reps {
        f();
    }
    started.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() -> candle_core::Result<()> {
    if let Some(threads) = std::env::args().nth(1).and_then(|s| s.parse().ok()) {
        coda_musicgen::restart_with_threads(threads).expect("running with the thread count");
    }
    let device = Device::Cpu;
    let x = Tensor::randn(0f32, 1.0, (2, 1024), &device)?;
    let x4 = Tensor::randn(0f32, 1.0, (2, 4096), &device)?;
    for (name, out_dim, input) in [
        ("1024→1024", 1024, &x),
        ("1024→4096", 4096, &x),
        ("4096→1024", 1024, &x4),
    ] {
        let in_dim = input.dim(1)?;
        let w = Tensor::randn(0f32, 0.03, (out_dim, in_dim), &device)?;
        let dense = time_ms(|| drop(input.matmul(&w.t().unwrap()).unwrap()), 20);
        let mut line = format!("{name}: f32 {dense:.3} ms");
        for dtype in [GgmlDType::Q8_0, GgmlDType::Q4K] {
            let q = QMatMul::from_qtensor(QTensor::quantize(&w, dtype)?)?;
            let ms = time_ms(|| drop(q.forward(input).unwrap()), 50);
            line += &format!(", {dtype:?} {ms:.3} ms");
        }
        println!("{line}");
    }
    Ok(())
}
