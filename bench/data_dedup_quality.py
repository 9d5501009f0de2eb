#!/usr/bin/env python3
"""Near-duplicate quality of `vkft data dedup` against exact Jaccard similarities, on the corpus of
data_make_bench_corpus.py (whose copies name their original in "src").
usage: data_dedup_quality.py CORPUS.jsonl CLUSTERS.jsonl [THRESHOLD]
Recall: of the planted near copies whose true Jaccard with their original (word 5-gram sets, words =
runs of letters/digits, case-folded, as vkft computes them) is >= threshold, the fraction removed.
Precision: of the records removed as near duplicates, the fraction whose true Jaccard with the kept
record they were matched to is >= threshold."""
import json, re, sys

corpus, clusters = sys.argv[1], sys.argv[2]
thr = float(sys.argv[3]) if len(sys.argv) > 3 else 0.8
word = re.compile(r"[0-9a-z\x80-\U0010ffff]+")

def shingles(t, k=5):
    w = word.findall(t.lower())
    return {" ".join(w[i:i + k]) for i in range(max(1, len(w) - k + 1))}

recs, line_of = {}, {}
for ln, l in enumerate(open(corpus, encoding="utf-8"), 1):
    r = json.loads(l)
    recs[r["id"]] = r
    line_of[ln] = r["id"]
removed = {}
for l in open(clusters):
    p = json.loads(l)
    removed[line_of[p["removed_line"]]] = (p["kind"], line_of[p["kept_line"]])
sh = {}
def S(i):
    if i not in sh:
        sh[i] = shingles(recs[i]["text"])
    return sh[i]
def J(a, b):
    x, y = S(a), S(b)
    return len(x & y) / len(x | y)

pos = hit = 0
bands = {}
for i, r in recs.items():
    if "src" not in r or S(i) == S(r["src"]):
        continue  # an exact copy
    j = J(i, r["src"])
    if j >= thr:
        pos += 1
        hit += i in removed
    b = min(int(j * 20) / 20, 0.95)
    t = bands.setdefault(b, [0, 0])
    t[0] += 1
    t[1] += i in removed
near = [(i, k) for i, (kind, k) in removed.items() if kind == "near"]
good = sum(J(i, k) >= thr for i, k in near)
print("planted near copies with true Jaccard >= %.2f: %d, removed %d: recall %.4f" % (thr, pos, hit, hit / max(pos, 1)))
print("removed as near duplicates: %d, true Jaccard >= %.2f: %d: precision %.4f" % (len(near), thr, good, good / max(len(near), 1)))
print("removal rate of planted near copies by true Jaccard: " +
      ", ".join("[%.2f,%.2f) %d/%d" % (b, b + 0.05, t[1], t[0]) for b, t in sorted(bands.items())))
