#!/usr/bin/env bash
# Instruction fine-tuning (data.format alpaca and messages) on the bundled demo model: the loss covers
# exactly the response tokens, training lowers it, and malformed records are named by line and field.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib_cli.sh"
export VKFT_PROGRESS=0
model="$SRC/demo/model"
tok="$model/tokenizer.json"

$PY - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
alpaca = [
    {"instruction": "Name the licence of this text.", "input": "Permission is hereby granted, free of charge",
     "output": "The MIT licence."},
    {"instruction": "Give the opposite of hot.", "output": "cold"},
    {"instruction": "Summarize: the party may copy the work.", "input": "", "output": "Copying is allowed."},
    {"instruction": "Translate 'chat' into English.", "output": "cat"},
]
with open(d + "/alpaca.jsonl", "w") as f:
    for r in alpaca:
        f.write(json.dumps(r) + "\n")
with open(d + "/alpaca_outputs.txt", "w") as f:
    for r in alpaca:
        f.write(r["output"] + "\n")
chats = [
    {"messages": [{"role": "system", "content": "You answer briefly."},
                  {"role": "user", "content": "What is a licence?"},
                  {"role": "assistant", "content": "A permission to use something."}]},
    {"messages": [{"role": "user", "content": "Say yes."}, {"role": "assistant", "content": "yes"},
                  {"role": "user", "content": "Say no."}, {"role": "assistant", "content": "no"}]},
]
with open(d + "/chat.jsonl", "w") as f:
    for r in chats:
        f.write(json.dumps(r) + "\n")
with open(d + "/chat_outputs.txt", "w") as f:
    for r in chats:
        for m in r["messages"]:
            if m["role"] == "assistant":
                f.write(m["content"] + "\n")
                f.write("<|im_end|>\n")
PY
count_tokens() { "$VKFT" tokenize --tokenizer "$tok" <"$1" | wc -w; }

printf '%s\n' "{\"model\": \"$model\", \"output_dir\": \"$tmp/alpaca\", \"method\": \"lora\"," \
  " \"data\": {\"train\": \"$tmp/alpaca.jsonl\", \"format\": \"alpaca\", \"seq_len\": 128}," \
  " \"lora\": {\"r\": 8, \"alpha\": 16, \"target_modules\": \"all-linear\"}," \
  " \"optim\": {\"lr\": 0.01}, \"batch\": {\"micro_batch_size\": 4}, \"max_steps\": 30, \"seed\": 1}" >"$tmp/cfg.json"

# alpaca: the targets are every output token plus one EOS per example.
want=$(( $(count_tokens "$tmp/alpaca_outputs.txt") + 4 ))
if "$VKFT" train "$tmp/cfg.json" >"$tmp/out.txt" 2>&1; then
  got=$(sed -n 's/.*tokens, \([0-9]*\) of them responses.*/\1/p' "$tmp/out.txt")
  if [ "$got" = "$want" ]; then ok "alpaca: the loss covers the $want response tokens only"
  else bad "alpaca: $got target tokens, want $want"; fi
  if $PY -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
first, last = rows[0]["loss"], sum(r["loss"] for r in rows[-3:]) / 3
print("alpaca loss %.3f -> %.3f" % (first, last))
assert last < 0.5 * first
' "$tmp/alpaca/metrics.jsonl"; then ok "alpaca: the response loss falls"; else bad "alpaca loss"; fi
else bad "alpaca training: $(tail -3 "$tmp/out.txt")"; fi

# messages: every assistant message's content and its <|im_end|>.
want=$(count_tokens "$tmp/chat_outputs.txt")
if "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/chat" --set data.train="$tmp/chat.jsonl" \
     --set data.format=messages --set max_steps=3 >"$tmp/out.txt" 2>&1; then
  got=$(sed -n 's/.*tokens, \([0-9]*\) of them responses.*/\1/p' "$tmp/out.txt")
  if [ "$got" = "$want" ]; then ok "messages: the loss covers the $want assistant tokens only"
  else bad "messages: $got target tokens, want $want"; fi
else bad "messages training: $(tail -3 "$tmp/out.txt")"; fi

