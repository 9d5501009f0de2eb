#!/bin/bash
# vkft train-head: a classification head trained on feature vectors (what `vkft data balance --mode smote`
# writes) matches PyTorch doing the same full-batch AdamW steps (tests/reference/train_head.py), with and
# without class weights; the saved head takes raw features; held-out accuracy; errors a user meets.
source "$(dirname "$0")/lib_cli.sh"
ref="$SRC/tests/reference/train_head.py"
$PY "$ref" make "$tmp" || { echo "FAIL: train_head.py make"; exit 1; }

if "$VKFT" train-head --features "$tmp/train.safetensors" --eval "$tmp/eval.safetensors" --out "$tmp/h" \
     --steps 40 --lr 0.05 --weight-decay 0.01 >"$tmp/out.txt" 2>&1 &&
   d=$($PY "$ref" check "$tmp" "$tmp/h" 40 0.05 0.01); then ok "the same steps as PyTorch: $d"
else bad "train-head vs PyTorch: $(tail -3 "$tmp/out.txt")"; fi
if $PY -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["eval_accuracy"] >= 0.95 and j["labels"] == ["contract", "statute", "case_law"], j' \
     "$tmp/h/head.json"; then ok "held-out accuracy and labels in head.json"
else bad "head.json: $(cat "$tmp/h/head.json")"; fi

printf '{"class_weights": {"contract": 0.5, "statute": 1.2, "case_law": 2.0}}\n' >"$tmp/w.json"
if "$VKFT" train-head --features "$tmp/train.safetensors" --out "$tmp/hw" --steps 20 --lr 0.05 \
     --class-weights "$tmp/w.json" >"$tmp/out.txt" 2>&1 &&
   d=$($PY "$ref" check "$tmp" "$tmp/hw" 20 0.05 0 "$tmp/w.json"); then ok "class-weighted, as PyTorch: $d"
else bad "class weights: $(tail -3 "$tmp/out.txt")"; fi

# Errors a user meets.
"$VKFT" train-head --features "$tmp/train.safetensors" --out "$tmp/h" --steps 2 >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "exists; pass --overwrite" "$tmp/err" && ok "an existing head is not overwritten" ||
  bad "overwrite: $(cat "$tmp/err")"
"$VKFT" train-head --features "$tmp/train.safetensors" --out "$tmp/h" --steps 2 --overwrite >/dev/null 2>&1 &&
  ok "--overwrite replaces it" || bad "--overwrite"
$PY -c '
import sys, importlib.util
spec = importlib.util.spec_from_file_location("th", sys.argv[1]); th = importlib.util.module_from_spec(spec); spec.loader.exec_module(th)
t, meta = th.read(sys.argv[2] + "/train.safetensors")
th.write(sys.argv[2] + "/nolabels.safetensors", {"features": t["features"]}, meta)
th.write(sys.argv[2] + "/narrow.safetensors", {"features": t["features"][:, :10].contiguous(), "labels": t["labels"]}, meta)' \
  "$ref" "$tmp"
"$VKFT" train-head --features "$tmp/nolabels.safetensors" --out "$tmp/x" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'nolabels.safetensors: needs a tensor "labels" of dtype I32' "$tmp/err" &&
  ok "a file without labels is named" || bad "no labels: $(cat "$tmp/err")"
"$VKFT" train-head --features "$tmp/train.safetensors" --eval "$tmp/narrow.safetensors" --out "$tmp/x" \
  >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "has 10 features" "$tmp/err" && ok "an eval file of another width is refused" ||
  bad "eval width: $(cat "$tmp/err")"
printf '{"class_weights": {"contract": 1}}\n' >"$tmp/w2.json"
"$VKFT" train-head --features "$tmp/train.safetensors" --class-weights "$tmp/w2.json" --out "$tmp/x" \
  >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'no positive weight for label "statute"' "$tmp/err" && ok "a missing class weight is named" ||
  bad "class weights: $(cat "$tmp/err")"
VKFT_BINDING_LIMIT_KB=8 "$VKFT" train-head --features "$tmp/train.safetensors" --out "$tmp/x" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "exceed what one binding spans" "$tmp/err" && ok "more rows than a binding spans: a clear error" ||
  bad "binding: $(cat "$tmp/err")"
"$VKFT" train-head --out "$tmp/x" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "features FILE and --out DIR are required" "$tmp/err" && ok "usage errors" ||
  bad "usage: $(cat "$tmp/err")"
finish cli_train_head
