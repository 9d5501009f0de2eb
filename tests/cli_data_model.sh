#!/usr/bin/env bash
# The model-driven parts of `vkft data`, end to end, against PyTorch (tests/reference/data_model_ref.py) and
# against `vkft generate`: masked-LM substitution picks what the model's logits say and never a protected
# term; paraphrase and back-translation equal vkft generate on the rendered prompts; SMOTE's synthetic rows
# lie between a record and one of its k nearest same-class neighbours and the counts reach the target;
# embeddings equal PyTorch's pooled last_hidden_state; the label check flags planted wrong labels on
# precomputed, well-separated embeddings; clear errors. Env (set by CTest): VKFT, VKFT_SOURCE_DIR.
set -u
. "$(dirname "$0")/lib_cli.sh"
export VKFT_PROGRESS=0
demo="$SRC/demo/model"
bert="$tmp/bert"
$PY "$SRC/tests/reference/data_model_ref.py" bert "$bert" || { echo "FAIL: tiny BERT"; exit 1; }

cat > "$tmp/med.jsonl" <<'EOT'
{"id": "a1", "text": "The patient was present with acute aspirin.", "label": "med"}
{"id": "a2", "text": "Hello world, the code is playful and better.", "label": "code"}
{"id": "a3", "text": "John will see the patient with acute neurology.", "label": "med"}
{"id": "a4", "text": "Print the number if it is done, return the code.", "label": "code"}
{"id": "a5", "text": "She was sure the patient is better with aspirin.", "label": "med"}
{"id": "a6", "text": "They go to see immunohistochemistry in the patient.", "label": "med"}
{"id": "a7", "text": "We print hello world in code and return.", "label": "code"}
{"id": "a8", "text": "The electroencephalography of the patient was done.", "label": "med"}
EOT

# ---- mlm ---------------------------------------------------------------------------------------------------
run_mlm() {
    "$VKFT" data augment --in "$tmp/med.jsonl" --out "$1" --method mlm --model "$bert" --rate 0.3 --copies 2 \
        --top-k 1 --protect-term patient --protect-term john --protect-term "acute aspirin" --batch 3 --quiet --summary "$1.sum"
}
if run_mlm "$tmp/mlm.jsonl"; then ok "mlm runs"; else bad "mlm runs"; fi
run_mlm "$tmp/mlm2.jsonl"
cmp -s "$tmp/mlm.jsonl" "$tmp/mlm2.jsonl" && ok "mlm: the same seed gives the same output" || bad "mlm: not deterministic"
# The masked texts the step fed the model, rebuilt from the provenance and tokenized by vkft.
$PY - "$tmp/mlm.jsonl" > "$tmp/masked.txt" <<'EOP'
import json, string, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    a = r.get("augmentation")
    if not a: continue
    src = json.loads(open("%s" % a["source"].rsplit(":", 1)[0]).read().splitlines()[int(a["source"].rsplit(":", 1)[1]) - 1])
    w = src["text"].split()
    for s in a["substitutions"]:
        t = w[s["word"]]; core = t.strip(string.punctuation); i = t.index(core)
        w[s["word"]] = t[:i] + "[MASK]" + t[i + len(core):]
    print(" ".join(w))
