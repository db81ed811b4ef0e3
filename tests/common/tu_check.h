/* Helpers for the Check-based C tests (after <check.h> and testutil.h):
 * a failing step fails the calling test with its reason. */
#ifndef NEUVC_TESTS_COMMON_TU_CHECK_H
#define NEUVC_TESTS_COMMON_TU_CHECK_H

#include <check.h>

#include "tests/common/testutil.h"

/* tu_clip_crop: the test fails, naming the clip, when it is missing or
 * shorter than n frames. */
static inline void tu_clip_crop_ck(uint8_t *dst, int n, int w, int h, int x, int y)
{
    char path[1024];
    int ret = tu_clip_crop(dst, n, w, h, x, y, path, sizeof(path));
    ck_assert_msg(ret != -1, "test clip %s missing (set NEUVC_CLIPS to the clips folder)", path);
    ck_assert_int_eq(ret, 0);
}

/* es: the defaults, w x h, qp, keyint and cpu, no library messages. */
static inline void tu_enc_settings(NeuvcEncSettings *es, int w, int h, int qp, int keyint,
                                   NeuvcCpu cpu)
{
    neuvc_enc_default_settings(es);
    es->width = w;
    es->height = h;
    es->qp = qp;
    es->keyint = keyint;
    es->cpu = cpu;
    es->log_level = 0;
}

/* tu_encode: the test fails with the failing step. */
static inline void tu_encode_ck(tu_stream *s, const NeuvcEncSettings *es, const uint8_t *src,
                                int n)
{
    char err[128];
    int ret = tu_encode(s, es, src, n, err, sizeof(err));
    ck_assert_msg(ret == 0, "encoding: %s", err);
}

#endif
