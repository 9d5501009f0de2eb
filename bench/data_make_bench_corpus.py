#!/usr/bin/env python3
"""A synthetic JSONL corpus for bench/data_bench.sh: documents of about 1 KB (Zipf-distributed words from a
20k-word synthetic vocabulary), 10% exact duplicates (case changed), 10% near duplicates (1, 2, 3, 4 or 6 words replaced),
and a little personal data (an e-mail address or phone number in 5% of documents).
usage: data_make_bench_corpus.py MEGABYTES > corpus.jsonl"""
import json, random, sys

rng = random.Random(1)
syll = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "den", "mar", "tin", "sol", "ber", "qua", "fen"]
vocab = sorted({"".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(30000)})[:20000]
weights = [1.0 / (i + 1) for i in range(len(vocab))]
target = int(float(sys.argv[1]) * 1e6)
out, size, docs, n = sys.stdout, 0, [], 0
while size < target:
    r = rng.random()
    src = None
    if r < 0.1 and docs:
        src, text = rng.choice(docs)
        text = text.upper()
    elif r < 0.2 and docs:
        src, text = rng.choice(docs)
        w = text.split(" ")
        for _ in range(rng.choice([1, 2, 3, 4, 6])):
            w[rng.randrange(len(w))] = rng.choice(vocab)
        text = " ".join(w)
    else:
        w = rng.choices(vocab, weights, k=150)
        if rng.random() < 0.05:
            w.insert(70, rng.choice(["write to jo.doe%d@example.com" % n, "call 415-555-%04d" % (n % 10000)]))
        text = " ".join(w)
        docs.append((n, text))
        if len(docs) > 2000:
            docs.pop(0)
    rec = {"id": n, "text": text, "label": "pos" if n % 3 else "neg"}
    if src is not None:
        rec["src"] = src  # the original this record copies (for bench/data_dedup_quality.py)
    line = json.dumps(rec) + "\n"
    out.write(line)
    size += len(line)
    n += 1