EOP
"$VKFT" tokenize --tokenizer "$bert" --special < "$tmp/masked.txt" | $PY -c 'import sys, json; print(json.dumps([[int(x) for x in l.split()] for l in sys.stdin]))' > "$tmp/masked_ids.json"
$PY "$SRC/tests/reference/data_model_ref.py" mlm "$bert" < "$tmp/masked_ids.json" > "$tmp/torch_cands.json"
$PY - "$tmp/mlm.jsonl" "$tmp/torch_cands.json" "$tmp/med.jsonl" > "$tmp/mlm_check.txt" <<'EOP'
import json, string, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
cands = json.load(open(sys.argv[2]))
src = [json.loads(l) for l in open(sys.argv[3])]
copies = [r for r in recs if "augmentation" in r]
protected = {"patient", "john"}
bad, n = [], 0
for r, per in zip(copies, cands):
    a = r["augmentation"]
    subs = a["substitutions"]
    if len(per) != len(subs): bad.append("mask count %d vs %d" % (len(per), len(subs)))
    w = src[a["source_index"]]["text"].split()
    for s, c in zip(subs, per):
        want = next((x for x in c if x.lower() != s["from"].lower() and x not in protected), None)
        n += 1
        if s["to"] != want: bad.append("%s: %s -> %s, PyTorch's best: %s" % (a["source"], s["from"], s["to"], want))
        if s["from"].lower() == "patient": bad.append("protected word masked: " + s["from"])
        lw = [x.strip(string.punctuation).lower() for x in w]
        for i in range(len(lw) - 1):  # the phrase "acute aspirin" (only where the two words are adjacent)
            if lw[i:i + 2] == ["acute", "aspirin"] and s["word"] in (i, i + 1): bad.append("protected phrase masked")
        t = w[s["word"]]; core = t.strip(string.punctuation); i = t.index(core)
        to = s["to"][0].upper() + s["to"][1:] if core[0].isupper() else s["to"]
        w[s["word"]] = t[:i] + to + t[i + len(core):]
    if " ".join(w) != r["text"]: bad.append("text %r != substitutions applied %r" % (r["text"], " ".join(w)))
print("checked %d substitutions in %d copies" % (n, len(copies)))
print("\n".join(bad) if bad else "OK")
EOP
tail -1 "$tmp/mlm_check.txt" | grep -qx OK && ok "mlm picks PyTorch's best whole word ($(head -1 "$tmp/mlm_check.txt"))" || { cat "$tmp/mlm_check.txt"; bad "mlm vs PyTorch"; }
[ "$($PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if "augmentation" in json.loads(l)))' "$tmp/mlm.jsonl")" -ge 12 ] && ok "mlm made copies" || bad "mlm made too few copies"
$PY - "$tmp/mlm.jsonl" <<'EOP' && ok "protected terms never replaced" || bad "a protected term was replaced"
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    for s in r.get("augmentation", {}).get("substitutions", []):
        assert s["to"] != "patient" and s["from"].lower() != "patient", s
        if r["augmentation"]["source_index"] == 0: assert s["from"] not in ("acute", "aspirin"), s
EOP
# top-k 5 picks among the five best: still deterministic, still valid words
"$VKFT" data augment --in "$tmp/med.jsonl" --out "$tmp/mlm5.jsonl" --method mlm --model "$bert" --top-k 5 --quiet && ok "mlm --top-k 5" || bad "mlm --top-k 5"

# ---- paraphrase and back-translation: what vkft generate gives for the rendered prompts ---------------------
head -3 "$tmp/med.jsonl" > "$tmp/three.jsonl"
gen_first_line() { "$VKFT" generate --model "$demo" --prompt "$1" --max-new-tokens 16 "${@:2}" 2>/dev/null |
    $PY -c 'import sys; t = sys.stdin.read().lstrip(); print(t.split("\n")[0].strip())'; }
