#!/usr/bin/env bash
# vkft train as a user runs it, on a tiny Llama from tests/reference/tiny_models.py: the loss falls
# (LoRA and full), a resumed run continues the exact same curve, the PEFT adapter has PEFT's names and
# shapes, metrics.jsonl has its keys, and bad configs and existing runs get clear messages.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib_cli.sh"
export VKFT_PROGRESS=0

$PY "$SRC/tests/reference/tiny_models.py" llama "$tmp/llama" >/dev/null || { echo "reference failed"; exit 1; }
# A memorization task: 12 fixed sequences.
$PY - "$tmp/train.jsonl" <<'PY'
import json, random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    for _ in range(12):
        f.write(json.dumps({"input_ids": [random.randrange(1, 150) for _ in range(17)]}) + "\n")
PY
printf '%s\n' \
  "{\"model\": \"$tmp/llama/model\", \"output_dir\": \"$tmp/lora\", \"method\": \"lora\"," \
  " \"data\": {\"train\": \"$tmp/train.jsonl\", \"eval\": \"$tmp/train.jsonl\", \"format\": \"ids\", \"seq_len\": 16, \"packing\": false}," \
  " \"lora\": {\"r\": 4, \"alpha\": 8, \"target_modules\": [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\", \"gate_proj\", \"up_proj\", \"down_proj\"]}," \
  " \"optim\": {\"lr\": 0.02}, \"batch\": {\"micro_batch_size\": 4}, \"max_steps\": 36, \"eval_every\": 12, \"seed\": 3}" \
  >"$tmp/cfg.json"
cp "$tmp/cfg.json" "$tmp/cfg.orig"

loss_drop() { # loss_drop METRICS FACTOR: the mean of the last 3 losses is below FACTOR x the first
  $PY - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
first, last = rows[0]["loss"], sum(r["loss"] for r in rows[-3:]) / 3
print("loss %.3f -> %.3f" % (first, last))
sys.exit(0 if last < float(sys.argv[2]) * first else 1)
PY
}

same_curves() { # same_curves A.jsonl B.jsonl STEPS REL_TOL KEY...: two runs' metrics agree step by step
  $PY - "$@" <<'PY'
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
n, tol, keys = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
assert len(a) == len(b) == n, (len(a), len(b))
for x, y in zip(a, b):
    for k in keys:
        u, v = x.get(k), y.get(k)
        assert u == v or abs(u - v) <= tol * max(1, abs(u)), (k, x, y)
PY
}

if "$VKFT" train "$tmp/cfg.json" >"$tmp/out.txt" 2>&1 && d=$(loss_drop "$tmp/lora/metrics.jsonl" 0.7); then
  ok "LoRA memorization: $d"
else bad "LoRA training: $(tail -5 "$tmp/out.txt")"; fi
cmp -s "$tmp/cfg.json" "$tmp/cfg.orig" && ok "the config file is not modified" || bad "config modified"

