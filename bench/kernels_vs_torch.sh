#!/bin/bash
# vkft's matmul and attention kernels against PyTorch on the same shapes, in one run (issue 4's GPU peer:
# run it on the GPU test machine; it also runs on a CPU, where PyTorch is the peer on the same cores).
# For each shape it prints vkft's and PyTorch's GFLOP/s and the ratio vkft / PyTorch.
#
# usage: bench/kernels_vs_torch.sh [--build DIR] [--small] [--device cuda|cpu]
#   matmul: vkft's default path (cooperative matrix where the device has it) against torch.matmul in fp32
#   (TF32 off), fp16 and bf16; attention: vkft's fused forward/backward against PyTorch's
#   scaled_dot_product_attention (fp32 and bf16).
# environment: PYTHON (default: python3 with torch; /usr/bin/python3 on Debian), VKFT_DEVICE for vkft.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${VKFT_BUILD_DIR:-$here/../build}"
small=0
device=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build="$2"; shift 2 ;;
    --small) small=1; shift ;;
    --device) device="$2"; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "kernels_vs_torch.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
vkft="$build/vkft"
[ -x "$vkft" ] || vkft="$build/vkft/vkft" # a dist folder
py="${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}"
"$py" -c 'import torch' 2>/dev/null || py=/usr/bin/python3
dev_args=()
[ -n "$device" ] && dev_args=(--device "$device")
shapes=all
[ $small -eq 1 ] && shapes=small
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Pairs lines "matmul FORM M N K ... GFLOP/s" of two outputs and prints the ratio.
pair_matmul() { # pair_matmul VKFT_OUT TORCH_OUT LABEL
    awk -v label="$3" '
        FNR == NR && $1 == "matmul" { key = $2 " " $3 " " $4 " " $5; v[key] = $8; next }
        $1 == "matmul" { key = $2 " " $3 " " $4 " " $5; if (key in v) printf "  %-24s vkft %9.1f  torch %9.1f GFLOP/s  vkft/torch %.2f\n", key, v[key], $8, v[key] / $8 }
    ' "$1" "$2" | sed "s/^/$3/"
}

echo "== matmul"
"$vkft" bench matmul --shapes "$shapes" >"$tmp/vkft_mm.txt"
head -n 1 "$tmp/vkft_mm.txt"
dtypes="f32 f16 bf16"
[ "$device" = cpu ] && dtypes="f32 bf16" # PyTorch has no fp16 matmul on the CPU
for dt in $dtypes; do
    "$py" "$here/kernels_torch_peer.py" matmul --dtype $dt --shapes "$shapes" "${dev_args[@]}" >"$tmp/torch_$dt.txt"
    head -n 1 "$tmp/torch_$dt.txt"
    pair_matmul "$tmp/vkft_mm.txt" "$tmp/torch_$dt.txt" "[torch $dt]"
done

echo "== attention"
att_args=()
[ $small -eq 1 ] && att_args=(--small)
"$vkft" bench attention "${att_args[@]}" | tee "$tmp/vkft_att.txt"
for dt in f32 bf16; do
    "$py" "$here/kernels_torch_peer.py" attention --dtype $dt "${att_args[@]}" "${dev_args[@]}" | tee "$tmp/torch_att_$dt.txt"
done
