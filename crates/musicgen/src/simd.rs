//! Our own CPU kernels (attention over the cache, activations, layer norm, the LSTM step) are
//! plain loops the compiler vectorises. The crates are built for baseline x86-64, i.e. 4-wide
//! SSE2; running a loop through [`vectorized`] compiles it again for AVX2 + FMA and for
//! AVX-512 (F, BW, CD, DQ, VL) and picks the widest copy the CPU runs, at run time (`pulp`'s
//! safe feature dispatch).

/// Runs `f` compiled for the best instruction set `pulp` finds on this CPU. Only code inlined
/// into `f` benefits: keep the hot loop in the closure or in `#[inline(always)]` functions.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}
