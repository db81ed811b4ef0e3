/* Per-frame latency of the public API (video-call mode): for each picture
 * of a Y4M clip, the wall time from neuvc_enc_send_picture() to its packet
 * out of neuvc_enc_receive_packet(), and from neuvc_dec_send_packet() to
 * the picture out of neuvc_dec_receive_picture(); prints the median and
 * the 99th percentile of each (nearest rank).  Run by tools/bench.py on its
 * 1080p clip (make bench):
 *
 *     bench_latency Y4M [frames [threads [ENCODER-PARAMS]]]
 *
 * ENCODER-PARAMS: "name=value:name=value" of neuvc_enc_param_parse (for
 * example "bitrate=4000:vbv-maxrate=4000:vbv-bufsize=2000:intra-refresh=1").
 * Output: one line "latency WxH N frames: encode median M ms p99 P ms
 * (max X), decode median M ms p99 P ms (max X); CPU time per frame:
 * encode median C ms, decode median C ms".  The CPU time (the process's,
 * all threads) tells a loaded machine's waiting apart from the work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/y4m.h"
#include "neuvc/neuvc.h"

static double now_ms(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100) of v[0..n-1] (sorted here). */
static double percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    int k = (int)((p / 100.0) * n + 0.999999);
    k = k < 1 ? 1 : k > n ? n : k;
    return v[k - 1];
}

static int set_params(NeuvcEncSettings *s, const char *text)
{
    char buf[1024];
    if (strlen(text) >= sizeof(buf))
        return -1;
    strcpy(buf, text);
    for (char *save = NULL, *kv = strtok_r(buf, ":", &save); kv; kv = strtok_r(NULL, ":", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return -1;
        *eq = 0;
        if (neuvc_enc_param_parse(s, kv, eq + 1) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int ret = 1, n = 0;
    NeuvcEncoder *enc = NULL;
    NeuvcDecoder *dec = NULL;
    double *te = NULL, *td = NULL, *ce = NULL, *cd = NULL;
    FILE *f = NULL;
    y4m_reader r;
    int have_reader = 0;

    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s Y4M [frames [threads [name=value:...]]]\n", argv[0]);
        return 2;
    }
    const int frames = argc > 2 ? atoi(argv[2]) : 48;
    if (frames < 1 || frames > 100000) {
        fprintf(stderr, "bench_latency: frames must be 1..100000\n");
        return 2;
    }
    if (!(f = fopen(argv[1], "rb"))) {
        fprintf(stderr, "bench_latency: cannot open %s\n", argv[1]);
        return 1;
    }
    if (y4m_reader_open(&r, f, 0, 0) < 0) {
        fprintf(stderr, "bench_latency: %s is not a usable Y4M file\n", argv[1]);
        goto fail;
    }
    have_reader = 1;
    NeuvcEncSettings es;
    neuvc_enc_default_settings(&es);
    es.width = r.info.width;
    es.height = r.info.height;
    es.threads = argc > 3 ? atoi(argv[3]) : 0;
    if (argc > 4 && set_params(&es, argv[4]) < 0) {
        fprintf(stderr, "bench_latency: bad encoder parameters '%s'\n", argv[4]);
        goto fail;
    }
    NeuvcDecSettings ds;
    neuvc_dec_default_settings(&ds);
    ds.threads = es.threads;
    const uint8_t *hdr;
    size_t hsize;
    if (neuvc_enc_open(&enc, &es) < 0 || neuvc_dec_open(&dec, &ds) < 0 ||
        neuvc_enc_get_header(enc, &hdr, &hsize) < 0 || neuvc_dec_set_header(dec, hdr, hsize) < 0) {
        fprintf(stderr, "bench_latency: cannot open the encoder or decoder\n");
        goto fail;
    }
    te = malloc(sizeof(*te) * (size_t)frames);
    td = malloc(sizeof(*td) * (size_t)frames);
    ce = malloc(sizeof(*ce) * (size_t)frames);
    cd = malloc(sizeof(*cd) * (size_t)frames);
    if (!te || !td || !ce || !cd)
        goto fail;
    for (; n < frames; n++) {
        NeuvcPicture pic, out;
        NeuvcPacket pkt;
        const int got = y4m_read_picture(&r, &pic);
        if (got < 0) {
            fprintf(stderr, "bench_latency: read error at frame %d\n", n);
            goto fail;
        }
        if (got == 0)
            break;
        pic.pts = n;
        const double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ms(CLOCK_MONOTONIC);
        if (neuvc_enc_send_picture(enc, &pic) < 0 || neuvc_enc_receive_packet(enc, &pkt) < 0) {
            fprintf(stderr, "bench_latency: encoding frame %d failed\n", n);
            goto fail;
        }
        const double t1 = now_ms(CLOCK_MONOTONIC), c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (neuvc_dec_send_packet(dec, &pkt) < 0 || neuvc_dec_receive_picture(dec, &out) < 0) {
            fprintf(stderr, "bench_latency: decoding frame %d failed\n", n);
            goto fail;
        }
        const double t2 = now_ms(CLOCK_MONOTONIC), c2 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        te[n] = t1 - t0;
        td[n] = t2 - t1;
        ce[n] = c1 - c0;
        cd[n] = c2 - c1;
    }
    if (n < 1) {
        fprintf(stderr, "bench_latency: no frames\n");
        goto fail;
    }
    const double emax = percentile(te, n, 100), dmax = percentile(td, n, 100);
    printf("latency %dx%d %d frames: encode median %.1f ms p99 %.1f ms (max %.1f), "
           "decode median %.1f ms p99 %.1f ms (max %.1f); CPU time per frame: encode median "
           "%.1f ms, decode median %.1f ms\n",
           es.width, es.height, n, percentile(te, n, 50), percentile(te, n, 99), emax,
           percentile(td, n, 50), percentile(td, n, 99), dmax, percentile(ce, n, 50),
           percentile(cd, n, 50));
    ret = 0;
fail:
    free(te);
    free(td);
    free(ce);
    free(cd);
    neuvc_enc_close(&enc);
    neuvc_dec_close(&dec);
    if (have_reader)
        y4m_reader_close(&r);
    if (f)
        fclose(f);
    return ret;
}
