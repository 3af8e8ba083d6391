#!/usr/bin/env python3
"""Time the reference MusicGen decoding loop (transformers on torch, CPU) per decoding step.

Builds `MusicgenForConditionalGeneration` with random weights at musicgen-small shapes
(decoder 1024 wide, 24 layers, 16 heads, FFN 4096, 4 codebooks x 2048; t5-base encoder;
32 kHz EnCodec) and runs `generate()` with classifier-free guidance, the KV cache, and top-k
sampling, recording the time between consecutive decoding steps. `--batch N` puts N prompts
(random, all `--prompt-tokens` long, so no padding) in one static batch; with guidance the
decoder runs 2N rows. `--dtype int8` swaps every `nn.Linear` under `model.decoder` (the 24
layers' attention and FFN projections and the 4 `lm_heads`, all run every step) for torch's
dynamic int8 `quantize_dynamic` version; the T5 encoder, `enc_to_dec_proj` and EnCodec stay f32.

`ms_per_step` is the mean over all timed steps (the first step, which also carries T5 and the
prefill, is reported apart), as `coda bench` computes it; `ms_per_job_step` is that divided
by the batch, the cost of one job's step. The figures are comparable to the Rust side
(`coda bench --batch N`, `cargo bench -p coda-musicgen`): run both with the same thread count
on the same machine, and `--steps 503` to cover the same 10 s clip (50 frames/s + 3), since
later steps cost more. Not run in CI.

    /opt/parity-venv/bin/python scripts/bench_reference.py --threads 2 --steps 50
    /opt/parity-venv/bin/python scripts/bench_reference.py --threads 2 --steps 503 --batch 4 --dtype int8 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import torch
import transformers
from transformers import (
    EncodecConfig,
    LogitsProcessor,
    LogitsProcessorList,
    MusicgenConfig,
    MusicgenDecoderConfig,
    MusicgenForConditionalGeneration,
    T5Config,
)


class StepClock(LogitsProcessor):
    """Records a timestamp each time generate() reaches the logits of a decoding step."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def __call__(self, input_ids, scores):
        self.stamps.append(time.perf_counter())
        return scores


