#include "data/wordnet.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"

static const char *const pos_names[4] = {"noun", "verb", "adj", "adv"};

typedef struct {
    char *text;
    size_t n;
    size_t *lines; /* offsets of lemma lines (sorted by lemma) */
    size_t nlines;
    int data_fd;
} wn_pos;

struct vkft_wordnet {
    wn_pos pos[4];
};

void vkft_wordnet_close(vkft_wordnet *wn) {
    if (!wn) return;
    for (int i = 0; i < 4; i++) {
        free(wn->pos[i].text);
        free(wn->pos[i].lines);
        if (wn->pos[i].data_fd >= 0) close(wn->pos[i].data_fd);
    }
    free(wn);
}

int vkft_wordnet_open(vkft_wordnet **out, const char *dir, char *err, size_t errlen) {
    if (!dir) dir = getenv("WNSEARCHDIR");
    if (!dir) dir = VKFT_WORDNET_DEFAULT_DIR;
    vkft_wordnet *wn = calloc(1, sizeof *wn);
    if (!wn) return -1;
    for (int i = 0; i < 4; i++) wn->pos[i].data_fd = -1;
    for (int i = 0; i < 4; i++) {
        wn_pos *p = &wn->pos[i];
        char path[1024];
        snprintf(path, sizeof path, "%s/index.%s", dir, pos_names[i]);
        if (vkft_read_file(path, &p->text, &p->n, err, errlen)) {
            snprintf(err, errlen,
                     "WordNet not found at %s (install Debian's wordnet-base, or point --wordnet / "
                     "$WNSEARCHDIR at a folder with index.noun and data.noun)",
                     dir);
            vkft_wordnet_close(wn);
            return -1;
        }
        size_t cap = 1024;
        p->lines = malloc(cap * sizeof *p->lines);
        for (size_t at = 0; at < p->n;) {
            char *nl = memchr(p->text + at, '\n', p->n - at);
            size_t end = nl ? (size_t)(nl - p->text) : p->n;
            if (p->text[at] != ' ' && end > at) { /* license lines start with spaces */
                if (p->nlines == cap) {
                    cap *= 2;
                    p->lines = realloc(p->lines, cap * sizeof *p->lines);
                }
                p->lines[p->nlines++] = at;
            }
            if (nl) *nl = 0;
            at = end + 1;
        }
        snprintf(path, sizeof path, "%s/data.%s", dir, pos_names[i]);
        p->data_fd = open(path, O_RDONLY);
        if (p->data_fd < 0) {
            snprintf(err, errlen, "WordNet: cannot open %s", path);
            vkft_wordnet_close(wn);
            return -1;
        }
    }
    *out = wn;
    return 0;
}

/* Compares the lemma at the start of line with key (both up to the first space / NUL). */
static int lemma_cmp(const char *key, const char *line) {
    for (;; key++, line++) {
        char a = *key, b = *line == ' ' ? 0 : *line;
        if (a != b) return (unsigned char)a < (unsigned char)b ? -1 : 1;
        if (!a) return 0;
    }
}

static int add_unique(vkft_buf *out, int count, const char *w, size_t n) {
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(out->p + at);
        if (len == n && !memcmp(out->p + at, w, n)) return 0;
        at += len + 1;
    }
    vkft_buf_add(out, w, n);
    vkft_buf_addc(out, 0);
    return 1;
}

int vkft_wordnet_synonyms(vkft_wordnet *wn, const char *word, size_t n, int max_senses, vkft_buf *out) {
    char key[128];
    if (n == 0 || n >= sizeof key) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)word[i];
        key[i] = c == ' ' ? '_' : (char)tolower(c);
    }
    key[n] = 0;
    out->n = 0;
    int count = 0;
    for (int pi = 0; pi < 4; pi++) {
        wn_pos *p = &wn->pos[pi];
        size_t lo = 0, hi = p->nlines;
        const char *line = NULL;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = lemma_cmp(key, p->text + p->lines[mid]);
            if (c == 0) {
                line = p->text + p->lines[mid];
                break;
            }
            if (c < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (!line) continue;
        /* lemma pos synset_cnt p_cnt [ptr]{p_cnt} sense_cnt tagsense_cnt offsets{synset_cnt} */
        char *tok[1024];
        int nt = 0;
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", line);
        char *save;
        for (char *t = strtok_r(copy, " ", &save); t && nt < 1024; t = strtok_r(NULL, " ", &save))
            tok[nt++] = t;
        if (nt < 4) continue;
        int synsets = atoi(tok[2]), pcnt = atoi(tok[3]);
        int first = 4 + pcnt + 2;
        for (int s = 0; s < synsets && s < max_senses && first + s < nt; s++) {
            long off = atol(tok[first + s]);
            char buf[4096];
            ssize_t got = pread(p->data_fd, buf, sizeof buf - 1, off);
            if (got <= 0) continue;
            buf[got] = 0;
            char *nl = strchr(buf, '\n');
            if (nl) *nl = 0;
            /* offset lex_filenum ss_type w_cnt(hex) word lex_id ... */
            char *f[8], *sv;
            int k = 0;
            char *t = strtok_r(buf, " ", &sv);
            while (t && k < 4) {
                f[k++] = t;
                t = k < 4 ? strtok_r(NULL, " ", &sv) : t;
            }
            if (k < 4) continue;
            int wcnt = (int)strtol(f[3], NULL, 16);
            for (int w = 0; w < wcnt; w++) {
                char *lemma = strtok_r(NULL, " ", &sv), *lexid = strtok_r(NULL, " ", &sv);
                if (!lemma || !lexid) break;
                char *paren = strchr(lemma, '(');
                if (paren) *paren = 0; /* adjective markers: word(a), word(p) */
                size_t len = strlen(lemma);
                char lower[128];
                if (len >= sizeof lower) continue;
                for (size_t i = 0; i <= len; i++) lower[i] = (char)tolower((unsigned char)lemma[i]);
                if (!strcmp(lower, key)) continue;
                for (size_t i = 0; i < len; i++)
                    if (lemma[i] == '_') lemma[i] = ' ';
                count += add_unique(out, count, lemma, len);
            }
        }
    }
    return count;
}
