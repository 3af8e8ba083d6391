//! What every CPU kernel of the crate stands on: run-time SIMD dispatch ([`vectorized!`]), the
//! dot product, and [`ParallelOut`], the one way a kernel spreads its outputs over threads.
//!
//! The kernels themselves live beside what they compute (attention over the cache, few-row
//! products, Q8_0 products, EnCodec's layers, activations, layer norm). They depend on this
//! module; it depends on none of them.

mod dispatch;
mod dot;
mod parallel_out;

#[cfg(target_arch = "x86_64")]
pub(crate) use dispatch::{avx2, avx512};
pub(crate) use dispatch::{dispatch, level, vectorized, Once};
pub(crate) use dot::{dot, dot_widening, Widen, LANES};
pub(crate) use parallel_out::{columns_to_rows, ParallelOut};

#[cfg(test)]
mod tests {
    use super::dispatch::{seen, Level};
    use super::{dot, level, vectorized, ParallelOut};

    /// All of `features` detected on this CPU.
    #[cfg(target_arch = "x86_64")]
    macro_rules! detected {
        ($($feature:tt),+) => { true $(&& std::is_x86_feature_detected!($feature))+ };
    }

    /// The level pulp's `V4` / `V3` stand for, from the CPU's own feature bits.
    #[cfg(target_arch = "x86_64")]
    fn widest_on_this_cpu() -> Level {
        let v3 = detected!(
            "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "bmi1", "bmi2", "fma",
            "lzcnt"
        );
        let v4 = detected!("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl");
        match (v3, v4) {
            (true, true) => Level::Avx512,
            (true, false) => Level::Avx2,
            _ => Level::Baseline,
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn kernels_run_on_the_widest_instruction_set_the_cpu_has() {
        let widest = widest_on_this_cpu();
        assert_eq!(level(), widest, "the dispatch picks another level");

        // A product spread over candle's threads, as the dense kernel runs it: each block
        // records, from inside the instruction set's own copy of the code, which copy ran.
        let (rows, width) = (64, 256);
        let w: Vec<f32> = (0..rows * width).map(|i| (i % 7) as f32 - 3.0).collect();
        let x: Vec<f32> = (0..width).map(|i| (i % 5) as f32 * 0.5).collect();
        let before = seen::count(widest);
        let got = ParallelOut::zeros(rows, 1).fill_in_tasks_of(4, |items, out| {
            vectorized!({
                for (o, r) in out.iter_mut().zip(items) {
                    *o = dot(&w[r * width..][..width], &x);
                }
            })
        });
        for (r, g) in got.iter().enumerate() {
            let want: f32 = w[r * width..][..width]
                .iter()
                .zip(&x)
                .map(|(a, b)| a * b)
                .sum();
            assert!(
                (g - want).abs() <= 1e-3 * want.abs().max(1.0),
                "row {r}: {g} vs {want}"
            );
        }
        assert!(
            seen::count(widest) >= before + rows / 4,
            "the blocks did not run on {widest:?}"
        );
        // Every block this test binary dispatched, in any test, ran at the widest level: one
        // that fell back (to SSE2, say) would show here.
        for other in [Level::Baseline, Level::Avx2, Level::Avx512] {
            if other != widest {
                assert_eq!(seen::count(other), 0, "blocks ran on {other:?}");
            }
        }
    }

    #[test]
    fn every_item_is_filled_once_by_its_own_task() {
        for (len, width, per_task) in [(0, 3, 1), (10, 1, 3), (12, 3, 2), (31, 8, 1), (5, 8, 9)] {
            let got =
                ParallelOut::<u32>::zeros(len, width).fill_in_tasks_of(per_task, |items, out| {
                    assert!(out.len() <= items.len() * width);
                    assert!(out.len() > (items.len() - 1) * width, "items {items:?}");
                    for (i, o) in out.iter_mut().enumerate() {
                        *o += (items.start * width + i) as u32 + 1;
                    }
                });
            let want: Vec<u32> = (1..=len as u32).collect();
            assert_eq!(
                got, want,
                "{len} values in items of {width}, {per_task} per task"
            );
        }
        let even = ParallelOut::<u32>::zeros(1000, 2).fill(|items, out| {
            for (i, o) in items.zip(out.chunks_exact_mut(2)) {
                o.fill(i as u32);
            }
        });
        assert!(even
            .chunks_exact(2)
            .enumerate()
            .all(|(i, o)| o == [i as u32; 2]));
    }
}
