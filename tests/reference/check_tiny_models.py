"""Self-test of the tiny reference models written by tiny_models.py.

    check_tiny_models.py OUTDIR...          check folders written by tiny_models.py
    check_tiny_models.py --all [--seed N]   generate every case in a temporary folder and check it
(run with /usr/bin/python3, from anywhere)

For each OUTDIR it
  1. reads every safetensors file with a strict reader written here (header length, JSON, 8-byte padding,
     names sorted, offsets contiguous from 0 with no gaps, sizes = shape x dtype, file length exact,
     __metadata__ format "pt"), and the shard index when there is one (total_size, every tensor in the file
     the index names, no stray model.safetensors);
  2. checks config.json (model_type and the keys the architecture needs), batch.json (shapes, masks, labels),
     the checkpoint's names (tied heads absent, one grad.<name> for every stored parameter, same shapes);
  3. rebuilds the model from config.json and the checkpoint alone (not from the case name), recomputes in
     float64 and requires the expected tensors to be reproduced exactly (float32 rounding aside), and reports
     how far a float32 computation lands from them;
  4. checks gradients by central finite differences in float64 on a few entries of several parameters;
  5. checks properties: causal models do not look ahead; padded tokens change neither the loss nor the
     logits at valid positions; and the features under test really change the outputs (RoPE scaling type,
     the padding mask, the activation function), by far more than the 1e-4 comparison tolerance.
Exits non-zero on the first failure.
"""
import copy
import json
import math
import os
import struct
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_models as tm  # noqa: E402

ELEM = {"F32": 4, "F16": 2, "BF16": 2}