if $PY - "$tmp/lora" <<'PY'
import json, struct, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/metrics.jsonl")]
assert len(rows) == 36, len(rows)
for r in rows:
    for k in ("step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "elapsed_s"):
        assert k in r, (k, r)
assert "eval_loss" in rows[11] and "eval_ppl" in rows[11] and "eval_loss" in rows[23], rows[11]
assert open(d + "/loss.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
cfg = json.load(open(d + "/adapter/adapter_config.json"))
assert cfg["peft_type"] == "LORA" and cfg["task_type"] == "CAUSAL_LM" and cfg["r"] == 4 and cfg["lora_alpha"] == 8
assert sorted(cfg["target_modules"]) == sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
assert cfg["bias"] == "none" and cfg["base_model_name_or_path"].endswith("/model")
data = open(d + "/adapter/adapter_model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", data[:8]); h = json.loads(data[8:8 + n]); h.pop("__metadata__", None)
want = {"q_proj": (64, 64), "k_proj": (32, 64), "v_proj": (32, 64), "o_proj": (64, 64),
        "gate_proj": (112, 64), "up_proj": (112, 64), "down_proj": (64, 112)}
assert len(h) == 2 * 2 * 7, len(h)
for layer in range(2):
    for mod, (out, inp) in want.items():
        sub = "mlp" if mod in ("gate_proj", "up_proj", "down_proj") else "self_attn"
        base = "base_model.model.model.layers.%d.%s.%s" % (layer, sub, mod)
        assert h[base + ".lora_A.weight"]["shape"] == [4, inp], (base, h[base + ".lora_A.weight"])
        assert h[base + ".lora_B.weight"]["shape"] == [out, 4], base
PY
then ok "metrics.jsonl keys, loss.png, PEFT adapter names and shapes"; else bad "outputs"; fi

# PyTorch runs the same LoRA steps from the same adapter: per-step losses agree to 1e-4 relative.
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/ref" --set lora.init_adapter="$tmp/lora/adapter" \
  --set data.shuffle=false --set max_steps=6 --set eval_every=0 --set optim.lr=0.01 \
  --set optim.weight_decay=0.01 --set optim.grad_clip=0.5 >"$tmp/out.txt" 2>&1
want=$($PY "$SRC/tests/reference/lora_train.py" "$tmp/llama/model" "$tmp/lora/adapter" "$tmp/train.jsonl" \
  --seq-len 16 --steps 6 --batch 4 --lr 0.01 --weight-decay 0.01 --grad-clip 0.5)
if $PY - "$tmp/ref/metrics.jsonl" "$want" <<'PY'
import json, sys
got = [json.loads(l)["loss"] for l in open(sys.argv[1])]
want = json.loads(sys.argv[2])
assert len(got) == len(want) == 6, (got, want)
worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
print("per-step losses vs PyTorch: worst rel. error %.1e" % worst)
assert worst <= 1e-4, (got, want)
PY
then ok "LoRA steps from init_adapter match PyTorch"; else bad "LoRA vs PyTorch: $(tail -3 "$tmp/out.txt") want $want"; fi

# LoRA dropout: PyTorch draws vkft's Philox masks (tests/reference/lora_train.py --dropout) and runs the
# same steps; per-step losses agree to 1e-4 relative. Again with gradient accumulation (each micro-batch
# its own masks) and activation checkpointing (the recompute regenerates the forward's masks).
same_losses() { # same_losses METRICS WANT_JSON LABEL
  $PY - "$1" "$2" "$3" <<'PY'
import json, sys
got = [json.loads(l)["loss"] for l in open(sys.argv[1])]
want = json.loads(sys.argv[2])
worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
print("%s: per-step losses vs PyTorch: worst rel. error %.1e" % (sys.argv[3], worst))
assert len(got) == len(want) and worst <= 1e-4, (got, want)
PY
}
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/ref_drop" --set lora.init_adapter="$tmp/lora/adapter" \
  --set data.shuffle=false --set max_steps=6 --set eval_every=0 --set optim.lr=0.01 \
  --set optim.weight_decay=0.01 --set optim.grad_clip=0.5 --set lora.dropout=0.1 >"$tmp/out.txt" 2>&1
want=$($PY "$SRC/tests/reference/lora_train.py" "$tmp/llama/model" "$tmp/lora/adapter" "$tmp/train.jsonl" \
  --seq-len 16 --steps 6 --batch 4 --lr 0.01 --weight-decay 0.01 --grad-clip 0.5 --dropout 0.1 --seed 3)
if d=$(same_losses "$tmp/ref_drop/metrics.jsonl" "$want" "lora.dropout 0.1") && grep -q "lora.dropout 0.1" "$tmp/out.txt" \
   && $PY -c 'import json,sys; assert json.load(open(sys.argv[1]))["lora_dropout"] == 0.1' \
        "$tmp/ref_drop/adapter/adapter_config.json"; then
  ok "LoRA dropout steps match PyTorch with the same masks ($d); adapter_config lora_dropout 0.1"
else bad "LoRA dropout vs PyTorch: $(tail -3 "$tmp/out.txt") want $want"; fi
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/ref_drop_acc" --set lora.init_adapter="$tmp/lora/adapter" \
  --set data.shuffle=false --set max_steps=4 --set eval_every=0 --set optim.lr=0.01 --set lora.dropout=0.2 \
  --set batch.grad_accum=2 --set batch.micro_batch_size=2 --set activation_checkpointing=true >"$tmp/out.txt" 2>&1
want=$($PY "$SRC/tests/reference/lora_train.py" "$tmp/llama/model" "$tmp/lora/adapter" "$tmp/train.jsonl" \
  --seq-len 16 --steps 4 --batch 2 --grad-accum 2 --lr 0.01 --dropout 0.2 --seed 3)
if d=$(same_losses "$tmp/ref_drop_acc/metrics.jsonl" "$want" "accumulation 2, checkpointing, dropout 0.2"); then
  ok "LoRA dropout with accumulation and checkpointing matches PyTorch ($d)"
else bad "LoRA dropout, accumulation, checkpointing: $(tail -3 "$tmp/out.txt") want $want"; fi

# Resume with dropout and accumulation: 4 steps, then --resume to 8, equals 8 uninterrupted steps (the
# masks follow the global step); the evaluation at the end has no dropout: it equals vkft eval's loss.
drop_args=(--set lora.dropout=0.1 --set batch.grad_accum=2 --set batch.micro_batch_size=2 --set eval_every=4)
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/drop8" --set max_steps=8 "${drop_args[@]}" >/dev/null 2>&1
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/drop4" --set max_steps=4 "${drop_args[@]}" >/dev/null 2>&1
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/drop4" --set max_steps=8 "${drop_args[@]}" --resume \
  >"$tmp/out.txt" 2>&1
if grep -q "resuming   from step 4" "$tmp/out.txt" &&
   same_curves "$tmp/drop8/metrics.jsonl" "$tmp/drop4/metrics.jsonl" 8 0 step loss grad_norm eval_loss; then ok "resume with LoRA dropout continues the exact loss curve"; else bad "resume with dropout: $(tail -3 "$tmp/out.txt")"; fi
plain=$("$VKFT" eval --model "$tmp/llama/model" --adapter "$tmp/drop8/adapter" --data "$tmp/train.jsonl" \
  --seq-len 16 --json 2>/dev/null)
if $PY -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
e, p = rows[-1]["eval_loss"], json.loads(sys.argv[2])["loss"]
assert abs(e - p) <= 1e-5 * p, (e, p)
' "$tmp/drop8/metrics.jsonl" "$plain"; then ok "evaluation during a dropout run uses no dropout (= vkft eval: $plain)"
else bad "eval during dropout run: $(tail -1 "$tmp/drop8/metrics.jsonl") vs $plain"; fi

# GPT-2: LoRA on its Conv1D layers (c_attn is one fused layer that vkft runs as q/k/v slices).
$PY "$SRC/tests/reference/tiny_models.py" gpt2 "$tmp/gpt2" >/dev/null
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/g1" --set model="$tmp/gpt2/model" --set max_steps=6 \
  --set 'lora.target_modules=["c_attn","c_proj","c_fc"]' --set eval_every=0 >"$tmp/out.txt" 2>&1
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/g2" --set model="$tmp/gpt2/model" \
  --set lora.init_adapter="$tmp/g1/adapter" --set data.shuffle=false --set max_steps=4 --set eval_every=0 \
  --set optim.lr=0.01 >>"$tmp/out.txt" 2>&1
want=$($PY "$SRC/tests/reference/lora_train.py" "$tmp/gpt2/model" "$tmp/g1/adapter" "$tmp/train.jsonl" \
  --seq-len 16 --steps 4 --batch 4 --lr 0.01)
if $PY - "$tmp/g2/metrics.jsonl" "$want" "$tmp/g1/adapter/adapter_config.json" <<'PY'
import json, sys
got = [json.loads(l)["loss"] for l in open(sys.argv[1])]
want = json.loads(sys.argv[2])
cfg = json.load(open(sys.argv[3]))
assert cfg["fan_in_fan_out"] is True and sorted(cfg["target_modules"]) == ["c_attn", "c_fc", "c_proj"], cfg
worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
print("gpt2 per-step losses vs PyTorch: worst rel. error %.1e" % worst)
assert len(got) == len(want) == 4 and worst <= 1e-4, (got, want)
PY
then ok "GPT-2 LoRA (fused c_attn) steps match PyTorch"; else bad "gpt2 LoRA: $(tail -3 "$tmp/out.txt") want $want"; fi
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/g3" --set model="$tmp/gpt2/model" \
  --set lora.init_adapter="$tmp/g1/adapter" --set data.shuffle=false --set max_steps=4 --set eval_every=0 \
  --set optim.lr=0.01 --set lora.dropout=0.1 >"$tmp/out.txt" 2>&1
want=$($PY "$SRC/tests/reference/lora_train.py" "$tmp/gpt2/model" "$tmp/g1/adapter" "$tmp/train.jsonl" \
  --seq-len 16 --steps 4 --batch 4 --lr 0.01 --dropout 0.1 --seed 3)
if d=$(same_losses "$tmp/g3/metrics.jsonl" "$want" "gpt2 lora.dropout 0.1"); then
  ok "GPT-2 LoRA dropout (one mask for the fused c_attn) matches PyTorch ($d)"
else bad "gpt2 LoRA dropout: $(tail -3 "$tmp/out.txt") want $want"; fi

# The merged model computes what base + adapter computes; the adapter lowers the loss.
"$VKFT" export --model "$tmp/llama/model" --adapter "$tmp/lora/adapter" --merge --out "$tmp/merged" >/dev/null 2>"$tmp/e.txt"
with=$("$VKFT" eval --model "$tmp/llama/model" --adapter "$tmp/lora/adapter" --data "$tmp/train.jsonl" --json 2>/dev/null)
merged=$("$VKFT" eval --model "$tmp/merged" --data "$tmp/train.jsonl" --json 2>/dev/null)
plain=$("$VKFT" eval --model "$tmp/llama/model" --data "$tmp/train.jsonl" --json 2>/dev/null)
if $PY -c '
import json, sys
w, m, p = (json.loads(x) for x in sys.argv[1:4])
assert abs(w["loss"] - m["loss"]) <= 1e-5 * w["loss"], (w, m)
assert w["loss"] < p["loss"], (w, p)
' "$with" "$merged" "$plain"; then ok "merged model = base + adapter ($with vs $merged; base $plain)"
else bad "merge: $with / $merged / $plain $(cat "$tmp/e.txt")"; fi

g_adapter=$("$VKFT" generate --model "$tmp/llama/model" --adapter "$tmp/lora/adapter" --ids "5 6 7" \
  --max-new-tokens 6 --greedy --ignore-eos 2>/dev/null)
g_merged=$("$VKFT" generate --model "$tmp/merged" --ids "5 6 7" --max-new-tokens 6 --greedy --ignore-eos 2>/dev/null)
if [ -n "$g_adapter" ] && [ "$g_adapter" = "$g_merged" ]; then ok "generate --adapter = the merged model ($g_adapter)"
else bad "generate --adapter '$g_adapter' vs merged '$g_merged'"; fi

# Frozen weights in fp16 / bf16: the same run within a stated tolerance (2e-3 relative on the first
# step's loss for fp16, 2e-2 for bf16's 8-bit mantissa) and still learning; the banner says what it saved.
for prec in f16 bf16; do
  if "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/$prec" --set precision.weights=$prec --set eval_every=0 \
       >"$tmp/out.txt" 2>&1 && grep -q "frozen linear weights stored as $prec" "$tmp/out.txt" \
     && $PY - "$tmp/lora/metrics.jsonl" "$tmp/$prec/metrics.jsonl" "$prec" <<'PY'
import json, sys
a = [json.loads(l)["loss"] for l in open(sys.argv[1])]
b = [json.loads(l)["loss"] for l in open(sys.argv[2])]
tol = 2e-3 if sys.argv[3] == "f16" else 2e-2
rel = abs(a[0] - b[0]) / a[0]
print("%s: first loss %.6f vs f32 %.6f (rel. %.1e), last %.3f vs %.3f" % (sys.argv[3], b[0], a[0], rel, b[-1], a[-1]))
assert rel <= tol and sum(b[-3:]) / 3 < 0.7 * b[0], (a[:3], b[:3])
PY
  then ok "LoRA over $prec frozen weights"; else bad "$prec: $(tail -3 "$tmp/out.txt")"; fi
done

# Resume: 10 steps, then --resume to 36, equals the uninterrupted run (same total: same schedule).
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/part" --set max_steps=10 >/dev/null 2>&1
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/part" --resume >"$tmp/out.txt" 2>&1
if grep -q "resuming   from step 10" "$tmp/out.txt" &&
   same_curves "$tmp/lora/metrics.jsonl" "$tmp/part/metrics.jsonl" 36 1e-6 step loss lr grad_norm; then ok "resume continues the exact loss curve"; else bad "resume: $(tail -3 "$tmp/out.txt")"; fi

# Full fine-tuning with a cosine schedule, warm-up and gradient accumulation; frozen embeddings.
if "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/full" --set method=full --set optim.lr=0.003 \
     --set schedule.type=cosine --set schedule.warmup_steps=3 --set batch.grad_accum=2 --set batch.micro_batch_size=2 \
     --set 'freeze=["embed_tokens"]' --set activation_checkpointing=true >"$tmp/out.txt" 2>&1 && d=$(loss_drop "$tmp/full/metrics.jsonl" 0.8) \
   && [ -f "$tmp/full/model/model.safetensors" ] && [ -f "$tmp/full/model/config.json" ]; then
  ok "full fine-tuning (cosine, warm-up, accumulation, frozen embeddings, checkpointing): $d"
else bad "full: $(tail -5 "$tmp/out.txt")"; fi
grep -q "trainable   .* of .* parameters" "$tmp/out.txt" && ok "banner shows trainable parameters" || bad "banner"

# Tables larger than one binding (GPT-2's embedding on lavapipe): with 32 KiB bindings the embedding, the
# output head, their gradients and AdamW's moments are bound in parts; the loss curve is the same.
full_small=(--set method=full --set optim.lr=0.003 --set max_steps=6 --set eval_every=0)
if "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/whole" "${full_small[@]}" >"$tmp/out.txt" 2>&1 &&
   VKFT_BINDING_LIMIT_KB=32 "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/parts" "${full_small[@]}" \
     >"$tmp/out.txt" 2>&1 && same_curves "$tmp/whole/metrics.jsonl" "$tmp/parts/metrics.jsonl" 6 1e-5 loss grad_norm
then ok "full fine-tuning with the embedding and head in 32 KiB bindings: the same losses"
else bad "split tables: $(tail -3 "$tmp/out.txt")"; fi

# The fine-tuned folder loads and evaluates lower than the base model on the training data.
base=$("$VKFT" eval --model "$tmp/llama/model" --data "$tmp/train.jsonl" --json 2>/dev/null)
tuned=$("$VKFT" eval --model "$tmp/full/model" --data "$tmp/train.jsonl" --json 2>/dev/null)
if $PY -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); assert b["loss"] < a["loss"], (a, b)' \
     "$base" "$tuned"; then ok "the exported full model evaluates lower ($base -> $tuned)"
else bad "exported model eval: $base / $tuned"; fi

# Errors a user meets.
"$VKFT" train "$tmp/cfg.json" >/dev/null 2>"$tmp/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q "already holds a run; --resume continues it, --overwrite replaces it" "$tmp/e.txt"; then
  ok "an existing run is not overwritten"; else bad "existing run: $(cat "$tmp/e.txt")"; fi
"$VKFT" train "$tmp/cfg.json" --set lora.rank=8 >/dev/null 2>"$tmp/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q 'did you mean "lora.r"' "$tmp/e.txt"; then ok "unknown key suggests: $(cat "$tmp/e.txt")"
else bad "unknown key: $(cat "$tmp/e.txt")"; fi
printf '{"model": "x",\n "output_dir": \n}\n' >"$tmp/broken.json"
"$VKFT" train "$tmp/broken.json" >/dev/null 2>"$tmp/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q "broken.json:3: not valid JSON" "$tmp/e.txt"; then ok "malformed config names the line"
else bad "malformed config: $(cat "$tmp/e.txt")"; fi
echo '{"model": "x", "output_dir": "y", "data": {"train": "z", "formatt": "ids"}}' >"$tmp/typo.json"
"$VKFT" train "$tmp/typo.json" >/dev/null 2>"$tmp/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q 'unknown key "data.formatt"; did you mean "data.format"' "$tmp/e.txt"; then
  ok "nested unknown key"; else bad "nested key: $(cat "$tmp/e.txt")"; fi
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/x" --set lora.dropout=1 >/dev/null 2>"$tmp/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q "lora.dropout 1: use a probability in \[0, 1)" "$tmp/e.txt"; then ok "lora.dropout 1 is refused"
else bad "lora.dropout 1: rc $rc $(cat "$tmp/e.txt")"; fi
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/x" --set lora.target_modules=nothing_matches >/dev/null 2>"$tmp/e.txt"
if grep -q "matched no linear layer" "$tmp/e.txt"; then ok "LoRA targets that match nothing"
else bad "targets: $(cat "$tmp/e.txt")"; fi
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/y" --resume >/dev/null 2>"$tmp/e.txt"
if grep -q "has no checkpoint" "$tmp/e.txt"; then ok "--resume without a checkpoint"
else bad "resume none: $(cat "$tmp/e.txt")"; fi
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/nan" --set optim.lr=1e30 --set method=full \
  --set optim.grad_clip=0 --set max_steps=40 >/dev/null 2>"$tmp/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q "the loss is \(NaN\|infinite\); stopping" "$tmp/e.txt"; then
  ok "a diverging run stops: $(cat "$tmp/e.txt")"; else bad "NaN: rc $rc $(cat "$tmp/e.txt")"; fi

# Ctrl-C: the run saves a checkpoint where it stopped and exits 130; --resume finishes it.
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/int" --set max_steps=100000 --set eval_every=0 \
  >"$tmp/int.txt" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$tmp/int/metrics.jsonl" ] && [ "$(wc -l <"$tmp/int/metrics.jsonl")" -ge 3 ] && break
  sleep 0.2
