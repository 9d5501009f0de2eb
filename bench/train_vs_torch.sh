#!/bin/bash
# vkft train against PyTorch doing the same training steps, in one run (issue 7): LoRA (r 16, alpha 32,
# every linear layer) and full fine-tuning, AdamW, on a model with the shapes of a real checkpoint and
# random weights. Prints tokens/s of each (after warm-up), the ratio vkft / PyTorch, and peak memory
# (vkft: its device-memory plan and the process's peak RSS; PyTorch: peak RSS, or GPU peak with cuda).
#
# usage: bench/train_vs_torch.sh PRESET [B T]        (default B T: 8 512, the issue's shape)
#   PRESET: smollm2-135m | gpt2-124m | tinyllama-1.1b (bench/make_random_model.py)
# environment: LAYERS=N / VOCAB=N cut the model (to fit the time on a CPU), STEPS (timed, default 3),
#   WARMUP (default 1), METHODS ("lora full"), VKFT_SET (space-separated key=value overrides for vkft
#   train only, e.g. "precision.weights=bf16"),
#   VKFT (binary), MODELS (model cache folder), PYTHON, PEER_ARGS (e.g. "--device cuda --autocast bf16").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
preset=${1:?usage: bench/train_vs_torch.sh PRESET [B T]}
B=${2:-8}
T=${3:-512}
STEPS=${STEPS:-3}
WARMUP=${WARMUP:-1}
METHODS=${METHODS:-lora full}
VKFT=${VKFT:-$root/build/vkft}
MODELS=${MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/vkft/bench-models}
PYTHON=${PYTHON:-/usr/bin/python3}
tag="$preset${LAYERS:+-L$LAYERS}${VOCAB:+-V$VOCAB}"
model="$MODELS/$tag"
args=()
[ -n "${LAYERS:-}" ] && args+=(--layers "$LAYERS")
[ -n "${VOCAB:-}" ] && args+=(--vocab "$VOCAB")
"$PYTHON" "$here/make_random_model.py" "$preset" "$model" "${args[@]}" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
V=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$model/config.json")
total=$((WARMUP + STEPS))
"$PYTHON" - "$tmp/ids.jsonl" "$V" "$T" "$((B * total))" <<'PY'
import json, random, sys
random.seed(0)
path, V, T, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(path, "w") as f:
    for _ in range(n):
        f.write(json.dumps({"input_ids": [random.randrange(V) for _ in range(T)]}) + "\n")
PY
echo "== $tag, batch $B x $T, $STEPS timed steps after $WARMUP"
for method in $METHODS; do
    printf '%s\n' "{\"model\": \"$model\", \"output_dir\": \"$tmp/run-$method\", \"method\": \"$method\"," \
      " \"data\": {\"train\": \"$tmp/ids.jsonl\", \"format\": \"ids\", \"seq_len\": $T, \"packing\": false, \"shuffle\": false}," \
      " \"lora\": {\"r\": 16, \"alpha\": 32, \"target_modules\": \"all-linear\"}," \
      " \"optim\": {\"lr\": 1e-4}, \"batch\": {\"micro_batch_size\": $B}, \"max_steps\": $total}" >"$tmp/$method.json"
    sets=()
    for kv in ${VKFT_SET:-}; do sets+=(--set "$kv"); done
    VKFT_PROGRESS=0 /usr/bin/time -f "%M" -o "$tmp/rss-$method" "$VKFT" train "$tmp/$method.json" "${sets[@]}" \
        >"$tmp/log-$method" 2>&1 \
        || { echo "vkft $method failed:"; tail -n 3 "$tmp/log-$method"; continue; }
    vk=$("$PYTHON" - "$tmp/run-$method/metrics.jsonl" "$WARMUP" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
print("%.1f" % (sum(r["tokens"] for r in rows) / sum(r["tokens"] / r["tokens_per_s"] for r in rows)))
PY
)
    plan=$(sed -n 's/^memory      //p' "$tmp/log-$method")
    peer=$("$PYTHON" "$here/train_peer.py" --model "$model" --method "$method" --batch "$B" --seq "$T" \
        --steps "$STEPS" --warmup "$WARMUP" --json ${PEER_ARGS:-})
    "$PYTHON" - "$method" "$vk" "$(cat "$tmp/rss-$method")" "$peer" "$plan" <<'PY'
import json, sys
method, vk, rss_kib, peer, plan = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
t = peer["tokens_per_s"]
print("%-5s vkft %8.1f tokens/s   torch %8.1f tokens/s   vkft/torch %.2f" % (method, vk, t, vk / t))
print("      memory: vkft peak RSS %.0f MiB (device plan: %s); torch peak %.0f MiB" % (
    rss_kib / 1024, plan, peer["peak_bytes"] / 2 ** 20))
PY
done
