/*
 * Fuzz target: the Y4M reader (common/y4m.c), as neuvc-enc reads its
 * input: the header, then up to FUZZ_MAX_PACKETS frames into the reader's
 * own buffer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"
#include "common/y4m.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    FILE *f = fuzz_fmemopen(data, size);
    if (!f)
        return 0;
    y4m_reader r;
    int ret = y4m_reader_open(&r, f, FUZZ_MAX_DIM, FUZZ_MAX_DIM);
    if (ret == 0) {
        NeuvcPicture pic;
        for (int n = 0; n < FUZZ_MAX_PACKETS; n++) {
            ret = y4m_read_picture(&r, &pic);
            if (ret <= 0)
                break;
            if (pic.width != r.info.width || pic.height != r.info.height)
                abort();
        }
    }
    if (ret < 0 && ret != NEUVC_ERR(ENOMEM) && !r.errmsg[0])
        abort();                      /* every error comes with a message */
    y4m_reader_close(&r);
    fclose(f);
    return 0;
}