done
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 130 ] && grep -q "interrupted at step [0-9]*; the checkpoint is saved" "$tmp/int.txt" \
   && [ -f "$tmp/int/checkpoint/state.json" ]; then
  ok "Ctrl-C saves a checkpoint: $(grep interrupted "$tmp/int.txt")"
  step=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$tmp/int/checkpoint/state.json")
  if "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/int" --set max_steps=$((step + 2)) --set eval_every=0 \
       --resume >"$tmp/out.txt" 2>&1 && grep -q "resuming   from step $step" "$tmp/out.txt" \
     && [ "$(wc -l <"$tmp/int/metrics.jsonl")" -eq $((step + 2)) ]; then ok "the interrupted run resumes at step $step"
  else bad "resume after Ctrl-C: $(tail -3 "$tmp/out.txt")"; fi
else bad "Ctrl-C: rc $rc $(tail -3 "$tmp/int.txt")"; fi

# Every key of the resolved configuration is documented in docs/config.md.
missing=$($PY - "$tmp/lora/run_config.json" "$SRC/docs/config.md" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1])); doc = open(sys.argv[2]).read()
def keys(o, p=""):
    for k, v in o.items():
        if isinstance(v, dict):
            yield from keys(v, p + k + ".")
        else:
            yield p + k
print(" ".join(k for k in keys(cfg) if "`" + k + "`" not in doc))
PY
)
if [ -z "$missing" ]; then ok "docs/config.md documents every key"; else bad "undocumented keys: $missing"; fi
if "$VKFT" train --help | grep -q "usage: vkft train"; then ok "train --help"; else bad "train --help"; fi

finish cli_train
