/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c, docs/security.md).
 *
 * Each target defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize).  Built with clang -fsanitize=fuzzer by `make fuzz`;
 * the same sources are also compiled into tests/test_fuzz_replay.c, which
 * replays the seed corpora and the regression inputs in the native and
 * sanitizer suites (FUZZ_REPLAY defined there, so the entry points get
 * per-target names).
 *
 * The harnesses repair the checksums that guard the formats (the .nvc
 * sequence header's CRC-32, the .nvm payload SHA-256) before parsing, so
 * that mutations reach the fields behind them; the checks themselves are
 * covered by the unit tests.  Limits are kept small (pictures up to
 * FUZZ_MAX_DIM square) so that one input costs milliseconds and a few
 * MiB.
 */
#ifndef NEUVC_TESTS_FUZZ_H
#define NEUVC_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bitstream.h"
#include "common/bytes.h"

#ifndef FUZZ_MAX_DIM
#define FUZZ_MAX_DIM 160           /* picture width and height limit */
#endif
#define FUZZ_MAX_PACKET (1 << 20)  /* .nvc packet size limit, bytes */
#define FUZZ_MAX_PACKETS 16        /* packets decoded per input */

/* Sums of decoded samples go here, so that the reads are not optimized away. */
static volatile unsigned fuzz_sink;

/* A read-only FILE over data[0 .. size-1] (an empty input included);
 * NULL when out of memory. */
static inline FILE *fuzz_fmemopen(const uint8_t *data, size_t size)
{
    if (!size)
        return fopen("/dev/null", "rb");
    return fmemopen((void *)data, size, "rb");
}

/* A malloc'd copy of data with a .nvc sequence header's CRC recomputed
 * when the copy starts with one; NULL when out of memory. */
static inline uint8_t *fuzz_copy_fix_crc(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return NULL;
    if (size)
        memcpy(buf, data, size);
    if (size >= NVC_SEQ_HEADER_SIZE && !memcmp(buf, NVC_SEQ_MAGIC, 4))
        bytes_store_u32le(buf + NVC_SEQ_HEADER_SIZE - 4,
                          bytes_crc32(0, buf, NVC_SEQ_HEADER_SIZE - 4));
    return buf;
}

#endif
