/*
 * The injection guard's featuriser (mageguard/guard/features.py) in C: the same hashed,
 * signed character and word n-grams, sorted and summed per (unit, column), bit for bit.
 * mg_featurize returns the counts (damping and the L2 norm stay in numpy, so the rows
 * are numpy's to the bit). mg_logits, what the gateway runs, goes on to the model's
 * logit per unit without sorting: it gathers each unit's counts in a small hash table
 * and dots them with the weights (equal to the numpy path's within float rounding: the
 * sums run in another order). It hashes the n-grams itself, unit by unit, instead of
 * through build_keys: going through build_keys's key array and one table for all units
 * cost ~40 us more for a 1 KB message (measured). tests/guard/test_native.py holds both
 * to the numpy featuriser, so the two hashings cannot drift apart.
 *
 * Why: in the gateway the numpy version costs ~0.3 ms a request, nearly all of it the
 * fixed cost of ~60 small numpy calls; this loop does the same work in ~0.03 ms.
 * features.py stays the reference (training uses it; tests compare the two on random
 * text) and the fallback where no C compiler was available at install time.
 *
 * Unsigned 64-bit arithmetic wraps modulo 2**64 exactly as numpy's uint64 does.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x9E3779B97F4A7C15ULL
#define SALT_CHAR 0x2545F4914F6CDD1DULL
#define SALT_WORD 0x5851F42D4C957F2DULL
#define SALT_BIGRAM 0x14057B7EF767814FULL

static inline uint64_t mix(uint64_t z) {
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z;
}

static uint64_t inverse(uint64_t a) {
    /* Newton's iteration for the inverse of an odd number modulo 2**64. */
    uint64_t x = a;
    for (int i = 0; i < 6; i++) x *= 2 - a * x;
    return x;
}

/* LSD radix sort of non-negative keys below `limit`, 11 bits a pass (a 16 KiB count
 * table stays in L1), as many passes as `limit` needs: 2 for a few texts. */
#define DIGIT 11
#define BUCKETS (1 << DIGIT)
static void radix_sort(int64_t *key, int64_t *tmp, int64_t n, int64_t limit) {
    int passes = 0;
    for (uint64_t l = (uint64_t)(limit > 0 ? limit - 1 : 0); l; l >>= DIGIT) passes++;
    int64_t *src = key, *dst = tmp;
    int64_t count[BUCKETS]; /* on the stack: callers run in several threads */
    for (int p = 0; p < passes; p++) {
        int shift = DIGIT * p;
        memset(count, 0, sizeof(count));
        for (int64_t i = 0; i < n; i++) count[((uint64_t)src[i] >> shift) & (BUCKETS - 1)]++;
        int64_t sum = 0;
        for (int d = 0; d < BUCKETS; d++) {
            int64_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++)
            dst[count[((uint64_t)src[i] >> shift) & (BUCKETS - 1)]++] = src[i];
        int64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != key) memcpy(key, src, (size_t)n * sizeof(int64_t));
}

/* Scratch for one call: freed by free_work whatever happened. */
typedef struct {
    uint64_t *prefix, *ipw, *wh;
    int64_t *ukey, *last_sep, *key, *tmp, *w_start, *w_stop;
} work_t;

static void free_work(work_t *w) {
    free(w->prefix);
    free(w->ipw);
    free(w->ukey);
    free(w->last_sep);
    free(w->key);
    free(w->tmp);
    free(w->w_start);
    free(w->w_stop);
    free(w->wh);
}

/*
 * cp: the prepared text's code points (features.prepare), `length` of them, >= 2.
 * word: one byte per code point 0..0x10FFFF, non-zero for word characters.
 * Leaves the sorted keys (unit << (bits + 1) | column << 1 | sign) of every kept n-gram
 * in w->key and returns how many, or -1 on allocation failure.
 */
