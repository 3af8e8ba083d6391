#!/usr/bin/env python3
"""Build the MusicGen parity fixtures used by `crates/musicgen/tests/parity.rs`.

A small, seeded, random `MusicgenForConditionalGeneration` is built with Hugging Face
transformers (the reference implementation), saved in the published checkpoint layout
(config.json, model.safetensors with `weight_g`/`weight_v` weight-norm names, tokenizer.json,
generation_config.json), reloaded from that folder, and run to produce golden tensors:

  - prompt token ids and attention masks (one prompt, and a padded batch of two)
  - T5 encoder last hidden state for both
  - encoder states after `enc_to_dec_proj` and the attention-mask multiply
  - step-0 logits (conditional, unconditional, guided with scale 3.0)
  - greedy generation with guidance 3.0: delayed sequence, per-step guided scores, and the
    codes with the delay removed (K x frames)
  - the quantized embeddings and the audio the EnCodec decoder renders from those codes

Sizes deliberately differ from musicgen-small so that nothing hard-coded to the real model
passes by accident. Usage (from the repository root):

    python3 -m venv /opt/parity-venv
    /opt/parity-venv/bin/pip install -r scripts/requirements-parity.txt
    /opt/parity-venv/bin/python scripts/make_parity_fixtures.py
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import tokenizers
import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import (
    EncodecConfig,
    MusicgenConfig,
    MusicgenDecoderConfig,
    MusicgenForConditionalGeneration,
    T5Config,
)

SEED = 1234
GUIDANCE_SCALE = 3.0
FRAMES = 20
CODEBOOK_VOCAB = 128  # EnCodec requires a power of two
TEXT_VOCAB = 100
NUM_CODEBOOKS = 4

PROMPT = "90s rock song with loud guitars and heavy drums , a slow bluesy solo over a warm bass line and bright cymbals"
SHORT_PROMPT = "calm piano"

SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_tokenizer() -> Tokenizer:
    """A word-level tokenizer shaped like t5-base's: `<pad>`=0, `</s>`=1 appended, `<unk>`=2."""
    words = sorted(set(PROMPT.split()) | set(SHORT_PROMPT.split()))
    vocab_words = SPECIAL_TOKENS + words
    vocab_words += [f"w{i}" for i in range(TEXT_VOCAB - len(vocab_words))]
    assert len(vocab_words) == TEXT_VOCAB
    vocab = {w: i for i, w in enumerate(vocab_words)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    tok.add_special_tokens(SPECIAL_TOKENS)
    return tok


def build_config() -> MusicgenConfig:
    text = T5Config(
        vocab_size=TEXT_VOCAB,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="relu",
        layer_norm_epsilon=1e-6,
        dropout_rate=0.1,
        initializer_factor=1.0,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    audio = EncodecConfig(
        # 4 quantizers: 1000 * 1.5 // (50 frames/s * 7 bits); musicgen's EnCodec has 4 too.
        target_bandwidths=[1.5],
        sampling_rate=32000,
        audio_channels=1,
        normalize=False,
        chunk_length_s=None,
        overlap=None,
        hidden_size=16,
        num_filters=4,
        num_residual_layers=1,
        upsampling_ratios=[8, 5, 4, 4],
        norm_type="weight_norm",
        kernel_size=7,
        last_kernel_size=7,
        residual_kernel_size=3,
        dilation_growth_rate=2,
        use_causal_conv=False,
        pad_mode="reflect",
        compress=2,
        num_lstm_layers=2,
        trim_right_ratio=1.0,
        codebook_size=CODEBOOK_VOCAB,
        codebook_dim=16,
        use_conv_shortcut=False,
    )
    decoder = MusicgenDecoderConfig(
        vocab_size=CODEBOOK_VOCAB,
        max_position_embeddings=256,
        num_hidden_layers=2,
        ffn_dim=160,
        num_attention_heads=4,
        hidden_size=64,
        num_codebooks=NUM_CODEBOOKS,
        activation_function="gelu",
        scale_embedding=False,
        pad_token_id=CODEBOOK_VOCAB,
        bos_token_id=CODEBOOK_VOCAB,
        decoder_start_token_id=CODEBOOK_VOCAB,
        tie_word_embeddings=False,
    )
    return MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)


@torch.no_grad()
def perturb(model: MusicgenForConditionalGeneration) -> None:
    """Give every weight a value that a wrong load or a missing op would show.

    transformers initialises norms to 1, biases and the EnCodec codebooks to 0 and weight-norm
    gains to exactly ||v||; each of those would hide a bug, so all get random values.
    """
    for name, param in model.named_parameters():
        if name.endswith("original0"):
            # Weight-norm gain g: make it differ from ||v|| so that g is really applied.
            param.mul_(1.0 + 0.3 * torch.rand_like(param))
        elif "layer_norm" in name and name.endswith("weight"):
            param.copy_(1.0 + 0.2 * torch.randn_like(param))
        elif name.endswith("bias") or "bias_" in name:
            param.copy_(0.1 * torch.randn_like(param))
        elif ".embed_tokens." in name:
            # Unit scale like the sinusoidal positions, so that the fed tokens (not just the
            # position) steer the next prediction.
            param.copy_(torch.randn_like(param))
        elif name.startswith("decoder.") and param.dim() == 2:
            # Decoder linears and embeddings at 1/sqrt(fan_in): larger logit gaps than the
            # default std 0.02, so greedy argmax is far from ties.
            param.copy_(torch.randn_like(param) / param.shape[1] ** 0.5)
    for name, buf in model.named_buffers():
        if name.endswith("codebook.embed"):
            buf.copy_(torch.randn_like(buf))
        elif name.endswith("codebook.embed_avg"):
            buf.copy_(torch.randn_like(buf))
        elif name.endswith("codebook.cluster_size"):
            buf.copy_(torch.rand_like(buf))


def published_state_dict(model: MusicgenForConditionalGeneration) -> dict[str, torch.Tensor]:
    """State dict under the names the facebook/musicgen-* checkpoints use."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in model.state_dict().items():
        name = name.replace("parametrizations.weight.original0", "weight_g")
        name = name.replace("parametrizations.weight.original1", "weight_v")
        out[name] = tensor.detach().clone().contiguous()
    # T5's encoder.embed_tokens is tied to `shared`; the published file stores `shared` only.
    out.pop("text_encoder.encoder.embed_tokens.weight", None)
    return out


def save_model_folder(model, tok: Tokenizer, out_dir: Path) -> dict[str, torch.Tensor]:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    model.config.save_pretrained(out_dir)
    state = published_state_dict(model)
    safetensors.torch.save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    tok.save(str(out_dir / "tokenizer.json"))
    gen = {
        "bos_token_id": CODEBOOK_VOCAB,
        "decoder_start_token_id": CODEBOOK_VOCAB,
        "pad_token_id": CODEBOOK_VOCAB,
        "do_sample": True,
        "guidance_scale": GUIDANCE_SCALE,
        "max_length": 1500,
    }
    (out_dir / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")
    return state


def check_reload(reloaded, saved: dict[str, torch.Tensor]) -> None:
    """The reloaded model must hold exactly the saved weights (no silent random init)."""
    have = published_state_dict(reloaded)
    missing = sorted(set(saved) ^ set(have))
    if missing:
        raise SystemExit(f"reloaded state dict differs in names: {missing[:10]}")
    for name, tensor in saved.items():
        if not torch.equal(tensor, have[name]):
            raise SystemExit(f"reloaded tensor {name} differs from the saved one")


def encode(tok: Tokenizer, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encs = tok.encode_batch(prompts)
    width = max(len(e.ids) for e in encs)
    ids = torch.zeros((len(prompts), width), dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, enc in enumerate(encs):
        ids[row, : len(enc.ids)] = torch.tensor(enc.ids)
        mask[row, : len(enc.ids)] = 1
    return ids, mask


def project(model, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """What MusicgenForConditionalGeneration.forward does to the encoder output."""
    return model.enc_to_dec_proj(hidden) * mask[..., None]


@torch.no_grad()
def greedy_codes(model, cfg_hidden, cfg_mask, guidance: float | None, force_tail: bool) -> torch.Tensor:
    """A plain greedy loop without the KV cache, to cross-check generate() and to prove that
    the fixture tells apart the rules a port could get wrong (guidance, pad fed at the tail)."""
    k = model.decoder.num_codebooks
    pad = model.config.decoder.pad_token_id
    if guidance is None:
        cfg_hidden, cfg_mask = cfg_hidden[:1], cfg_mask[:1]
    rows = cfg_hidden.shape[0]
    seq = torch.full((k, 1), pad, dtype=torch.long)
    for step in range(FRAMES + k - 1):
        logits = model(
            encoder_outputs=(cfg_hidden,), attention_mask=cfg_mask, decoder_input_ids=seq.repeat(rows, 1)
        ).logits[:, -1]
        if guidance is not None:
            logits = logits[k:] + guidance * (logits[:k] - logits[k:])
        nxt = logits.argmax(-1)
        pos = step + 1
        for cb in range(k):
            if pos <= cb or (force_tail and pos > FRAMES + cb):
                nxt[cb] = pad
        seq = torch.cat([seq, nxt[:, None]], dim=1)
    return torch.stack([seq[cb, 1 + cb : 1 + cb + FRAMES] for cb in range(k)])


@torch.no_grad()
def goldens(model, tok: Tokenizer) -> tuple[dict[str, torch.Tensor], dict]:
    g: dict[str, torch.Tensor] = {}
    k = model.decoder.num_codebooks
    pad = model.config.decoder.pad_token_id

    ids, mask = encode(tok, [PROMPT])
    g["prompt_ids"], g["prompt_mask"] = ids, mask
    hidden = model.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    g["t5_hidden"] = hidden
    g["projected"] = project(model, hidden, mask)

    batch_ids, batch_mask = encode(tok, [PROMPT, SHORT_PROMPT])
    g["batch_ids"], g["batch_mask"] = batch_ids, batch_mask
    batch_hidden = model.text_encoder(input_ids=batch_ids, attention_mask=batch_mask).last_hidden_state
    g["batch_t5_hidden"] = batch_hidden
    g["batch_projected"] = project(model, batch_hidden, batch_mask)

    # Step 0 exactly as generate() builds it: the unconditional row gets zero T5 states and a
    # zero attention mask (concatenated before enc_to_dec_proj; the mask multiply then zeroes
    # the projected bias); every codebook is fed the BOS/pad id.
    cfg_hidden = torch.cat([hidden, torch.zeros_like(hidden)], dim=0)
    cfg_mask = torch.cat([mask, torch.zeros_like(mask)], dim=0)
    g["cfg_projected"] = project(model, cfg_hidden, cfg_mask)
    bos = torch.full((2 * k, 1), pad, dtype=torch.long)
    logits = model(
        encoder_outputs=(cfg_hidden,), attention_mask=cfg_mask, decoder_input_ids=bos
    ).logits  # (2 * K, 1, vocab)
    cond, uncond = logits[:k, 0], logits[k:, 0]
    g["step0_logits_cond"] = cond
    g["step0_logits_uncond"] = uncond
    g["step0_logits_guided"] = uncond + GUIDANCE_SCALE * (cond - uncond)

    out = model.generate(
        input_ids=ids,
        attention_mask=mask,
        do_sample=False,
        guidance_scale=GUIDANCE_SCALE,
        max_new_tokens=FRAMES + k - 1,
        min_new_tokens=FRAMES + k - 1,
        decoder_start_token_id=pad,
        pad_token_id=pad,
        bos_token_id=pad,
        return_dict_in_generate=True,
        output_scores=True,
    )
    audio = out.sequences  # generate() puts the decoded audio here: (1, 1, samples)
    scores = torch.stack(out.scores, dim=0)  # (steps, K, vocab), guided
    g["step_scores_guided"] = scores

    # Rebuild the delayed sequence from the scores to cross-check the codes the reference
    # returns (generate() returns audio, not the codes).
    steps = scores.shape[0]
    delayed = torch.full((k, steps + 1), pad, dtype=torch.long)
    for s in range(steps):
        pos = s + 1
        for cb in range(k):
            if cb < pos <= FRAMES + cb:
                delayed[cb, pos] = scores[s, cb].argmax()
    g["delayed_codes"] = delayed
    codes = torch.stack([delayed[cb, 1 + cb : 1 + cb + FRAMES] for cb in range(k)])
    g["codes"] = codes  # (K, frames), delay removed

    # Decode the codes the way generate() does and check it matches its audio exactly.
    codec = model.audio_encoder
    quantized = codec.quantizer.decode(codes[:, None, :])  # (1, dim, frames)
    g["quantized"] = quantized
    decoded = codec.decode(codes[None, None], [None]).audio_values
    g["audio"] = decoded[0, 0]
    if not torch.equal(decoded, audio):
        raise SystemExit("codes rebuilt from the scores do not decode to the audio generate() returned")

    # How far greedy is from a tie, over the positions that become codes: float error on the
    # Rust side must stay well below this for the codes to match.
    if not torch.equal(greedy_codes(model, cfg_hidden, cfg_mask, GUIDANCE_SCALE, True), codes):
        raise SystemExit("a plain greedy loop disagrees with generate()")
    coverage = {
        "codes_differ_without_guidance": not torch.equal(
            greedy_codes(model, cfg_hidden, cfg_mask, None, True), codes
        ),
        "codes_differ_if_tail_pad_not_fed": not torch.equal(
            greedy_codes(model, cfg_hidden, cfg_mask, GUIDANCE_SCALE, False), codes
        ),
    }
    if not all(coverage.values()):
        raise SystemExit(f"the fixture no longer tells these rules apart: {coverage}")

    top2 = scores.topk(2, dim=-1).values
    margins = torch.stack([top2[cb : cb + FRAMES, cb, 0] - top2[cb : cb + FRAMES, cb, 1] for cb in range(k)])
    stats = {
        **coverage,
        "greedy_min_top1_top2_margin": float(margins.min()),
        "audio_abs_max": float(g["audio"].abs().max()),
        "audio_samples": int(g["audio"].numel()),
    }
    return g, stats


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out",
        type=Path,
        default=root / "crates/musicgen/tests/fixtures/parity",
        help="fixture folder (model/, golden.safetensors, prompt.txt, versions.json are written there)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    seed_everything(SEED)

    model = MusicgenForConditionalGeneration(build_config()).eval()
    perturb(model)
    tok = build_tokenizer()

    model_dir = args.out / "model"
    saved = save_model_folder(model, tok, model_dir)
    reloaded = MusicgenForConditionalGeneration.from_pretrained(model_dir).eval()
    check_reload(reloaded, saved)

    g, stats = goldens(reloaded, tok)
    g = {name: t.contiguous() for name, t in g.items()}
    safetensors.torch.save_file(g, str(args.out / "golden.safetensors"))

    info = {
        "generator": "scripts/make_parity_fixtures.py",
        "seed": SEED,
        "guidance_scale": GUIDANCE_SCALE,
        "frames": FRAMES,
        "prompt": PROMPT,
        "batch_prompts": [PROMPT, SHORT_PROMPT],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        **stats,
    }
    (args.out / "prompt.txt").write_text(PROMPT + "\n")
    (args.out / "versions.json").write_text(json.dumps(info, indent=2) + "\n")
    for name, t in g.items():
        print(f"{name:24s} {str(tuple(t.shape)):18s} {t.dtype}")
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
