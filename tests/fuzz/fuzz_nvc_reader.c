/*
 * Fuzz target: the .nvc file reader and the frame header parser
 * (common/bitstream.c) without decoding: every packet of the input is
 * read and its frame header parsed, and the sub-streams the parser returns
 * must lie inside the payload, back to back.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_copy_fix_crc(data, size);
    FILE *f = buf ? fuzz_fmemopen(buf, size) : NULL;
    if (!f) {
        free(buf);
        return 0;
    }
    nvc_reader r;
    if (nvc_reader_open(&r, f, 0, 0, FUZZ_MAX_PACKET) == 0) {
        const uint8_t *p;
        size_t psize;
        int64_t pts;
        int ret;
        while ((ret = nvc_read_packet(&r, &p, &psize, &pts)) > 0) {
            nvc_frame_header fh;
            if (nvc_frame_header_parse(&fh, p, psize, NULL, 0) < 0)
                continue;
            const uint8_t *end = p + psize;
            for (int i = fh.num_substreams - 1; i >= 0; i--) {
                if (fh.substream[i] < p || fh.substream_size[i] > (size_t)(end - fh.substream[i]) ||
                    fh.substream[i] + fh.substream_size[i] != end)
                    abort();
                end = fh.substream[i];
            }
        }
        if (ret < 0 && !r.errmsg[0])
            abort();                  /* every error comes with a message */
    }
    nvc_reader_close(&r);
    fclose(f);
    free(buf);
    return 0;
}