# A chat template in the model's tokenizer_config.json (data.chat_template "auto"): Zephyr's turns, so the
# targets are each assistant message's content and the EOS after it (<|endoftext|> here), not ChatML's.
zmodel="$tmp/zephyr-model"
mkdir -p "$zmodel"
cp "$model/config.json" "$model/tokenizer.json" "$zmodel/"
ln -s "$model/model.safetensors" "$zmodel/model.safetensors"
$PY - "$model/tokenizer_config.json" "$SRC/tests/fixtures/chat_templates/zephyr.jinja" "$zmodel/tokenizer_config.json" \
  "$tmp" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["chat_template"] = open(sys.argv[2]).read()
json.dump(cfg, open(sys.argv[3], "w"))
eos = cfg["eos_token"]
d = sys.argv[4]
with open(d + "/zephyr_targets.txt", "w") as f:
    for line in open(d + "/chat.jsonl"):
        for m in json.loads(line)["messages"]:
            if m["role"] == "assistant":
                f.write(m["content"] + eos + "\n")
with open(d + "/zephyr_alpaca_targets.txt", "w") as f:
    for line in open(d + "/alpaca.jsonl"):
        f.write(json.loads(line)["output"] + eos + "\n")
with open(d + "/gemma_alpaca_targets.txt", "w") as f:
    for line in open(d + "/alpaca.jsonl"):
        f.write(json.loads(line)["output"].strip() + "<end_of_turn>\n")
nosys = [l for l in open(d + "/chat.jsonl") if '"system"' not in l]  # Gemma raises on a system message
open(d + "/chat_nosys.jsonl", "w").write("".join(nosys))
with open(d + "/gemma_targets.txt", "w") as f:
    for line in nosys:
        for m in json.loads(line)["messages"]:
            if m["role"] == "assistant":
                f.write(m["content"].strip() + "<end_of_turn>\n")
PY
chat_run() { # chat_run NAME ARGS...: trains 1 step on chat.jsonl with the Zephyr model; output in $tmp/out.txt
  local name=$1; shift
  "$VKFT" train "$tmp/cfg.json" --set model="$zmodel" --set output_dir="$tmp/$name" --set data.train="$tmp/chat.jsonl" \
    --set data.format=messages --set max_steps=1 "$@" >"$tmp/out.txt" 2>&1
}
targets() { sed -n 's/.*tokens, \([0-9]*\) of them responses.*/\1/p' "$tmp/out.txt"; }
want=$(count_tokens "$tmp/zephyr_targets.txt")
if chat_run zephyr; then
  got=$(targets)
  if grep -q "template    $zmodel/tokenizer_config.json's chat_template" "$tmp/out.txt" && [ "$got" = "$want" ]; then
    ok "tokenizer chat_template (auto): the loss covers the $want tokens of Zephyr's assistant turns"
  else bad "tokenizer chat_template: $got target tokens, want $want: $(grep -E 'template|data ' "$tmp/out.txt")"; fi
else bad "training with the tokenizer's chat_template: $(tail -3 "$tmp/out.txt")"; fi
want_default=$(count_tokens "$tmp/chat_outputs.txt")
if chat_run zephyr-default --set data.chat_template=default && [ "$(targets)" = "$want_default" ] &&
   grep -q "template    vkft's default (ChatML" "$tmp/out.txt"; then
  ok "data.chat_template default: vkft's ChatML even when the tokenizer has a template"
else bad "data.chat_template default: $(targets) targets, want $want_default: $(tail -3 "$tmp/out.txt")"; fi
want=$(count_tokens "$tmp/zephyr_alpaca_targets.txt")
if "$VKFT" train "$tmp/cfg.json" --set model="$zmodel" --set output_dir="$tmp/zephyr-alpaca" --set max_steps=1 \
     --set data.chat_template=tokenizer >"$tmp/out.txt" 2>&1 && [ "$(targets)" = "$want" ] &&
   grep -q "template    $zmodel/tokenizer_config.json's chat_template" "$tmp/out.txt"; then
  ok "alpaca through the tokenizer's chat_template: the $want tokens of each output and its EOS"
