/* Range coder speed: encode and decode in million symbols per second of
 * thread CPU time (best of several runs, one thread, so that other load on
 * the machine does not count) and coded size against the ideal, for
 *   (a) latent-like values: 16 tables of 32 symbols (K = 15 plus escape),
 *       discretized Laplacians of scales 0.1 .. 6, rare escapes;
 *   (b) a uniform 16-symbol table;
 *   (c) an adaptive binary model on bits with P(1) = 0.1;
 *   (d) bypass bits, 1 and 8 per call.
 * Every decoded stream is compared with its source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entropy/adaptive.h"
#include "entropy/cdf.h"
#include "entropy/escape.h"
#include "entropy/rangecoder.h"

#define NSYM 4000000
#define RUNS 5
#define LAT_K 15
#define LAT_TABLES 16

typedef struct bench_rng {
    uint64_t s;
} bench_rng;

static uint64_t rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int sample(bench_rng *r, const uint16_t *cdf, int n)
{
    uint32_t u = (uint32_t)(rng_next(r) >> 49);
    int s = 0;

    while (s + 1 < n && u >= cdf[s + 1])
        s++;
    return s;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The case being measured: one of these. */
enum { CASE_LATENT, CASE_UNIFORM16, CASE_ADAPTBIN, CASE_BYPASS1, CASE_BYPASS8, NCASES };

static const char *const case_names[NCASES] = {
    "(a) latent, 32 symbols, 16 tables",
    "(b) uniform 16 symbols",
    "(c) adaptive binary, P(1)=0.1",
    "(d) bypass, 1 bit per call",
    "(d) bypass, 8 bits per call",
};

static uint16_t lat_cdf[LAT_TABLES][RC_MAX_SYMBOLS + 1];
static uint16_t uni_cdf[17];
static int32_t *vals;
static uint8_t *tabs;

static void encode_case(rc_enc *e, int which)
{
    rc_bin m;

    rc_enc_reset(e);
    rc_bin_init(&m);
    switch (which) {
    case CASE_LATENT:
        for (int i = 0; i < NSYM; i++)
            rc_enc_value(e, lat_cdf[tabs[i]], LAT_K, vals[i]);
        break;
    case CASE_UNIFORM16:
        for (int i = 0; i < NSYM; i++)
            rc_enc_symbol(e, uni_cdf, 16, vals[i]);
        break;
    case CASE_ADAPTBIN:
        for (int i = 0; i < NSYM; i++)
            rc_enc_bin(e, &m, vals[i]);
        break;
    case CASE_BYPASS1:
        for (int i = 0; i < NSYM; i++)
            rc_enc_bits(e, (uint32_t)vals[i], 1);
        break;
    default:
        for (int i = 0; i < NSYM; i++)
            rc_enc_bits(e, (uint32_t)vals[i], 8);
        break;
    }
}

/* Returns the number of mismatches. */
static long decode_case(const uint8_t *data, size_t size, int which)
{
    rc_dec d;
    rc_bin m;
    long bad = 0;

    rc_dec_init(&d, data, size);
    rc_bin_init(&m);
    switch (which) {
    case CASE_LATENT:
        for (int i = 0; i < NSYM; i++) {
            int32_t v;
            rc_dec_value(&d, lat_cdf[tabs[i]], LAT_K, &v);
            bad += v != vals[i];
        }
        break;
    case CASE_UNIFORM16:
        for (int i = 0; i < NSYM; i++)
            bad += rc_dec_symbol(&d, uni_cdf, 16) != vals[i];
        break;
    case CASE_ADAPTBIN:
        for (int i = 0; i < NSYM; i++)
            bad += rc_dec_bin(&d, &m) != vals[i];
        break;
    case CASE_BYPASS1:
        for (int i = 0; i < NSYM; i++)
            bad += rc_dec_bits(&d, 1) != (uint32_t)vals[i];
        break;
    default:
        for (int i = 0; i < NSYM; i++)
            bad += rc_dec_bits(&d, 8) != (uint32_t)vals[i];
        break;
    }
    return bad + (rc_dec_finish(&d) != 0);
}

/* Fills vals/tabs for a case and returns the ideal size in bits: table
 * information content, bypass bits at 1 bit each, and for the adaptive
 * case the information content under the model's probability at each step
 * (so the overhead is the coder's; *source gets the source entropy, whose
 * difference to that is the cost of adapting). */
