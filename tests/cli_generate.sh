#!/usr/bin/env bash
# vkft generate as a user runs it, on tiny random checkpoints from tests/reference/tiny_models.py:
# greedy decoding repeats, sampling with a seed repeats, temperature 0 is greedy, --prompt through a
# tokenizer.json, tokens/s on stderr, and clear errors (missing model or tokenizer, bad ids, too long).
# Env (set by CTest): VKFT, VKFT_SOURCE_DIR, VKFT_BUILD_DIR.
set -u
: "${VKFT:?VKFT must name the vkft binary}"
source "$(dirname "$0")/lib_cli.sh"
vkft="$VKFT"
src="${VKFT_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
build="${VKFT_BUILD_DIR:-$src/build}"
work="$build/test-cache/cli_generate"
rm -rf "$work"
mkdir -p "$work"
differ() { [ "$1" != "$2" ] || { echo "  both: $1"; return 1; }; }
count() { [ "$(wc -w <<<"$1")" -eq "$2" ] || { echo "  want $2 ids, got: $1"; return 1; }; }

for case in llama gpt2; do
    /usr/bin/python3 "$src/tests/reference/tiny_models.py" "$case" "$work/$case" >/dev/null ||
        { echo "FAIL: tiny_models.py $case"; exit 1; }
done

for case in llama gpt2; do
    m="$work/$case/model"
    # ---- greedy: repeats, the default, and temperature 0 ---------------------------------------------------
    g1=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --greedy --ignore-eos 2>"$work/err")
    check "$case: greedy: status 0" [ $? -eq 0 ]
    check "$case: greedy: 8 ids" count "$g1" 8
    check "$case: tokens/s on stderr" grep -q "tokens/s" "$work/err"
    g2=$("$vkft" generate --model "$m" --ids "5,6,7" --max-new-tokens 8 --ignore-eos 2>/dev/null)
    check "$case: greedy repeats (and is the default)" same "$g2" "$g1"
    g3=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --temperature 0 --ignore-eos 2>/dev/null)
    check "$case: temperature 0 is greedy" same "$g3" "$g1"
    # ---- sampling: a seed repeats -------------------------------------------------------------------------
    s1=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --temperature 1.5 --top-k 50 --top-p 0.95 \
        --seed 11 --ignore-eos 2>/dev/null)
    check "$case: sampling: status 0" [ $? -eq 0 ]
    check "$case: sampling: 8 ids" count "$s1" 8
    s2=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --temperature 1.5 --top-k 50 --top-p 0.95 \
        --seed 11 --ignore-eos 2>/dev/null)
    check "$case: sampling with the same seed repeats" same "$s2" "$s1"
    s3=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --temperature 1.5 --seed 12 --ignore-eos \
        2>/dev/null)
    check "$case: another seed, another sample" differ "$s3" "$s1"
done

# A device binding less than the embedding and output head (lavapipe binds 128 MiB, GPT-2's table is 147):
# with 32 KiB bindings the tiny Llama's 54 KiB head is bound in parts; greedy decoding is unchanged.
m="$work/llama/model"
g1=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --ignore-eos 2>/dev/null)
gs=$(VKFT_BINDING_LIMIT_KB=32 "$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --ignore-eos 2>"$work/err")
check "head in 32 KiB bindings: status 0" [ $? -eq 0 ]
check "head in 32 KiB bindings: the same greedy ids" same "$gs" "$g1"

# ---- one token: the prompt's pass alone; EOS ids from generation_config.json (a list, as Llama 3's) ---------
m="$work/llama/model"
first=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 1 2>/dev/null)
check "one new token" count "$first" 1
printf '{"eos_token_id": [2, %s]}\n' "$first" > "$m/generation_config.json"
out=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 2>"$work/err")
check "generation_config.json's EOS list stops generation" same "$out" "$first"
check "stopping at EOS is reported" grep -q "stopped at EOS" "$work/err"
out=$("$vkft" generate --model "$m" --ids "5 6 7" --max-new-tokens 8 --ignore-eos 2>/dev/null)
check "--ignore-eos goes on" count "$out" 8
rm "$m/generation_config.json"

