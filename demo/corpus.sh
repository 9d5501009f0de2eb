#!/usr/bin/env bash
# Builds the demo's text corpora from files Debian ships (nobody here wrote them):
#   general: WordNet's glosses (definitions and example sentences), package wordnet-base
#   domain:  the software licences in /usr/share/common-licenses (legal text), package base-files
# One document per line; every 10th document is held out for evaluation.
#   demo/corpus.sh OUTDIR
set -euo pipefail
out=${1:?usage: demo/corpus.sh OUTDIR}
mkdir -p "$out"
wn=/usr/share/wordnet
[ -f "$wn/data.noun" ] || { echo "demo/corpus.sh: $wn/data.noun is missing: apt-get install wordnet-base" >&2; exit 1; }
# A data.* line is "offset lex ... | gloss"; header lines start with two spaces.
for f in data.noun data.verb data.adj data.adv; do
  awk '!/^  / { i = index($0, "| "); if (i) print substr($0, i + 2) }' "$wn/$f"
done | sed 's/[[:space:]]*$//' | awk 'length($0) >= 40' >"$out/general_all.txt"
# About 1.6 MB of training text (every 5th gloss) and 400 held-out glosses.
awk 'NR % 10 == 0 && ++n <= 400' "$out/general_all.txt" >"$out/general_eval.txt"
awk 'NR % 10 != 0 && NR % 5 == 1' "$out/general_all.txt" >"$out/general_train.txt"
rm "$out/general_all.txt"
# Licences: paragraphs (blank-line separated) with their whitespace collapsed, one per line.
for f in /usr/share/common-licenses/*; do
  [ -f "$f" ] || continue
  awk 'BEGIN { RS = ""; ORS = "\n" } { gsub(/[[:space:]]+/, " "); sub(/^ /, ""); if (length($0) >= 40) print }' "$f"
done >"$out/domain_all.txt"
awk 'NR % 10 == 0' "$out/domain_all.txt" >"$out/domain_eval.txt"
awk 'NR % 10 != 0' "$out/domain_all.txt" >"$out/domain_train.txt"
rm "$out/domain_all.txt"
wc -lc "$out"/*.txt
