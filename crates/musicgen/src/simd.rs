//! Our own CPU kernels (attention over the cache, activations, layer norm, the LSTM step) are
//! plain loops the compiler vectorises. The crates are built for baseline x86-64, i.e. 4-wide
//! SSE2; running a loop through [`vectorized!`] compiles it again for AVX2 + FMA and for
//! AVX-512 (F, BW, CD, DQ, VL) and picks the widest copy the CPU runs, at run time (`pulp`'s
//! safe feature dispatch).

/// Runs the block compiled for the best instruction set `pulp` finds on this CPU.
///
/// `pulp` enables the features on a function that calls the block, and only code inlined into
/// that function gets them. A plain closure is a function of its own, which LLVM leaves out of
/// line when it is large or called from several places — here, one per instruction set — and
/// then runs on baseline SSE2 whatever the CPU has (seen: the attention kernel and the LSTM
/// step, 4 lanes on an AVX-512 machine). So the block becomes an `#[inline(always)]` closure;
/// what it calls must be `#[inline(always)]` too, or be plain loops written inside it.
macro_rules! vectorized {
    ($body:expr) => {
        pulp::Arch::new().dispatch(
            #[inline(always)]
            || $body,
        )
    };
}

pub(crate) use vectorized;