else bad "alpaca through the chat template: $(targets) targets, want $want: $(tail -3 "$tmp/out.txt")"; fi
# A .jinja file (Gemma's turns: stripped content and <end_of_turn>), and what Gemma raises on a system message.
want=$(count_tokens "$tmp/gemma_targets.txt")
if chat_run gemma --set data.chat_template="$SRC/tests/fixtures/chat_templates/gemma.jinja" \
     --set data.train="$tmp/chat_nosys.jsonl" && [ "$(targets)" = "$want" ] &&
   grep -q "template    $SRC/tests/fixtures/chat_templates/gemma.jinja" "$tmp/out.txt"; then
  ok "data.chat_template as a .jinja file: the $want tokens of Gemma's model turns"
else bad "a .jinja chat template: $(targets) targets, want $want: $(tail -3 "$tmp/out.txt")"; fi
want=$(count_tokens "$tmp/gemma_alpaca_targets.txt")
if "$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/gemma-alpaca" --set max_steps=1 \
     --set data.chat_template="$SRC/tests/fixtures/chat_templates/gemma.jinja" >"$tmp/out.txt" 2>&1 &&
   [ "$(targets)" = "$want" ]; then
  ok "alpaca through a .jinja file: the $want tokens of each output and <end_of_turn>"
else bad "alpaca through a .jinja file: $(targets) targets, want $want: $(tail -3 "$tmp/out.txt")"; fi
chat_run gemma-sys --set data.chat_template="$SRC/tests/fixtures/chat_templates/gemma.jinja"
if grep -q "chat.jsonl:1: the chat template .*gemma.jinja) failed: line 1, column [0-9]*: the template raised an error: System role not supported" "$tmp/out.txt"; then
  ok "raise_exception in a template stops the run naming the record"
else bad "raise_exception: $(tail -3 "$tmp/out.txt")"; fi
chat_run no-template --set model="$model" --set data.chat_template=tokenizer
if grep -q "data.chat_template \"tokenizer\": $model/tokenizer_config.json has no \"chat_template\"" "$tmp/out.txt"; then
  ok "data.chat_template tokenizer without one: a clear error"
else bad "tokenizer without a chat_template: $(tail -3 "$tmp/out.txt")"; fi
chat_run bad-value --set data.chat_template=chatml
if grep -q 'data.chat_template "chatml": use auto, default, tokenizer or the path of a .jinja file' "$tmp/out.txt"; then
  ok "data.chat_template: a bad value is named"
else bad "bad data.chat_template: $(tail -3 "$tmp/out.txt")"; fi
printf '{%% for m in messages %%}{{ m.content | frobnicate }}{%% endfor %%}\n' >"$tmp/bad.jinja"
chat_run bad-jinja --set data.chat_template="$tmp/bad.jinja"
if grep -q "bad.jinja: line 1, column 39: unknown filter 'frobnicate'" "$tmp/out.txt"; then
  ok "a template that does not parse: file, line and column"
else bad "unparsable template: $(tail -3 "$tmp/out.txt")"; fi

# Malformed records.
echo '{"instruction": "x"}' >"$tmp/bad.jsonl"
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/bad" --set data.train="$tmp/bad.jsonl" >/dev/null 2>"$tmp/e.txt"
if grep -q 'bad.jsonl:1: an alpaca record needs string fields "instruction" and "output"' "$tmp/e.txt"; then
  ok "alpaca record without output"; else bad "alpaca malformed: $(cat "$tmp/e.txt")"; fi
echo '{"messages": [{"role": "robot", "content": "x"}]}' >"$tmp/bad2.jsonl"
"$VKFT" train "$tmp/cfg.json" --set output_dir="$tmp/bad2" --set data.train="$tmp/bad2.jsonl" \
  --set data.format=messages >/dev/null 2>"$tmp/e.txt"
if grep -q 'bad2.jsonl:1: messages\[0\].role "robot"' "$tmp/e.txt"; then ok "unknown role"
else bad "unknown role: $(cat "$tmp/e.txt")"; fi

finish cli_train_sft
