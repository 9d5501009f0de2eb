#!/usr/bin/env bash
# Throughput of `vkft data` steps on one core (every step is single-threaded), on a synthetic corpus
# (bench/data_make_bench_corpus.py). usage: bench/data_bench.sh [VKFT] [MEGABYTES]
# Prints MB/s per step over wall time (reading, writing and the final fsync included) and over CPU time
# (user + system of the process), and the peak resident memory; figures go to docs/benchmarks.md.
set -euo pipefail
VKFT=${1:-build/vkft}
MB=${2:-100}
D=$(mktemp -d /tmp/vkft_data_bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
python3 "$(dirname "$0")/data_make_bench_corpus.py" "$MB" > "$D/corpus.jsonl"
bytes=$(stat -c %s "$D/corpus.jsonl")
echo "corpus: $(wc -l < "$D/corpus.jsonl") records, $bytes bytes"
export VKFT_PROGRESS=0
run() { # name, args...
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$D/time" taskset -c 0 "$VKFT" data "$@" --in "$D/corpus.jsonl" --quiet \
        --summary "$D/s.json" > /dev/null
    read -r secs usr sys kb < "$D/time"
    python3 - "$name" "$bytes" "$secs" "$kb" "$D/s.json" "$usr" "$sys" <<'PY'
import json, sys
name, b, s, kb, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
cpu = float(sys.argv[6]) + float(sys.argv[7])
d = json.load(open(path))
extra = ""
if "dedup" in d:
    x = d["dedup"]
    extra = "exact %d near %d" % (x["exact_duplicates"], x["near_duplicates"])
    if "bands" in x["params"]:
        extra += " (b=%d r=%d)" % (x["params"]["bands"], x["params"]["rows"])
if "deid" in d:
    extra = "found %d" % d["deid"]["total"]
print("%-44s wall %6.1f MB/s (%5.2f s)  cpu %6.1f MB/s (%5.2f s)  peak RSS %4.0f MB  %s"
      % (name, b / 1e6 / max(s, 1e-9), s, b / 1e6 / max(cpu, 1e-9), cpu, kb / 1024, extra))
PY
}
run "dedup --exact-only"                       dedup --exact-only --out "$D/o.jsonl"
run "dedup --exact-only --dry-run (no output)"  dedup --exact-only --dry-run
run "dedup (near, 128 perm, 14x9, verified)"   dedup --out "$D/o.jsonl"
run "dedup --no-verify (datasketch 0.8: 9x13)" dedup --no-verify --out "$D/o.jsonl"
run "dedup text-dedup settings (256, 0.7)"     dedup --num-perm 256 --threshold 0.7 --no-verify --out "$D/o.jsonl"
run "deid (all types)"                         deid --out "$D/o.jsonl"
run "clean (defaults)"                         clean --out "$D/o.jsonl"
run "report (no tokenizer)"                    report --out "$D/rep" --no-png
