#!/usr/bin/env bash
# vkft eval as a user runs it, on tiny checkpoints from tests/reference/tiny_models.py: the loss equals
# PyTorch's, --json is one object, and bad input gets a clear message.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib_cli.sh"

for case in llama gpt2 qwen2; do
  $PY "$SRC/tests/reference/tiny_models.py" $case "$tmp/$case" >/dev/null || { bad "reference $case"; continue; }
  # One pre-tokenized line per sequence of the reference batch (no padding in these cases).
  $PY - "$tmp/$case" <<'PY'
import json, struct, sys
d = sys.argv[1]
b = json.load(open(d + "/batch.json"))
with open(d + "/ids.jsonl", "w") as f:
    for row in b["input_ids"]:
        f.write(json.dumps({"input_ids": row}) + "\n")
data = open(d + "/expected.safetensors", "rb").read()
(n,) = struct.unpack("<Q", data[:8]); h = json.loads(data[8:8 + n])
b0, _ = h["loss"]["data_offsets"]
open(d + "/loss.txt", "w").write("%.9g" % struct.unpack("<f", data[8 + n + b0:8 + n + b0 + 4])[0])
PY
  out=$("$VKFT" eval --model "$tmp/$case/model" --data "$tmp/$case/ids.jsonl" --json 2>"$tmp/err.txt")
  if $PY -c '
import json, sys
r = json.loads(sys.argv[1]); ref = float(open(sys.argv[2]).read())
assert abs(r["loss"] - ref) <= 1e-4 * ref, (r["loss"], ref)
assert abs(r["ppl"] - 2.718281828459045 ** r["loss"]) < 1e-3 * r["ppl"]
assert r["tokens"] > 0
' "$out" "$tmp/$case/loss.txt"; then ok "$case: eval loss matches PyTorch ($out)"
  else bad "$case: eval gave '$out' vs $(cat "$tmp/$case/loss.txt"): $(cat "$tmp/err.txt")"; fi
done

# Batch size does not change the answer (padding is ignored).
a=$("$VKFT" eval --model "$tmp/llama/model" --data "$tmp/llama/ids.jsonl" --json --batch 1 2>/dev/null)
b=$("$VKFT" eval --model "$tmp/llama/model" --data "$tmp/llama/ids.jsonl" --json --batch 3 2>/dev/null)
$PY -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); assert abs(a["loss"]-b["loss"])<1e-5' "$a" "$b" \
  && ok "batch 1 and 3 agree" || bad "batch sizes disagree: $a / $b"

echo "some text" > "$tmp/text.txt"
"$VKFT" eval --model "$tmp/llama/model" --data "$tmp/text.txt" 2>"$tmp/e.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "needs the model's tokenizer" "$tmp/e.txt" && ok "text without a tokenizer: $(cat "$tmp/e.txt")" \
  || bad "text without tokenizer: rc $rc $(cat "$tmp/e.txt")"
printf '{"input_ids": [1, 2, 3]}\n{"input_ids": [1, 2,\n' > "$tmp/broken.jsonl"
"$VKFT" eval --model "$tmp/llama/model" --data "$tmp/broken.jsonl" 2>"$tmp/e.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "broken.jsonl:2" "$tmp/e.txt" && ok "malformed JSONL names the line: $(cat "$tmp/e.txt")" \
  || bad "malformed JSONL: rc $rc $(cat "$tmp/e.txt")"
printf '{"input_ids": [1, 99999]}\n' > "$tmp/oov.jsonl"
"$VKFT" eval --model "$tmp/llama/model" --data "$tmp/oov.jsonl" 2>"$tmp/e.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "outside the model's vocabulary" "$tmp/e.txt" && ok "out-of-vocabulary id" || bad "oov: $(cat "$tmp/e.txt")"
"$VKFT" eval --model "$tmp/nonexistent" --data "$tmp/oov.jsonl" 2>"$tmp/e.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "config.json" "$tmp/e.txt" && ok "missing model folder" || bad "missing model: $(cat "$tmp/e.txt")"
"$VKFT" eval --help | grep -q "usage: vkft eval" && ok "eval --help" || bad "eval --help"

finish cli_models
