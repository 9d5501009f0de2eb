"""Reference for `vkft train-head` (tests/cli_train_head.sh), in PyTorch.

  train_head.py make DIR            writes DIR/train.safetensors and DIR/eval.safetensors: 3 labelled
                                    clusters of 24-dimensional features (the layout `vkft data balance
                                    --mode smote` writes: features F32, labels I32, metadata labels)
  train_head.py check DIR OUT STEPS LR WD [WEIGHTS.json]
                                    runs the same training (features standardized with the training rows'
                                    mean and deviation, W and b zero, full-batch torch.optim.AdamW,
                                    cross-entropy with the class weights) and compares it with vkft's
                                    OUT/metrics.jsonl (per-step loss, 1e-4 relative, to at least 0.05) and OUT/head.safetensors
                                    (raw-feature logits, 1e-4 of their scale)
"""
import json
import struct
import sys

import torch

LABELS = ["contract", "statute", "case_law"]


def write(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dt = {"F32": torch.float32, "I32": torch.int32}[e["dtype"]]
        out[name] = torch.frombuffer(bytearray(data[8 + n + b:8 + n + end]), dtype=dt).reshape(e["shape"])
    return out, header.get("__metadata__", {})


def make(d):
    gen = torch.Generator().manual_seed(5)
    centers = torch.randn(3, 24, generator=gen) * 2.0 + 3.0  # offset: standardization matters
    # class sizes away from 1/3 of the rows: at zero init the bias gradient of a class holding exactly 1/3
    # is 0 up to rounding, and AdamW's first step (about lr * sign(g)) would follow the rounding
    for name, per in (("train", [70, 45, 35]), ("eval", [20, 20, 20])):
        xs, ys = [], []
        for c, n in enumerate(per):
            xs.append(centers[c] + torch.randn(n, 24, generator=gen) * 1.5)
            ys += [c] * n
        x = torch.cat(xs).float()
        y = torch.tensor(ys, dtype=torch.int32)
        write("%s/%s.safetensors" % (d, name), {"features": x, "labels": y},
              {"format": "vkft-features-1", "labels": json.dumps(LABELS)})


def check(d, out, steps, lr, wd, weights_path):
    train, _ = read("%s/train.safetensors" % d)
    x64 = train["features"].double()
    mean, sd = x64.mean(0), x64.std(0, unbiased=False)
    sd[sd < 1e-6] = 1
    x = ((x64 - mean) / sd).float()
    y = train["labels"].long()
    weight = None
    if weights_path:
        cw = json.load(open(weights_path))["class_weights"]
        weight = torch.tensor([cw[n] for n in LABELS], dtype=torch.float32)
    lin = torch.nn.Linear(24, 3)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    opt = torch.optim.AdamW(lin.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    want = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(x), y, weight=weight)
        want.append(loss.item())
        loss.backward()
        opt.step()
    got = [json.loads(l)["loss"] for l in open("%s/metrics.jsonl" % out)]
    assert len(got) == steps, (len(got), steps)
    # relative to the loss, but at least to 0.05: near zero loss the fp32 sums' rounding dominates
    worst = max(abs(g - w) / max(abs(w), 0.05) for g, w in zip(got, want))
    head, meta = read("%s/head.safetensors" % out)
    assert json.loads(meta["labels"]) == LABELS, meta
    assert list(head["classifier.weight"].shape) == [3, 24] and list(head["classifier.bias"].shape) == [3]
    raw = train["features"]
    with torch.no_grad():
        ref_logits = lin(x)
        vk_logits = raw @ head["classifier.weight"].t() + head["classifier.bias"]
    head_err = ((vk_logits - ref_logits).abs().max() / ref_logits.abs().max()).item()
    print("per-step losses: worst rel. error %.1e over %d steps; raw-feature logits of the saved head: %.1e"
          % (worst, steps, head_err))
    assert worst <= 1e-4 and head_err <= 1e-4, (got[:3], want[:3])


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]),
              sys.argv[7] if len(sys.argv) > 7 else None)