# ---- --prompt through the model's tokenizer.json ------------------------------------------------------------
err=$("$vkft" generate --model "$m" --prompt "hello world" 2>&1 >/dev/null)
check "--prompt without tokenizer.json: status 1" [ $? -eq 1 ]
check "--prompt without tokenizer.json: names the file and --ids" grep -q "tokenizer.json not found.*--ids" <<<"$err"
cp "$src/tests/fixtures/tok_wordpiece/tokenizer.json" "$src/tests/fixtures/tok_wordpiece/tokenizer_config.json" "$m/"
t1=$("$vkft" generate --model "$m" --prompt "hello world" --max-new-tokens 6 --seed 3 --temperature 0.8 2>/dev/null)
check "--prompt: status 0" [ $? -eq 0 ]
t2=$("$vkft" generate --model "$m" --prompt "hello world" --max-new-tokens 6 --seed 3 --temperature 0.8 2>/dev/null)
check "--prompt: text out, repeats" same "$t2" "$t1"

# ---- byte-level BPE: the streamed text (held back at incomplete UTF-8) equals decoding the ids at the end ----
"$vkft" tokenizer train --type bpe --vocab-size 400 --out "$work/bpe" "$src/tests/fixtures/tok_corpus.txt" >/dev/null &&
    "$vkft" init --tokenizer "$work/bpe/tokenizer.json" --out "$work/bpe_model" --hidden 32 --layers 1 \
        --intermediate 64 >/dev/null
check "a byte-level BPE model (vkft tokenizer train, vkft init)" [ $? -eq 0 ]
prompt="héllo wörld — ünïcode"
ids=$(printf '%s\n' "$prompt" | "$vkft" tokenize --tokenizer "$work/bpe/tokenizer.json" --special)
streamed=$("$vkft" generate --model "$work/bpe_model" --prompt "$prompt" --max-new-tokens 40 --temperature 1 \
    --seed 2 --ignore-eos 2>/dev/null)
decoded=$("$vkft" generate --model "$work/bpe_model" --ids "$ids" --max-new-tokens 40 --temperature 1 --seed 2 \
    --ignore-eos 2>/dev/null | "$vkft" tokenize --tokenizer "$work/bpe/tokenizer.json" --decode --skip-special)
check "streamed text = the decoded ids" same "$streamed" "$decoded"
check "streamed text is valid UTF-8" iconv -f UTF-8 -t UTF-8 <<<"$streamed" >/dev/null

# ---- errors --------------------------------------------------------------------------------------------------
err=$("$vkft" generate --model "$work/nothing" --ids "1 2" 2>&1)
check "missing model: status 1" [ $? -eq 1 ]
check "missing model: names config.json" grep -q "nothing/config.json not found" <<<"$err"
err=$("$vkft" generate --model "$m" --ids "1 two 3" 2>&1)
check "bad ids: status 2" [ $? -eq 2 ]
check "bad ids: names the token" grep -q "'two' is not a token id" <<<"$err"
err=$("$vkft" generate --model "$m" --ids "1 5000" 2>&1)
check "id outside the vocabulary: status 2" [ $? -eq 2 ]
check "id outside the vocabulary: message" grep -q "token id 5000 .* outside the model's vocabulary" <<<"$err"
err=$("$vkft" generate --model "$work/gpt2/model" --ids "5 6 7" --max-new-tokens 40 2>&1)
check "too long for gpt2's positions: status 2" [ $? -eq 2 ]
check "too long for gpt2's positions: message" grep -q "exceed the model's 16 positions" <<<"$err"
err=$("$vkft" generate --model "$m" 2>&1)
check "no prompt: status 2" [ $? -eq 2 ]
err=$("$vkft" generate --model "$m" --ids 5 --top-p 1.5 2>&1)
check "bad top-p: status 2" [ $? -eq 2 ]
"$vkft" generate --help | grep -q "usage: vkft generate"
check "--help" [ $? -eq 0 ]

finish cli_generate
