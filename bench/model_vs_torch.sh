#!/bin/sh
# vkft vs PyTorch on a model with the shapes of a real checkpoint (random weights), forward and
# forward+backward, in one run:
#   1. bench/make_random_model.py PRESET builds the HF folder (config.json + model.safetensors, F32), or
#      reuses it when it is already there;
#   2. `vkft bench model --json` times it on the Vulkan device;
#   3. bench/model_peer.py times the same checkpoint, batch and sequence length in PyTorch on the CPU
#      (fp32, torch.set_num_threads(2), tests/reference/tiny_models.py's forward);
#   4. prints tokens/s of each and the ratio vkft / PyTorch (wall clock, and per CPU-second of the process,
#      which stays meaningful when other work shares the cores: lavapipe runs vkft on the same CPU).
#
# usage: bench/model_vs_torch.sh PRESET [B T]
#   PRESET       smollm2-135m | gpt2-124m | tinyllama-1.1b (bench/make_random_model.py list)
#   B T          batch and sequence length (default 4 256)
# environment:
#   LAYERS=N     keep only the first N layers (the preset's depth otherwise); the 1.1B preset at full depth
#                takes many minutes per step on lavapipe
#   VOCAB=N      cut the vocabulary to N tokens: lavapipe binds at most 128 MiB per storage buffer, less
#                than gpt2-124m's wte (147 MiB) and tinyllama-1.1b's embeddings (250 MiB); the logits
#                (B*T*V*4 bytes) must fit too
#   ITERS=N      timed steps of each kind (default 3), WARMUP=N untimed steps first (default 1; on lavapipe
#                the first submission also compiles the shaders, so keep at least 1)
#   VKFT=PATH    the vkft binary (default: build-bm/vkft, else build/vkft, under the repository)
#   MODELS=DIR   where the random models are kept (default: ${XDG_CACHE_HOME:-~/.cache}/vkft/bench-models)
#   THREADS=N    PyTorch threads (default 2)
#   DEVICE=N     vkft --device
#   PYTHON=PATH  the Python with torch (default /usr/bin/python3)
#   PEER=0       skip PyTorch (vkft only)
#   PEER_ARGS=.. more model_peer.py options, e.g. "--device cuda --autocast bf16" on a GPU machine
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
preset=${1:?usage: bench/model_vs_torch.sh PRESET [B T]  (presets: smollm2-135m gpt2-124m tinyllama-1.1b)}
B=${2:-4}
T=${3:-256}
ITERS=${ITERS:-3}
WARMUP=${WARMUP:-1}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
PEER=${PEER:-1}
if [ -z "${VKFT:-}" ]; then
    if [ -x "$root/build-bm/vkft" ]; then VKFT=$root/build-bm/vkft; else VKFT=$root/build/vkft; fi
fi
[ -x "$VKFT" ] || { echo "model_vs_torch: no vkft binary at $VKFT (set VKFT=...)" >&2; exit 2; }
MODELS=${MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/vkft/bench-models}
name=$preset
layer_arg=
if [ -n "${LAYERS:-}" ]; then
    name=$name-L$LAYERS
    layer_arg="--layers $LAYERS"
fi
if [ -n "${VOCAB:-}" ]; then
    name=$name-V$VOCAB
    layer_arg="$layer_arg --vocab $VOCAB"
fi
dir=$MODELS/$name
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "== $preset${LAYERS:+ (first $LAYERS layers only)}${VOCAB:+ (vocabulary cut to $VOCAB)}, batch $B x $T, $WARMUP warm-up + $ITERS timed steps"
echo "   $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$PYTHON" "$here/make_random_model.py" "$preset" "$dir" $layer_arg

echo "-- vkft: $VKFT bench model --model $dir --batch $B --seq $T --iters $ITERS --warmup $WARMUP"
set -- bench model --model "$dir" --batch "$B" --seq "$T" --iters "$ITERS" --warmup "$WARMUP" --json
[ -n "${DEVICE:-}" ] && set -- "$@" --device "$DEVICE"
"$VKFT" "$@" > "$tmp/vkft.json"
cat "$tmp/vkft.json"
if [ "$PEER" != 0 ]; then
    echo "-- PyTorch: bench/model_peer.py --model $dir --batch $B --seq $T --iters $ITERS --warmup $WARMUP --threads $THREADS ${PEER_ARGS:-}"
    # shellcheck disable=SC2086
    "$PYTHON" "$here/model_peer.py" --model "$dir" --batch "$B" --seq "$T" --iters "$ITERS" --warmup "$WARMUP" \
        --threads "$THREADS" ${PEER_ARGS:-} --json > "$tmp/peer.json"
    cat "$tmp/peer.json"
else
    echo '{}' > "$tmp/peer.json"
fi
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$tmp/vkft.json" "$tmp/peer.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
p = json.load(open(sys.argv[2]))
print("%s, %.1fM parameters, %d layers, batch %d x %d (%d tokens/step)"
      % (v["model_type"], v["parameters"] / 1e6, v["layers"], v["batch"], v["seq"], v["batch"] * v["seq"]))
print("vkft on %s; peer: %s" % (v["device"], p.get("peer", "not run")))
tok = v["batch"] * v["seq"]
hdr = "%-17s %12s %12s %12s %12s %8s %10s" % ("", "vkft tok/s", "torch tok/s", "vkft ms", "torch ms",
                                               "ratio", "cpu ratio")
print(hdr)
for k, label in (("forward", "forward"), ("train", "forward+backward")):
    vt, vm, vc = v[k + "_tokens_per_s"], v[k + "_ms"], v[k + "_cpu_ms"]
    if p:
        pt, pm, pc = p[k + "_tokens_per_s"], p[k + "_ms"], p[k + "_cpu_ms"]
        print("%-17s %12.1f %12.1f %12.1f %12.1f %7.2fx %9.2fx" % (label, vt, pt, vm, pm, vt / pt, pc / vc))
    else:
        print("%-17s %12.1f %12s %12.1f %12s" % (label, vt, "-", vm, "-"))
print("ratio = vkft tokens/s / PyTorch tokens/s (wall clock); cpu ratio = the same per CPU-second of each process")
print("memory plan (MiB): weights %.0f, gradients %.0f, activations %.0f, scratch %.0f"
      % tuple(v["memory"][x] / 1048576 for x in ("weights", "gradients", "activations", "scratch")))
if p:
    print("loss: vkft %.4f, PyTorch %.4f (different random ids; both near ln V for random weights)"
          % (v["loss"], p["loss"]))
EOF