def small_config() -> MusicgenConfig:
    text = T5Config(
        vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12,
        feed_forward_proj="relu", relative_attention_num_buckets=32, relative_attention_max_distance=128,
    )
    audio = EncodecConfig(
        target_bandwidths=[2.2], sampling_rate=32000, audio_channels=1, normalize=False,
        chunk_length_s=None, overlap=None, hidden_size=128, num_filters=64, num_residual_layers=1,
        upsampling_ratios=[8, 5, 4, 4], norm_type="weight_norm", kernel_size=7, last_kernel_size=7,
        residual_kernel_size=3, dilation_growth_rate=2, use_causal_conv=False, pad_mode="reflect",
        compress=2, num_lstm_layers=2, trim_right_ratio=1.0, codebook_size=2048, use_conv_shortcut=False,
    )
    decoder = MusicgenDecoderConfig(
        vocab_size=2048, max_position_embeddings=2048, num_hidden_layers=24, ffn_dim=4096,
        num_attention_heads=16, hidden_size=1024, num_codebooks=4, pad_token_id=2048,
        bos_token_id=2048, decoder_start_token_id=2048,
    )
    return MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=50, help="decoding steps to time")
    parser.add_argument("--prompt-tokens", type=int, default=13, help="prompt length in tokens")
    parser.add_argument("--batch", type=int, default=1, help="prompts in one static batch (2x rows with CFG)")
    parser.add_argument(
        "--dtype", choices=("fp32", "int8"), default="fp32",
        help="decoder Linear layers (lm_heads included): f32, or torch dynamic int8 quantization",
    )
    parser.add_argument("--audio", action="store_true", help="also time EnCodec decoding of the frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is reported apart)")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    built = time.perf_counter()
    model = MusicgenForConditionalGeneration(small_config()).eval()
    if args.dtype == "int8":
        # model.decoder is the MusicgenForCausalLM: its decoder layers and its lm_heads.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao.quantization is deprecated
            torch.ao.quantization.quantize_dynamic(model.decoder, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    build_s = time.perf_counter() - built

    ids = torch.randint(2, 32128, (args.batch, args.prompt_tokens))
    ids[:, -1] = 1  # </s>, as the t5 tokenizer appends
    clock = StepClock()
    with torch.inference_mode():
        started = time.perf_counter()
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=True,
            top_k=250,
            guidance_scale=3.0,
            max_new_tokens=args.steps,
            min_new_tokens=args.steps,
            decoder_start_token_id=2048,
            pad_token_id=2048,
            bos_token_id=2048,
            use_cache=True,
            logits_processor=LogitsProcessorList([clock]),
            return_dict_in_generate=True,
        )
        total_s = time.perf_counter() - started

    # Step i's time is the gap between the logits of steps i-1 and i; the first step also
    # carries the T5 encoding and the prefill, so it is reported apart.
    gaps = [(b - a) * 1e3 for a, b in zip(clock.stamps, clock.stamps[1:])]
    first_ms = (clock.stamps[0] - started) * 1e3
    quart = statistics.quantiles(gaps, n=4) if len(gaps) >= 2 else [gaps[0]] * 3
    dec = statistics.quantiles(gaps, n=10) if len(gaps) >= 2 else [gaps[0]] * 9
    mean_ms = statistics.fmean(gaps)
    result = {
        "threads": args.threads,
        "batch": args.batch,
        "rows": 2 * args.batch,  # guidance_scale 3.0: a conditional and an unconditional row per prompt
        "dtype": args.dtype,
        "steps": len(clock.stamps),
        "timed_steps": len(gaps),
        "ms_per_step": mean_ms,
        "ms_per_job_step": mean_ms / args.batch,
        "ms_per_step_median": statistics.median(gaps),
        "ms_per_job_step_median": statistics.median(gaps) / args.batch,
        "ms_per_step_p10": dec[0],
        "ms_per_step_p25": quart[0],
        "ms_per_step_p75": quart[2],
        "ms_per_step_p90": dec[8],
        "ms_per_step_min": min(gaps),
        "ms_per_step_max": max(gaps),
        "first_step_ms": first_ms,
        "generate_total_s": total_s,
        "build_s": build_s,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    if args.audio:
        # generate() decoded the frames with EnCodec after the last step; time it alone again.
        codes = torch.randint(0, 2048, (1, args.batch, 4, max(args.steps - 3, 1)))
        with torch.inference_mode():
            started = time.perf_counter()
            model.audio_encoder.decode(codes, [None])
            result["audio_decode_ms"] = (time.perf_counter() - started) * 1e3
            result["audio_frames"] = codes.shape[-1]
    del out

    if args.json:
        print(json.dumps(result))
        return
    decoder = "f32" if args.dtype == "fp32" else "dynamic int8 (Linear + lm_heads)"
    print(
        f"transformers {transformers.__version__} / torch {torch.__version__}, {args.threads} threads, "
        f"musicgen-small shapes, batch {args.batch} (CFG {2 * args.batch} rows), decoder {decoder}, KV cache, top-k 250"
    )
    print(
        f"decoding: median {result['ms_per_step_median']:.1f} ms/step "
        f"(p25 {quart[0]:.1f}, p75 {quart[2]:.1f}, min {min(gaps):.1f}, max {max(gaps):.1f}) over {len(gaps)} steps"
    )
    print(
        f"decoding: mean {mean_ms:.1f} ms/step (p10 {dec[0]:.1f}, p90 {dec[8]:.1f}), "
        f"{result['ms_per_job_step']:.1f} ms/job-step (median {result['ms_per_job_step_median']:.1f}) at batch {args.batch}"
    )
    print(f"first step (T5 + prefill): {first_ms:.1f} ms; model build {build_s:.1f} s")
    if args.audio:
        print(
            f"EnCodec decode of {result['audio_frames']} frames x {args.batch}: {result['audio_decode_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
