/* Output bytes do not depend on the thread count or the backend: a real
 * clip crop large enough that every network layer, the OBMC and the
 * latent bands are cut over threads (256x144, coded 256x192; I, P, P
 * frames) is encoded with every (backend, threads) combination this
 * machine runs, threads in {1, 2, 3, 5, 0 = all cores} (the reference
 * backend with 1 and 3 only, for time); every packet and every
 * reconstruction must equal those of (ref, 1 thread).  Then that stream
 * is decoded with every combination and each decoded frame must equal
 * the reconstruction.  The hashes printed (FNV-1a 64 of all packets, of
 * all pictures) let runs on other machines be compared by eye.  Backends
 * the CPU lacks are printed as NOT RUN, never counted as passed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/y4m.h"
#include "netlib/dsp.h"
#include "neuvc/neuvc.h"
#include "tests/common/testutil.h"
#include "tests/common/tu_check.h"

#define NFRAMES 3
#define W 256
#define H 144
#define FRAME_BYTES TU_FRAME_BYTES(W, H)

typedef tu_stream stream;

static uint8_t src_mem[NFRAMES][FRAME_BYTES];

static const struct {
    NeuvcCpu cpu;
    const char *name;
    unsigned need;
} backends[] = {
    { NEUVC_CPU_REF, "ref", 0 },
    { NEUVC_CPU_AVX2, "avx2", NL_CPU_FLAG_AVX2 },
    { NEUVC_CPU_AVX512, "avx512", NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512 },
    { NEUVC_CPU_AUTO, "auto", 0 },
};
static const int thread_counts[] = { 1, 2, 3, 5, 0 };
#define NB ((int)(sizeof(backends) / sizeof(backends[0])))
#define NT ((int)(sizeof(thread_counts) / sizeof(thread_counts[0])))

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static void encode(stream *s, NeuvcCpu cpu, int threads)
{
    NeuvcEncSettings es;
    tu_enc_settings(&es, W, H, 28, 8, cpu);
    es.threads = threads;
    tu_encode_ck(s, &es, src_mem[0], NFRAMES);
}

static uint64_t decode_hash(const stream *s, NeuvcCpu cpu, int threads, const char *what)
{
    NeuvcDecSettings ds;
    static uint8_t buf[NFRAMES][FRAME_BYTES];
    char err[128];
    uint64_t h = 0xCBF29CE484222325ull;
    neuvc_dec_default_settings(&ds);
    ds.cpu = cpu;
    ds.threads = threads;
    ds.log_level = 0;
    int ret = tu_decode(s, &ds, W, H, buf[0], err, sizeof(err));
    ck_assert_msg(ret == 0, "%s: %s", what, err);
    for (int k = 0; k < NFRAMES; k++) {
        ck_assert_msg(!memcmp(buf[k], s->recon[k], FRAME_BYTES), "%s: frame %d differs from the "
                      "reconstruction", what, k);
        h = fnv(h, buf[k], FRAME_BYTES);
    }
    return h;
}

static int runs_here(int b)
{
    return (nl_cpu_flags() & backends[b].need) == backends[b].need;
}

static int combination_used(int b, int t)
{
    /* The reference is slow: 1 and 3 threads are enough to cut its
     * layers differently. */
    return backends[b].cpu != NEUVC_CPU_REF || thread_counts[t] == 1 || thread_counts[t] == 3;
}

START_TEST(threads_and_backends_same_bytes)
{
    static stream first, other;
    int n_enc = 0, n_dec = 0;
    tu_clip_crop_ck(src_mem[0], NFRAMES, W, H, 112, 64);
    encode(&first, NEUVC_CPU_REF, 1);
    uint64_t hp = 0xCBF29CE484222325ull, hr = hp;
    for (int k = 0; k < NFRAMES; k++) {
        hp = fnv(hp, first.pkt[k], first.size[k]);
        hr = fnv(hr, first.recon[k], FRAME_BYTES);
    }
    printf("threads: ref x1: packets %016llx, reconstruction %016llx\n", (unsigned long long)hp,
           (unsigned long long)hr);
    for (int b = 0; b < NB; b++) {
        if (!runs_here(b)) {
            printf("threads: backend %s NOT RUN on this CPU\n", backends[b].name);
            continue;
        }
        for (int t = 0; t < NT; t++) {
            if (!combination_used(b, t) || (b == 0 && thread_counts[t] == 1))
                continue;
            encode(&other, backends[b].cpu, thread_counts[t]);
            for (int k = 0; k < NFRAMES; k++) {
                ck_assert_msg(other.size[k] == first.size[k] &&
                              !memcmp(other.pkt[k], first.pkt[k], first.size[k]),
                              "encoder %s x%d: packet %d differs from ref x1", backends[b].name,
                              thread_counts[t], k);
                ck_assert_msg(!memcmp(other.recon[k], first.recon[k], FRAME_BYTES),
                              "encoder %s x%d: reconstruction %d differs from ref x1",
                              backends[b].name, thread_counts[t], k);
            }
            tu_stream_free(&other);
            n_enc++;
        }
    }
    for (int b = 0; b < NB; b++) {
        if (!runs_here(b))
            continue;
        for (int t = 0; t < NT; t++) {
            if (!combination_used(b, t))
                continue;
            char what[64];
            snprintf(what, sizeof(what), "decoder %s x%d", backends[b].name, thread_counts[t]);
            uint64_t h = decode_hash(&first, backends[b].cpu, thread_counts[t], what);
            ck_assert_msg(h == hr, "%s: hash %016llx, reconstruction %016llx", what,
                          (unsigned long long)h, (unsigned long long)hr);
            n_dec++;
        }
    }
    printf("threads: %d encoder and %d decoder combinations (backend x threads) give the "
           "bytes of ref x1\n", n_enc + 1, n_dec);
    tu_stream_free(&first);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, threads_and_backends_same_bytes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
