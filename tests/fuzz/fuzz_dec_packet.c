/*
 * Fuzz target: one packet payload (frame header and sub-streams) through
 * the public decoder API, for a fixed FDP_W x FDP_H stream of the
 * built-in model.  Input byte 0 says how to start: bit 0 set, decode a
 * good I frame first (made by the encoder on a synthetic picture), so that
 * a P payload has a reference and reaches motion compensation and the
 * inter networks; bit 0 clear, start without a reference.  The rest of
 * the input is the payload.  Seeds are packets of real 60x100 streams
 * (tests/fuzz/gen-corpus.sh).
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"
#include "neuvc/neuvc.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

#define FDP_W 60
#define FDP_H 100

static NeuvcDecoder *fdp_dec;
static uint8_t *fdp_iframe;
static size_t fdp_iframe_size;

/* Encodes a synthetic picture; sets the decoder's header; keeps the I packet. */
static void fdp_init(void)
{
    static uint8_t planes[3][FDP_W * FDP_H];
    NeuvcEncSettings es;
    NeuvcEncoder *enc = NULL;
    NeuvcPacket pkt;
    const uint8_t *hdr;
    size_t hsize;
    neuvc_enc_default_settings(&es);
    es.width = FDP_W;
    es.height = FDP_H;
    es.log_level = 0;
    es.threads = 1;
    for (int y = 0; y < FDP_H; y++)
        for (int x = 0; x < FDP_W; x++) {
            planes[0][y * FDP_W + x] = (uint8_t)(x * 3 + y * 2 + ((x * y) & 15));
            planes[1][y * FDP_W + x] = (uint8_t)(128 + x - y / 2);
            planes[2][y * FDP_W + x] = (uint8_t)(100 + y / 3);
        }
    NeuvcPicture pic = { { planes[0], planes[1], planes[2] }, { FDP_W, FDP_W, FDP_W },
                         FDP_W, FDP_H, 0, NEUVC_FRAME_I, 0 };
    NeuvcDecSettings ds;
    neuvc_dec_default_settings(&ds);
    ds.max_width = FUZZ_MAX_DIM;
    ds.max_height = FUZZ_MAX_DIM;
    ds.log_level = 0;
    ds.threads = 1;
    if (neuvc_enc_open(&enc, &es) < 0 || neuvc_enc_send_picture(enc, &pic) < 0 ||
        neuvc_enc_receive_packet(enc, &pkt) < 0 || neuvc_enc_get_header(enc, &hdr, &hsize) < 0 ||
        neuvc_dec_open(&fdp_dec, &ds) < 0 || neuvc_dec_set_header(fdp_dec, hdr, hsize) < 0)
        abort();
    fdp_iframe = malloc(pkt.size);
    if (!fdp_iframe)
        abort();
    memcpy(fdp_iframe, pkt.data, pkt.size);
    fdp_iframe_size = pkt.size;
    neuvc_enc_close(&enc);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    NeuvcPacket pkt = { 0 };
    NeuvcPicture pic;
    if (!fdp_dec)
        fdp_init();
    if (size < 1)
        return 0;
    /* An empty packet clears the reference of the previous input. */
    if (neuvc_dec_send_packet(fdp_dec, &pkt) != NEUVC_ERR_INVALIDDATA)
        abort();
    if (data[0] & 1) {
        pkt.data = fdp_iframe;
        pkt.size = fdp_iframe_size;
        if (neuvc_dec_send_packet(fdp_dec, &pkt) != 0 ||
            neuvc_dec_receive_picture(fdp_dec, &pic) != 0)
            abort();
    }
    pkt.data = data + 1;
    pkt.size = size - 1;
    pkt.pts = 7;
    int ret = neuvc_dec_send_packet(fdp_dec, &pkt);
    if (ret == 0) {
        if (neuvc_dec_receive_picture(fdp_dec, &pic) != 0 || pic.width != FDP_W ||
            pic.height != FDP_H || pic.pts != 7)
            abort();
        unsigned sum = 0;
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < (p ? FDP_H / 2 : FDP_H); y++)
                for (int x = 0; x < (p ? FDP_W / 2 : FDP_W); x++)
                    sum += pic.data[p][y * pic.stride[p] + x];
        fuzz_sink += sum;
    } else if (ret != NEUVC_ERR_INVALIDDATA && ret != NEUVC_ERR(ENOSYS)) {
        abort();
    }
    return 0;
}