augmented_rows() { # augmented_rows OUT SRC: text, seed and source text of each augmented record, tab-separated
    $PY -c '
import json, sys
src = [json.loads(l) for l in open(sys.argv[2])]
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "augmentation" in r: print(r["text"], r["augmentation"]["seed"], src[r["augmentation"]["source_index"]]["text"], sep="\t")' "$1" "$2"; }
for mode in greedy sampled; do
    opts=(); [ $mode = greedy ] && opts=(--temperature 0) || opts=(--temperature 0.9 --top-p 0.9)
    "$VKFT" data augment --in "$tmp/three.jsonl" --out "$tmp/para_$mode.jsonl" --method paraphrase --model "$demo" \
        --max-new-tokens 16 "${opts[@]}" --template 'Rewrite: {text}
Rewritten:' --quiet || bad "paraphrase $mode runs"
    good=1
    while IFS=$'\t' read -r text seed src; do
        gopts=("${opts[@]}"); [ $mode = sampled ] && gopts+=(--seed "$seed")
        want=$(gen_first_line "Rewrite: $src
Rewritten:" "${gopts[@]}")
        [ "$want" == "$text" ] || { echo "  want: $want"; echo "  got:  $text"; good=0; }
    done < <(augmented_rows "$tmp/para_$mode.jsonl" "$tmp/three.jsonl")
    [ $good = 1 ] && ok "paraphrase ($mode) equals vkft generate" || bad "paraphrase ($mode) differs from vkft generate"
done
"$VKFT" data augment --in "$tmp/three.jsonl" --out "$tmp/bt.jsonl" --method backtranslate --model "$demo" \
    --max-new-tokens 16 --pivot German --quiet || bad "backtranslate runs"
good=1
while IFS=$'\t' read -r text seed src; do
    mid=$(gen_first_line "Translate the following text into German.
Text: $src
German:" --temperature 0.8 --top-p 0.95 --seed "$seed")
    want=$(gen_first_line "Translate the following text into English.
Text: $mid
English:" --temperature 0.8 --top-p 0.95 --seed $((seed + 1)))
    [ "$want" == "$text" ] || { echo "  want: $want"; echo "  got:  $text"; good=0; }
done < <(augmented_rows "$tmp/bt.jsonl" "$tmp/three.jsonl")
[ $good = 1 ] && [ "$(grep -c backtranslate "$tmp/bt.jsonl")" -ge 1 ] && ok "backtranslate equals two vkft generate calls" || bad "backtranslate differs"

# ---- embeddings and SMOTE -------------------------------------------------------------------------------------
for pool in mean cls; do
    "$VKFT" data balance --mode smote --in "$tmp/med.jsonl" --out "$tmp/f_$pool.safetensors" --model "$bert" \
        --pooling $pool --k 2 --ratio 1 --batch 3 --quiet || bad "smote ($pool) runs"
done
$PY -c 'import json, sys; print("\n".join(json.loads(l)["text"] for l in open(sys.argv[1])))' "$tmp/med.jsonl" |
    "$VKFT" tokenize --tokenizer "$bert" --special | $PY -c 'import sys, json; print(json.dumps([[int(x) for x in l.split()] for l in sys.stdin]))' > "$tmp/ids.json"
for pool in mean cls; do
    $PY "$SRC/tests/reference/data_model_ref.py" embed "$bert" $pool < "$tmp/ids.json" > "$tmp/torch_$pool.json"
done
$PY - "$tmp" <<'EOP' > "$tmp/smote_check.txt"
import json, struct, sys
import numpy as np
t = sys.argv[1]
def read(p):
    d = open(p, "rb").read(); (n,) = struct.unpack("<Q", d[:8]); h = json.loads(d[8:8 + n]); out = {}
    for k, e in h.items():
        if k == "__metadata__": continue
        b, en = e["data_offsets"]
        out[k] = np.frombuffer(d[8 + n + b:8 + n + en], dtype={"F32": np.float32, "I32": np.int32}[e["dtype"]]).reshape(e["shape"])
    return out, h["__metadata__"]
msg = []
for pool in ("mean", "cls"):
    f, meta = read("%s/f_%s.safetensors" % (t, pool))
    side = json.load(open("%s/f_%s.safetensors.json" % (t, pool)))
    X, y, src, lam = f["features"], f["labels"], f["source"], f["lambda"]
    n = int(meta["real_rows"])
    ref = np.array(json.load(open("%s/torch_%s.json" % (t, pool))))
    err = np.abs(X[:n] - ref).max()
    msg.append("%s: max |vkft - PyTorch| %.2e" % (pool, err))
    assert err < 1e-4, msg[-1]
    names = json.loads(meta["labels"])
    counts = {names[c]: int((y == c).sum()) for c in range(len(names))}
    assert counts == {"med": 5, "code": 5}, counts
    assert side["synthetic_rows"] == 2 and side["real_rows"] == 8 and side["counts_after"] == counts, side
    for r in range(n, len(X)):
        a, b = src[r]
        assert y[a] == y[b] == y[r] and 0 <= lam[r] < 1, (r, a, b)
        assert np.abs(X[r] - (X[a] + lam[r] * (X[b] - X[a]))).max() < 1e-5, "row %d is not on the segment" % r
        same = [j for j in range(n) if y[j] == y[a] and j != a]
        d = sorted(same, key=lambda j: (float(((X[j] - X[a]) ** 2).sum()), j))
        assert b in d[:2], "row %d: %d is not among the 2 nearest neighbours of %d (%s)" % (r, b, a, d[:2])
    assert (src[:n, 0] == np.arange(n)).all() and (src[:n, 1] == -1).all() and (lam[:n] == 0).all()
print("; ".join(msg))
print("OK")
EOP
tail -1 "$tmp/smote_check.txt" | grep -qx OK && ok "smote: embeddings = PyTorch's ($(head -1 "$tmp/smote_check.txt")), rows on segments to k-NN, counts" || { cat "$tmp/smote_check.txt"; bad "smote check"; }
# the trainer reads SMOTE's output: a classification head on the real and synthetic rows
"$VKFT" train-head --features "$tmp/f_mean.safetensors" --out "$tmp/head" --steps 30 >"$tmp/head.txt" 2>&1 &&
  grep -q "train loss .* accuracy" "$tmp/head.txt" && [ -f "$tmp/head/head.safetensors" ] &&
  ok "vkft train-head trains a head on SMOTE's output ($(grep 'train loss' "$tmp/head.txt"))" ||
  bad "train-head on SMOTE's output: $(tail -2 "$tmp/head.txt")"

# a larger imbalance through precomputed embeddings: counts reach ratio x largest
$PY - "$tmp" <<'EOP'
import json, struct, sys
import numpy as np
t = sys.argv[1]; rng = np.random.default_rng(3)
centers = rng.normal(0, 10, (3, 16)).astype(np.float32)
labels = ["a"] * 30 + ["b"] * 30 + ["c"] * 30
planted = {5: "b", 40: "c", 77: "a"}  # wrong labels on purpose: rows 5, 40, 77
truth = [l for l in labels]
X = np.stack([centers["abc".index(l)] + rng.normal(0, 1, 16) for l in truth]).astype(np.float32)
with open(t + "/toy.jsonl", "w") as f:
    for i, l in enumerate(labels):
        f.write(json.dumps({"id": "r%d" % i, "text": "record %d" % i, "label": planted.get(i, l)}) + "\n")
with open(t + "/imb.jsonl", "w") as f:
    for i in range(20):
        f.write(json.dumps({"text": "r%d" % i, "label": "big" if i < 15 else "small"}) + "\n")
def write(p, X):
    h = {"__metadata__": {"format": "pt"}, "features": {"dtype": "F32", "shape": list(X.shape), "data_offsets": [0, X.nbytes]}}
    s = json.dumps(h).encode(); s += b" " * (-len(s) % 8)
    open(p, "wb").write(struct.pack("<Q", len(s)) + s + X.tobytes())
write(t + "/toy.safetensors", X)
write(t + "/imb.safetensors", X[:20])
EOP
"$VKFT" data balance --mode smote --in "$tmp/imb.jsonl" --out "$tmp/imb_out.safetensors" --embeddings "$tmp/imb.safetensors" \
    --ratio 0.6 --quiet --summary "$tmp/imb_sum.json" || bad "smote --embeddings runs"
[ "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["counts_after"], d["synthetic_rows"])' "$tmp/imb_sum.json")" == "{'big': 15, 'small': 9} 4" ] &&
    ok "smote: counts reach ratio x largest (5 -> 9 of 15 at 0.6)" || bad "smote counts: $(cat "$tmp/imb_sum.json" | head -c 300)"

# ---- report: labels a quick model disagrees with ---------------------------------------------------------------
"$VKFT" data report --in "$tmp/toy.jsonl" --out "$tmp/rep" --embeddings "$tmp/toy.safetensors" --no-png --quiet ||
    bad "report --embeddings runs"
got=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["label_disagreements"]; print(d["flagged"], sorted((r["id"], r["given"], r["predicted"]) for r in d["records"]))' "$tmp/rep/report.json")
[ "$got" == "3 [('r40', 'c', 'b'), ('r5', 'b', 'a'), ('r77', 'a', 'c')]" ] && ok "label check flags exactly the planted records" || bad "label check: $got"
grep -q "Labels a quick model disagrees with" "$tmp/rep/report.md" && grep -q "r77" "$tmp/rep/report.md" &&
    ok "report.md lists them" || bad "report.md has no label-check section"
"$VKFT" data report --in "$tmp/med.jsonl" --out "$tmp/rep2" --model "$bert" --folds 2 --no-png --quiet &&
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["label_disagreements"]; assert d["records_checked"] == 8 and d["model"]' "$tmp/rep2/report.json" &&
    ok "report --model runs the embeddings" || bad "report --model"

# ---- errors ------------------------------------------------------------------------------------------------------
expect_err() { # expect_err NAME STATUS PATTERN COMMAND...
    local name="$1" st="$2" pat="$3"; shift 3
    "$@" > /dev/null 2> "$tmp/err.txt"; local rc=$?
    if [ $rc -eq "$st" ] && grep -q "$pat" "$tmp/err.txt"; then ok "$name"; else bad "$name (status $rc: $(cat "$tmp/err.txt"))"; fi
}
expect_err "mlm without --model" 2 "needs a model" "$VKFT" data augment --in "$tmp/med.jsonl" --out "$tmp/x.jsonl" --method mlm
expect_err "mlm with a causal model" 1 "masked language model" "$VKFT" data augment --in "$tmp/med.jsonl" --out "$tmp/x.jsonl" --method mlm --model "$demo"
expect_err "paraphrase with BERT" 1 "causal language model" "$VKFT" data augment --in "$tmp/med.jsonl" --out "$tmp/x.jsonl" --method paraphrase --model "$bert"
mkdir -p "$tmp/notok" "$tmp/nohead" && cp "$bert/config.json" "$bert/model.safetensors" "$tmp/notok/"
expect_err "model without a tokenizer" 1 "needs its tokenizer" "$VKFT" data augment --in "$tmp/med.jsonl" --out "$tmp/x.jsonl" --method mlm --model "$tmp/notok"
$PY - "$bert" "$tmp/nohead" <<'EOP'
import json, shutil, struct, sys
d = open(sys.argv[1] + "/model.safetensors", "rb").read(); (n,) = struct.unpack("<Q", d[:8]); h = json.loads(d[8:8 + n])
keep = {k: v for k, v in h.items() if not k.startswith("cls.") and k != "__metadata__"}
out, off, blobs = {"__metadata__": h["__metadata__"]}, 0, []
for k in sorted(keep):
    b, e = keep[k]["data_offsets"]; blobs.append(d[8 + n + b:8 + n + e])
    out[k] = dict(keep[k], data_offsets=[off, off + e - b]); off += e - b
s = json.dumps(out).encode(); s += b" " * (-len(s) % 8)
open(sys.argv[2] + "/model.safetensors", "wb").write(struct.pack("<Q", len(s)) + s + b"".join(blobs))
for f in ("config.json", "tokenizer.json", "tokenizer_config.json"): shutil.copy(sys.argv[1] + "/" + f, sys.argv[2])
EOP
expect_err "BERT without its MLM head" 1 "no masked-LM head" "$VKFT" data augment --in "$tmp/med.jsonl" --out "$tmp/x.jsonl" --method mlm --model "$tmp/nohead"
expect_err "no such model folder" 1 "config.json not found" "$VKFT" data balance --mode smote --in "$tmp/med.jsonl" --out "$tmp/x.safetensors" --model "$tmp/nothing"
expect_err "smote without embeddings" 2 "needs the embeddings" "$VKFT" data balance --mode smote --in "$tmp/med.jsonl" --out "$tmp/x.safetensors"
expect_err "embeddings of the wrong size" 1 "rows must be those records" "$VKFT" data report --in "$tmp/med.jsonl" --out "$tmp/rep3" --embeddings "$tmp/toy.safetensors"
for s in augment balance report; do
    "$VKFT" data $s --help | grep -q -- "--model DIR" && ok "$s --help documents --model" || bad "$s --help lacks --model"
done
finish cli_data_model
