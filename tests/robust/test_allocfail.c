/*
 * Allocation failure (check-allocfail, tests/robust.mk, docs/security.md).
 *
 * The library under test is build/san/libneuvc.a with its allocation
 * calls renamed (objcopy --redefine-sym malloc=nv_af_malloc, ...) to the
 * wrappers below, which fail the Nth allocation.  One scenario covers
 * every open/encode/decode/close path of the library: an encoder (I and P
 * frames), a decoder with the built-in model and one with a model file,
 * the .nvc writer and reader, the Y4M writer and reader.  A clean run
 * counts its allocations (T); then for every N in 1..T the scenario runs
 * again with allocation N failing, and must
 *   - stop at an API call that returns NEUVC_ERR(ENOMEM) (no other code,
 *     no success that hides the failure, no crash: ASan and UBSan run),
 *   - leave nothing allocated once everything is closed (LeakSanitizer's
 *     check after each run).
 * Closing line: "N passed, N failed" (one check per N, plus the clean run).
 */
#include <errno.h>
#include <sanitizer/lsan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bitstream.h"
#include "common/y4m.h"
#include "neuvc/neuvc.h"

void *nv_af_malloc(size_t n);
void *nv_af_calloc(size_t n, size_t size);
void *nv_af_realloc(void *p, size_t n);
void *nv_af_aligned_alloc(size_t align, size_t n);
int nv_af_posix_memalign(void **p, size_t align, size_t n);
char *nv_af_strdup(const char *s);

#define AF_MAX_SITES 1024

static long af_count;            /* allocations seen in this run */
static long af_fail_at;          /* 1-based index of the one to fail; 0 = none */
static int af_failed;            /* the failure was injected in this run */
static void *af_failed_site;     /* where (the caller of the allocator) */
static void *af_sites[AF_MAX_SITES];
static int af_nsites;

static int af_fail(void *site)
{
    int i;
    for (i = 0; i < af_nsites && af_sites[i] != site; i++)
        ;
    if (i == af_nsites && af_nsites < AF_MAX_SITES)
        af_sites[af_nsites++] = site;
    if (++af_count != af_fail_at)
        return 0;
    af_failed = 1;
    af_failed_site = site;
    return 1;
}

#define AF_SITE __builtin_extract_return_addr(__builtin_return_address(0))

void *nv_af_malloc(size_t n)
{
    return af_fail(AF_SITE) ? NULL : malloc(n);
}

void *nv_af_calloc(size_t n, size_t size)
{
    return af_fail(AF_SITE) ? NULL : calloc(n, size);
}

void *nv_af_realloc(void *p, size_t n)
{
    return af_fail(AF_SITE) ? NULL : realloc(p, n);
}

void *nv_af_aligned_alloc(size_t align, size_t n)
{
    return af_fail(AF_SITE) ? NULL : aligned_alloc(align, n);
}

int nv_af_posix_memalign(void **p, size_t align, size_t n)
{
    return af_fail(AF_SITE) ? ENOMEM : posix_memalign(p, align, n);
}

char *nv_af_strdup(const char *s)
{
    return af_fail(AF_SITE) ? NULL : strdup(s);
}

/* ------------------------------------------------------------ scenario */

#define W 60
#define H 100
#define FRAMES 3                  /* I P P */

static uint8_t src[3][W * H];
static const char *model_path = "models/neuvc-rt.nvm";

typedef struct run_state {
    NeuvcEncoder *enc;
    NeuvcDecoder *dec, *dec_file;
    FILE *f;
    nvc_reader nr;
    y4m_reader yr;
    int nr_open, yr_open;
    const char *step;             /* the call that failed */
} run_state;

#define TRY(st, what, call)                                                                      \
    do {                                                                                         \
        int ret_ = (call);                                                                       \
        if (ret_ < 0) {                                                                          \
            (st)->step = (what);                                                                 \
            return ret_;                                                                         \
        }                                                                                        \
    } while (0)

