/*
 * video_call: libneuvc in a video call, with the public API only
 * (docs/video-call.md).  Built by `make` as build/examples/video_call.
 *
 *     build/examples/video_call [frames]
 *
 * A sender codes a synthetic moving picture with a bitrate target, a VBV
 * and intra refresh; the "network" loses one packet, the receiver reports
 * the loss and the sender answers with a new refresh cycle
 * (neuvc_enc_request_refresh: no keyframe); the bandwidth estimate drops
 * half-way, and the receiver asks for a keyframe after the drop.  The
 * receiver conceals what it cannot decode by showing its last good
 * picture, and checks that once it has recovered its pictures are exactly
 * the sender's reconstruction.  One line per frame, then a
 * summary; exit status 0 when every check held.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <neuvc/neuvc.h>

#define W 320
#define H 256
#define LOST_FRAME 9              /* the packet the network drops */
#define RATE_DROP_FRAME 20        /* the bandwidth estimate falls from 600 to 300 kbit/s */
#define KEYFRAME_REQUEST 30       /* the receiver asks for a keyframe (e.g. RTCP PLI) */

static uint8_t g_src[W * H * 3 / 2];

/* 0..255..0 over a period of 2 * 256. */
static int tri(int v)
{
    v &= 511;
    return v < 256 ? v : 511 - v;
}

/* A smooth picture that pans: frame k. */
static void make_picture(int k, NeuvcPicture *pic)
{
    uint8_t *y = g_src, *u = y + W * H, *v = u + W * H / 4;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) {
            const int x = c + 3 * k, t = r + k;
            y[r * W + c] = (uint8_t)(40 + (tri(3 * x) + tri(2 * t + x)) * 175 / 510);
        }
    for (int r = 0; r < H / 2; r++)
        for (int c = 0; c < W / 2; c++) {
            u[r * (W / 2) + c] = (uint8_t)(100 + (c + k) % 50);
            v[r * (W / 2) + c] = (uint8_t)(150 - (r + k) % 50);
        }
    memset(pic, 0, sizeof(*pic));
    pic->data[0] = y;
    pic->data[1] = u;
    pic->data[2] = v;
    pic->stride[0] = W;
    pic->stride[1] = pic->stride[2] = W / 2;
    pic->width = W;
    pic->height = H;
    pic->pts = k;
}

static int same_picture(const NeuvcPicture *a, const NeuvcPicture *b)
{
    for (int i = 0; i < 3; i++) {
        const int pw = i ? W / 2 : W, ph = i ? H / 2 : H;
        for (int r = 0; r < ph; r++)
            if (memcmp(a->data[i] + r * a->stride[i], b->data[i] + r * b->stride[i], (size_t)pw))
                return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    const int frames = argc > 1 ? atoi(argv[1]) : 40;
    NeuvcEncSettings es;
    NeuvcDecSettings ds;
    NeuvcEncoder *enc = NULL;
    NeuvcDecoder *dec = NULL;
    const uint8_t *hdr;
    size_t hdr_size;
    int bad = 0, shown = 0, concealed = 0, ret;
    size_t bytes = 0;

    if (frames < 1 || frames > 10000) {
        fprintf(stderr, "usage: %s [frames 1..10000]\n", argv[0]);
        return 2;
    }
    /* Sender: 600 kbit/s, VBV of 0.5 s at that rate, intra refresh
     * instead of periodic keyframes, a refresh cycle starting every 8
     * frames (keyint).  The same names work in neuvc_enc_param_parse(),
     * neuvc-enc and FFmpeg's -neuvc-params. */
    neuvc_enc_default_settings(&es);
    es.width = W;
    es.height = H;
    es.fps_num = 30;
    es.fps_den = 1;
    if ((ret = neuvc_enc_param_parse(&es, "bitrate", "600")) < 0 ||
        (ret = neuvc_enc_param_parse(&es, "vbv-maxrate", "600")) < 0 ||
        (ret = neuvc_enc_param_parse(&es, "vbv-bufsize", "300")) < 0 ||
        (ret = neuvc_enc_param_parse(&es, "intra-refresh", "1")) < 0 ||
        (ret = neuvc_enc_param_parse(&es, "keyint", "8")) < 0 ||
        (ret = neuvc_enc_open(&enc, &es)) < 0) {
        fprintf(stderr, "video_call: cannot open the encoder: %s\n", neuvc_strerror(ret));
        return 1;
    }
    /* Receiver: the sequence header comes once, out of band (SDP, or the
     * first message of the call). */
    neuvc_dec_default_settings(&ds);
    ds.log_level = 0;             /* this program prints its own lines */
    if ((ret = neuvc_dec_open(&dec, &ds)) < 0 ||
        (ret = neuvc_enc_get_header(enc, &hdr, &hdr_size)) < 0 ||
        (ret = neuvc_dec_set_header(dec, hdr, hdr_size)) < 0) {
        fprintf(stderr, "video_call: cannot open the decoder: %s\n", neuvc_strerror(ret));
        neuvc_enc_close(&enc);
        neuvc_dec_close(&dec);
        return 1;
    }
    int recovering = 0, loss_report = 0;
    for (int k = 0; k < frames; k++) {
        NeuvcPicture pic, rec, out;
        NeuvcPacket pkt;
        if (k == RATE_DROP_FRAME)
            neuvc_enc_set_bitrate(enc, 300);         /* the new bandwidth estimate */
        if (k == KEYFRAME_REQUEST)
            neuvc_enc_force_keyframe(enc);           /* the receiver's request */
        if (loss_report) {
            /* the receiver's loss report (e.g. RTCP PLI) arrived: refresh,
             * exact again within one cycle, without a keyframe */
            neuvc_enc_request_refresh(enc);
            loss_report = 0;
        }
        make_picture(k, &pic);
        /* one picture in, one packet out, at once */
        if ((ret = neuvc_enc_send_picture(enc, &pic)) < 0 ||
            (ret = neuvc_enc_receive_packet(enc, &pkt)) < 0) {
            fprintf(stderr, "video_call: frame %d: %s\n", k, neuvc_strerror(ret));
            bad = 1;
            break;
        }
        bytes += pkt.size;
        neuvc_enc_get_recon(enc, &rec);              /* what a receiver shows */
        printf("frame %2d: %c qp %2d %6zu bytes", k, pkt.frame_type == NEUVC_FRAME_I ? 'I' : 'P',
               pkt.qp, pkt.size);
        if (k == LOST_FRAME) {
            printf("  -> lost on the network\n");
            recovering = 1;
            continue;
        }
        ret = neuvc_dec_send_packet(dec, &pkt);
        if (ret == 0 && neuvc_dec_receive_picture(dec, &out) == 0) {
            const int exact = same_picture(&out, &rec);
            printf("  -> shown%s%s\n", recovering ? " (recovered)" : "", exact ? "" : " MISMATCH");
            bad |= !exact;
            recovering = 0;
            shown++;
        } else {
            /* lost reference: show the last good picture again */
            printf("  -> concealed (%s)%s\n", neuvc_strerror(ret),
                   recovering == 1 ? ", loss reported" : "");
            loss_report = recovering == 1;
            recovering += recovering > 0;
            concealed++;
            bad |= !recovering;      /* only frames after the loss may fail */
        }
    }
    printf("%d frames: %d shown exact, %d concealed, %.0f kbit/s; %s\n", frames, shown, concealed,
           bytes * 8 / 1000.0 / (frames / 30.0), bad ? "FAILED" : "ok");
    neuvc_enc_close(&enc);
    neuvc_dec_close(&dec);
    return bad;
}
