/* Every backend gives the same bytes: a real clip crop (odd size, I and P
 * frames) is encoded with each CPU backend this machine runs, the packets
 * and reconstructions are compared byte for byte, and every stream is
 * decoded with every backend.  Backends the CPU lacks are listed as not
 * run; they never count as passed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/y4m.h"
#include "netlib/dsp.h"
#include "neuvc/neuvc.h"
#include "tests/common/testutil.h"
#include "tests/common/tu_check.h"

#define NFRAMES 5
#define W 99
#define H 70
#define MAXPKT (1 << 20)

typedef tu_stream stream;

static uint8_t src_mem[NFRAMES][TU_FRAME_BYTES(W, H)];

static void encode_dz(stream *s, NeuvcCpu cpu, int dz)
{
    NeuvcEncSettings es;
    tu_enc_settings(&es, W, H, 30, 4, cpu);
    es.deadzone_intra = es.deadzone_inter = dz;
    tu_encode_ck(s, &es, src_mem[0], NFRAMES);
}

static void encode(stream *s, NeuvcCpu cpu)
{
    encode_dz(s, cpu, 0);
}

/* Decodes s with cpu and checks every picture against want (packed). */
static void decode_check(const stream *s, NeuvcCpu cpu, uint8_t *const *want, const char *what)
{
    NeuvcDecSettings ds;
    static uint8_t buf[NFRAMES][sizeof(src_mem[0])];
    char err[128];
    neuvc_dec_default_settings(&ds);
    ds.cpu = cpu;
    ds.log_level = 0;
    int ret = tu_decode(s, &ds, W, H, buf[0], err, sizeof(err));
    ck_assert_msg(ret == 0, "%s: %s", what, err);
    for (int k = 0; k < NFRAMES; k++)
        ck_assert_msg(!memcmp(buf[k], want[k], sizeof(buf[k])), "%s: frame %d differs", what, k);
}

static void stream_free(stream *s)
{
    tu_stream_free(s);
}

START_TEST(all_backends_same_bytes)
{
    static const struct { NeuvcCpu cpu; const char *name; unsigned need; } be[] = {
        { NEUVC_CPU_REF, "ref", 0 },
        { NEUVC_CPU_AVX2, "avx2", NL_CPU_FLAG_AVX2 },
        { NEUVC_CPU_AVX512, "avx512", NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512 },
        { NEUVC_CPU_NEON, "neon", NL_CPU_FLAG_NEON },
        { NEUVC_CPU_AUTO, "auto", 0 },
    };
    enum { NB = sizeof(be) / sizeof(be[0]) };
    stream st[NB];
    int ran[NB], nran = 0;
    unsigned flags = nl_cpu_flags();
    memset(st, 0, sizeof(st));
    tu_clip_crop_ck(src_mem[0], NFRAMES, W, H, 200, 100);
    for (int b = 0; b < NB; b++) {
        ran[b] = (flags & be[b].need) == be[b].need;
        if (!ran[b]) {
            printf("backend %s: NOT RUN on this CPU\n", be[b].name);
            NeuvcEncSettings es;
            NeuvcEncoder *enc = NULL;
            neuvc_enc_default_settings(&es);
            es.width = W;
            es.height = H;
            es.cpu = be[b].cpu;
            es.log_level = 0;
            ck_assert_int_eq(neuvc_enc_open(&enc, &es), NEUVC_ERR(ENOSYS));
            continue;
        }
        encode(&st[b], be[b].cpu);
        nran++;
        for (int k = 0; k < NFRAMES; k++) {
            ck_assert_msg(st[b].size[k] == st[0].size[k] && !memcmp(st[b].pkt[k], st[0].pkt[k], st[0].size[k]),
                          "%s: packet %d differs from ref", be[b].name, k);
            ck_assert_msg(!memcmp(st[b].recon[k], st[0].recon[k], sizeof(src_mem[0])),
                          "%s: reconstruction %d differs from ref", be[b].name, k);
        }
    }
    for (int b = 0; b < NB; b++)
        for (int d = 0; d < NB; d++)
            if (ran[b] && ran[d]) {
                char what[64];
                snprintf(what, sizeof(what), "encoded %s, decoded %s", be[b].name, be[d].name);
                decode_check(&st[b], be[d].cpu, st[0].recon, what);
            }
    printf("backends compared: %d of %d run on this CPU\n", nran, (int)NB);
    for (int b = 0; b < NB; b++)
        stream_free(&st[b]);
}
END_TEST

