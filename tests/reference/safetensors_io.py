"""safetensors written and read independently of vkft, with PyTorch tensors (Debian's python3-torch has
no `safetensors` package, so the format is done by hand here: 8-byte little-endian header length, JSON
header, data).

  safetensors_io.py write FILE   writes the reference tensors
  safetensors_io.py check FILE   reads FILE (written by vkft) and checks it holds the reference tensors
"""
import json
import struct
import sys

import torch

DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def reference():
    """The tensors both sides agree on (same formulas in tests/test_safetensors.c)."""
    a = (torch.arange(15, dtype=torch.float32) * 0.5 - 3).reshape(3, 5)
    b = (torch.arange(7, dtype=torch.float32) / 8 - 0.25).to(torch.float16)
    c = (torch.arange(12, dtype=torch.float32) * 1.5 + 0.125).reshape(2, 2, 3).to(torch.bfloat16)
    return {"layer.a": a, "layer.b": b, "z.c": c}


def write(path):
    tensors = reference()
    header, blobs, off = {"__metadata__": {"format": "pt", "origin": "torch"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        raw = bytearray(body[b:en])
        if e["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=DT[e["dtype"]])
        out[name] = t.reshape(e["shape"])
    return out, meta


def check(path):
    got, meta = read(path)
    want = reference()
    assert sorted(got) == sorted(want), (sorted(got), sorted(want))
    for name, t in want.items():
        assert got[name].dtype == t.dtype, (name, got[name].dtype, t.dtype)
        assert got[name].shape == t.shape, (name, got[name].shape, t.shape)
        assert torch.equal(got[name], t), name
    assert meta.get("format") == "pt", meta
    print("torch reads %s: %d tensors equal, metadata %s" % (path, len(got), meta))


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
