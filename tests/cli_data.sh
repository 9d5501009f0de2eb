#!/usr/bin/env bash
# End-to-end test of `vkft data` on tests/fixtures/data_corpus.jsonl (written by data_make_corpus.py):
# 100 distinct 160-word records (70 pos / 30 neg), 10 exact duplicates (case/whitespace variants),
# 8 near duplicates (one word replaced; 2 of them with the other label), personal data planted in
# 12 records (one of them a Luhn-invalid card number that must not be found), and 2 malformed lines
# (bad JSON at line 21, invalid UTF-8 at line 61). Every count is checked exactly.
set -euo pipefail
VKFT=${VKFT:?set VKFT to the vkft binary}
SRC=${VKFT_SOURCE_DIR:?set VKFT_SOURCE_DIR}
C="$SRC/tests/fixtures/data_corpus.jsonl"
T=$(mktemp -d /tmp/vkft_cli_data.XXXXXX)
trap 'rm -rf "$T"' EXIT
export VKFT_PROGRESS=0
fails=0
check() { # check "what" actual expected
    if [[ "$2" == "$3" ]]; then echo "ok   $1 = $2"; else echo "FAIL $1: got '$2', want '$3'"; fails=$((fails + 1)); fi
}
j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
sum_before=$(md5sum "$C" | cut -d' ' -f1)

# --- help and errors
"$VKFT" data --help | grep -q "dedup" && check "data --help lists steps" ok ok
for s in clean dedup deid augment balance report pipeline; do
    "$VKFT" data $s --help > "$T/h.txt"; check "$s --help" "$(grep -c usage "$T/h.txt")" 1
done
set +e
"$VKFT" data dedup --in "$C" --out "$T/x.jsonl" --treshold 0.8 2> "$T/err.txt"; rc=$?
set -e
check "unknown option exit code" "$rc" 2
check "unknown option suggests --threshold" "$(grep -c 'did you mean --threshold' "$T/err.txt")" 1
set +e
"$VKFT" data dedup --in "$C" --out "$C" 2> "$T/err.txt"; rc=$?
set -e
check "refuses to overwrite an input" "$rc" 2

# --- dedup
"$VKFT" data dedup --in "$C" --out "$T/dedup.jsonl" --summary "$T/dedup.json" --clusters "$T/pairs.jsonl" --quiet
check "dedup records_in" "$(j "$T/dedup.json" 'd["records_in"]')" 118
check "dedup records_out" "$(j "$T/dedup.json" 'd["records_out"]')" 100
check "dedup exact" "$(j "$T/dedup.json" 'd["dedup"]["exact_duplicates"]')" 10
check "dedup near" "$(j "$T/dedup.json" 'd["dedup"]["near_duplicates"]')" 8
check "dedup malformed" "$(j "$T/dedup.json" 'd["malformed"]')" 2
check "malformed line numbers" "$(j "$T/dedup.json" '[e.split(":")[1] for e in d["malformed_examples"]]')" "['21', '61']"
check "output lines" "$(wc -l < "$T/dedup.jsonl")" 100
check "pairs lines" "$(wc -l < "$T/pairs.jsonl")" 18
check "first exact pair" "$(head -1 "$T/pairs.jsonl" | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["kind"], p["removed_line"], p["kept_line"])')" "exact 103 1"
check "kept records are the first occurrences" "$(python3 -c 'import json,sys; print(sorted(json.loads(l)["id"] for l in open(sys.argv[1])) == list(range(100)))' "$T/dedup.jsonl")" True
"$VKFT" data dedup --in "$C" --out "$T/exact.jsonl" --exact-only --summary "$T/exact.json" --quiet
check "exact-only output" "$(j "$T/exact.json" 'd["records_out"]')" 108
set +e
"$VKFT" data dedup --in "$C" --out "$T/strict.jsonl" --strict --quiet 2> "$T/err.txt"; rc=$?
set -e
check "--strict fails" "$rc" 1
check "--strict names file:line" "$(grep -c 'data_corpus.jsonl:21: bad JSON' "$T/err.txt")" 1
check "--strict leaves no output" "$(ls "$T" | grep -c strict || true)" 0
"$VKFT" data dedup --in "$C" --out "$T/dry.jsonl" --dry-run > "$T/dry.json"
check "--dry-run writes no data" "$(test -e "$T/dry.jsonl" && echo yes || echo no)" no
check "--dry-run prints the summary" "$(j "$T/dry.json" 'd["records_out"]')" 100

