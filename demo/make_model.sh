#!/usr/bin/env bash
# How demo/model was made: entirely by vkft, from Debian's WordNet glosses (general English).
#   1. a byte-level BPE tokenizer of 2048 tokens trained on the glosses   (vkft tokenizer train)
#   2. a randomly initialized 1M-parameter Llama (hidden 128, 4 layers)    (vkft init)
#   3. pretraining from scratch: full fine-tuning, 400 steps of 8 x 128    (vkft train, demo/pretrain.json)
# The result is committed (4 MB) so that the demo needs no download. Rebuild it with:
#   demo/make_model.sh            (about 10 minutes on lavapipe with 2 cores)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
vkft=./build/vkft
work=build/demo
bash demo/corpus.sh "$work/data" >/dev/null
$vkft tokenizer train --type bpe --vocab-size 2048 --out "$work/tokenizer" "$work/data/general_train.txt"
$vkft init --tokenizer "$work/tokenizer/tokenizer.json" --out "$work/base" --hidden 128 --layers 4 --heads 4 \
  --kv-heads 2 --intermediate 344 --max-positions 256 --seed 1 --overwrite
$vkft train demo/pretrain.json --overwrite
rm -rf demo/model
cp -r "$work/pretrain/model" demo/model
echo "demo/model updated"
