"""Tiny random Hugging Face models (GPT-2, Llama family, BERT) in plain PyTorch, and their reference outputs.

vkft must compute what transformers computes for these checkpoints. Debian's python3-torch (1.13, CPU) is
the only PyTorch here and there is no `transformers` or `safetensors` package, so the three architectures
are re-implemented below, line by line after transformers' modeling_gpt2.py, modeling_llama.py,
modeling_mistral.py, modeling_qwen2.py, modeling_bert.py and modeling_rope_utils.py, and safetensors is
written by hand.

Usage
    /usr/bin/python3 tests/reference/tiny_models.py CASE OUTDIR [--seed N] [--dtype f64|f32]
    /usr/bin/python3 tests/reference/tiny_models.py all OUTROOT [--seed N]     (OUTROOT/CASE for every case)
    /usr/bin/python3 tests/reference/tiny_models.py list
Then  /usr/bin/python3 tests/reference/check_tiny_models.py OUTDIR...  re-reads and re-checks the files.

Cases
    gpt2               GPT2LMHeadModel, names `transformer.*`, tied lm_head (no lm_head.weight stored)
    gpt2_noprefix      GPT2LMHeadModel saved the way openai-community/gpt2 is: names without `transformer.`,
                       plus the causal-mask buffers `h.N.attn.bias` (F32 [1,1,n_positions,n_positions], lower
                       triangle of ones). Those are buffers, not parameters: ignore them, they get no grad.
    llama              LlamaForCausalLM, 4 heads : 2 kv heads (GQA), untied lm_head
    llama_tied         tie_word_embeddings true (no lm_head.weight stored), 4 heads : 1 kv head (MQA)
    llama_linear_rope  rope_scaling {"type": "linear", "factor": 2.0}  (old-style key "type", no "rope_type")
    llama3_rope        rope_scaling {"rope_type": "llama3", factor 8, low_freq_factor 1, high_freq_factor 4,
                       original_max_position_embeddings 64}, rope_theta 500000: with head_dim 16 the
                       frequencies fall in all three llama3 bands (kept, smoothed, divided by factor)
    mistral            MistralForCausalLM, 8 heads : 2 kv heads, rope_theta 1e6, untied; sliding_window 4096
                       (> T, so it changes nothing here)
    qwen2              Qwen2ForCausalLM: q/k/v projections have biases (o_proj none), tied, rms eps 1e-6
    bert               BertForMaskedLM on a bert-base-uncased-shaped checkpoint: also holds the pooler
                       (`bert.pooler.dense.*`) and `cls.seq_relationship.*`, which the MLM loss does not use
                       (their grads are exactly 0); second sequence padded (attention_mask 0), token types
    bert_legacy        bert with LayerNorm parameters named `LayerNorm.gamma` / `LayerNorm.beta` instead of
                       `.weight` / `.bias`, as in bert-base-uncased's own model.safetensors (transformers
                       renames them on load); their grads are under the stored (gamma/beta) names
    llama_padded       llama with the second sequence right-padded (attention_mask 0, labels -100 there) and
                       the first two labels of the first sequence set to -100 too (SFT-style prompt masking)
    llama_f16          llama with every tensor stored F16 (config torch_dtype "float16"); the expected values
                       are computed from the F16-rounded weights upcast (exactly) to float64
    llama_bf16         the same with BF16 storage (torch_dtype "bfloat16"), rounded to nearest even
    sharded            llama split into model-00001-of-00002.safetensors / model-00002-of-00002.safetensors
                       with model.safetensors.index.json ({"metadata": {"total_size": bytes of tensor data},
                       "weight_map": {name: file}}); no model.safetensors

Files written under OUTDIR
    model/config.json          HF config keys and model_type as transformers writes them. All dropout
                               probabilities are 0.0 (so "training" forward == eval forward).
    model/model.safetensors    HF tensor names and shapes (see above); F32 (F16 / BF16 for llama_f16 / llama_bf16).
                               Format: u64 little-endian header length N, N bytes of JSON (compact,
                               "__metadata__": {"format": "pt"} first, then tensors sorted by name, each
                               {"dtype","shape","data_offsets":[begin,end]} relative to the data section),
                               padded with spaces to a multiple of 8; data in name order, no gaps.
    batch.json                 {"input_ids": [[B x T ints]], "attention_mask": [[1/0]], "labels": [[int]],
                               and "token_type_ids" for bert}. Causal LMs: labels = input_ids with -100 where
                               ignored (padding, masked prompt); the model shifts them (label at t+1 is the
                               target of position t). BERT: labels -100 except at the masked positions (whose
                               input id is [MASK] = 4); no shift.
    expected.safetensors       all F32:
        logits            [B, T, V]  at every position, padded ones included (see "padding" below)
        loss              [1]        HF's loss: cross-entropy (natural log), mean over labels != -100
        hidden_states.N   [B, T, C]  N = 0..num_layers, exactly HF's output_hidden_states: N=0 is the
                                     embedding output (gpt2: wte+wpe; llama: embed_tokens; bert: after the
                                     embeddings LayerNorm), N=i is the output of layer i-1, EXCEPT that for
                                     gpt2 and the llama family the last entry N=num_layers is AFTER the final
                                     norm (ln_f / model.norm), as transformers returns it
        last_layer_output [B, T, C]  gpt2/llama only: output of the last layer before the final norm
        pooler_output     [B, C]     bert only: tanh(pooler.dense(h[:, 0]))
        grad.<name>       same shape as the stored tensor: d loss / d parameter for EVERY parameter stored
                          in the checkpoint (buffers such as gpt2's attn.bias excluded). Tied weights have
                          one gradient, under the stored name, summing both uses (gpt2
                          transformer.wte.weight, llama model.embed_tokens.weight when tied, bert
                          bert.embeddings.word_embeddings.weight for the MLM decoder).
                          For bert the pooler and cls.seq_relationship grads are zeros.
      __metadata__: format "pt", case, seed, compute dtype.

Precision: the weights are float32 (or float16 / bfloat16) values; everything is computed in float64 from them (the
default; --dtype f32 computes in float32 as transformers would) and the results are rounded to float32.
RoPE inverse frequencies are computed in float32 exactly as transformers does (its inv_freq buffer is
float32), then used in the compute dtype. The fp64 results are the exact math: an fp32 implementation should
land within ~1e-6 relative of them (check_tiny_models.py measures a float32 run: logits <= ~6e-7, grads
<= ~2e-6 of each tensor's max |value|).
Gradients that are zero in exact math: bert's attention.self.key.bias and the key third of gpt2's
attn.c_attn.bias (q.b_k is the same for every key of a row and softmax ignores it), and bert's pooler and
cls.seq_relationship. The reference holds ~1e-19 there, a float32 implementation ~1e-10: compare those
against the largest gradient of the model (absolute tolerance), not relative to their own size.
Init (seeded; same seed, same files): projections that feed a nonlinearity (q, k, v, MLP gate/up/c_fc,
bert intermediate, MLM transform, pooler) N(0, 1/fan_in), projections back into the residual stream
N(0, 0.02^2), embeddings and lm_head N(0, 0.1^2), norm weights 1 + N(0, 0.01), biases N(0, 0.02^2). Larger
than transformers' 0.02 everywhere on purpose: with 0.02 attention is uniform in models this small and
RoPE, mask or head-mapping bugs would hide under the tolerances (check_tiny_models.py verifies they don't).

Conventions that matter for an implementation (all from transformers):
  gpt2   Conv1D weights are [in, out] (y = x @ W + b); c_attn output splits into q | k | v (each n_embd);
         scores = q.k / sqrt(head_dim) (scale_attn_weights true, scale_attn_by_inverse_layer_idx false);
         causal mask value finfo.min, padding mask adds (1 - mask) * finfo.min; activation gelu_new
         0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); pre-LN blocks, ln_f, logits = ln_f(h) @ wte^T (no
         bias); n_inner null means 4 * n_embd; layer_norm_epsilon 1e-5; positions 0..T-1 regardless of mask.
  llama  RMSNorm y = w * x / sqrt(mean(x^2) + eps) (HF does it in fp32); q = x Wq^T (+bq for qwen2), k, v
         likewise with num_key_value_heads; query head h uses kv head h // (heads / kv_heads) (repeat_kv);
         RoPE "rotate_half" (NOT interleaved pairs): for d < hd/2, pair (d, d + hd/2);
         inv_freq[i] = 1 / theta^(2i/hd), angle = pos * inv_freq[i], cos/sin duplicated over both halves,
         q' = q * cos + rotate_half(q) * sin with rotate_half(x) = cat(-x[hd/2:], x[:hd/2]);
         linear scaling: inv_freq / factor;  llama3: wavelen = 2 pi / inv_freq,
           wavelen < orig/high_freq_factor: unchanged; wavelen > orig/low_freq_factor: inv_freq / factor;
           otherwise s = (orig / wavelen - low) / (high - low), inv_freq = (1 - s) inv_freq / factor + s inv_freq;
         scores * head_dim^-0.5, causal + key padding mask, softmax, o_proj (no bias);
         MLP down(silu(gate(x)) * up(x)); final model.norm; lm_head (or embed_tokens when tied);
         head_dim = config.head_dim if present else hidden_size / num_attention_heads; positions 0..T-1.
  bert   post-LN: h = LN(x + dropout(dense(attn))), then LN(h + dense(gelu_erf(intermediate(h))));
         embeddings = word + token_type + position, then LayerNorm (eps layer_norm_eps = 1e-12);
         padding: scores / sqrt(head_dim) + (1 - mask[key]) * finfo.min (older transformers used -10000:
         same result, the masked probabilities are exactly 0); MLM head: LN(gelu(dense(h))) @ word_emb^T +
         cls.predictions.bias; pooler tanh(dense(h[:, 0])).
Padding: keys with attention_mask 0 are masked for every query; padded query rows still attend to the
valid keys (causal) so their logits are defined and are included in `logits`; they never enter the loss.
"""
import argparse
import json
import math
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

