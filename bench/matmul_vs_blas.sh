#!/bin/bash
# vkft matmul against OpenBLAS sgemm on the same shapes, in one run, on this machine's Vulkan device
# (lavapipe on the CPU). OpenBLAS runs twice: with the environment as set (this machine sets
# OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE) and with both unset for that one command (OpenBLAS then
# picks its AVX-512 kernels). Prints vkft/OpenBLAS per shape and form, by wall time (GFLOP/s) and by CPU
# time (cpu-ms: meaningful when other processes share the cores).
#
# usage: bench/matmul_vs_blas.sh [--build DIR] [--shapes all|small|MxNxK,...] [--forms nn,nt,tn]
#                                [--threads N] [-- extra vkft bench options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${VKFT_BUILD_DIR:-$here/../build}"
shapes=small
forms=nn,nt,tn
threads=2
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build="$2"; shift 2 ;;
    --shapes) shapes="$2"; shift 2 ;;
    --forms) forms="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "matmul_vs_blas.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
vkft="$build/vkft"
peer="$build/bench/peer_blas"
for f in "$vkft" "$peer"; do
    [ -x "$f" ] || { echo "matmul_vs_blas.sh: $f not built (cmake --build $build --target vkft peer_blas)" >&2; exit 1; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== vkft bench matmul --shapes $shapes --forms $forms ${extra[*]}"
"$vkft" bench matmul --shapes "$shapes" --forms "$forms" "${extra[@]}" | tee "$tmp/vkft.txt"
echo "== OpenBLAS, environment as set"
OPENBLAS_NUM_THREADS=$threads "$peer" --shapes "$shapes" --forms "$forms" --threads "$threads" | tee "$tmp/blas_env.txt"
echo "== OpenBLAS, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$threads \
    "$peer" --shapes "$shapes" --forms "$forms" --threads "$threads" | tee "$tmp/blas_unset.txt"

echo
echo "vkft/OpenBLAS (GFLOP/s by wall time; in brackets the same by CPU time)"
awk '
    FNR == 1 { file++ }
    /^(matmul|blas) / {
        key = $2 " " $3 "x" $4 "x" $5
        g = $8; c = $10
        if (file == 1) { order[++n] = key; vg[key] = g; vc[key] = c }
        else if (file == 2) { eg[key] = g; ec[key] = c }
        else { ug[key] = g; uc[key] = c }
    }
    END {
        printf "%-20s %10s %12s %14s %12s %14s\n", "form MxNxK", "vkft GF/s", "BLAS(env)", "vkft/BLAS", \
               "BLAS(unset)", "vkft/BLAS"
        for (i = 1; i <= n; i++) {
            k = order[i]
            r1 = eg[k] > 0 ? vg[k] / eg[k] : 0; r2 = ug[k] > 0 ? vg[k] / ug[k] : 0
            c1 = vc[k] > 0 ? ec[k] / vc[k] : 0; c2 = vc[k] > 0 ? uc[k] / vc[k] : 0
            printf "%-20s %10.1f %12.1f %6.3f [%5.3f] %12.1f %6.3f [%5.3f]\n", k, vg[k], eg[k], r1, c1, ug[k], r2, c2
        }
    }' "$tmp/vkft.txt" "$tmp/blas_env.txt" "$tmp/blas_unset.txt"
