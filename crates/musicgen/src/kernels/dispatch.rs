//! Run-time choice of instruction set for the crate's own kernels.
//!
//! The kernels are plain loops the compiler vectorises, and the crates are built for baseline
//! x86-64, i.e. 4-wide SSE2. Running a loop through [`vectorized!`] compiles it again for AVX2 +
//! FMA and for AVX-512 (F, BW, CD, DQ, VL) and runs the widest copy this CPU has (`pulp`'s safe
//! feature dispatch). Kernels written with intrinsics take their instruction set's token from
//! [`avx2`] or [`avx512`], so that every such choice is made here.

use pulp::{Simd, WithSimd};

/// The instruction sets a dispatched block is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// SSE2 on x86-64; whatever the target's baseline is elsewhere.
    Baseline,
    /// pulp's `V3`: AVX2, FMA, BMI1/2, LZCNT.
    Avx2,
    /// pulp's `V4`: `V3` plus AVX-512 F, BW, CD, DQ and VL.
    Avx512,
}

/// The level [`vectorized!`] runs its blocks at on this CPU.
pub(crate) fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    match pulp::Arch::new() {
        pulp::Arch::V4(_) => return Level::Avx512,
        pulp::Arch::V3(_) => return Level::Avx2,
        _ => {}
    }
    Level::Baseline
}

/// AVX2 + FMA, for kernels written with its intrinsics, where this CPU has it.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx2() -> Option<pulp::x86::V3> {
    pulp::x86::V3::try_new()
}

/// AVX-512, for kernels written with its intrinsics, where this CPU has it.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512() -> Option<pulp::x86::V4> {
    pulp::x86::V4::try_new()
}

/// Runs the block compiled for the best instruction set `pulp` finds on this CPU.
///
/// `pulp` enables the features on a function that calls the block, and only code inlined into
/// that function gets them; code left out of line runs on baseline SSE2 whatever the CPU has
/// (seen: the attention kernel and the LSTM step, 4 lanes on an AVX-512 machine). A plain
/// closure is such a function when LLVM finds it too large to inline, so the block becomes an
/// `#[inline(always)]` closure. It also takes [`Once`] by value: a closure that borrows only is
/// called through a compiler-made `FnOnce` shim, which the attribute does not reach and which
/// LLVM also left out of line. What the block calls must be `#[inline(always)]` too, or plain
/// loops written inside it.
macro_rules! vectorized {
    ($body:expr) => {{
        let once = $crate::kernels::Once;
        $crate::kernels::dispatch(
            #[inline(always)]
            || {
                let _once = once;
                $body
            },
        )
    }};
}

pub(crate) use vectorized;

/// Moved into [`vectorized!`]'s closure so that it is `FnOnce` only.
pub(crate) struct Once;

/// [`vectorized!`]'s dispatch, not called directly: `block` runs inside the function pulp
/// compiles for the instruction set it picks.
#[inline(always)]
pub(crate) fn dispatch<R>(block: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(Block(block))
}

/// A block as pulp's operation. pulp's own one for closures is the same call, but this one is
/// told the instruction set it runs under (`S`, one copy of `with_simd` per set), which is what
/// the tests read back.
struct Block<F>(F);

impl<R, F: FnOnce() -> R> WithSimd for Block<F> {
    type Output = R;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> R {
        #[cfg(test)]
        seen::record(seen::level_of::<S>());
        (self.0)()
    }
}

/// How many blocks have run at each level in this test binary.
#[cfg(test)]
pub(super) mod seen {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::Level;

    static RUNS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

    fn slot(level: Level) -> &'static AtomicUsize {
        &RUNS[level as usize]
    }

    pub(crate) fn record(level: Level) {
        slot(level).fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count(level: Level) -> usize {
        slot(level).load(Ordering::Relaxed)
    }

    /// The level of pulp's instruction-set type `S`.
    pub(crate) fn level_of<S: 'static>() -> Level {
        #[cfg(target_arch = "x86_64")]
        {
            use std::any::TypeId;
            let s = TypeId::of::<S>();
            if s == TypeId::of::<pulp::x86::V4>() {
                return Level::Avx512;
            }
            if s == TypeId::of::<pulp::x86::V3>() {
                return Level::Avx2;
            }
        }
        Level::Baseline
    }
}
