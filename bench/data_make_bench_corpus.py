#!/usr/bin/env python3
"""A synthetic JSONL corpus for bench/data_bench.sh: documents of about 1 KB (Zipf-distributed words from a
20k-word synthetic vocabulary), 10% exact duplicates (case changed), 10% near duplicates (3 words replaced),
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
    if r < 0.1 and docs:
        text = rng.choice(docs).upper()
    elif r < 0.2 and docs:
        w = rng.choice(docs).split(" ")
        for _ in range(3):
            w[rng.randrange(len(w))] = rng.choice(vocab)
        text = " ".join(w)
    else:
        w = rng.choices(vocab, weights, k=150)
        if rng.random() < 0.05:
            w.insert(70, rng.choice(["write to jo.doe%d@example.com" % n, "call 415-555-%04d" % (n % 10000)]))
        text = " ".join(w)
        docs.append(text)
        if len(docs) > 2000:
            docs.pop(0)
    line = json.dumps({"id": n, "text": text, "label": "pos" if n % 3 else "neg"}) + "\n"
    out.write(line)
    size += len(line)
    n += 1
