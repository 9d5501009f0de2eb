"""PyTorch references for the model-driven parts of `vkft data` (tests/cli_data_model.sh).

    data_model_ref.py bert OUTDIR            a tiny random BertForMaskedLM whose vocabulary is the WordPiece
                                             fixture's (tests/fixtures/tok_wordpiece, 177 tokens), with it
    data_model_ref.py mlm MODEL_DIR < J      J: [[ids...], ...] (special tokens included, [MASK] = the
                                             tokenizer's mask id). Prints, per text, per [MASK] in order, the
                                             32 likeliest whole-word tokens (the rule vkft uses: not special,
                                             not "##", >= 2 characters, letters only)
    data_model_ref.py embed MODEL_DIR POOL < J   J: [[ids...], ...]; prints per text the last hidden state
                                             (transformers' last_hidden_state) averaged over its tokens
                                             (POOL mean) or its first token (POOL cls)

Everything is computed in float64 with tiny_models.py's re-implementation of transformers' forward pass.
"""
import json
import os
import shutil
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_models as tm  # noqa: E402

DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        buf = bytearray(data[8 + n + b:8 + n + en])
        dt = DT[e["dtype"]]
        t = torch.frombuffer(buf, dtype=torch.int16).view(dt) if dt == torch.bfloat16 else torch.frombuffer(buf, dtype=dt)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def load(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    P = {n: t.to(torch.float64) for n, t in read_safetensors(os.path.join(d, "model.safetensors")).items()}
    if cfg["model_type"] != "bert":  # vkft accepts "model."-less names; the reference wants them
        P = {(n if n.startswith("model.") or n.startswith("lm_head") else "model." + n): t for n, t in P.items()}
    return cfg, P


def run(cfg, P, seqs):
    """Right-padded batch of every sequence; returns the forward pass's outputs."""
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "labels": torch.full_like(ids, -100)}
    with torch.no_grad():
        return tm.forward(cfg, {tm.canonical_name(n): t for n, t in P.items()}, batch)


def whole_words(d):
    tok = json.load(open(os.path.join(d, "tokenizer.json")))
    special = {t["id"] for t in tok.get("added_tokens", []) if t.get("special")}
    ok = {}
    for w, i in tok["model"]["vocab"].items():
        if i in special or w.startswith("##") or len(w.encode()) < 2:
            continue
        if all(c.isascii() and c.isalpha() or not c.isascii() for c in w):
            ok[i] = w
    return ok


def main(argv):
    if argv[0] == "bert":
        out = argv[1]
        cfg = tm.case_config("bert")
        fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tok_wordpiece")
        vocab = json.load(open(os.path.join(fixture, "tokenizer.json")))["model"]["vocab"]
        cfg.update(vocab_size=len(vocab), max_position_embeddings=64)
        gen = torch.Generator().manual_seed(1234)
        tm.write_model("bert", out, cfg, tm.init_params(cfg, gen))
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(fixture, f), os.path.join(out, f))
        return 0
    cfg, P = load(argv[1])
    seqs = json.load(sys.stdin)
    if argv[0] == "mlm":
        words = whole_words(argv[1])
        ids = sorted(words)
        mask_id = json.load(open(os.path.join(argv[1], "tokenizer.json")))["model"]["vocab"]["[MASK]"]
        logits = run(cfg, P, seqs)["logits"]
        res = []
        for b, s in enumerate(seqs):
            per = []
            for t, i in enumerate(s):
                if i == mask_id:
                    sc = logits[b, t, ids]
                    order = torch.argsort(sc, descending=True, stable=True)[:32]
                    per.append([words[ids[j]] for j in order.tolist()])
            res.append(per)
        print(json.dumps(res))
    elif argv[0] == "embed":
        h = run(cfg, P, seqs)["hidden_states"][-1]
        res = []
        for b, s in enumerate(seqs):
            v = h[b, 0] if argv[2] == "cls" else h[b, :len(s)].mean(0)
            res.append(v.tolist())
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