# --- deid
"$VKFT" data deid --in "$C" --out "$T/deid.jsonl" --summary "$T/deid.json" --audit "$T/audit.jsonl" --quiet
check "deid found" "$(j "$T/deid.json" 'sorted((k, v) for k, v in d["deid"]["found"].items() if v)')" \
    "[('CARD', 2), ('EMAIL', 3), ('IBAN', 1), ('IP', 2), ('MRN', 1), ('PHONE', 2), ('SSN', 1), ('URL', 1)]"
check "deid records changed" "$(j "$T/deid.json" 'd["deid"]["records_changed"]')" 11
check "Luhn-invalid card kept" "$(grep -c '4111 1111 1111 1112' "$T/deid.jsonl")" 1
check "valid card removed" "$(grep -c '4111 1111 1111 1111' "$T/deid.jsonl" || true)" 0
check "consistent placeholder" "$(grep -c 'mail \[EMAIL_1\] and \[EMAIL_1\] again' "$T/deid.jsonl")" 1
check "audit lines" "$(wc -l < "$T/audit.jsonl")" 13
check "audit has no values" "$(grep -c '@example' "$T/audit.jsonl" || true)" 0

# nested chat records: every string field, placeholders consistent across the file
cat > "$T/chat.jsonl" <<'EOF2'
{"messages": [{"role": "user", "content": "I am bob@example.com"}, {"role": "assistant", "content": "Hi bob@example.com"}]}
{"messages": [{"role": "user", "content": "Mail bob@example.com or amy@example.org"}, {"role": "assistant", "content": "ok"}]}
EOF2
"$VKFT" data deid --in "$T/chat.jsonl" --out "$T/chat_out.jsonl" --all-fields --scope file --audit "$T/chat_audit.jsonl" --quiet
check "all fields, file scope" "$(python3 -c 'import json,sys; print([m["content"] for l in open(sys.argv[1]) for m in json.loads(l)["messages"]])' "$T/chat_out.jsonl")" \
    "['I am [EMAIL_1]', 'Hi [EMAIL_1]', 'Mail [EMAIL_1] or [EMAIL_2]', 'ok']"
check "audit names nested fields" "$(python3 -c 'import json,sys; print(sorted({json.loads(l)["field"] for l in open(sys.argv[1])}))' "$T/chat_audit.jsonl")" \
    "['messages.0.content', 'messages.1.content']"
"$VKFT" data dedup --in "$T/chat.jsonl" --field messages.0.content --out "$T/chat_d.jsonl" --summary "$T/chat_d.json" --quiet
check "dedup on a nested field" "$(j "$T/chat_d.json" 'd["records_out"]')" 2

# --- balance (on the deduplicated data: 70 pos / 30 neg)
"$VKFT" data balance --in "$T/dedup.jsonl" --out "$T/bal.jsonl" --summary "$T/bal.json" --weights-out "$T/w.json" --quiet
check "balance over: out" "$(j "$T/bal.json" 'd["records_out"]')" 140
check "balance over: neg" "$(python3 -c 'import json,sys; print(sum(json.loads(l)["label"] == "neg" for l in open(sys.argv[1])))' "$T/bal.jsonl")" 70
check "class weights" "$(j "$T/w.json" 'round(d["class_weights"]["neg"] / d["class_weights"]["pos"], 4)')" 2.3333
"$VKFT" data balance --in "$T/dedup.jsonl" --out "$T/bal2.jsonl" --mode under --summary "$T/bal2.json" --quiet
check "balance under: out" "$(j "$T/bal2.json" 'd["records_out"]')" 60

# --- clean (CSV in, JSONL out)
printf 'text,label\n"  Caf\xc3\xa9\xe2\x80\x8b  au   lait ",pos\n"",neg\nok,\nshort,pos\n"March 19, 2025 cost 1,234.50 here",neg\n' > "$T/c.csv"
"$VKFT" data clean --in "$T/c.csv" --out "$T/c.jsonl" --missing label=fill:unknown --min-chars 6 --dates month-first \
    --numbers --summary "$T/c.json" --quiet
