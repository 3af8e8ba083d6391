//! Our own CPU kernels (attention over the cache, activations, layer norm, the LSTM step) are
//! plain loops the compiler vectorises. The crates are built for baseline x86-64, i.e. 4-wide
//! SSE2; running a loop through [`vectorized!`] compiles it again for AVX2 + FMA and for
//! AVX-512 (F, BW, CD, DQ, VL) and picks the widest copy the CPU runs, at run time (`pulp`'s
//! safe feature dispatch).

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
        let once = $crate::simd::Once;
        pulp::Arch::new().dispatch(
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
