#!/usr/bin/env bash
# The main job on a fresh machine: build vkft, then LoRA-fine-tune the bundled model (demo/model: a
# 1M-parameter Llama that vkft pretrained on WordNet's glosses, see demo/make_model.sh) on legal text (the
# software licences in /usr/share/common-licenses), and show what it changed: perplexity on held-out
# legal text (should fall) and on held-out general text (the forgetting check), before and after.
# Runs on the first Vulkan device (lavapipe on a machine without a GPU); a few minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target vkft
vkft=./build/vkft
out=build/demo

"$vkft" devices | sed -n '1,3p'
bash demo/corpus.sh "$out/data" >/dev/null
echo "corpora: $(wc -l <"$out/data/domain_train.txt") licence paragraphs to train on, $(wc -l <"$out/data/domain_eval.txt") held out;" \
     "$(wc -l <"$out/data/general_eval.txt") held-out WordNet glosses"

ppl() { # ppl DATA [--adapter DIR]: perplexity of the demo model
  "$vkft" eval --model demo/model --data "$@" --json 2>/dev/null | sed 's/.*"ppl": \([0-9.]*\).*/\1/'
}
legal_before=$(ppl "$out/data/domain_eval.txt")
general_before=$(ppl "$out/data/general_eval.txt")

echo
echo "== LoRA fine-tuning on legal text (demo/lora.json)"
"$vkft" train demo/lora.json --overwrite

adapter="$out/legal-lora/adapter"
legal_after=$(ppl "$out/data/domain_eval.txt" --adapter "$adapter")
general_after=$(ppl "$out/data/general_eval.txt" --adapter "$adapter")
echo
printf '%-38s %12s %12s\n' "perplexity (held-out text)" "before" "after"
printf '%-38s %12s %12s\n' "legal: software licences (the domain)" "$legal_before" "$legal_after"
printf '%-38s %12s %12s\n' "general: WordNet glosses (forgetting)" "$general_before" "$general_after"
echo
echo "loss curve: $out/legal-lora/loss.png   metrics: $out/legal-lora/metrics.jsonl"
echo "PEFT adapter: $adapter   (vkft export --model demo/model --adapter $adapter --merge --out DIR merges it)"