class CheckError(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise CheckError(msg)


def read_safetensors_strict(path):
    data = open(path, "rb").read()
    need(len(data) >= 8, "%s: shorter than 8 bytes" % path)
    (n,) = struct.unpack("<Q", data[:8])
    need(8 + n <= len(data), "%s: header length %d past end of file" % (path, n))
    need(n % 8 == 0, "%s: header length %d not a multiple of 8" % (path, n))
    raw = data[8:8 + n]
    need(raw.rstrip(b" ") == raw.rstrip(), "%s: header padded with something other than spaces" % path)
    header = json.loads(raw.decode("utf-8"))
    keys = list(header)
    meta = header.pop("__metadata__", None)
    need(meta is not None and meta.get("format") == "pt", "%s: __metadata__ format is not 'pt': %r" % (path, meta))
    need(keys[0] == "__metadata__", "%s: __metadata__ not first" % path)
    names = list(header)
    need(names == sorted(names), "%s: tensors not sorted by name" % path)
    body = data[8 + n:]
    out, off = {}, 0
    for name in names:
        e = header[name]
        need(set(e) == {"dtype", "shape", "data_offsets"}, "%s: %s: keys %s" % (path, name, sorted(e)))
        need(e["dtype"] in ELEM, "%s: %s: dtype %s" % (path, name, e["dtype"]))
        b, en = e["data_offsets"]
        need(b == off, "%s: %s: begins at %d, expected %d (gap or overlap)" % (path, name, b, off))
        size = ELEM[e["dtype"]] * math.prod(e["shape"])
        need(en - b == size, "%s: %s: %d bytes for %s %s" % (path, name, en - b, e["shape"], e["dtype"]))
        need(en <= len(body), "%s: %s: ends at %d, past the data section (%d bytes)" % (path, name, en, len(body)))
        buf = bytearray(body[b:en])
        dt = tm.NAME_DTYPE[e["dtype"]]
        if not size:
            t = torch.empty(0, dtype=dt)
        elif dt == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(buf, dtype=dt)
        out[name] = t.reshape(e["shape"]).clone()
        off = en
    need(off == len(body), "%s: data section is %d bytes, tensors cover %d" % (path, len(body), off))
    return out, meta


def load_model_dir(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    if os.path.exists(idx):
        need("model.safetensors" not in files, "%s: both an index and model.safetensors" % d)
        index = json.load(open(idx))
        wm = index["weight_map"]
        shard_files = sorted(set(wm.values()))
        need(shard_files == files, "%s: index names %s, folder has %s" % (d, shard_files, files))
        n = len(shard_files)
        want = ["model-%05d-of-%05d.safetensors" % (i + 1, n) for i in range(n)]
        need(shard_files == want, "shard names %s" % shard_files)
        stored, total = {}, 0
        for fn in shard_files:
            t, _ = read_safetensors_strict(os.path.join(d, fn))
            for name, v in t.items():
                need(wm.get(name) == fn, "%s: %s is in %s, the index says %s" % (d, name, fn, wm.get(name)))
                need(name not in stored, "%s: %s in two shards" % (d, name))
                stored[name] = v
                total += v.numel() * v.element_size()
        need(set(stored) == set(wm), "%s: index lists tensors no shard holds: %s" % (d, sorted(set(wm) - set(stored))))
        ts = index["metadata"]["total_size"]
        need(ts == total, "%s: total_size %s, tensors hold %d bytes" % (d, ts, total))
        nshards = n
    else:
        need(files == ["model.safetensors"], "%s: expected model.safetensors, found %s" % (d, files))
        stored, _ = read_safetensors_strict(os.path.join(d, "model.safetensors"))
        nshards = 1
    return cfg, stored, nshards


REQUIRED = {
    "gpt2": ["n_embd", "n_head", "n_layer", "n_positions", "vocab_size", "layer_norm_epsilon",
             "activation_function"],
    "llama": ["hidden_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
              "intermediate_size", "vocab_size", "rms_norm_eps", "rope_theta", "tie_word_embeddings", "hidden_act"],
    "bert": ["hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size",
             "layer_norm_eps", "type_vocab_size", "max_position_embeddings", "hidden_act"],
}


def rel(a, b):
    a, b = a.double(), b.double()
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)


def batch_tensors(d):
    bj = json.load(open(os.path.join(d, "batch.json")))
    return {k: torch.tensor(v, dtype=torch.long) for k, v in bj.items()}


def check_dir(d, verbose=True):
    log = []
    cfg, stored, nshards = load_model_dir(os.path.join(d, "model"))
    mt = cfg["model_type"]
    fam = "llama" if mt in ("llama", "mistral", "qwen2") else mt
    need(fam in REQUIRED, "unknown model_type %r" % mt)
    for k in REQUIRED[fam]:
        need(k in cfg, "config.json lacks %s" % k)
    for k in ("attn_pdrop", "embd_pdrop", "resid_pdrop", "attention_dropout", "hidden_dropout_prob",
              "attention_probs_dropout_prob"):
        need(cfg.get(k, 0.0) == 0.0, "config %s must be 0.0" % k)
    batch = batch_tensors(d)
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    B, T = ids.shape
    V = cfg["vocab_size"]
    need(mask.shape == ids.shape and labels.shape == ids.shape, "batch shapes differ")
    need(ids.min() >= 0 and ids.max() < V, "input ids out of range")
    need(((labels == -100) | ((labels >= 0) & (labels < V))).all(), "labels out of range")
    need(set(mask.unique().tolist()) <= {0, 1}, "attention_mask not 0/1")
    for b in range(B):  # right padding only
        m = mask[b].tolist()
        need(m == sorted(m, reverse=True) and m[0] == 1, "attention_mask of row %d is not right padding" % b)
    need((labels[mask == 0] == -100).all(), "a padded position has a label")
    if fam == "bert":
        need("token_type_ids" in batch, "bert batch lacks token_type_ids")
        need(batch["token_type_ids"].max() < cfg["type_vocab_size"], "token type out of range")
    # Names.
    shapes = tm.param_shapes(cfg, gpt2_prefix=any(n.startswith("transformer.") for n in stored))
    params = {n for n in stored if not tm.is_buffer(n)}
    canon = {tm.canonical_name(n): n for n in params}
    need(len(canon) == len(params), "a legacy LayerNorm name and its modern name both stored")
    need(set(canon) == set(shapes), "checkpoint names differ from the architecture's: missing %s, extra %s"
         % (sorted(set(shapes) - set(canon)), sorted(set(canon) - set(shapes))))
    for c, n in canon.items():
        got_shape = list(stored[n].shape)
        need(got_shape == list(shapes[c][0]), "%s: shape %s, expected %s" % (n, got_shape, list(shapes[c][0])))
    if fam == "llama":
        need(("lm_head.weight" in stored) == (not cfg["tie_word_embeddings"]),
             "lm_head.weight presence does not match tie_word_embeddings")
    if fam == "gpt2":
        need(not any("lm_head" in n for n in stored), "gpt2 checkpoint holds lm_head (tied)")
    if fam == "bert":
        need(not any("decoder" in n for n in stored), "bert checkpoint holds cls.predictions.decoder (tied)")
    exp, emeta = read_safetensors_strict(os.path.join(d, "expected.safetensors"))
    need(all(v.dtype == torch.float32 for v in exp.values()), "expected.safetensors must be all F32")
    grads = {k[5:] for k in exp if k.startswith("grad.")}
    need(grads == params, "grads differ from parameters: missing %s, extra %s"
         % (sorted(params - grads), sorted(grads - params)))
    L = cfg.get("n_layer", cfg.get("num_hidden_layers"))
    C = cfg.get("n_embd", cfg.get("hidden_size"))
    need(list(exp["logits"].shape) == [B, T, V], "logits shape %s" % list(exp["logits"].shape))
    need(list(exp["loss"].shape) == [1], "loss shape")
    for i in range(L + 1):
        need(list(exp["hidden_states.%d" % i].shape) == [B, T, C], "hidden_states.%d shape" % i)
    need("hidden_states.%d" % (L + 1) not in exp, "too many hidden states")
    dtypes = "/".join(sorted({tm.DTYPE_NAME[t.dtype] for t in stored.values()}))
    log.append("files ok (%d shard%s, %d tensors, %s)" % (nshards, "s" if nshards > 1 else "", len(stored), dtypes))

    # Recompute from config + checkpoint only.
    got = tm.compute(cfg, stored, batch, torch.float64)
    need(set(got) == set(exp), "recomputed outputs differ in names: %s" % sorted(set(got) ^ set(exp)))
    worst = max((rel(got[k], exp[k]), k) for k in exp)
    need(worst[0] <= 1e-6, "recomputation differs: %s rel %.3g" % (worst[1], worst[0]))
    f32 = tm.compute(cfg, stored, batch, torch.float32)
    e_log = rel(f32["logits"], exp["logits"])
    e_loss = rel(f32["loss"], exp["loss"])
    # Gradients that are zero in exact math (the key bias of bert and gpt2: softmax ignores a constant added
    # to every score of a row) come out as rounding noise; they are judged against the largest gradient.
    gscale = max(exp[k].abs().max().item() for k in exp if k.startswith("grad."))
    e_grad, tiny = 0.0, []
    for k in exp:
        if k.startswith("grad."):
            m = exp[k].abs().max().item()
            if m < 1e-6 * gscale:
                tiny.append(k[5:])
                need((f32[k] - exp[k]).abs().max().item() < 1e-5 * gscale, "%s: float32 far from ~0" % k)
            else:
                e_grad = max(e_grad, rel(f32[k], exp[k]))
    need(e_log < 1e-5 and e_loss < 1e-5 and e_grad < 1e-4, "fp32 computation far from fp64 reference")
    log.append("recomputed (%s); float32 vs reference: logits %.1e loss %.1e grads %.1e (max|d|/max|ref|)"
               % (emeta.get("compute_dtype"), e_log, e_loss, e_grad))
    if tiny:
        log.append("grads ~0 (< 1e-6 of the largest; compare absolutely): %s" % ", ".join(tiny))

    # Finite differences in float64.
    P = {n: t.detach().to(torch.float64) for n, t in stored.items() if not tm.is_buffer(n)}
    gen = torch.Generator().manual_seed(1)
    names = sorted(n for n in P if exp["grad." + n].abs().max() > 0)
    # The token embedding always (tied to the output head in most cases), then random others.
    pick = [n for n in names if n.endswith(("wte.weight", "embed_tokens.weight", "word_embeddings.weight"))]
    pick += [n for n in (names[int(i)] for i in torch.randperm(len(names), generator=gen)) if n not in pick][:5]
    worst_fd = 0.0
    for n in pick:
        g = exp["grad." + n].reshape(-1)
        flat_idx = [int(torch.argmax(g.abs()))]
        flat_idx += [int(i) for i in torch.randint(0, g.numel(), (2,), generator=gen)]
        for j in flat_idx:
            h = 1e-5 * max(1.0, abs(P[n].reshape(-1)[j].item()))
            vals = []
            for s in (1, -1):
                Q = dict(P)
                Q[n] = P[n].clone()
                Q[n].reshape(-1)[j] += s * h
                vals.append(tm.forward(cfg, Q, batch)["loss"].item())
            fd = (vals[0] - vals[1]) / (2 * h)
            err = abs(fd - g[j].item()) / max(g.abs().max().item(), 1e-12)
            worst_fd = max(worst_fd, err)
            need(err < 1e-5, "finite difference for %s[%d]: %.8g vs grad %.8g" % (n, j, fd, g[j].item()))
    log.append("finite differences ok on %d entries of %s (worst %.1e of max|grad|)"
               % (3 * len(pick), ", ".join(pick), worst_fd))

    def run(c=cfg, b=batch, p=None):
        return tm.forward(c, p if p is not None else P, b)

    base = run()
    valid = mask.bool()
    # Causality.
    if fam != "bert":
        b2 = dict(batch)
        b2["input_ids"] = ids.clone()
        b2["input_ids"][:, T - 1] = (ids[:, T - 1] + 1) % V
        o = run(b=b2)
        need(rel(o["logits"][:, :T - 1], base["logits"][:, :T - 1]) < 1e-12,
             "changing the last token changed earlier logits")
        need(rel(o["logits"][:, T - 1], base["logits"][:, T - 1]) > 1e-4, "changing the last token changed nothing")
        log.append("causal ok")
    # Padding invariance and the mask's effect.
    if (mask == 0).any():
        b2 = dict(batch)
        b2["input_ids"] = torch.where(valid, ids, (ids + 7) % V)
        o = run(b=b2)
        need(rel(o["logits"][valid], base["logits"][valid]) < 1e-12, "padded ids changed valid logits")
        need(abs(o["loss"].item() - base["loss"].item()) < 1e-12, "padded ids changed the loss")
        b3 = dict(batch)
        b3["attention_mask"] = torch.ones_like(mask)
        # Causal models with right padding: valid positions never see the (later) padded keys, so the mask
        # only changes the padded rows; bidirectional bert: it changes the valid rows.
        where = valid if fam == "bert" else ~valid
        eff = rel(run(b=b3)["logits"][where], base["logits"][where])
        rows = "valid" if fam == "bert" else "padded-row"
        need(eff > 1e-3, "ignoring the padding mask changes %s logits by only %.2g" % (rows, eff))
        log.append("padding ok (pad ids change neither loss nor valid logits; "
                   "dropping the mask changes %s logits by %.1e)" % (rows, eff))
    # Features under test change the outputs well beyond the tolerance.
    effects = []
    if fam == "llama" and cfg.get("rope_scaling"):
        c2 = copy.deepcopy(cfg)
        c2["rope_scaling"] = None
        effects.append(("rope_scaling -> none", rel(run(c=c2)["logits"], base["logits"])))
        if cfg["rope_scaling"].get("rope_type") == "llama3":
            c3 = copy.deepcopy(cfg)
            c3["rope_scaling"] = {"type": "linear", "factor": cfg["rope_scaling"]["factor"]}
            effects.append(("llama3 -> linear", rel(run(c=c3)["logits"], base["logits"])))
            inv = tm.rope_inv_freq(cfg)
            inv0 = tm.rope_inv_freq(dict(cfg, rope_scaling=None))
            ratio = (inv0 / inv).tolist()
            fac = cfg["rope_scaling"]["factor"]
            need(abs(ratio[0] - 1) < 1e-6 and abs(ratio[-1] - fac) < 1e-4 and any(1.01 < r < fac - 0.01 for r in ratio),
                 "llama3 bands not all exercised: %s" % ratio)
            log.append("llama3 inv_freq divisors %s" % " ".join("%.3f" % r for r in ratio))
    notes = []
    if fam == "llama":
        c2 = copy.deepcopy(cfg)
        c2["rope_theta"] = cfg["rope_theta"] * 2
        notes.append(("rope_theta x2", rel(run(c=c2)["logits"], base["logits"])))
        saved = tm.rotate_half

        def interleaved(x):  # GPT-J / Meta-checkpoint pairing (2i, 2i+1): the usual porting bug
            return torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).flatten(-2)
        tm.rotate_half = interleaved
        try:
            effects.append(("interleaved rope", rel(run()["logits"], base["logits"])))
        finally:
            tm.rotate_half = saved
        if cfg["num_key_value_heads"] > 1:  # kv head of query head h: h // n_rep, not h % kv
            Hh, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], tm.head_dim_of(cfg)
            n_rep = Hh // KV
            perm = [(h % KV) * n_rep + h // KV for h in range(Hh)]
            Q = dict(P)
            for i in range(cfg["num_hidden_layers"]):
                for suf in ("weight", "bias"):
                    n = "model.layers.%d.self_attn.q_proj.%s" % (i, suf)
                    if n in P:
                        w = P[n].reshape(Hh, hd, *P[n].shape[1:])
                        Q[n] = w[torch.tensor(perm)].reshape(P[n].shape)
                n = "model.layers.%d.self_attn.o_proj.weight" % i
                Q[n] = P[n].reshape(-1, Hh, hd)[:, torch.tensor(perm)].reshape(P[n].shape)
            effects.append(("kv head h%kv instead of h//n_rep", rel(run(p=Q)["logits"], base["logits"])))
    def grad_change(c2):
        g2 = tm.compute(c2, stored, batch)
        keys = [k for k in exp if k.startswith("grad.") and exp[k].abs().max() > 1e-6 * gscale]
        return max(rel(g2[k], exp[k]) for k in keys)

    # gelu_new and gelu(erf) differ by at most ~2e-4 in absolute value: the swap moves logits by ~1e-4, at
    # the edge of a 1e-4 tolerance whatever the init, so it is reported, not required.
    if mt == "qwen2":
        Q = {n: (torch.zeros_like(t) if n.endswith("_proj.bias") else t) for n, t in P.items()}
        effects.append(("q/k/v biases dropped", rel(run(p=Q)["logits"], base["logits"])))
    if fam == "gpt2":
        Q = {n: (t.t() if n.endswith("attn.c_proj.weight") else t) for n, t in P.items()}
        effects.append(("attn.c_proj read [out, in]", rel(run(p=Q)["logits"], base["logits"])))
        c2 = dict(cfg, activation_function="gelu")
        notes.append(("gelu_new -> gelu(erf)", rel(run(c=c2)["logits"], base["logits"])))
        notes.append(("(its grads)", grad_change(c2)))
    if fam == "bert":
        c2 = dict(cfg, hidden_act="gelu_new")
        notes.append(("gelu(erf) -> gelu_new", rel(run(c=c2)["logits"], base["logits"])))
        notes.append(("(its grads)", grad_change(c2)))
        b2 = dict(batch)
        b2["token_type_ids"] = torch.zeros_like(ids)
        effects.append(("token types -> 0", rel(run(b=b2)["logits"], base["logits"])))
    sdt = {t.dtype for t in stored.values()}
    need(len(sdt) == 1, "mixed storage dtypes %s" % sdt)
    want = {"float32": torch.float32, "float16": torch.float16,
            "bfloat16": torch.bfloat16}[cfg.get("torch_dtype", "float32")]
    need(sdt == {want}, "stored dtype %s but config torch_dtype %s" % (sdt, cfg.get("torch_dtype")))
    for what, eff in effects:
        need(eff > 1e-3, "%s changes logits by only %.2g (tests could not see that bug)" % (what, eff))
    if effects or notes:
        log.append("sensitivity (rel. change of logits): "
                   + ", ".join("%s %.1e" % e for e in effects + notes))
    log.append("loss %.6f (ln V = %.4f)" % (exp["loss"].item(), math.log(V)))
    if verbose:
        print("%s: ok" % d)
        for line in log:
            print("    " + line)
    return True


def main(argv):
    torch.set_num_threads(1)
    seed = 0
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    dirs = argv
    tmp = None
    if argv == ["--all"]:
        tmp = tempfile.TemporaryDirectory(prefix="tiny_models_")
        dirs = []
        for c in tm.CASES:
            od = os.path.join(tmp.name, c)
            tm.generate(c, od, seed)
            dirs.append(od)
    if not dirs:
        print(__doc__)
        return 2
    failed = 0
    for d in dirs:
        try:
            check_dir(d)
        except (CheckError, KeyError, ValueError, OSError, RuntimeError) as e:
            print("%s: FAILED: %s" % (d, e))
            failed += 1
    print("%d of %d checked folders ok" % (len(dirs) - failed, len(dirs)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
