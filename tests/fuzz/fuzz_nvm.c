/*
 * Fuzz target: the .nvm model loader (common/nvm.c: header, payload
 * tables, tensors, graph validation) and the codec's checks on top of it
 * (common/model.c), on a file image in memory.  The payload SHA-256 in
 * the header is recomputed first, so that mutations of the payload are
 * parsed rather than refused by the digest check.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"
#include "common/model.h"
#include "common/sha256.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

#define FNVM_MAX_PAYLOAD (4u << 20)

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    if (size >= NVM_HEADER_SIZE && !memcmp(buf, NVM_MAGIC, 4))
        neuvc_sha256(buf + NVM_HEADER_SIZE, size - NVM_HEADER_SIZE, buf + NVM_OFF_SHA256);
    char err[NV_ERRMSG_SIZE] = "";
    nv_model *m = NULL;
    int ret = nv_model_open_mem(&m, buf, size, FNVM_MAX_PAYLOAD, err, sizeof(err));
    if (ret < 0 && (m || !err[0]))
        abort();                      /* failures leave nothing and say why */
    nv_model_close(&m);
    free(buf);
    return 0;
}