static double make_case(bench_rng *r, int which, double *source)
{
    double ideal = 0.0;
    rc_bin m;

    rc_bin_init(&m);
    *source = 0.0;
    for (int i = 0; i < NSYM; i++) {
        switch (which) {
        case CASE_LATENT: {
            int t = (int)(rng_next(r) % LAT_TABLES), s = sample(r, lat_cdf[t], 2 * LAT_K + 2);
            tabs[i] = (uint8_t)t;
            ideal += -log2((lat_cdf[t][s + 1] - lat_cdf[t][s]) / 32768.0);
            if (s <= 2 * LAT_K) {
                vals[i] = s - LAT_K;
            } else {
                uint32_t x = 1 + (uint32_t)(rng_next(r) % 64);
                int len = 31 - __builtin_clz(x);
                vals[i] = (int32_t)(LAT_K + x) * (rng_next(r) & 1 ? -1 : 1);
                ideal += 2 + 2 * len;
            }
            break;
        }
        case CASE_UNIFORM16:
            vals[i] = (int32_t)(rng_next(r) & 15);
            ideal += 4;
            break;
        case CASE_ADAPTBIN:
            vals[i] = rng_next(r) % 10 == 0;
            *source += -(0.1 * log2(0.1) + 0.9 * log2(0.9));
            ideal += -log2((vals[i] ? 32768.0 - m.p0 : m.p0) / 32768.0);
            rc_bin_update(&m, vals[i]);
            break;
        case CASE_BYPASS1:
            vals[i] = (int32_t)(rng_next(r) & 1);
            ideal += 1;
            break;
        default:
            vals[i] = (int32_t)(rng_next(r) & 255);
            ideal += 8;
            break;
        }
    }
    return ideal;
}

int main(void)
{
    bench_rng r = { 12345 };
    rc_enc e;
    int status = 0;

    vals = malloc(NSYM * sizeof(*vals));
    tabs = malloc(NSYM);
    if (!vals || !tabs || rc_enc_init(&e, 0) < 0) {
        fprintf(stderr, "bench_entropy: out of memory\n");
        return 1;
    }
    for (int t = 0; t < LAT_TABLES; t++) {
        double b = 0.1 * pow(60.0, t / (LAT_TABLES - 1.0)), p[2 * LAT_K + 2];
        for (int v = -LAT_K; v <= LAT_K; v++) {
            double a = fabs((double)v);
            p[v + LAT_K] = v ? 0.5 * (exp(-(a - 0.5) / b) - exp(-(a + 0.5) / b))
                             : 1.0 - exp(-0.5 / b);
        }
        p[2 * LAT_K + 1] = exp(-(LAT_K + 0.5) / b);
        rc_cdf_from_probs(lat_cdf[t], p, 2 * LAT_K + 2);
    }
    rc_cdf_uniform(uni_cdf, 16);

    printf("%d symbols per case; speed in thread CPU time; overhead = coded size incl. the "
           "flush vs ideal\n", NSYM);
    printf("%-36s %10s %10s %10s %10s\n", "case", "enc Msym/s", "dec Msym/s", "bits/sym",
           "overhead");
    for (int which = 0; which < NCASES; which++) {
        double source, ideal = make_case(&r, which, &source), best_enc = 1e30, best_dec = 1e30;
        const uint8_t *data = NULL;
        size_t size = 0;
        long bad = 0;

        for (int run = 0; run < RUNS; run++) {
            double t0 = now_s(), t1, t2;
            encode_case(&e, which);
            if (rc_enc_finish(&e, &data, &size) < 0) {
                fprintf(stderr, "bench_entropy: encoder error\n");
                return 1;
            }
            t1 = now_s();
            bad += decode_case(data, size, which);
            t2 = now_s();
            if (t1 - t0 < best_enc)
                best_enc = t1 - t0;
            if (t2 - t1 < best_dec)
                best_dec = t2 - t1;
        }
        printf("%-36s %10.1f %10.1f %10.4f %+9.5f%%%s\n", case_names[which],
               NSYM / best_enc / 1e6, NSYM / best_dec / 1e6, 8.0 * (double)size / NSYM,
               100.0 * (8.0 * (double)size - ideal) / ideal, bad ? "  MISMATCH" : "");
        if (which == CASE_ADAPTBIN)
            printf("%-36s adapting costs %+.3f%% over the source entropy\n", "",
                   100.0 * (ideal - source) / source);
        if (bad)
            status = 1;
    }
    rc_enc_free(&e);
    free(vals);
    free(tabs);
    return status;
}