static int64_t build_keys(work_t *w, const uint32_t *cp, int64_t length, const uint8_t *word,
                          const int32_t *ngrams, int32_t n_ngrams, int32_t bits,
                          int32_t word_unigrams, int32_t word_bigrams, int64_t n_texts,
                          int64_t total) {
    const int64_t n_units = n_texts + (total > 0 ? 1 : 0);
    const int shift = bits + 1;
    const int64_t dummy = n_units << shift;
    const unsigned top = (unsigned)(63 - bits);
    const uint64_t base_inv = inverse(BASE);

    int64_t n_keys_max = 0;
    for (int k = 0; k < n_ngrams; k++)
        if (length >= ngrams[k]) n_keys_max += length - ngrams[k] + 1;
    n_keys_max += 2 * length; /* words and bigrams: fewer than the characters */
    if (total > 0) n_keys_max *= 2;

    w->prefix = malloc((size_t)(length + 1) * sizeof(uint64_t));
    w->ipw = malloc((size_t)(length + 1) * sizeof(uint64_t));
    w->ukey = malloc((size_t)length * sizeof(int64_t));
    w->last_sep = malloc((size_t)length * sizeof(int64_t));
    w->key = malloc((size_t)n_keys_max * sizeof(int64_t));
    w->tmp = malloc((size_t)n_keys_max * sizeof(int64_t));
    w->w_start = malloc((size_t)length * sizeof(int64_t));
    w->w_stop = malloc((size_t)length * sizeof(int64_t));
    w->wh = malloc((size_t)length * sizeof(uint64_t));
    if (!w->prefix || !w->ipw || !w->ukey || !w->last_sep || !w->key || !w->tmp ||
        !w->w_start || !w->w_stop || !w->wh)
        return -1;
    uint64_t *prefix = w->prefix, *ipw = w->ipw, *wh = w->wh;
    int64_t *ukey = w->ukey, *last_sep = w->last_sep, *key = w->key;
    int64_t *w_start = w->w_start, *w_stop = w->w_stop;

    /* prefix[i] = sum(cp[k] * BASE**k, k < i); ipw[i] = BASE**-i; ukey: unit of i. */
    uint64_t pw = 1, ip = 1;
    int64_t seps = 0, last = -1;
    prefix[0] = 0;
    for (int64_t i = 0; i < length; i++) {
        prefix[i + 1] = prefix[i] + (uint64_t)cp[i] * pw;
        ipw[i] = ip;
        pw *= BASE;
        ip *= base_inv;
        if (cp[i] == 1) {
            seps++;
            last = i;
        }
        ukey[i] = seps << shift;
        last_sep[i] = last; /* the last separator at or before i */
    }

    int64_t nk = 0;
    for (int k = 0; k < n_ngrams; k++) {
        const int64_t n = ngrams[k];
        if (length < n) continue;
        const uint64_t salt = SALT_CHAR * (uint64_t)n;
        for (int64_t a = 0; a + n <= length; a++) {
            /* a separator inside [a, a + n) drops the n-gram */
            if (last_sep[a + n - 1] >= a) {
                key[nk++] = dummy;
                continue;
            }
            uint64_t h = mix((prefix[a + n] - prefix[a]) * ipw[a] + salt);
            key[nk++] = ukey[a] | (int64_t)(h >> top);
        }
    }

    int64_t n_words = 0;
    if (word_unigrams || word_bigrams) {
        int in = 0;
        for (int64_t i = 0; i < length; i++) {
            int is_w = word[cp[i]] != 0;
            if (is_w && !in) w_start[n_words] = i;
            if (!is_w && in) w_stop[n_words++] = i;
            in = is_w;
        }
        for (int64_t j = 0; j < n_words; j++)
            wh[j] = mix((prefix[w_stop[j]] - prefix[w_start[j]]) * ipw[w_start[j]] + SALT_WORD);
        if (word_unigrams)
            for (int64_t j = 0; j < n_words; j++)
                key[nk++] = ukey[w_start[j]] | (int64_t)(wh[j] >> top);
        if (word_bigrams && n_words > 1)
            for (int64_t j = 0; j + 1 < n_words; j++) {
                uint64_t bh = mix(wh[j] * BASE + mix(wh[j + 1]) + SALT_BIGRAM);
                int64_t u0 = ukey[w_start[j]], u1 = ukey[w_start[j + 1]];
                key[nk++] = u0 != u1 ? dummy : (u1 | (int64_t)(bh >> top));
            }
    }

    if (total > 0) {
        const int64_t bound = total << shift;
        const int64_t low = ((int64_t)1 << shift) - 1;
        const int64_t doc = n_texts << shift;
        int64_t n0 = nk;
        for (int64_t i = 0; i < n0; i++)
            if (key[i] < bound) key[nk++] = (key[i] & low) | doc;
    }

    radix_sort(key, w->tmp, nk, dummy + ((int64_t)1 << shift));
    int64_t end = 0;
    while (end < nk && key[end] < dummy) end++;
    return end;
}

/*
 * Writes the non-zero (unit, column, net count) entries in (unit, column) order and
 * returns how many, or -1 on allocation failure, or -2 when `cap` is too small.
 */
