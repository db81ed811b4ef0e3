/*
 * SHA-256 (FIPS 180-4).  Used for the payload digest of .nvm model files
 * (the first 8 bytes of that digest are the model fingerprint the
 * bitstream carries) and for conformance hashes.
 *
 * Incremental: init, any number of updates (any lengths, including 0),
 * final.  A context holds no pointers, so it may be copied to hash a common
 * prefix once.  Total input per context: < 2^61 bytes.
 */
#ifndef NEUVC_COMMON_SHA256_H
#define NEUVC_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define NEUVC_SHA256_SIZE 32     /* bytes in a digest */

typedef struct neuvc_sha256_ctx {
    uint32_t state[8];
    uint64_t total;              /* bytes fed so far */
    uint8_t block[64];
    size_t used;                 /* bytes of block filled, 0..63 */
} neuvc_sha256_ctx;

void neuvc_sha256_init(neuvc_sha256_ctx *ctx);
void neuvc_sha256_update(neuvc_sha256_ctx *ctx, const void *data, size_t n);
/* Writes the digest; the context must be re-initialised before reuse. */
void neuvc_sha256_final(neuvc_sha256_ctx *ctx, uint8_t out[NEUVC_SHA256_SIZE]);
/* One-shot digest of data[0 .. n-1]. */
void neuvc_sha256(const void *data, size_t n, uint8_t out[NEUVC_SHA256_SIZE]);

#endif
