#!/usr/bin/env node
// Reference renderer for vkft's chat-template parity test (tests/test_data_chat_template.c):
// @huggingface/jinja, the Jinja of transformers.js, set up as transformers sets up Jinja2
// (trim_blocks and lstrip_blocks on).
//
// usage: node chat_template.js --npm DIR CASES
//   CASES: one JSON object per line, {"template": "...", "vars": {...}}
//   prints one JSON object per case: {"text": "..."} or {"error": "..."}
'use strict';
const fs = require('fs');
const path = require('path');

const i = process.argv.indexOf('--npm');
const npmDir = path.resolve(i >= 0 ? process.argv[i + 1] : path.join(__dirname, '..', '..', 'build', 'npm'));
const casesPath = process.argv[process.argv.length - 1];
const { Template } = require(path.join(npmDir, 'node_modules', '@huggingface', 'jinja'));

const parsed = new Map(); // template text -> Template or the parse error
const out = [];
for (const line of fs.readFileSync(casesPath, 'utf8').split('\n')) {
    if (!line) continue;
    const c = JSON.parse(line);
    if (!parsed.has(c.template)) {
        try {
            parsed.set(c.template, new Template(c.template));
        } catch (e) {
            parsed.set(c.template, e);
        }
    }
    const t = parsed.get(c.template);
    try {
        if (t instanceof Error) throw t;
        out.push(JSON.stringify({ text: t.render(c.vars) }));
    } catch (e) {
        out.push(JSON.stringify({ error: String(e.message || e) }));
    }
}
process.stdout.write(out.join('\n') + '\n');