int64_t mg_featurize(const uint32_t *cp, int64_t length, const uint8_t *word,
                     const int32_t *ngrams, int32_t n_ngrams, int32_t bits,
                     int32_t word_unigrams, int32_t word_bigrams,
                     int64_t n_texts, int64_t total,
                     int64_t *out_unit, int64_t *out_col, int64_t *out_net, int64_t cap) {
    work_t w = {0};
    int64_t end = build_keys(&w, cp, length, word, ngrams, n_ngrams, bits, word_unigrams,
                             word_bigrams, n_texts, total);
    int64_t written = end < 0 ? -1 : 0;
    const int64_t *key = w.key;
    /* runs of one (unit, column): +1 for a clear sign bit, -1 for a set one */
    for (int64_t i = 0; i < end;) {
        int64_t pair = key[i] >> 1, net = 0;
        while (i < end && (key[i] >> 1) == pair) {
            net += (key[i] & 1) ? -1 : 1;
            i++;
        }
        if (net == 0) continue;
        if (written >= cap) {
            written = -2;
            break;
        }
        out_unit[written] = pair >> bits;
        out_col[written] = pair & (((int64_t)1 << bits) - 1);
        out_net[written] = net;
        written++;
    }
    free_work(&w);
    return written;
}

/* Net signed counts per column for one unit, in an open-addressing table: the logits
 * need no order, so no sort. `used` lists the filled slots, so reading the row and
 * clearing the table cost what the unit has, not the table's size. A slot's column and
 * count sit side by side: one cache line a probe, where two arrays cost two (the probe's
 * load was the hottest instruction of mg_logits, perf). */
typedef struct {
    int32_t col; /* column + 1; 0 = empty */
    int32_t net;
} slot_t;

typedef struct {
    slot_t *slot;
    int64_t *used;
    int64_t n_used, mask;
} table_t;

/* How many hashes ahead a slot (and, in table_logit, a weight) is prefetched: a table
 * of a 1 KB message is 128 KiB and the weights 1 MiB, so many probes miss L1 or L2;
 * requested PREFETCH adds ahead, the misses overlap instead of following one another.
 * LinearModel.max_prob on the bench's messages, medians of 12 alternating rounds:
 * warm 221 -> 215 us, after an 8 MB sweep of the caches 324 -> 294 us. */
#define PREFETCH 12

static inline void prefetch_slot(const table_t *t, uint64_t h, unsigned top) {
    __builtin_prefetch(&t->slot[(int64_t)(h >> (top + 1)) & t->mask], 1, 3);
}

static inline void table_add(table_t *t, uint64_t h, unsigned top) {
    const int32_t col = (int32_t)(h >> (top + 1)) + 1;
    const int32_t sign = (h >> top) & 1 ? -1 : 1;
    int64_t i = (int64_t)(h >> (top + 1)) & t->mask; /* the column is a hash: spread */
    for (;;) {
        slot_t *s = &t->slot[i];
        if (s->col == col) {
            s->net += sign;
            return;
        }
        if (s->col == 0) {
            s->col = col;
            s->net = sign;
            t->used[t->n_used++] = i;
            return;
        }
        i = (i + 1) & t->mask;
    }
}

/* log1p(n) for the small counts nearly every n-gram has: libm's log1p was a quarter of
 * mg_logits's time (perf). Filled from log1p itself, so the values are the same to the
 * bit; larger counts still call it. */
#define DAMPED 256
static double damped[DAMPED];

__attribute__((constructor)) static void fill_damped(void) {
    for (int n = 0; n < DAMPED; n++) damped[n] = log1p((double)n);
}

/* The unit's logit from its table (damped, L2-normalised, dotted), leaving it empty. */
static double table_logit(table_t *t, int32_t sublinear, const float *weights, double bias) {
    double dot = 0.0, sumsq = 0.0;
    for (int64_t j = 0; j < t->n_used; j++) {
        if (j + PREFETCH < t->n_used)
            __builtin_prefetch(&weights[t->slot[t->used[j + PREFETCH]].col - 1], 0, 3);
        slot_t *s = &t->slot[t->used[j]];
        const int32_t net = s->net, col = s->col - 1;
        s->col = 0;
        if (net == 0) continue;
        double v = (double)net;
        if (sublinear) {
            const int32_t a = net < 0 ? -net : net;
            v = a < DAMPED ? damped[a] : log1p((double)a);
            if (net < 0) v = -v;
        }
        dot += (double)weights[col] * v;
        sumsq += v * v;
    }
    t->n_used = 0;
    return (sumsq > 0.0 ? dot / sqrt(sumsq) : 0.0) + bias;
}

static int table_init(table_t *t, int64_t entries) {
    int64_t size = 16;
    while (size < 2 * entries) size <<= 1;
    t->slot = calloc((size_t)size, sizeof(slot_t));
    t->used = malloc((size_t)size * sizeof(int64_t));
    t->n_used = 0;
    t->mask = size - 1;
    return t->slot && t->used ? 0 : -1;
}

