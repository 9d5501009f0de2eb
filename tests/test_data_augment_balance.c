/* augment (EDA ops, WordNet synonyms, protected terms, sentence reordering, determinism) and balance
 * (targets, exact counts from selection sampling, class weights). WordNet checks are skipped, with a
 * message, when Debian's wordnet-base is not installed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/augment.h"
#include "data/balance.h"
#include "data/wordnet.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static int have_wordnet(void) { return access(VKFT_WORDNET_DEFAULT_DIR "/index.noun", R_OK) == 0; }

static void test_wordnet(test_state *t) {
    if (!have_wordnet()) {
        printf("SKIP WordNet checks: %s/index.noun not found (apt-get install wordnet-base)\n",
               VKFT_WORDNET_DEFAULT_DIR);
        return;
    }
    vkft_wordnet *wn;
    char err[512];
    CHECK(t, vkft_wordnet_open(&wn, NULL, err, sizeof err) == 0, "open WordNet: %s", err);
    vkft_buf b = {0};
    int n = vkft_wordnet_synonyms(wn, "car", 3, 2, &b);
    int has_auto = 0;
    const char *p = b.p;
    for (int i = 0; i < n; i++, p += strlen(p) + 1)
        has_auto |= !strcmp(p, "auto") || !strcmp(p, "automobile");
    CHECK(t, n > 0 && has_auto, "synonyms of car include auto/automobile (%d found)", n);
    CHECK(t, vkft_wordnet_synonyms(wn, "Quick", 5, 2, &b) > 0, "case-insensitive lookup");
    CHECK(t, vkft_wordnet_synonyms(wn, "xqzvv", 5, 2, &b) == 0, "unknown word: none");
    vkft_buf_free(&b);
    vkft_wordnet_close(wn);
    vkft_wordnet *bad;
    CHECK(t, vkft_wordnet_open(&bad, "/nonexistent", err, sizeof err) == -1 && strstr(err, "wordnet-base"),
          "missing WordNet says what to install");
}

static void test_augment(test_state *t) {
    vkft_augment_opts o;
    vkft_augment_opts_defaults(&o);
    char err[512];
    if (!have_wordnet()) vkft_augment_parse_methods(&o, "rs,rd,reorder", err, sizeof err);
    o.rate = 0.3;
    vkft_augmenter *a;
    CHECK(t, vkft_augmenter_new(&a, &o, err, sizeof err) == 0, "augmenter: %s", err);
    vkft_augmenter_protect(a, "aspirin");
    vkft_augmenter_protect(a, "blood pressure");
    const char *text =
        "The quick doctor gave aspirin to the happy patient because blood pressure was high today.";
    vkft_buf out = {0};
    for (int m = 0; m < VKFT_AUG_NMETHODS; m++) {
        if (!have_wordnet() && (m == VKFT_AUG_SR || m == VKFT_AUG_RI)) continue;
        if (vkft_augment_method_needs_model(m)) { /* only through the step's backend */
            uint64_t rng = 1;
            CHECK(t, vkft_augment_text(a, m, text, &out, &rng) == 0, "%s without a backend does not apply",
                  vkft_augment_method_name(m));
            continue;
        }
        int changed_all = 1, kept_protected = 1;
        for (uint64_t seed = 1; seed <= 20; seed++) {
            uint64_t rng = seed;
            int rc = vkft_augment_text(a, m, text, &out, &rng);
            if (m == VKFT_AUG_REORDER) {
                CHECK(t, rc == 0, "one sentence: reorder does not apply");
                break;
            }
            if (rc != 1 || !strcmp(out.p, text)) changed_all = 0;
            if (rc == 1 && m != VKFT_AUG_RS &&
                (!strstr(out.p, "aspirin") || !strstr(out.p, "blood pressure")))
                kept_protected = 0;
            if (rc == 1 && m == VKFT_AUG_RS &&
                (!strstr(out.p, "aspirin") || !strstr(out.p, "blood pressure")))
                kept_protected = 0;
            if (seed == 1) printf("  %-7s %s\n", vkft_augment_method_name(m), rc == 1 ? out.p : "(n/a)");
        }
        if (m != VKFT_AUG_REORDER) {
            CHECK(t, changed_all, "%s changes the text for 20 seeds", vkft_augment_method_name(m));
            CHECK(t, kept_protected, "%s keeps the protected terms", vkft_augment_method_name(m));
        }
    }
    /* determinism */
    uint64_t r1 = 42, r2 = 42;
    vkft_buf o2 = {0};
    vkft_augment_text(a, VKFT_AUG_RS, text, &out, &r1);
    vkft_augment_text(a, VKFT_AUG_RS, text, &o2, &r2);
    CHECK(t, !strcmp(out.p, o2.p), "same seed, same output");
    /* reorder on several sentences, multi-byte text */
    const char *doc = "Première phrase ici. Second one!  Third — with dash? Fourth.";
    uint64_t r = 3;
    CHECK(t, vkft_augment_text(a, VKFT_AUG_REORDER, doc, &out, &r) == 1, "reorder applies");
    CHECK(t,
          strcmp(out.p, doc) && strlen(out.p) == strlen(doc) - 1 && strstr(out.p, "Première phrase ici.") &&
              strstr(out.p, "Third — with dash?"),
          "reorder permutes whole sentences: %s", out.p);
    vkft_buf_free(&out);
    vkft_buf_free(&o2);
    vkft_augmenter_free(a);
    CHECK(t, vkft_augment_parse_methods(&o, "sr,paraphrase", err, sizeof err) == 0 && o.n_methods == 2,
          "model-driven methods parse: %s", err);
    CHECK(t, vkft_augment_parse_methods(&o, "sr,parafrase", err, sizeof err) == -1 && strstr(err, "backtranslate"),
          "an unknown method lists the known ones");
    vkft_augment_parse_methods(&o, "mlm", err, sizeof err);
    vkft_augment_step *st;
    vkft_step step;
    CHECK(t, vkft_augment_step_new(&st, &o, "text", "label", &step, err, sizeof err) == -1 && strstr(err, "--model"),
          "a model method without a backend is refused with a reason: %s", err);
}