CASES = ["gpt2", "gpt2_noprefix", "llama", "llama_tied", "llama_linear_rope", "llama3_rope", "mistral",
         "qwen2", "bert", "bert_legacy", "llama_padded", "llama_f16", "llama_bf16", "sharded"]

DTYPE_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
NAME_DTYPE = {v: k for k, v in DTYPE_NAME.items()}


# --------------------------------------------------------------------------------------------- safetensors
def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: float tensor (F32/F16/BF16)}; written sorted by name, header padded to 8 bytes."""
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        raw = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)
    return off


# ------------------------------------------------------------------------------------------------ configs
def base_llama_config():
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": 16,
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 112,
        "max_position_embeddings": 128,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "use_cache": True,
        "vocab_size": 211,
    }


def case_config(case):
    if case in ("gpt2", "gpt2_noprefix"):
        return {
            "activation_function": "gelu_new",
            "architectures": ["GPT2LMHeadModel"],
            "attn_pdrop": 0.0,
            "bos_token_id": 150,
            "embd_pdrop": 0.0,
            "eos_token_id": 150,
            "initializer_range": 0.02,
            "layer_norm_epsilon": 1e-05,
            "model_type": "gpt2",
            "n_ctx": 16,
            "n_embd": 64,
            "n_head": 4,
            "n_inner": None,
            "n_layer": 2,
            "n_positions": 16,
            "reorder_and_upcast_attn": False,
            "resid_pdrop": 0.0,
            "scale_attn_by_inverse_layer_idx": False,
            "scale_attn_weights": True,
            "summary_activation": None,
            "summary_first_dropout": 0.0,
            "summary_proj_to_labels": True,
            "summary_type": "cls_index",
            "summary_use_proj": True,
            "torch_dtype": "float32",
            "transformers_version": "4.46.3",
            "use_cache": True,
            "vocab_size": 151,
        }
    if case in ("bert", "bert_legacy"):
        return {
            "architectures": ["BertForMaskedLM"],
            "attention_probs_dropout_prob": 0.0,
            "classifier_dropout": None,
            "gradient_checkpointing": False,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0,
            "hidden_size": 64,
            "initializer_range": 0.02,
            "intermediate_size": 80,
            "layer_norm_eps": 1e-12,
            "max_position_embeddings": 32,
            "model_type": "bert",
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "pad_token_id": 0,
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
            "transformers_version": "4.46.3",
            "type_vocab_size": 2,
            "use_cache": True,
            "vocab_size": 113,
        }
    c = base_llama_config()
    if case == "llama_tied":
        c.update(num_key_value_heads=1, tie_word_embeddings=True, vocab_size=128, rms_norm_eps=1e-06)
    elif case == "llama_linear_rope":
        c.update(rope_scaling={"factor": 2.0, "type": "linear"}, max_position_embeddings=256)
    elif case == "llama3_rope":
        c.update(rope_theta=500000.0, max_position_embeddings=256, tie_word_embeddings=True, bos_token_id=200,
                 eos_token_id=201,
                 rope_scaling={"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                               "original_max_position_embeddings": 64, "rope_type": "llama3"})
    elif case == "mistral":
        for k in ("attention_bias", "mlp_bias", "pretraining_tp", "rope_scaling"):
            del c[k]
        c.update(architectures=["MistralForCausalLM"], model_type="mistral", num_attention_heads=8,
                 num_key_value_heads=2, head_dim=8, rope_theta=1000000.0, sliding_window=4096,
                 intermediate_size=96, vocab_size=173)
    elif case == "qwen2":
        for k in ("attention_bias", "mlp_bias", "pretraining_tp", "head_dim"):
            del c[k]
        c.update(architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_size=64, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=128, rms_norm_eps=1e-06, rope_theta=1000000.0,
                 max_window_layers=2, sliding_window=4096, use_sliding_window=False, tie_word_embeddings=True,
                 vocab_size=197, bos_token_id=195, eos_token_id=196)
    elif case == "llama_f16":
        c.update(torch_dtype="float16")
    elif case == "llama_bf16":
        c.update(torch_dtype="bfloat16")
    return c


# ------------------------------------------------------------------------------------------ parameter init
def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def param_shapes(cfg, gpt2_prefix=True):
    """Stored parameter names -> (shape, kind) where kind is 'w' (matrix/embedding), 'b' (bias),
    'g' (norm weight) or 'nb' (norm bias)."""
    s = {}
    mt = cfg["model_type"]
    if mt == "gpt2":
        p = "transformer." if gpt2_prefix else ""
        C, V, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_layer"]
        inner = cfg.get("n_inner") or 4 * C
        s[p + "wte.weight"] = ((V, C), "w")
        s[p + "wpe.weight"] = ((cfg["n_positions"], C), "w")
        for i in range(L):
            q = "%sh.%d." % (p, i)
            s[q + "ln_1.weight"], s[q + "ln_1.bias"] = ((C,), "g"), ((C,), "nb")
            s[q + "attn.c_attn.weight"], s[q + "attn.c_attn.bias"] = ((C, 3 * C), "w"), ((3 * C,), "b")
            s[q + "attn.c_proj.weight"], s[q + "attn.c_proj.bias"] = ((C, C), "w"), ((C,), "b")
            s[q + "ln_2.weight"], s[q + "ln_2.bias"] = ((C,), "g"), ((C,), "nb")
            s[q + "mlp.c_fc.weight"], s[q + "mlp.c_fc.bias"] = ((C, inner), "w"), ((inner,), "b")
            s[q + "mlp.c_proj.weight"], s[q + "mlp.c_proj.bias"] = ((inner, C), "w"), ((C,), "b")
        s[p + "ln_f.weight"], s[p + "ln_f.bias"] = ((C,), "g"), ((C,), "nb")
    elif mt in ("llama", "mistral", "qwen2"):
        C, V, L, I = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
        H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
        qkv_bias = mt == "qwen2" or cfg.get("attention_bias", False)
        o_bias = mt != "qwen2" and cfg.get("attention_bias", False)
        mlp_bias = cfg.get("mlp_bias", False)
        s["model.embed_tokens.weight"] = ((V, C), "w")
        for i in range(L):
            q = "model.layers.%d." % i
            s[q + "input_layernorm.weight"] = ((C,), "g")
            for n, o in (("q_proj", H * hd), ("k_proj", KV * hd), ("v_proj", KV * hd)):
                s[q + "self_attn.%s.weight" % n] = ((o, C), "w")
                if qkv_bias:
                    s[q + "self_attn.%s.bias" % n] = ((o,), "b")
            s[q + "self_attn.o_proj.weight"] = ((C, H * hd), "w")
            if o_bias:
                s[q + "self_attn.o_proj.bias"] = ((C,), "b")
            s[q + "post_attention_layernorm.weight"] = ((C,), "g")
            for n, shp in (("gate_proj", (I, C)), ("up_proj", (I, C)), ("down_proj", (C, I))):
                s[q + "mlp.%s.weight" % n] = (shp, "w")
                if mlp_bias:
                    s[q + "mlp.%s.bias" % n] = ((shp[0],), "b")
        s["model.norm.weight"] = ((C,), "g")
        if not cfg.get("tie_word_embeddings", False):
            s["lm_head.weight"] = ((V, C), "w")
    elif mt == "bert":
        C, V, L, I = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
        e = "bert.embeddings."
        s[e + "word_embeddings.weight"] = ((V, C), "w")
        s[e + "position_embeddings.weight"] = ((cfg["max_position_embeddings"], C), "w")
        s[e + "token_type_embeddings.weight"] = ((cfg["type_vocab_size"], C), "w")
        s[e + "LayerNorm.weight"], s[e + "LayerNorm.bias"] = ((C,), "g"), ((C,), "nb")
        for i in range(L):
            q = "bert.encoder.layer.%d." % i
            for n in ("query", "key", "value"):
                s[q + "attention.self.%s.weight" % n], s[q + "attention.self.%s.bias" % n] = ((C, C), "w"), ((C,), "b")
            s[q + "attention.output.dense.weight"], s[q + "attention.output.dense.bias"] = ((C, C), "w"), ((C,), "b")
            s[q + "attention.output.LayerNorm.weight"] = ((C,), "g")
            s[q + "attention.output.LayerNorm.bias"] = ((C,), "nb")
            s[q + "intermediate.dense.weight"], s[q + "intermediate.dense.bias"] = ((I, C), "w"), ((I,), "b")
            s[q + "output.dense.weight"], s[q + "output.dense.bias"] = ((C, I), "w"), ((C,), "b")
            s[q + "output.LayerNorm.weight"], s[q + "output.LayerNorm.bias"] = ((C,), "g"), ((C,), "nb")
        s["bert.pooler.dense.weight"], s["bert.pooler.dense.bias"] = ((C, C), "w"), ((C,), "b")
        s["cls.predictions.bias"] = ((V,), "b")
        s["cls.predictions.transform.dense.weight"] = ((C, C), "w")
        s["cls.predictions.transform.dense.bias"] = ((C,), "b")
        s["cls.predictions.transform.LayerNorm.weight"] = ((C,), "g")
        s["cls.predictions.transform.LayerNorm.bias"] = ((C,), "nb")
        s["cls.seq_relationship.weight"], s["cls.seq_relationship.bias"] = ((2, C), "w"), ((2,), "b")
    else:
        raise ValueError("unknown model_type %r" % mt)
    return s


# Init scales (seeded, deterministic). transformers initializes every matrix N(0, 0.02); with such weights in
# models this small every attention score is ~0.01 and every MLP pre-activation ~0.1, so attention is
# uniform, gelu_new and gelu(erf) agree to 1e-6 and RoPE, masking or head-mapping bugs change the outputs by
# less than the comparison tolerance. So the projections that feed a nonlinearity (q, k, v, MLP up/gate,
# the MLM transform, the pooler) get std 1/sqrt(fan_in), like trained checkpoints, which makes scores and
# pre-activations O(1); the projections back into the residual stream keep 0.02, embeddings and lm_head
# use 0.1. Norm weights are 1 + N(0, 0.1); biases (norm biases included) N(0, 0.02).
OUT_STD = 0.02
EMB_STD = 0.1
BIAS_STD = 0.02
NORM_NOISE = 0.1
IN_PROJ = ("q_proj.weight", "k_proj.weight", "v_proj.weight", "gate_proj.weight", "up_proj.weight",
           "c_attn.weight", "c_fc.weight", "self.query.weight", "self.key.weight", "self.value.weight",
           "intermediate.dense.weight", "transform.dense.weight", "pooler.dense.weight",
           "seq_relationship.weight")
EMB = ("embed_tokens.weight", "lm_head.weight", "word_embeddings.weight", "position_embeddings.weight",
       "token_type_embeddings.weight", "wte.weight", "wpe.weight")


def weight_std(name, shape, cfg):
    if name.endswith(IN_PROJ):
        fan_in = shape[0] if cfg["model_type"] == "gpt2" else shape[1]  # gpt2 Conv1D is [in, out]
        return 1.0 / math.sqrt(fan_in)
    if name.endswith(EMB):
        return EMB_STD
    return OUT_STD


def init_params(cfg, gen, gpt2_prefix=True):
    out = {}
    for name, (shape, kind) in param_shapes(cfg, gpt2_prefix).items():
        if kind == "g":
            t = 1.0 + NORM_NOISE * torch.randn(shape, generator=gen)
        elif kind in ("b", "nb"):
            t = BIAS_STD * torch.randn(shape, generator=gen)
        else:
            t = weight_std(name, shape, cfg) * torch.randn(shape, generator=gen)
        out[name] = t.to(torch.float32)
    return out


# ---------------------------------------------------------------------------------------------- batches
def make_batch(case, cfg, gen, B=2):
    mt = cfg["model_type"]
    V = cfg["vocab_size"]
    T = {"gpt2": 7, "bert": 9}.get(mt, 8)
    low = 5  # ids below 5 are special tokens in every vocabulary here
    ids = torch.randint(low, V, (B, T), generator=gen)
    mask = torch.ones(B, T, dtype=torch.long)
    batch = {}
    if mt == "bert":
        pad, cls_id, sep, mask_id = 0, 2, 3, 4
        n1 = 6  # valid length of the second sequence
        ids[:, 0] = cls_id
        ids[0, 4] = sep
        ids[0, T - 1] = sep
        ids[1, 3] = sep
        ids[1, n1 - 1] = sep
        ids[1, n1:] = pad
        mask[1, n1:] = 0
        tt = torch.zeros(B, T, dtype=torch.long)
        tt[0, 5:] = 1
        tt[1, 4:n1] = 1
        labels = torch.full((B, T), -100, dtype=torch.long)
        for b, positions in ((0, (2, 6)), (1, (1, 4))):
            for p in positions:
                labels[b, p] = ids[b, p]
                ids[b, p] = mask_id
        labels[0, 3] = ids[0, 3]  # a "kept" token (BERT's 10% unchanged): label at an unmasked input
        batch["input_ids"] = ids
        batch["attention_mask"] = mask
        batch["token_type_ids"] = tt
        batch["labels"] = labels
        return batch
    labels = ids.clone()
    if case == "llama_padded":
        n1 = 5
        ids[1, n1:] = cfg["eos_token_id"]  # padded with eos, as is usual for llama tokenizers without pad
        mask[1, n1:] = 0
        labels = ids.clone()
        labels[1, n1:] = -100
        labels[0, :2] = -100
    batch["input_ids"] = ids
    batch["attention_mask"] = mask
    batch["labels"] = labels
    return batch


# ------------------------------------------------------------------------------------------------ models
def neg_min(dt):
    return torch.finfo(dt).min


def key_padding_additive(mask, dt):
    """transformers' extended attention mask: (1 - mask[:, None, None, :]) * finfo.min."""
    return (1.0 - mask[:, None, None, :].to(dt)) * neg_min(dt)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_erf(x):
    return F.gelu(x)  # exact erf form, transformers' ACT2FN["gelu"]