static void table_free(table_t *t) {
    free(t->slot);
    free(t->used);
}

/* The hashes of one unit, added to its table (and the document's) in the order they
 * were made, each slot prefetched PREFETCH hashes before its add. */
static void add_all(table_t *unit, table_t *doc, const uint64_t *h, int64_t n, unsigned top) {
    for (int64_t i = 0; i < n; i++) {
        if (i + PREFETCH < n) {
            prefetch_slot(unit, h[i + PREFETCH], top);
            if (doc) prefetch_slot(doc, h[i + PREFETCH], top);
        }
        table_add(unit, h[i], top);
        if (doc) table_add(doc, h[i], top);
    }
}

/*
 * The linear model's logit for each of the n_texts (+1 with `total`) units: each unit's
 * net counts damped (log1p when `sublinear`), the row L2-normalised, dotted with
 * `weights` (2**bits float32) and `bias` added. A unit without features gets the bias.
 * The same n-grams and hashes as build_keys, gathered per unit (between separators)
 * into a table instead of sorted. Returns 0, -1 on allocation failure, -3 when `bits`
 * is above 30 (columns are int32 here).
 */
int64_t mg_logits(const uint32_t *cp, int64_t length, const uint8_t *word,
                  const int32_t *ngrams, int32_t n_ngrams, int32_t bits,
                  int32_t word_unigrams, int32_t word_bigrams,
                  int64_t n_texts, int64_t total, int32_t sublinear,
                  const float *weights, double bias, double *out) {
    if (bits > 30 || bits < 1) return -3;
    const unsigned top = (unsigned)(63 - bits);
    int32_t max_n = 0;
    uint8_t is_gram[64] = {0};
    for (int k = 0; k < n_ngrams; k++)
        if (ngrams[k] > 0 && ngrams[k] < 64) {
            is_gram[ngrams[k]] = 1;
            if (ngrams[k] > max_n) max_n = ngrams[k];
        }
    /* keys of a stretch of L characters: at most n_ngrams * L + 2 * L */
    const int64_t per_char = n_ngrams + 2;
    int64_t longest = 0, run = 0;
    for (int64_t i = 0; i < length; i++) {
        run = cp[i] == 1 ? 0 : run + 1;
        if (run > longest) longest = run;
    }
    table_t unit = {0}, doc = {0};
    int64_t status = -1;
    uint64_t *hs = malloc((size_t)(per_char * longest + 1) * sizeof(uint64_t));
    if (!hs) goto done;
    if (table_init(&unit, per_char * longest) != 0) goto done;
    if (total > 0 && table_init(&doc, per_char * length) != 0) goto done;

    int64_t u = 0, b = 0;
    while (u < n_texts) {
        int64_t e = b;
        while (e < length && cp[e] != 1) e++;
        table_t *d = u < total ? &doc : NULL;
        int64_t n = 0; /* the unit's hashes, in hs */
        /* character n-grams inside [b, e): sum(cp[a+k] * BASE**k), k < n */
        for (int64_t a = b; a < e; a++) {
            uint64_t h = 0, pw = 1;
            for (int32_t k = 0; k < max_n && a + k < e; k++) {
                h += (uint64_t)cp[a + k] * pw;
                pw *= BASE;
                if (is_gram[k + 1]) hs[n++] = mix(h + SALT_CHAR * (uint64_t)(k + 1));
            }
        }
        /* words (runs of word characters) and pairs of neighbouring words */
        if (word_unigrams || word_bigrams) {
            uint64_t prev = 0;
            int have_prev = 0;
            for (int64_t i = b; i < e;) {
                if (!word[cp[i]]) {
                    i++;
                    continue;
                }
                uint64_t h = 0, pw = 1;
                for (; i < e && word[cp[i]]; i++) {
                    h += (uint64_t)cp[i] * pw;
                    pw *= BASE;
                }
                h = mix(h + SALT_WORD);
                if (word_unigrams) hs[n++] = h;
                if (word_bigrams && have_prev) hs[n++] = mix(prev * BASE + mix(h) + SALT_BIGRAM);
                prev = h;
                have_prev = 1;
            }
        }
        add_all(&unit, d, hs, n, top);
        out[u] = table_logit(&unit, sublinear, weights, bias);
        u++;
        b = e + 1;
    }
    if (total > 0) out[n_texts] = table_logit(&doc, sublinear, weights, bias);
    status = 0;
done:
    free(hs);
    table_free(&unit);
    table_free(&doc);
    return status;
}