static int decode_all(run_state *st, NeuvcDecoder *dec, const uint8_t (*pk)[16384],
                      const size_t *pk_size)
{
    NeuvcPicture out;
    for (int i = 0; i < FRAMES; i++) {
        NeuvcPacket p = { pk[i], pk_size[i], i, NEUVC_FRAME_I, 0 };
        TRY(st, "neuvc_dec_send_packet", neuvc_dec_send_packet(dec, &p));
        TRY(st, "neuvc_dec_receive_picture", neuvc_dec_receive_picture(dec, &out));
    }
    return 0;
}

/* One encoder run with es over the FRAMES pictures into pk / pk_size / hdr,
 * then the decoders (built-in model, then the model file) with `threads`
 * threads over the packets; 0, or the first error. */
static int codec_run(run_state *st, const NeuvcEncSettings *es, int threads,
                     uint8_t (*pk)[16384], size_t *pk_size, uint8_t *hdr)
{
    NeuvcDecSettings ds;
    NeuvcPacket pkt;
    const uint8_t *h;
    size_t hsize;

    TRY(st, "neuvc_enc_open", neuvc_enc_open(&st->enc, es));
    TRY(st, "neuvc_enc_get_header", neuvc_enc_get_header(st->enc, &h, &hsize));
    memcpy(hdr, h, NVC_SEQ_HEADER_SIZE);
    for (int i = 0; i < FRAMES; i++) {
        NeuvcPicture pic = { { src[0], src[1], src[2] }, { W, W, W }, W, H, i, NEUVC_FRAME_I, 0 };
        TRY(st, "neuvc_enc_send_picture", neuvc_enc_send_picture(st->enc, &pic));
        TRY(st, "neuvc_enc_receive_packet", neuvc_enc_receive_packet(st->enc, &pkt));
        if (pkt.size > sizeof(pk[i]))
            abort();
        memcpy(pk[i], pkt.data, pkt.size);
        pk_size[i] = pkt.size;
    }
    TRY(st, "neuvc_enc_send_picture(flush)", neuvc_enc_send_picture(st->enc, NULL));
    neuvc_enc_close(&st->enc);

    neuvc_dec_default_settings(&ds);
    ds.log_level = 0;
    ds.threads = threads;
    TRY(st, "neuvc_dec_open", neuvc_dec_open(&st->dec, &ds));
    TRY(st, "neuvc_dec_set_header", neuvc_dec_set_header(st->dec, hdr, NVC_SEQ_HEADER_SIZE));
    TRY(st, "decode", decode_all(st, st->dec, (const uint8_t (*)[16384])pk, pk_size));
    ds.model_path = model_path;
    TRY(st, "neuvc_dec_open(model file)", neuvc_dec_open(&st->dec_file, &ds));
    TRY(st, "neuvc_dec_set_header(model file)",
        neuvc_dec_set_header(st->dec_file, hdr, NVC_SEQ_HEADER_SIZE));
    TRY(st, "decode(model file)",
        decode_all(st, st->dec_file, (const uint8_t (*)[16384])pk, pk_size));
    neuvc_dec_close(&st->dec);
    neuvc_dec_close(&st->dec_file);
    return 0;
}

