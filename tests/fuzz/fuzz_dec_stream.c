/*
 * Fuzz target: a whole .nvc stream (sequence header and packets) through
 * the .nvc reader and the public decoder API, as neuvc-dec reads a file.
 * Every packet is decoded, failures included (the decoder must stay usable
 * and resume at the next good I frame); a decoded picture must have the
 * header's size and readable planes.  One decoder serves every input (the
 * built-in model is parsed once); an empty packet first clears the
 * reference a previous input left.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"
#include "neuvc/neuvc.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

static NeuvcDecoder *fds_dec;

/* Reads every sample of pic (so that ASan sees each byte) and checks the size. */
static unsigned fds_touch(const NeuvcPicture *pic, int w, int h)
{
    unsigned sum = 0;
    if (pic->width != w || pic->height != h)
        abort();
    for (int p = 0; p < 3; p++) {
        int pw = p ? (w + 1) / 2 : w, ph = p ? (h + 1) / 2 : h;
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
                sum += pic->data[p][y * pic->stride[p] + x];
    }
    return sum;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (!fds_dec) {
        NeuvcDecSettings s;
        neuvc_dec_default_settings(&s);
        s.max_width = FUZZ_MAX_DIM;
        s.max_height = FUZZ_MAX_DIM;
        s.log_level = 0;
        s.threads = 1;
        if (neuvc_dec_open(&fds_dec, &s) < 0)
            abort();
    }
    uint8_t *buf = fuzz_copy_fix_crc(data, size);
    FILE *f = buf ? fuzz_fmemopen(buf, size) : NULL;
    if (!f) {
        free(buf);
        return 0;
    }
    nvc_reader r;
    if (nvc_reader_open(&r, f, FUZZ_MAX_DIM, FUZZ_MAX_DIM, FUZZ_MAX_PACKET) == 0 &&
        neuvc_dec_set_header(fds_dec, r.seq_raw, NVC_SEQ_HEADER_SIZE) == 0) {
        NeuvcPacket pkt = { 0 };
        NeuvcPicture pic;
        if (neuvc_dec_send_packet(fds_dec, &pkt) != NEUVC_ERR_INVALIDDATA)
            abort();
        for (int n = 0; n < FUZZ_MAX_PACKETS; n++) {
            if (nvc_read_packet(&r, &pkt.data, &pkt.size, &pkt.pts) <= 0)
                break;
            int ret = neuvc_dec_send_packet(fds_dec, &pkt);
            if (ret == 0) {
                if (neuvc_dec_receive_picture(fds_dec, &pic) != 0 || pic.pts != pkt.pts)
                    abort();
                fuzz_sink += fds_touch(&pic, r.seq.width, r.seq.height);
            } else if (ret != NEUVC_ERR_INVALIDDATA && ret != NEUVC_ERR(ENOSYS)) {
                abort();
            } else if (neuvc_dec_receive_picture(fds_dec, &pic) != NEUVC_ERR(EAGAIN)) {
                abort();
            }
        }
    }
    nvc_reader_close(&r);
    fclose(f);
    free(buf);
    return 0;
}