def split_heads(x, n, hd):
    B, T, _ = x.shape
    return x.view(B, T, n, hd).permute(0, 2, 1, 3)


def merge_heads(x):
    B, n, T, hd = x.shape
    return x.permute(0, 2, 1, 3).reshape(B, T, n * hd)


def gpt2_forward(cfg, P, batch):
    p = "transformer." if "transformer.wte.weight" in P else ""
    C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg["layer_norm_epsilon"]
    hd = C // H
    ids, mask = batch["input_ids"], batch["attention_mask"]
    B, T = ids.shape
    wte = P[p + "wte.weight"]
    dt = wte.dtype
    h = wte[ids] + P[p + "wpe.weight"][torch.arange(T)][None]
    hidden = [h]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None]
    add_mask = key_padding_additive(mask, dt)
    outs = []
    for i in range(L):
        q_ = "%sh.%d." % (p, i)
        x = F.layer_norm(h, (C,), P[q_ + "ln_1.weight"], P[q_ + "ln_1.bias"], eps)
        qkv = x @ P[q_ + "attn.c_attn.weight"] + P[q_ + "attn.c_attn.bias"]  # Conv1D: [in, out]
        q, k, v = qkv.split(C, dim=2)
        q, k, v = split_heads(q, H, hd), split_heads(k, H, hd), split_heads(v, H, hd)
        w = q @ k.transpose(-1, -2)
        if cfg.get("scale_attn_weights", True):
            w = w / (v.size(-1) ** 0.5)
        if cfg.get("scale_attn_by_inverse_layer_idx", False):
            w = w / float(i + 1)
        w = torch.where(causal, w, torch.full([], neg_min(dt), dtype=dt))
        w = w + add_mask
        a = torch.softmax(w, dim=-1)
        o = merge_heads(a @ v)
        o = o @ P[q_ + "attn.c_proj.weight"] + P[q_ + "attn.c_proj.bias"]
        h = h + o
        x = F.layer_norm(h, (C,), P[q_ + "ln_2.weight"], P[q_ + "ln_2.bias"], eps)
        act = {"gelu_new": gelu_new, "gelu": gelu_erf}[cfg["activation_function"]]
        m = act(x @ P[q_ + "mlp.c_fc.weight"] + P[q_ + "mlp.c_fc.bias"])
        m = m @ P[q_ + "mlp.c_proj.weight"] + P[q_ + "mlp.c_proj.bias"]
        h = h + m
        outs.append(h)
    last = h
    h = F.layer_norm(h, (C,), P[p + "ln_f.weight"], P[p + "ln_f.bias"], eps)
    hidden += outs[:-1] + [h]
    logits = h @ wte.t()  # tied lm_head, no bias
    return {"logits": logits, "hidden_states": hidden, "last_layer_output": last}


