#!/usr/bin/env python3
"""Hugging Face's own (Rust) `tokenizers` as a peer of vkft's tokenizer, where the Python package is
installed (the GPU test machine; not this project's CI machines).

usage: tok_hf_peer.py --tokenizer tokenizer.json --input CORPUS [--mode ids|bench] [--repeat 3]
  ids    one line of space-separated ids per input line (no special tokens), for parity with vkft
  bench  encodes all lines with encode_batch --repeat times and prints "MB/s <value> ..." (best run):
         CPU time when RAYON_NUM_THREADS=1 (set it in the environment: one thread), else wall-clock time
"""
import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--mode", default="ids", choices=["ids", "bench"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from tokenizers import Tokenizer  # imported after RAYON_NUM_THREADS is read from the environment

    tok = Tokenizer.from_file(args.tokenizer)
    with open(args.input, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if args.mode == "ids":
        out = sys.stdout
        for enc in tok.encode_batch(lines, add_special_tokens=False):
            out.write(" ".join(map(str, enc.ids)) + "\n")
        return
    one = os.environ.get("RAYON_NUM_THREADS") == "1"
    clock = time.process_time if one else time.perf_counter
    tok.encode_batch(lines, add_special_tokens=False)  # warm-up, as vkft's run 0
    best = float("inf")
    n = 0
    for _ in range(args.repeat):
        t0 = clock()
        encs = tok.encode_batch(lines, add_special_tokens=False)
        best = min(best, clock() - t0)
        n = sum(len(e.ids) for e in encs)
    print(f"MB/s {len(data) / 1e6 / best:.3f} tokens {n} bytes {len(data)} seconds {best:.4f} "
          f"({'CPU time, 1 thread' if one else 'wall-clock time, all threads'})")


if __name__ == "__main__":
    main()
