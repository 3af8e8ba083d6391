//! Where the few-row f32 kernel stops paying: `x · wᵀ` for 1–16 rows of a decoding step
//! (guidance: two rows per job) through Coda's kernel and through candle's matmul (gemm), at
//! musicgen-small's feed-forward shapes. Prints the median of interleaved runs.
//!
//! `cargo bench -p coda-musicgen --bench dense_rows`

use std::time::Instant;

use candle_core::{Device, Tensor};
use coda_musicgen::testing::dense_product;

const RUNS: usize = 30;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dev = Device::Cpu;
    println!("threads: {}", coda_musicgen::threads_in_use());
    for (name, out, inp) in [("fc1 1024→4096", 4096, 1024), ("fc2 4096→1024", 1024, 4096)] {
        let w = Tensor::randn(0f32, 0.02, (out, inp), &dev).unwrap();
        for rows in [1, 2, 4, 8, 16] {
            let x = Tensor::randn(0f32, 1.0, (rows, inp), &dev).unwrap();
            let wt = w.t().unwrap();
            let (mut ours, mut gemm) = (Vec::new(), Vec::new());
            for _ in 0..RUNS {
                let t = Instant::now();
                dense_product(&x, &w).unwrap();
                ours.push(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                x.matmul(&wt).unwrap();
                gemm.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let (ours, gemm) = (median(ours), median(gemm));
            println!(
                "{name}, {rows:>2} rows: few-row kernel {ours:.3} ms, gemm {gemm:.3} ms ({:.2}×)",
                gemm / ours
            );
        }
    }
}