def rope_inv_freq(cfg):
    """inv_freq exactly as transformers' ROPE_INIT_FUNCTIONS compute it (float32)."""
    base = float(cfg.get("rope_theta", 10000.0))
    dim = int(head_dim_of(cfg) * cfg.get("partial_rotary_factor", 1.0))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv_freq
    rt = rs.get("rope_type", rs.get("type", "default"))
    if rt == "default":
        return inv_freq
    if rt == "linear":
        return inv_freq / rs["factor"]
    if rt == "llama3":
        factor = rs["factor"]
        low_freq_factor = rs["low_freq_factor"]
        high_freq_factor = rs["high_freq_factor"]
        old_context_len = rs["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    raise ValueError("rope type %r not implemented in this reference" % rt)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def llama_forward(cfg, P, batch):
    L = cfg["num_hidden_layers"]
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    eps = cfg["rms_norm_eps"]
    ids, mask = batch["input_ids"], batch["attention_mask"]
    B, T = ids.shape
    emb = P["model.embed_tokens.weight"]
    dt = emb.dtype
    h = emb[ids]
    hidden = [h]
    # RoPE tables: transformers computes freqs = inv_freq (x) positions in float32 and cos/sin of them.
    # We take the float32 inv_freq and do the rest in the compute dtype.
    inv_freq = rope_inv_freq(cfg).to(dt)
    pos = torch.arange(T, dtype=dt)
    freqs = pos[:, None] * inv_freq[None, :]
    e = torch.cat((freqs, freqs), dim=-1)
    cos, sin = e.cos()[None, None], e.sin()[None, None]  # [1, 1, T, hd]; attention_scaling is 1 here
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None]
    allowed = causal & mask[:, None, None, :].bool()
    add_mask = torch.where(allowed, torch.zeros([], dtype=dt), torch.full([], neg_min(dt), dtype=dt))
    n_rep = H // KV

    def lin(x, name):
        y = x @ P[name + ".weight"].t()
        b = P.get(name + ".bias")
        return y if b is None else y + b

    outs = []
    for i in range(L):
        q_ = "model.layers.%d." % i
        x = rms_norm(h, P[q_ + "input_layernorm.weight"], eps)
        q = split_heads(lin(x, q_ + "self_attn.q_proj"), H, hd)
        k = split_heads(lin(x, q_ + "self_attn.k_proj"), KV, hd)
        v = split_heads(lin(x, q_ + "self_attn.v_proj"), KV, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # repeat_kv: kv head j serves query heads j*n_rep .. j*n_rep + n_rep - 1
        k = k[:, :, None].expand(B, KV, n_rep, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KV, n_rep, T, hd).reshape(B, H, T, hd)
        w = (q @ k.transpose(2, 3)) * (hd ** -0.5) + add_mask
        a = torch.softmax(w, dim=-1)
        o = lin(merge_heads(a @ v), q_ + "self_attn.o_proj")
        h = h + o
        x = rms_norm(h, P[q_ + "post_attention_layernorm.weight"], eps)
        m = lin(F.silu(lin(x, q_ + "mlp.gate_proj")) * lin(x, q_ + "mlp.up_proj"), q_ + "mlp.down_proj")
        h = h + m
        outs.append(h)
    last = h
    h = rms_norm(h, P["model.norm.weight"], eps)
    hidden += outs[:-1] + [h]
    head = emb if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    logits = h @ head.t()
    return {"logits": logits, "hidden_states": hidden, "last_layer_output": last}


def bert_forward(cfg, P, batch):
    C, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    eps = cfg["layer_norm_eps"]
    hd = C // H
    ids, mask = batch["input_ids"], batch["attention_mask"]
    tt = batch.get("token_type_ids")
    if tt is None:
        tt = torch.zeros_like(ids)
    B, T = ids.shape
    e = "bert.embeddings."
    we = P[e + "word_embeddings.weight"]
    dt = we.dtype
    act = {"gelu": gelu_erf, "gelu_new": gelu_new}[cfg["hidden_act"]]

    def lin(x, name):
        return x @ P[name + ".weight"].t() + P[name + ".bias"]

    def ln(x, name):
        return F.layer_norm(x, (C,), P[name + ".weight"], P[name + ".bias"], eps)

    h = we[ids] + P[e + "token_type_embeddings.weight"][tt]
    h = h + P[e + "position_embeddings.weight"][torch.arange(T)][None]
    h = ln(h, e + "LayerNorm")
    hidden = [h]
    add_mask = key_padding_additive(mask, dt)
    for i in range(L):
        q_ = "bert.encoder.layer.%d." % i
        q = split_heads(lin(h, q_ + "attention.self.query"), H, hd)
        k = split_heads(lin(h, q_ + "attention.self.key"), H, hd)
        v = split_heads(lin(h, q_ + "attention.self.value"), H, hd)
        w = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + add_mask
        a = torch.softmax(w, dim=-1)
        ctx = merge_heads(a @ v)
        h = ln(lin(ctx, q_ + "attention.output.dense") + h, q_ + "attention.output.LayerNorm")
        inter = act(lin(h, q_ + "intermediate.dense"))
        h = ln(lin(inter, q_ + "output.dense") + h, q_ + "output.LayerNorm")
        hidden.append(h)
    out = {"hidden_states": hidden}
    if "bert.pooler.dense.weight" in P:
        out["pooler_output"] = torch.tanh(lin(h[:, 0], "bert.pooler.dense"))
    t = ln(act(lin(h, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    out["logits"] = t @ we.t() + P["cls.predictions.bias"]  # decoder tied to word embeddings
    return out


def canonical_name(name):
    """transformers' load-time renaming of legacy LayerNorm names (gamma -> weight, beta -> bias)."""
    return name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")


def forward(cfg, P, batch):
    """P: {stored name: tensor in the compute dtype}; returns logits, loss, hidden states."""
    P = {canonical_name(n): t for n, t in P.items()}
    mt = cfg["model_type"]
    if mt == "gpt2":
        out = gpt2_forward(cfg, P, batch)
    elif mt in ("llama", "mistral", "qwen2"):
        out = llama_forward(cfg, P, batch)
    elif mt == "bert":
        out = bert_forward(cfg, P, batch)
    else:
        raise ValueError("unknown model_type %r" % mt)
    logits, labels = out["logits"], batch["labels"]
    V = logits.shape[-1]
    if mt == "bert":
        loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
    else:  # ForCausalLMLoss: shift so that tokens < n predict n
        shift_labels = F.pad(labels, (0, 1), value=-100)[:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, V), shift_labels.reshape(-1), ignore_index=-100)
    out["loss"] = loss
    return out


def is_buffer(name):
    return name.endswith(".attn.bias") or name.endswith(".attn.masked_bias")


def compute(cfg, stored, batch, dtype=torch.float64):
    """stored: {name: tensor as stored (F32/F16)}. Returns {output name: float32 tensor} incl. grads."""
    P = {n: t.detach().to(dtype).requires_grad_(True) for n, t in stored.items() if not is_buffer(n)}
    out = forward(cfg, P, batch)
    out["loss"].backward()
    res = {"logits": out["logits"], "loss": out["loss"].reshape(1)}
    for i, hs in enumerate(out["hidden_states"]):
        res["hidden_states.%d" % i] = hs
    for k in ("last_layer_output", "pooler_output"):
        if k in out:
            res[k] = out[k]
    for n, t in P.items():
        res["grad." + n] = t.grad if t.grad is not None else torch.zeros_like(t)
    return {k: v.detach().to(torch.float32).contiguous() for k, v in res.items()}


# ------------------------------------------------------------------------------------------------ driver
def case_seed(case, seed):
    return (seed * 1000003 + zlib.crc32(case.encode())) & 0x7FFFFFFF


def build(case, seed=0):
    """Returns (config, stored tensors, batch) for a case."""
    if case not in CASES:
        raise SystemExit("unknown case %r; cases: %s" % (case, " ".join(CASES)))
    cfg = case_config(case)
    gen = torch.Generator().manual_seed(case_seed(case, seed))
    stored = init_params(cfg, gen, gpt2_prefix=(case != "gpt2_noprefix"))
    if case == "gpt2_noprefix":
        n = cfg["n_positions"]
        for i in range(cfg["n_layer"]):
            stored["h.%d.attn.bias" % i] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
    if case == "bert_legacy":
        stored = {n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): t
                  for n, t in stored.items()}
    if case in ("llama_f16", "llama_bf16"):
        dt = torch.float16 if case == "llama_f16" else torch.bfloat16
        stored = {k: v.to(dt) for k, v in stored.items()}
    batch = make_batch(case, cfg, gen)
    return cfg, stored, batch


def write_model(case, model_dir, cfg, stored):
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    for fn in os.listdir(model_dir):  # a rerun into the same folder must not leave the other layout behind
        if fn.endswith(".safetensors") or fn == "model.safetensors.index.json":
            os.remove(os.path.join(model_dir, fn))
    if case != "sharded":
        write_safetensors(os.path.join(model_dir, "model.safetensors"), stored)
        return
    # Two shards the way save_pretrained splits by size: embeddings and layer 0 first, the rest second.
    first = {n for n in stored if n.startswith("model.embed_tokens.") or n.startswith("model.layers.0.")}
    shards = [{n: stored[n] for n in sorted(first)}, {n: stored[n] for n in sorted(set(stored) - first)}]
    names = ["model-%05d-of-%05d.safetensors" % (i + 1, len(shards)) for i in range(len(shards))]
    total, weight_map = 0, {}
    for fn, sh in zip(names, shards):
        total += write_safetensors(os.path.join(model_dir, fn), sh)
        for n in sh:
            weight_map[n] = fn
    with open(os.path.join(model_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")


def generate(case, outdir, seed=0, dtype="f64"):
    cfg, stored, batch = build(case, seed)
    write_model(case, os.path.join(outdir, "model"), cfg, stored)
    with open(os.path.join(outdir, "batch.json"), "w") as f:
        json.dump({k: v.tolist() for k, v in batch.items()}, f)
        f.write("\n")
    tdt = {"f64": torch.float64, "f32": torch.float32}[dtype]
    res = compute(cfg, stored, batch, tdt)
    meta = {"format": "pt", "case": case, "seed": str(seed),
            "compute_dtype": {"f64": "float64", "f32": "float32"}[dtype]}
    write_safetensors(os.path.join(outdir, "expected.safetensors"), res, meta)
    return cfg, res


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case", help="one of: %s; or 'all' or 'list'" % " ".join(CASES))
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["f64", "f32"], default="f64", help="compute dtype (results are F32)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if a.case == "list":
        print("\n".join(CASES))
        return 0
    if not a.outdir:
        ap.error("OUTDIR is required")
    cases = CASES if a.case == "all" else [a.case]
    for c in cases:
        od = os.path.join(a.outdir, c) if a.case == "all" else a.outdir
        cfg, res = generate(c, od, a.seed, a.dtype)
        ngrad = sum(1 for k in res if k.startswith("grad."))
        print("%-18s -> %s  loss %.6f  logits %s  %d grads"
              % (c, od, res["loss"].item(), list(res["logits"].shape), ngrad))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