static void test_balance(test_state *t) {
    vkft_balance_opts o;
    vkft_balance_opts_defaults(&o);
    long n[3] = {100, 30, 7}, tg[3];
    vkft_balance_targets(&o, n, 3, tg);
    CHECK(t, tg[0] == 100 && tg[1] == 100 && tg[2] == 100, "over to 1:1");
    o.ratio = 0.5;
    vkft_balance_targets(&o, n, 3, tg);
    CHECK(t, tg[0] == 100 && tg[1] == 50 && tg[2] == 50, "over to 1:2");
    o.mode = VKFT_BALANCE_UNDER;
    o.ratio = 1;
    vkft_balance_targets(&o, n, 3, tg);
    CHECK(t, tg[0] == 7 && tg[1] == 7 && tg[2] == 7, "under to the minority");
    o.mode = VKFT_BALANCE_BOTH;
    vkft_balance_targets(&o, n, 3, tg);
    CHECK(t, tg[0] == 46 && tg[1] == 46 && tg[2] == 46, "both: to the mean (%ld %ld %ld)", tg[0], tg[1],
          tg[2]);
    double w[3];
    o.weights = VKFT_WEIGHTS_INVERSE;
    vkft_class_weights(&o, n, 3, w);
    CHECK(t,
          fabs(w[0] + w[1] + w[2] - 3) < 1e-9 && w[2] > w[1] && w[1] > w[0] &&
              fabs(w[2] / w[0] - 100.0 / 7) < 1e-9,
          "inverse-frequency weights");
    o.weights = VKFT_WEIGHTS_EFFECTIVE;
    o.beta = 0.99;
    vkft_class_weights(&o, n, 3, w);
    CHECK(t, fabs(w[0] + w[1] + w[2] - 3) < 1e-9 && w[2] > w[1] && w[1] > w[0] && w[2] / w[0] < 100.0 / 7,
          "effective-number weights are flatter than inverse frequency");

    /* end to end through the step driver: exact counts */
    char dir[] = "/tmp/vkft_test_balance_XXXXXX";
    if (!mkdtemp(dir)) return;
    char in[256], out[256], err[512];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    FILE *f = fopen(in, "w");
    for (int i = 0; i < 137; i++)
        fprintf(f, "{\"text\":\"r%d\",\"label\":\"%s\"}\n", i, i < 100 ? "a" : i < 130 ? "b" : "c");
    fprintf(f, "{\"text\":\"no label\"}\n");
    fclose(f);
    for (int mode = VKFT_BALANCE_OVER; mode <= VKFT_BALANCE_BOTH; mode++) {
        vkft_balance_opts_defaults(&o);
        o.mode = mode;
        o.ratio = 0.5;
        vkft_balance_step *s;
        vkft_step step;
        CHECK(t, vkft_balance_step_new(&s, &o, "label", &step, err, sizeof err) == 0, "step");
        vkft_data_io io;
        vkft_data_io_defaults(&io);
        const char *ins[1] = {in};
        io.inputs = ins;
        io.n_inputs = 1;
        io.out = out;
        cJSON *sum = cJSON_CreateObject();
        CHECK(t, vkft_data_run(&io, "balance", &step, sum, err, sizeof err) == 0, "run: %s", err);
        char *data;
        size_t len;
        vkft_read_file(out, &data, &len, err, sizeof err);
        long ca = 0, cb = 0, cc = 0, cn = 0;
        for (char *p = data; (p = strstr(p, "\"text\"")); p++) {
            if (strstr(p, "\"label\":\"a\"") == strchr(p, '}') - 11)
                ca++;
            else if (strstr(p, "\"label\":\"b\"") == strchr(p, '}') - 11)
                cb++;
            else if (strstr(p, "\"label\":\"c\"") == strchr(p, '}') - 11)
                cc++;
            else
                cn++;
        }
        free(data);
        long want[3][3] = {{100, 50, 50}, {14, 14, 7}, {46, 30, 23}};
        long *wv = want[mode - 1];
        CHECK(t, ca == wv[0] && cb == wv[1] && cc == wv[2] && cn == 1,
              "mode %d: counts %ld %ld %ld (+%ld unlabeled), "
              "want %ld %ld %ld (+1)",
              mode, ca, cb, cc, cn, wv[0], wv[1], wv[2]);
        cJSON_Delete(sum);
        vkft_balance_step_free(s);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_data_augment_balance");
    test_wordnet(&t);
    test_augment(&t);
    test_balance(&t);
    return test_finish(&t);
}
