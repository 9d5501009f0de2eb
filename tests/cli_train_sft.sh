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