check "clean out" "$(j "$T/c.json" 'd["records_out"]')" 2
check "clean dropped empty text" "$(j "$T/c.json" 'd["clean"]["missing"]["text"]["dropped"]')" 1
check "clean too short" "$(j "$T/c.json" 'd["clean"]["dropped_too_short"]')" 2
check "clean text" "$(head -1 "$T/c.jsonl")" '{"text":"Café au lait","label":"pos"}'
check "clean dates+numbers" "$(tail -1 "$T/c.jsonl")" '{"text":"2025-03-19 cost 1234.50 here","label":"neg"}'

# --- report
"$VKFT" data report --in "$C" --out "$T/rep" --quiet
check "report files" "$(ls "$T/rep" | tr '\n' ' ')" "labels.png length_chars.png length_words.png report.json report.md "
check "report records" "$(j "$T/rep/report.json" 'd["records"]')" 118
check "report exact/near" "$(j "$T/rep/report.json" '(d["duplicates"]["exact"], d["duplicates"]["near"])')" "(10, 8)"
check "report anomalies" "$(j "$T/rep/report.json" 'd["anomalies"]["near_identical_text_different_label"]')" 2
check "report pii" "$(j "$T/rep/report.json" 'd["personal_data"]["records_with_personal_data"]')" 11
check "report labels" "$(j "$T/rep/report.json" 'd["labels"]["counts"]')" "{'pos': 79, 'neg': 39}"
check "PNG signature" "$(head -c 4 "$T/rep/labels.png" | tail -c 3)" PNG

# --- tokenizer fit (report) and token-length filters (clean), with the WordPiece test fixture
TOK="$SRC/tests/fixtures/tok_wordpiece/tokenizer.json"
if [[ -e "$TOK" ]]; then
    "$VKFT" data report --in "$C" --out "$T/rep_tok" --tokenizer "$TOK" --no-png --quiet
    check "report tokens per word > 1" "$(j "$T/rep_tok/report.json" 'd["tokenizer"]["tokens_per_word"] > 1')" True
    check "report unknown-token rate" "$(j "$T/rep_tok/report.json" 'd["tokenizer"]["unknown_token_rate"]')" 0
    "$VKFT" data clean --in "$C" --out "$T/ct.jsonl" --tokenizer "$TOK" --max-tokens 1000000 --summary "$T/ct.json" --quiet
    check "clean --max-tokens keeps all" "$(j "$T/ct.json" 'd["records_out"]')" 118
    "$VKFT" data clean --in "$C" --out "$T/ct.jsonl" --tokenizer "$TOK" --max-tokens 10 --summary "$T/ct.json" --quiet
    check "clean --max-tokens 10 drops all" "$(j "$T/ct.json" 'd["clean"]["dropped_too_long"]')" 118
fi

# --- pipeline: clean -> dedup -> deid -> balance, with a report
cat > "$T/recipe.json" <<EOF
{"in": ["$C"], "out": "$T/final.jsonl", "report": "$T/prep",
 "steps": [{"step": "clean", "min_words": 3},
           {"step": "dedup"},
           {"step": "deid", "scope": "file"},
           {"step": "balance", "mode": "over"}]}
EOF
"$VKFT" data pipeline "$T/recipe.json" --summary "$T/pipe.json" --quiet
check "pipeline steps" "$(j "$T/pipe.json" '[s["step"] for s in d["steps"]]')" "['clean', 'dedup', 'deid', 'balance']"
check "pipeline counts" "$(j "$T/pipe.json" '[s["records_out"] for s in d["steps"]]')" "[118, 100, 100, 140]"
check "pipeline final lines" "$(wc -l < "$T/final.jsonl")" 140
check "pipeline report" "$(j "$T/prep/report.json" 'd["records"]')" 140
check "pipeline leaves no temporary folder" "$(ls "$T" | grep -c steps || true)" 0
echo '{"steps": [{"step": "dedup", "treshold": 0.9}]}' > "$T/bad.json"
set +e
"$VKFT" data pipeline "$T/bad.json" --in "$C" --out "$T/bad.jsonl" --quiet 2> "$T/err.txt"; rc=$?
set -e
check "bad recipe key fails" "$rc" 2
check "bad recipe key suggestion" "$(grep -c 'did you mean --threshold' "$T/err.txt")" 1