/* The deadzone is an encoder decision: the decoder still reproduces the
 * reconstruction exactly, and the stream gets smaller. */
START_TEST(deadzone_exact_and_smaller)
{
    stream plain, dz;
    size_t a = 0, b = 0;
    memset(&plain, 0, sizeof(plain));
    memset(&dz, 0, sizeof(dz));
    tu_clip_crop_ck(src_mem[0], NFRAMES, W, H, 200, 100);
    encode_dz(&plain, NEUVC_CPU_AUTO, 0);
    encode_dz(&dz, NEUVC_CPU_AUTO, 12);
    decode_check(&dz, NEUVC_CPU_AUTO, dz.recon, "deadzone 12");
    for (int k = 0; k < NFRAMES; k++) {
        a += plain.size[k];
        b += dz.size[k];
    }
    ck_assert_msg(b < a, "deadzone 12 gave %zu bytes, plain rounding %zu", b, a);
    stream_free(&plain);
    stream_free(&dz);
}
END_TEST

/* The complexity the encoder reports: executed MACs of each frame type's
 * networks at the coded size (the network MAC counters), decoder part
 * inside the encoder part, and within the real-time budget's order. */
START_TEST(complexity_reported)
{
    NeuvcEncSettings es;
    NeuvcEncoder *enc = NULL;
    NeuvcComplexity cx;
    neuvc_enc_default_settings(&es);
    es.width = W;
    es.height = H;
    es.log_level = 0;
    ck_assert_int_eq(neuvc_enc_open(&enc, &es), 0);
    ck_assert_int_eq(neuvc_enc_get_complexity(enc, &cx), 0);
    ck_assert_int_eq(cx.coded_width, 128);
    ck_assert_int_eq(cx.coded_height, 128);
    double px = 128.0 * 128.0;
    ck_assert(cx.intra_dec_macs > 0 && cx.intra_enc_macs > cx.intra_dec_macs);
    ck_assert(cx.inter_dec_macs > 0 && cx.inter_enc_macs > cx.inter_dec_macs);
    ck_assert_msg(cx.intra_dec_macs / px < 4000 && cx.inter_dec_macs / px < 4000,
                  "decoder above 4 kMAC/px: %.0f %.0f", cx.intra_dec_macs / px, cx.inter_dec_macs / px);
    ck_assert_msg(cx.intra_enc_macs / px < 8000 && cx.inter_enc_macs / px < 8000,
                  "encoder above 8 kMAC/px: %.0f %.0f", cx.intra_enc_macs / px, cx.inter_enc_macs / px);
    ck_assert_int_eq(neuvc_enc_get_complexity(NULL, &cx), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_get_complexity(enc, NULL), NEUVC_ERR(EINVAL));
    neuvc_enc_close(&enc);
}
END_TEST

START_TEST(unavailable_backends_refused)
{
    NeuvcEncSettings es;
    NeuvcEncoder *enc = NULL;
    neuvc_enc_default_settings(&es);
    es.width = 64;
    es.height = 64;
    es.log_level = 0;
    if (!(nl_cpu_flags() & NL_CPU_FLAG_NEON)) {
        es.cpu = NEUVC_CPU_NEON;           /* not built on this architecture */
        ck_assert_int_eq(neuvc_enc_open(&enc, &es), NEUVC_ERR(ENOSYS));
        ck_assert_ptr_null(enc);
    }
    es.cpu = NEUVC_CPU_AVX2;
    if (!(nl_cpu_flags() & NL_CPU_FLAG_AVX2)) {
        ck_assert_int_eq(neuvc_enc_open(&enc, &es), NEUVC_ERR(ENOSYS));
        ck_assert_ptr_null(enc);
    }
    es.cpu = NEUVC_CPU_OPENCL;
    ck_assert_int_eq(neuvc_enc_open(&enc, &es), NEUVC_ERR(ENOSYS));
}
END_TEST

int main(void)
{
    /* The OpenCL backend is compared by tests/opencl_check.c; here it
     * must be refused as a machine without an ICD loader refuses it. */
    setenv("NEUVC_OPENCL_LIB", "/nonexistent/libOpenCL.so.1", 1);
    Suite *s = suite_create("backends");
    TCase *tc = tcase_create("backends");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, all_backends_same_bytes);
    tcase_add_test(tc, unavailable_backends_refused);
    tcase_add_test(tc, deadzone_exact_and_smaller);
    tcase_add_test(tc, complexity_reported);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