/* The scenario; 0, or the first error (st->step names the call). */
static int scenario(run_state *st)
{
    static uint8_t pk[FRAMES][16384];
    size_t pk_size[FRAMES];
    uint8_t hdr[NVC_SEQ_HEADER_SIZE];
    NeuvcEncSettings es;

    /* Constant qp, one thread. */
    neuvc_enc_default_settings(&es);
    es.width = W;
    es.height = H;
    es.keyint = 8;
    es.log_level = 0;
    es.threads = 1;
    int ret = codec_run(st, &es, 1, pk, pk_size, hdr);
    if (ret < 0)
        return ret;
    /* The video-call paths: rate control with a VBV, intra refresh strips
     * (their own codec), and the thread pools. */
    es.bitrate_kbps = 300;
    es.vbv_maxrate_kbps = 300;
    es.vbv_bufsize_kbit = 300;
    es.intra_refresh = 1;
    es.keyint = 2;                /* <= the 2 bands: frames 1 and 2 carry refresh strips */
    es.threads = 2;
    if ((ret = codec_run(st, &es, 2, pk, pk_size, hdr)) < 0)
        return ret;

    /* .nvc file: writer, then reader (whose buffer grows as data arrives). */
    nvc_writer nw;
    const uint8_t *data;
    size_t size;
    int64_t pts;
    if (!(st->f = tmpfile()))
        abort();
    TRY(st, "nvc_writer_open", nvc_writer_open(&nw, st->f, hdr, sizeof(hdr)));
    for (int i = 0; i < FRAMES; i++)
        TRY(st, "nvc_write_packet", nvc_write_packet(&nw, pk[i], pk_size[i], i));
    rewind(st->f);
    TRY(st, "nvc_reader_open", nvc_reader_open(&st->nr, st->f, 0, 0, 0));
    st->nr_open = 1;
    for (int i = 0; i < FRAMES; i++)
        TRY(st, "nvc_read_packet", nvc_read_packet(&st->nr, &data, &size, &pts));
    nvc_reader_close(&st->nr);
    st->nr_open = 0;
    fclose(st->f);

    /* Y4M: writer, then reader (its frame buffer). */
    y4m_writer yw;
    y4m_info info = { W, H, 25, 1, 1, 1, 'p', "" };
    const uint8_t *const planes[3] = { src[0], src[1], src[2] };
    const ptrdiff_t strides[3] = { W, W, W };
    NeuvcPicture pic;
    if (!(st->f = tmpfile()))
        abort();
    TRY(st, "y4m_writer_open", y4m_writer_open(&yw, st->f, &info));
    TRY(st, "y4m_write_frame", y4m_write_frame(&yw, planes, strides));
    rewind(st->f);
    TRY(st, "y4m_reader_open", y4m_reader_open(&st->yr, st->f, 0, 0));
    st->yr_open = 1;
    TRY(st, "y4m_read_picture", y4m_read_picture(&st->yr, &pic));
    return 0;
}

static void cleanup(run_state *st)
{
    neuvc_enc_close(&st->enc);
    neuvc_dec_close(&st->dec);
    neuvc_dec_close(&st->dec_file);
    if (st->nr_open)
        nvc_reader_close(&st->nr);
    if (st->yr_open)
        y4m_reader_close(&st->yr);
    if (st->f)
        fclose(st->f);
    memset(st, 0, sizeof(*st));
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    run_state st;

    if (argc > 1)
        model_path = argv[1];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            src[0][y * W + x] = (uint8_t)(x * 4 + y + ((x ^ y) & 7));
            src[1][y * W + x] = (uint8_t)(120 + x / 2);
            src[2][y * W + x] = (uint8_t)(130 - y / 4);
        }
    /* The clean run: everything succeeds; T allocations. */
    memset(&st, 0, sizeof(st));
    af_fail_at = 0;
    af_count = 0;
    int ret = scenario(&st);
    cleanup(&st);
    long total = af_count;
    if (ret < 0 || __lsan_do_recoverable_leak_check()) {
        printf("clean run FAILED: %s returned %d (%s)\n", st.step ? st.step : "leak check", ret,
               neuvc_strerror(ret));
        printf("0 passed, 1 failed\n");
        return 1;
    }
    passed++;
    int sites = af_nsites;
    printf("clean run: %ld allocations from %d call sites\n", total, sites);

    for (long n = 1; n <= total; n++) {
        memset(&st, 0, sizeof(st));
        af_count = 0;
        af_failed = 0;
        af_fail_at = n;
        ret = scenario(&st);
        const char *step = st.step;
        af_fail_at = 0;           /* cleanup may allocate nothing, but never fails */
        cleanup(&st);
        int leak = __lsan_do_recoverable_leak_check();
        if (!af_failed) {
            printf("allocation %ld: not reached (the scenario made %ld)\n", n, af_count);
            failed++;
        } else if (ret != NEUVC_ERR(ENOMEM) || leak) {
            printf("allocation %ld (called from %p) FAILED: %s returned %d (%s)%s\n", n,
                   af_failed_site, step ? step : "nothing", ret, neuvc_strerror(ret),
                   leak ? ", and memory leaked" : "");
            failed++;
        } else {
            passed++;
        }
    }
    printf("allocation failure: %ld allocations failed in turn (%d call sites), each gave ENOMEM\n",
           total, af_nsites);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