# --- augment (WordNet methods only when wordnet-base is installed)
head -3 "$T/dedup.jsonl" > "$T/three.jsonl"
"$VKFT" data augment --in "$T/three.jsonl" --out "$T/aug.jsonl" --methods rs,rd --copies 2 --summary "$T/aug.json" --quiet
check "augment out" "$(wc -l < "$T/aug.jsonl")" 9
check "augmented copies follow their source" "$(python3 -c 'import json,sys; print(["aug" if "augmentation" in json.loads(l) else "src" for l in open(sys.argv[1])])' "$T/aug.jsonl")" \
    "['src', 'aug', 'aug', 'src', 'aug', 'aug', 'src', 'aug', 'aug']"
check "augment provenance" "$(grep -c '"augmentation":{"source":"'"$T"'/three.jsonl:1","source_index":0,"method":"rs"}' "$T/aug.jsonl")" 1
"$VKFT" data augment --in "$T/dedup.jsonl" --out "$T/augm.jsonl" --methods rs --minority --summary "$T/augm.json" --quiet
check "augment --minority: one copy per neg record (70/30)" "$(j "$T/augm.json" '(d["records_out"], d["augment"]["made"]["rs"])')" "(130, 30)"
"$VKFT" data augment --in "$T/dedup.jsonl" --out "$T/augp.jsonl" --methods rd --per-class neg=2 --summary "$T/augp.json" --quiet
check "augment --per-class neg=2" "$(j "$T/augp.json" 'd["records_out"]')" 160
if [[ -e /usr/share/wordnet/index.noun ]]; then
    "$VKFT" data augment --in "$T/three.jsonl" --out "$T/aug2.jsonl" --methods sr --quiet
    check "augment sr out" "$(wc -l < "$T/aug2.jsonl")" 6
    echo '{"text": "The doctor gave the patient aspirin for the headache."}' > "$T/med.jsonl"
    "$VKFT" data augment --in "$T/med.jsonl" --out "$T/med_aug.jsonl" --methods sr --rate 0.9 --protect-term aspirin \
        --protect-term "the headache" --quiet
    check "protected terms survive synonym replacement" \
        "$(tail -1 "$T/med_aug.jsonl" | grep -c 'aspirin for the headache')" 1
else
    echo "SKIP WordNet augmentation: /usr/share/wordnet not installed (apt-get install wordnet-base)"
fi

# --- text files, one document per file
printf 'first line\nsecond line\n' > "$T/f1.txt"; cp "$T/f1.txt" "$T/f2.txt"; printf 'other doc\n' > "$T/f3.txt"
"$VKFT" data dedup --in "$T/f1.txt" --in "$T/f2.txt" --in "$T/f3.txt" --text-per-file --out "$T/all.txt" --quiet
check "text per file" "$(tr '\n' '|' < "$T/all.txt")" "first line second line|other doc|"

# --- CSV output from records with differing fields: counted and warned about, never silent
printf '{"text":"a","label":"x"}\n{"text":"b","label":"y","extra":1}\n' > "$T/mixed.jsonl"
"$VKFT" data clean --in "$T/mixed.jsonl" --out "$T/mixed.csv" --summary "$T/mixed.json" 2> "$T/err.txt"
check "fields not in the CSV header counted" "$(j "$T/mixed.json" 'd["records_with_fields_not_in_csv_header"]')" 1
check "and warned about" "$(grep -c 'not written' "$T/err.txt")" 1

# --- format conversion and input untouched
"$VKFT" data dedup --in "$C" --out "$T/d.csv" --exact-only --quiet
"$VKFT" data dedup --in "$T/d.csv" --out "$T/d2.jsonl" --exact-only --summary "$T/d2.json" --quiet
check "CSV round trip" "$(j "$T/d2.json" 'd["records_out"]')" 108
check "input unchanged" "$(md5sum "$C" | cut -d' ' -f1)" "$sum_before"

if [[ $fails -gt 0 ]]; then echo "cli_data: $fails failed"; exit 1; fi
echo "cli_data: all passed"
