#!/usr/bin/python3
"""Writes a Hugging Face model folder (config.json + model.safetensors, F32, random weights) with the shapes
of a real checkpoint, for `vkft bench model` and bench/model_peer.py.

Usage
    /usr/bin/python3 bench/make_random_model.py PRESET OUTDIR [--layers N] [--vocab N] [--seed N] [--force]
    /usr/bin/python3 bench/make_random_model.py list

Presets (the shapes of the published checkpoints; weights are random):
    smollm2-135m     llama: hidden 576, 30 layers, 9 heads (head_dim 64), 3 kv heads, intermediate 1536,
                     vocab 49152, tied embeddings, rope_theta 100000, 8192 positions (HuggingFaceTB/SmolLM2-135M)
    gpt2-124m        gpt2: n_embd 768, 12 layers, 12 heads, vocab 50257, 1024 positions (openai-community/gpt2)
    tinyllama-1.1b   llama: hidden 2048, 22 layers, 32 heads, 4 kv heads, intermediate 5632, vocab 32000,
                     untied lm_head, rope_theta 10000, 2048 positions (TinyLlama/TinyLlama-1.1B-...)
--layers N keeps only the first N layers (for quick runs on slow devices); everything else is unchanged.
--vocab N cuts the vocabulary to N tokens (embedding and lm head rows): for devices whose largest storage
buffer binding is smaller than the embedding (lavapipe: 128 MiB, while gpt2-124m's wte is 147 MiB and
tinyllama-1.1b's embed_tokens 250 MiB).

The configs, tensor names, shapes and the initialisation scales come from tests/reference/tiny_models.py
(imported, not copied): the same config keys, param_shapes() and weight_std(). The safetensors file is
written in tiny_models' exact layout (compact JSON header, "__metadata__" first, tensors sorted by name,
padded to 8 bytes), but streamed tensor by tensor, since tiny_models.write_safetensors holds every tensor's
bytes at once (about 3x the model: 13 GB for the 1.1B preset). If OUTDIR already holds the same config and
a model.safetensors of the expected size and metadata, it is reused (--force rewrites it).
"""
import argparse
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import tiny_models as tm  # noqa: E402

PRESETS = ["smollm2-135m", "gpt2-124m", "tinyllama-1.1b"]


def preset_config(preset, layers=None, vocab=None):
    c = preset_config_full(preset, layers)
    if vocab:
        c["vocab_size"] = vocab
        for k in ("bos_token_id", "eos_token_id"):
            c[k] = min(c[k], vocab - 1)
    return c


def preset_config_full(preset, layers=None):
    if preset == "gpt2-124m":
        c = tm.case_config("gpt2")
        c.update(n_embd=768, n_layer=12, n_head=12, n_positions=1024, n_ctx=1024, vocab_size=50257,
                 bos_token_id=50256, eos_token_id=50256)
        if layers:
            c["n_layer"] = layers
        return c
    c = tm.base_llama_config()
    del c["head_dim"]  # hidden_size / num_attention_heads, as in the published configs
    if preset == "smollm2-135m":
        c.update(hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                 intermediate_size=1536, vocab_size=49152, tie_word_embeddings=True, rope_theta=100000.0,
                 max_position_embeddings=8192, bos_token_id=0, eos_token_id=0, rms_norm_eps=1e-05)
    elif preset == "tinyllama-1.1b":
        c.update(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
                 intermediate_size=5632, vocab_size=32000, tie_word_embeddings=False, rope_theta=10000.0,
                 max_position_embeddings=2048, bos_token_id=1, eos_token_id=2, rms_norm_eps=1e-05)
    else:
        raise SystemExit("unknown preset %r; presets: %s" % (preset, " ".join(PRESETS)))
    if layers:
        c["num_hidden_layers"] = layers
    return c


def random_tensor(name, shape, kind, cfg, gen):
    """tiny_models.init_params' scales for one tensor (norm weights 1 + noise, biases small, matrices by
    weight_std: 1/sqrt(fan_in) into nonlinearities, 0.02 back into the residual stream, 0.1 embeddings)."""
    if kind == "g":
        t = 1.0 + tm.NORM_NOISE * torch.randn(shape, generator=gen)
    elif kind in ("b", "nb"):
        t = tm.BIAS_STD * torch.randn(shape, generator=gen)
    else:
        t = tm.weight_std(name, shape, cfg) * torch.randn(shape, generator=gen)
    return t.to(torch.float32).contiguous()


def header_for(shapes, metadata):
    header = {"__metadata__": metadata}
    off = 0
    for name in sorted(shapes):
        n = 4
        for d in shapes[name][0]:
            n *= d
        header[name] = {"dtype": "F32", "shape": list(shapes[name][0]), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return h, off


def existing_matches(path, header, total):
    try:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            if n != len(header):
                return False
            if f.read(n) != header:
                return False
        return os.path.getsize(path) == 8 + len(header) + total
    except (OSError, struct.error):
        return False


def make(preset, outdir, layers=None, seed=0, force=False, quiet=False, vocab=None):
    cfg = preset_config(preset, layers, vocab)
    shapes = tm.param_shapes(cfg)
    meta = {"format": "pt", "vkft_bench_preset": preset, "seed": str(seed), "vocab": str(cfg["vocab_size"]),
            "layers": str(cfg.get("num_hidden_layers", cfg.get("n_layer")))}
    header, total = header_for(shapes, meta)
    cfg_text = json.dumps(cfg, indent=2, sort_keys=True) + "\n"
    st_path = os.path.join(outdir, "model.safetensors")
    cfg_path = os.path.join(outdir, "config.json")
    nparams = total // 4
    if not force and os.path.exists(cfg_path) and existing_matches(st_path, header, total):
        with open(cfg_path) as f:
            if f.read() == cfg_text:
                if not quiet:
                    print("%s: reusing %s (%.1fM parameters)" % (preset, outdir, nparams / 1e6))
                return cfg
    os.makedirs(outdir, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    tmp = st_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        for name in sorted(shapes):
            shape, kind = shapes[name]
            f.write(tm.tensor_bytes(random_tensor(name, shape, kind, cfg, gen)))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, st_path)
    with open(cfg_path + ".tmp", "w") as f:
        f.write(cfg_text)
    os.replace(cfg_path + ".tmp", cfg_path)
    if not quiet:
        print("%s: wrote %s (%.1fM parameters, %d layers, vocab %d, %.0f MB)"
              % (preset, outdir, nparams / 1e6, int(meta["layers"]), cfg["vocab_size"],
                 (8 + len(header) + total) / 1e6))
    return cfg


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("preset", help="one of: %s; or 'list'" % " ".join(PRESETS))
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--layers", type=int, default=None, help="keep only the first N layers")
    ap.add_argument("--vocab", type=int, default=None, help="cut the vocabulary to N tokens")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rewrite even if OUTDIR already holds this model")
    a = ap.parse_args(argv)
    if a.preset == "list":
        print("\n".join(PRESETS))
        return 0
    if a.preset not in PRESETS:
        ap.error("unknown preset %r; presets: %s" % (a.preset, " ".join(PRESETS)))
    if not a.outdir:
        ap.error("OUTDIR is required")
    if a.layers is not None and a.layers < 1:
        ap.error("--layers must be at least 1")
    if a.vocab is not None and a.vocab < 16:
        ap.error("--vocab must be at least 16")
    make(a.preset, a.outdir, a.layers, a.seed, a.force, vocab=a.vocab)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
