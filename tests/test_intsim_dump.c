/* The C side of the integer simulator check (tests/test_intsim.py): dumps
 * every intermediate tensor of the codec's networks, as the C runtime
 * computes them, for the Python simulator (training/intsim.py) to
 * reproduce byte for byte.
 *
 *   test_intsim_dump                      runs the Check suite below
 *   test_intsim_dump --dump IN.y4m QP OUTDIR [--model FILE]
 *       codes the first frame of IN.y4m as an intra frame with the
 *       library's encoder (nv_intra_encode) and writes what each step of
 *       docs/codec.md "Intra frame" produced: x6 (u8, the packed input),
 *       y (s32, analysis), yq (s16, quantized), z (s16, hyper-analysis),
 *       mu (s16) and sidx (u8) (hyper-synthesis), yd (s16, dequantized),
 *       x6rec (u8, synthesis).  Before writing, it checks that these are
 *       the values of the real codec: z and yq are what the frame's
 *       sub-streams decode to, the encoder's reconstruction is x6rec, and
 *       the public API's reconstruction and decoder output (same model,
 *       same qp) equal the unpacked x6rec cropped to the picture.
 *   test_intsim_dump --dump-inter IN.y4m QP OUTDIR [--model FILE] [--shift DX DY]
 *       runs the inter graphs of docs/codec.md "Inter frame" with the
 *       netlib executor on x6 of the first frame and a synthetic
 *       prediction p6 (x6 shifted by DX, DY samples of the x6 grid, edges
 *       repeated; default 3, 2): p6, pt, pf (inter.pred), y
 *       (inter.analysis), yq (inter.y_q* tables), z, mu, sidx, yd (inter.y_dq*
 *       tables), x6rec (inter.synthesis).  Exit status 3 when the model has
 *       no inter part (param inter != 1).
 *
 * Output: OUTDIR/NAME.raw, each the HWC tensor with rows back to back,
 * little-endian; OUTDIR/dump.json lists mode, sizes, qp, model id and, per
 * tensor, name, type, shape [h, w, c] and file.  Exit status 0, 1 on
 * failure, 2 for bad usage, 3 as above. */
#include <check.h>
#include "common/errmsg.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bitstream.h"
#include "common/model.h"
#include "common/nvm.h"
#include "common/picture.h"
#include "common/y4m.h"
#include "decoder/intra.h"
#include "encoder/intra.h"
#include "entropy/latent.h"
#include "entropy/rangecoder.h"
#include "netlib/graph.h"
#include "netlib/netlib.h"
#include "neuvc/neuvc.h"

extern const unsigned char nv_default_model[];
extern const size_t nv_default_model_size;

#define DUMP_MAX 16
#define DUMP_ERR 512
#define EXIT_NO_INTER 3

/* ------------------------------------------------------------ tensors */

/* An owned, contiguous HWC tensor with a name. */
typedef struct dump_tensor {
    char name[16];
    nl_type type;
    int h, w, c;
    void *data;
} dump_tensor;

typedef struct dump_set {
    const char *mode;            /* "intra" or "inter" */
    int width, height, wp, hp, qp;
    char model_id[NVM_NAME_MAX + 1];
    int n;
    dump_tensor t[DUMP_MAX];
} dump_set;

static const char *type_str(nl_type t)
{
    static const char *const names[NL_NTYPES] = { "u8", "s8", "s16", "s32" };
    return (unsigned)t < NL_NTYPES ? names[t] : "?";
}

static size_t tensor_bytes(const dump_tensor *t)
{
    return (size_t)t->h * (size_t)t->w * (size_t)t->c * nl_type_size(t->type);
}

static nl_tensor tensor_view(const dump_tensor *t)
{
    nl_tensor v = { t->data, t->h, t->w, t->c, (ptrdiff_t)t->w * t->c, t->type };
    return v;
}

/* Appends a zeroed tensor to s; NULL when out of memory or room. */
static dump_tensor *set_new(dump_set *s, const char *name, nl_type type, int h, int w, int c)
{
    if (s->n >= DUMP_MAX)
        return NULL;
    dump_tensor *t = &s->t[s->n];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->type = type;
    t->h = h;
    t->w = w;
    t->c = c;
    t->data = calloc(tensor_bytes(t) ? tensor_bytes(t) : 1, 1);
    if (!t->data)
        return NULL;
    s->n++;
    return t;
}

/* Appends a contiguous copy of the view src. */
static dump_tensor *set_copy(dump_set *s, const char *name, const nl_tensor *src)
{
    dump_tensor *t = set_new(s, name, src->type, src->h, src->w, src->c);
    if (!t)
        return NULL;
    size_t es = nl_type_size(src->type), row = (size_t)src->w * (size_t)src->c * es;
    for (int y = 0; y < src->h; y++)
        memcpy((uint8_t *)t->data + (size_t)y * row,
               (const uint8_t *)src->data + (size_t)y * (size_t)src->stride * es, row);
    return t;
}

static const dump_tensor *set_find(const dump_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->t[i].name, name))
            return &s->t[i];
    return NULL;
}

static void set_free(dump_set *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->t[i].data);
    s->n = 0;
}

/* -1 when a and b (same type) are equal in shape and content, else the
 * index (y * w + x) * c + ch of the first difference, or -2 for a shape
 * or type mismatch. */
static long tensor_diff(const nl_tensor *a, const nl_tensor *b)
{
    if (a->type != b->type || a->h != b->h || a->w != b->w || a->c != b->c)
        return -2;
    size_t es = nl_type_size(a->type), row = (size_t)a->w * (size_t)a->c;
    for (int y = 0; y < a->h; y++) {
        const uint8_t *pa = (const uint8_t *)a->data + (size_t)y * (size_t)a->stride * es;
        const uint8_t *pb = (const uint8_t *)b->data + (size_t)y * (size_t)b->stride * es;
        if (memcmp(pa, pb, row * es))
            for (size_t i = 0; i < row; i++)
                if (memcmp(pa + i * es, pb + i * es, es))
                    return (long)((size_t)y * row + i);
    }
    return -1;
}

/* ------------------------------------------------------------ output */

static int write_le(FILE *f, const dump_tensor *t)
{
    size_t n = (size_t)t->h * (size_t)t->w * (size_t)t->c, es = nl_type_size(t->type);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[4];
        uint32_t v = 0;
        switch (t->type) {
        case NL_U8:
        case NL_S8: v = ((const uint8_t *)t->data)[i]; break;
        case NL_S16: v = (uint16_t)((const int16_t *)t->data)[i]; break;
        default: v = (uint32_t)((const int32_t *)t->data)[i]; break;
        }
        for (size_t k = 0; k < es; k++)
            b[k] = (uint8_t)(v >> (8 * k));
        if (fwrite(b, 1, es, f) != es)
            return -1;
    }
    return 0;
}

/* Writes every tensor of s and dump.json into dir (which exists). */
static int set_write(const dump_set *s, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    for (int i = 0; i < s->n; i++) {
        snprintf(path, sizeof(path), "%s/%s.raw", dir, s->t[i].name);
        FILE *f = fopen(path, "wb");
        if (!f)
            return nv_fail(err, errlen, NEUVC_ERR(EIO), "cannot create %s", path);
        int bad = write_le(f, &s->t[i]);
        bad |= fclose(f);
        if (bad)
            return nv_fail(err, errlen, NEUVC_ERR(EIO), "cannot write %s", path);
    }
    snprintf(path, sizeof(path), "%s/dump.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return nv_fail(err, errlen, NEUVC_ERR(EIO), "cannot create %s", path);
    /* The model id is printable ASCII without spaces; '"' and '\\' are
     * escaped all the same. */
    fprintf(f, "{\"mode\": \"%s\", \"width\": %d, \"height\": %d, \"wp\": %d, \"hp\": %d, "
               "\"qp\": %d, \"model_id\": \"", s->mode, s->width, s->height, s->wp, s->hp, s->qp);
    for (const char *p = s->model_id; *p; p++)
        fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    fprintf(f, "\",\n \"tensors\": [");
    for (int i = 0; i < s->n; i++) {
        const dump_tensor *t = &s->t[i];
        fprintf(f, "%s\n  {\"name\": \"%s\", \"type\": \"%s\", \"shape\": [%d, %d, %d], "
                   "\"file\": \"%s.raw\"}", i ? "," : "", t->name, type_str(t->type), t->h,
                t->w, t->c, t->name);
    }
    fprintf(f, "\n]}\n");
    if (fclose(f))
        return nv_fail(err, errlen, NEUVC_ERR(EIO), "cannot write %s", path);
    return 0;
}

/* ------------------------------------------------------------ pictures */

/* The w x h picture pic on its coded size, packed into x6 (owned). */
static int picture_x6(const NeuvcPicture *pic, dump_set *s, char *err, size_t errlen)
{
    nv_picture p;
    s->width = pic->width;
    s->height = pic->height;
    s->wp = nv_padded_size(pic->width);
    s->hp = nv_padded_size(pic->height);
    if (nv_picture_alloc(&p, s->wp, s->hp) < 0)
        return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
    nv_picture_import(&p, pic, pic->width, pic->height);
    dump_tensor *x6 = set_new(s, "x6", NL_U8, s->hp / 2, s->wp / 2, NV_X6_CHANNELS);
    if (!x6) {
        nv_picture_free(&p);
        return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
    }
    nl_tensor v = tensor_view(x6);
    nv_x6_pack(&p, &v);
    nv_picture_free(&p);
    return 0;
}

/* First difference between the w x h area of the padded picture p and
 * the picture q: "" when equal, else a description in msg. */
static int picture_diff(const nv_picture *p, const NeuvcPicture *q, char *msg, size_t len)
{
    int w = q->width, h = q->height;
    for (int i = 0; i < 3; i++) {
        int cw = i ? (w + 1) / 2 : w, ch = i ? (h + 1) / 2 : h;
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                int a = p->data[i][y * p->stride[i] + x], b = q->data[i][y * q->stride[i] + x];
                if (a != b) {
                    snprintf(msg, len, "plane %d (%d, %d): x6rec %d, other %d", i, x, y, a, b);
                    return 1;
                }
            }
    }
    return 0;
}

/* The public API on the same picture, model and qp: its encoder
 * reconstruction and its decoder's output must equal x6rec (unpacked,
 * cropped). */
static int public_check(const NeuvcPicture *pic, int qp, const char *model_path,
                        const nl_tensor *x6rec, char *err, size_t errlen)
{
    NeuvcEncSettings es;
    NeuvcDecSettings ds;
    NeuvcEncoder *enc = NULL;
    NeuvcDecoder *dec = NULL;
    NeuvcPacket pkt;
    NeuvcPicture rec, out;
    nv_picture p;
    const uint8_t *hdr;
    size_t hdr_size;
    char msg[256];
    int ret;

    if (nv_picture_alloc(&p, nv_padded_size(pic->width), nv_padded_size(pic->height)) < 0)
        return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
    nv_x6_unpack(x6rec, &p);
    neuvc_enc_default_settings(&es);
    es.width = pic->width;
    es.height = pic->height;
    es.qp = qp;
    es.threads = 1;
    es.model_path = model_path;
    neuvc_dec_default_settings(&ds);
    ds.threads = 1;
    ds.model_path = model_path;
    if ((ret = neuvc_enc_open(&enc, &es)) < 0 || (ret = neuvc_enc_send_picture(enc, pic)) < 0 ||
        (ret = neuvc_enc_receive_packet(enc, &pkt)) < 0 ||
        (ret = neuvc_enc_get_recon(enc, &rec)) < 0) {
        nv_fail(err, errlen, ret, "public encoder: %s", neuvc_strerror(ret));
        goto done;
    }
    if (pkt.frame_type != NEUVC_FRAME_I || pkt.qp != qp) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "public encoder: frame type %d, qp %d",
                        (int)pkt.frame_type, pkt.qp);
        goto done;
    }
    if (picture_diff(&p, &rec, msg, sizeof(msg))) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "public encoder recon differs: %s", msg);
        goto done;
    }
    if ((ret = neuvc_enc_get_header(enc, &hdr, &hdr_size)) < 0 ||
        (ret = neuvc_dec_open(&dec, &ds)) < 0 ||
        (ret = neuvc_dec_set_header(dec, hdr, hdr_size)) < 0 ||
        (ret = neuvc_dec_send_packet(dec, &pkt)) < 0 ||
        (ret = neuvc_dec_receive_picture(dec, &out)) < 0) {
        nv_fail(err, errlen, ret, "public decoder: %s", neuvc_strerror(ret));
        goto done;
    }
    if (out.width != pic->width || out.height != pic->height ||
        picture_diff(&p, &out, msg, sizeof(msg))) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "public decoder output differs: %s",
                        out.width != pic->width ? "size" : msg);
        goto done;
    }
    ret = 0;
done:
    neuvc_enc_close(&enc);
    neuvc_dec_close(&dec);
    nv_picture_free(&p);
    return ret;
}

/* ------------------------------------------------------------ intra */

/* The intra dump of pic at qp (see the top comment); model_path NULL:
 * the built-in model.  s must be zeroed; the caller frees it. */
static int dump_intra(const NeuvcPicture *pic, int qp, const char *model_path, dump_set *s,
                      char *err, size_t errlen)
{
    nv_model *m = NULL;
    nv_intra c;
    rc_enc rc[NVC_MAX_SUBSTREAMS];
    nvc_frame_header fh;
    nl_requant rq;
    char msg[NV_ERRMSG_SIZE] = "";
    int n_rc = 0, ret;
    long d;

    memset(&c, 0, sizeof(c));
    s->mode = "intra";
    s->qp = qp;
    if (qp < 0 || qp >= NV_QP_COUNT)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "qp %d outside 0..%d", qp,
                         NV_QP_COUNT - 1);
    if ((ret = nv_model_open(&m, model_path, msg, sizeof(msg))) < 0)
        return nv_fail(err, errlen, ret, "%s", msg);
    snprintf(s->model_id, sizeof(s->model_id), "%s", m->id);
    if ((ret = nv_intra_open(&c, m, pic->width, pic->height, 1, NEUVC_CPU_AUTO, 1, msg, sizeof(msg))) < 0) {
        nv_fail(err, errlen, ret, "%s", msg);
        goto done;
    }
    if ((ret = picture_x6(pic, s, err, errlen)) < 0)
        goto done;
    for (; n_rc < 1 + c.nbands; n_rc++)
        if (rc_enc_init(&rc[n_rc], 4096) < 0) {
            rc_enc_free(&rc[n_rc]);
            ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
            goto done;
        }
    nl_tensor x6 = tensor_view(&s->t[0]), yv;
    /* nv_intra_encode's three steps: y is copied before the synthesis,
     * which may reuse the analysis' memory (common/model.c). */
    if ((ret = nv_intra_encode_analyse(&c, &x6, &yv, msg, sizeof(msg))) < 0 ||
        (ret = nv_intra_encode_code(&c, rc, &yv, qp, &fh, msg, sizeof(msg))) < 0) {
        nv_fail(err, errlen, ret, "nv_intra_encode: %s", msg);
        goto done;
    }
    dump_tensor *ty = set_copy(s, "y", &yv);
    if (!ty) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    if ((ret = nv_intra_reconstruct(&c, qp)) < 0) {
        nv_fail(err, errlen, ret, "nv_intra_encode: synthesis failed");
        goto done;
    }
    /* Every other executor keeps its outputs until its next run: each
     * graph ran once, so these are the values the encoder coded. */
    const nl_tensor yc = tensor_view(ty), *y = &yc;
    const nl_tensor *z = nl_graph_output(c.nets.hyper_analysis, 0);
    const nl_tensor *mu = nl_graph_output(c.nets.hyper_synthesis, 0);
    const nl_tensor *sidx = nl_graph_output(c.nets.hyper_synthesis, 1);
    const nl_tensor *x6rec = nl_graph_output(c.nets.synthesis, 0);
    /* Step 2 again, with the encoder's own call (c.yq now holds yd). */
    dump_tensor *tyq = set_new(s, "yq", NL_S16, y->h, y->w, y->c);
    if (!tyq) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    nl_tensor yq = tensor_view(tyq);
    nv_model_requant(m, qp, 0, &rq);
    nl_requant_ref(&rq, y, &yq, 0, y->h);
    dump_tensor *tz = set_copy(s, "z", z), *tmu = set_copy(s, "mu", mu);
    dump_tensor *tsidx = set_copy(s, "sidx", sidx), *tyd = set_copy(s, "yd", &c.yq);
    dump_tensor *tx6rec = set_copy(s, "x6rec", x6rec);
    dump_tensor *zdec = set_new(s, "zdec", NL_S16, z->h, z->w, z->c);
    dump_tensor *yqdec = set_new(s, "yqdec", NL_S16, y->h, y->w, y->c);
    if (!tz || !tmu || !tsidx || !tyd || !tx6rec || !zdec || !yqdec) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    /* The frame's sub-streams decode to z and yq. */
    rc_dec dec;
    nl_tensor vz = tensor_view(zdec), vyq = tensor_view(yqdec);
    rc_dec_init(&dec, fh.substream[0], fh.substream_size[0]);
    if (nv_latent_dec_z(&dec, &vz, &m->z_tab) < 0 || rc_dec_finish(&dec) < 0) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "sub-stream 0 does not decode");
        goto done;
    }
    if ((d = tensor_diff(&vz, z)) != -1) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "decoded z differs at %ld", d);
        goto done;
    }
    for (int j = 0; j < c.nbands; j++) {
        int y0 = j * NV_BAND_ROWS, y1 = y0 + NV_BAND_ROWS < y->h ? y0 + NV_BAND_ROWS : y->h;
        rc_dec_init(&dec, fh.substream[1 + j], fh.substream_size[1 + j]);
        if (nv_latent_dec_band(&dec, &vyq, mu, sidx, y0, y1, &m->y_tab) < 0 ||
            rc_dec_finish(&dec) < 0) {
            ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "sub-stream %d does not decode", 1 + j);
            goto done;
        }
    }
    if ((d = tensor_diff(&vyq, &yq)) != -1) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "decoded yq differs at %ld", d);
        goto done;
    }
    /* The encoder's reconstruction is x6rec. */
    dump_tensor *packed = set_new(s, "recon", NL_U8, x6rec->h, x6rec->w, NV_X6_CHANNELS);
    if (!packed) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    nl_tensor vp = tensor_view(packed);
    nv_x6_pack(&c.recon, &vp);
    if ((d = tensor_diff(&vp, x6rec)) != -1) {
        ret = nv_fail(err, errlen, NEUVC_ERR(EINVAL), "encoder recon differs from x6rec at %ld",
                        d);
        goto done;
    }
    /* Only the dump's tensors stay (the checks' buffers go). */
    for (int i = 0; i < 3; i++)
        free(s->t[--s->n].data);
    ret = public_check(pic, qp, model_path, x6rec, err, errlen);
done:
    for (int i = 0; i < n_rc; i++)
        rc_enc_free(&rc[i]);
    nv_intra_close(&c);
    nv_model_close(&m);
    return ret;
}

/* ------------------------------------------------------------ inter */

/* Runs g on in[0 .. n_in-1] with a fresh executor and appends copies of
 * its outputs to s under names[0 .. n_out-1]. */
static int run_graph(const nl_graph *g, int n_in, const nl_tensor *in, int n_out,
                     const char *const *names, dump_set *s, char *err, size_t errlen)
{
    nl_graph_exec *ex = NULL;
    int h[NL_GRAPH_MAX_IO], w[NL_GRAPH_MAX_IO], ret;
    if ((int)g->n_inputs != n_in || (int)g->n_outputs != n_out)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                         "graph '%s' has %u inputs and %u outputs, expected %d and %d", g->name,
                         (unsigned)g->n_inputs, (unsigned)g->n_outputs, n_in, n_out);
    for (int i = 0; i < n_in; i++) {
        h[i] = in[i].h;
        w[i] = in[i].w;
    }
    if ((ret = nl_graph_exec_new(&ex, g)) < 0)
        return nv_fail(err, errlen, ret, "graph '%s': no executor", g->name);
    if ((ret = nl_graph_prepare(ex, h, w)) < 0 || (ret = nl_graph_run(ex, in, NULL, NULL)) < 0) {
        nv_fail(err, errlen, ret, "graph '%s': %s", g->name, nl_graph_exec_error(ex));
        goto done;
    }
    for (int i = 0; i < n_out; i++)
        if (!set_copy(s, names[i], nl_graph_output(ex, (uint32_t)i))) {
            ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
            goto done;
        }
done:
    nl_graph_exec_free(&ex);
    return ret;
}

/* The quantizer or dequantizer row qp of the inter part (tables
 * inter.y_qmult ... s32 / u8 [64][cy]). */
static int inter_requant(const nvm_model *nm, int cy, int qp, int dequant, nl_requant *rq,
                         char *err, size_t errlen)
{
    const char *mn = dequant ? "inter.y_dqmult" : "inter.y_qmult";
    const char *sn = dequant ? "inter.y_dqshift" : "inter.y_qshift";
    const nvm_tensor *tm = nvm_find_tensor(nm, mn, NVM_S32, 2, NV_QP_COUNT, cy);
    const nvm_tensor *ts = nvm_find_tensor(nm, sn, NVM_U8, 2, NV_QP_COUNT, cy);
    if (!tm || !ts)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                         "tensors '%s' s32, '%s' u8 [%d][%d] required", mn, sn, NV_QP_COUNT, cy);
    rq->bias = NULL;
    rq->mult = (const int32_t *)tm->data + (size_t)qp * (size_t)cy;
    rq->shift = (const uint8_t *)ts->data + (size_t)qp * (size_t)cy;
    rq->lo = -NV_LATENT_MAX;
    rq->hi = NV_LATENT_MAX;
    if (nl_requant_check(rq, cy, NL_S16) < 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                         "'%s' / '%s' row %d is not a valid requantization", mn, sn, qp);
    return 0;
}

/* Tensor name of s has type t, height hp / div, width wp / div and c
 * channels (c < 0: any). */
static int shape_check(const dump_set *s, const char *name, nl_type t, int div, int c, char *err,
                       size_t errlen)
{
    const dump_tensor *x = set_find(s, name);
    if (!x || x->type != t || x->h != s->hp / div || x->w != s->wp / div || (c >= 0 && x->c != c))
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                         "%s is %s %dx%dx%d, expected %s %dx%dx%d (docs/codec.md)", name,
                         x ? type_str(x->type) : "-", x ? x->h : 0, x ? x->w : 0, x ? x->c : 0,
                         type_str(t), s->hp / div, s->wp / div, c);
    return 0;
}

static nl_tensor view_of(const dump_set *s, const char *name)
{
    return tensor_view(set_find(s, name));
}

/* The inter dump (see the top comment); NEUVC_ERR(ENOSYS) when the model
 * has no inter part. */
static int dump_inter(const NeuvcPicture *pic, int qp, const char *model_path, int dx, int dy,
                      dump_set *s, char *err, size_t errlen)
{
    static const char *const gname[5] = { "inter.pred", "inter.analysis",
                                          "inter.hyper_analysis", "inter.hyper_synthesis",
                                          "inter.synthesis" };
    nvm_model *nm = NULL;
    const nl_graph *g[5];
    nl_requant q, dq;
    char msg[NVM_ERRMSG_SIZE] = "";
    int64_t inter, cy, cz;
    int ret;

    s->mode = "inter";
    s->qp = qp;
    if (qp < 0 || qp >= NV_QP_COUNT)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "qp %d outside 0..%d", qp,
                         NV_QP_COUNT - 1);
    if (model_path)
        ret = nvm_load_file(&nm, model_path, NVM_DEFAULT_MAX_PAYLOAD, msg, sizeof(msg));
    else
        ret = nvm_load_mem(&nm, nv_default_model, nv_default_model_size, NVM_DEFAULT_MAX_PAYLOAD,
                           0, msg, sizeof(msg));
    if (ret < 0)
        return nv_fail(err, errlen, ret, "model: %s", msg);
    snprintf(s->model_id, sizeof(s->model_id), "%s", nvm_model_id(nm));
    if (nvm_get_param(nm, "inter", 1, 1, &inter) < 0) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOSYS),
                        "model '%s' has no inter part (param inter != 1)", s->model_id);
        goto done;
    }
    if (nvm_get_param(nm, "cy", 1, NV_CHANNELS_LIMIT, &cy) < 0 ||
        nvm_get_param(nm, "cz", 1, NV_CHANNELS_LIMIT, &cz) < 0) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                        "params cy, cz missing or out of range");
        goto done;
    }
    for (int i = 0; i < 5; i++)
        if (!(g[i] = nvm_find_graph(nm, gname[i]))) {
            ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "no graph '%s'", gname[i]);
            goto done;
        }
    if ((ret = inter_requant(nm, (int)cy, qp, 0, &q, err, errlen)) < 0 ||
        (ret = inter_requant(nm, (int)cy, qp, 1, &dq, err, errlen)) < 0 ||
        (ret = picture_x6(pic, s, err, errlen)) < 0)
        goto done;
    /* p6: x6 moved by (dx, dy) on its own grid, coordinates clamped. */
    const dump_tensor *x6 = set_find(s, "x6");
    dump_tensor *p6 = set_new(s, "p6", NL_U8, x6->h, x6->w, x6->c);
    if (!p6) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    for (int y = 0; y < x6->h; y++)
        for (int x = 0; x < x6->w; x++) {
            int sy = y + dy < 0 ? 0 : y + dy >= x6->h ? x6->h - 1 : y + dy;
            int sx = x + dx < 0 ? 0 : x + dx >= x6->w ? x6->w - 1 : x + dx;
            memcpy((uint8_t *)p6->data + ((size_t)y * x6->w + x) * x6->c,
                   (const uint8_t *)x6->data + ((size_t)sy * x6->w + sx) * x6->c, (size_t)x6->c);
        }
    static const char *const n_pred[2] = { "pt", "pf" }, *const n_y[1] = { "y" },
                             *const n_z[1] = { "z" }, *const n_hs[2] = { "mu", "sidx" },
                             *const n_rec[1] = { "x6rec" };
    nl_tensor in[3];
    in[0] = view_of(s, "p6");
    if ((ret = run_graph(g[0], 1, in, 2, n_pred, s, err, errlen)) < 0 ||
        (ret = shape_check(s, "pt", NL_S16, 8, -1, err, errlen)) < 0 ||
        (ret = shape_check(s, "pf", NL_U8, 16, -1, err, errlen)) < 0)
        goto done;
    in[0] = view_of(s, "x6");
    in[1] = view_of(s, "p6");
    in[2] = view_of(s, "pt");
    if ((ret = run_graph(g[1], 3, in, 1, n_y, s, err, errlen)) < 0 ||
        (ret = shape_check(s, "y", NL_S32, 16, (int)cy, err, errlen)) < 0)
        goto done;
    const dump_tensor *ty = set_find(s, "y");
    dump_tensor *tyq = set_new(s, "yq", NL_S16, ty->h, ty->w, ty->c);
    if (!tyq) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    in[0] = tensor_view(ty);
    in[1] = tensor_view(tyq);
    nl_requant_ref(&q, &in[0], &in[1], 0, ty->h);
    in[0] = view_of(s, "yq");
    if ((ret = run_graph(g[2], 1, in, 1, n_z, s, err, errlen)) < 0 ||
        (ret = shape_check(s, "z", NL_S16, 64, (int)cz, err, errlen)) < 0)
        goto done;
    in[0] = view_of(s, "z");
    in[1] = view_of(s, "pf");
    if ((ret = run_graph(g[3], 2, in, 2, n_hs, s, err, errlen)) < 0 ||
        (ret = shape_check(s, "mu", NL_S16, 16, (int)cy, err, errlen)) < 0 ||
        (ret = shape_check(s, "sidx", NL_U8, 16, (int)cy, err, errlen)) < 0)
        goto done;
    dump_tensor *tyd = set_new(s, "yd", NL_S16, ty->h, ty->w, ty->c);
    if (!tyd) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
        goto done;
    }
    in[0] = view_of(s, "yq");
    in[1] = tensor_view(tyd);
    nl_requant_ref(&dq, &in[0], &in[1], 0, ty->h);
    in[0] = view_of(s, "yd");
    in[1] = view_of(s, "pt");
    in[2] = view_of(s, "p6");
    if ((ret = run_graph(g[4], 3, in, 1, n_rec, s, err, errlen)) < 0 ||
        (ret = shape_check(s, "x6rec", NL_U8, 2, NV_X6_CHANNELS, err, errlen)) < 0)
        goto done;
    ret = 0;
done:
    nvm_free(&nm);
    return ret;
}

/* ------------------------------------------------------------ command line */

static int read_first_picture(const char *path, y4m_reader *r, FILE **f, NeuvcPicture *pic,
                              char *err, size_t errlen)
{
    int ret;
    memset(r, 0, sizeof(*r));
    *f = fopen(path, "rb");
    if (!*f)
        return nv_fail(err, errlen, NEUVC_ERR(ENOENT), "cannot open %s", path);
    if ((ret = y4m_reader_open(r, *f, 0, 0)) < 0 || (ret = y4m_read_picture(r, pic)) < 0)
        return nv_fail(err, errlen, ret, "%s: %s", path, r->errmsg);
    if (ret == 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "%s: no frame", path);
    return 0;
}

/* Set by the tests that call dump_main: no messages on stderr. */
static int dump_quiet;

static int usage(const char *prog)
{
    if (dump_quiet)
        return 2;
    fprintf(stderr,
            "usage: %s                                  (runs the test suite)\n"
            "       %s --dump IN.y4m QP OUTDIR [--model FILE]\n"
            "       %s --dump-inter IN.y4m QP OUTDIR [--model FILE] [--shift DX DY]\n",
            prog, prog, prog);
    return 2;
}

static int parse_int(const char *s, int lo, int hi, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        return -1;
    *v = (int)x;
    return 0;
}

/* Exit status of the dump modes (argv[1] is --dump or --dump-inter). */
static int dump_main(int argc, char **argv)
{
    int inter = !strcmp(argv[1], "--dump-inter");
    const char *model = NULL;
    int qp, dx = 3, dy = 2;
    char err[DUMP_ERR] = "";
    if (argc < 5 || parse_int(argv[3], 0, NV_QP_COUNT - 1, &qp) < 0)
        return usage(argv[0]);
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (inter && !strcmp(argv[i], "--shift") && i + 2 < argc &&
                   !parse_int(argv[i + 1], -64, 64, &dx) && !parse_int(argv[i + 2], -64, 64, &dy)) {
            i += 2;
        } else {
            return usage(argv[0]);
        }
    }
    y4m_reader r;
    FILE *f = NULL;
    NeuvcPicture pic;
    dump_set s;
    memset(&s, 0, sizeof(s));
    int ret = read_first_picture(argv[2], &r, &f, &pic, err, sizeof(err));
    if (ret == 0)
        ret = inter ? dump_inter(&pic, qp, model, dx, dy, &s, err, sizeof(err))
                    : dump_intra(&pic, qp, model, &s, err, sizeof(err));
    if (ret == 0)
        ret = set_write(&s, argv[4], err, sizeof(err));
    set_free(&s);
    y4m_reader_close(&r);
    if (f)
        fclose(f);
    if (ret < 0) {
        if (!dump_quiet)
            fprintf(stderr, "%s: %s\n", argv[0], err);
        return ret == NEUVC_ERR(ENOSYS) ? EXIT_NO_INTER : 1;
    }
    return 0;
}

/* ------------------------------------------------------------ tests */

static uint32_t rng_state = 2463534242u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* A w x h picture (rows tight) of a gradient with noise, in one buffer. */
static uint8_t *make_picture(NeuvcPicture *pic, int w, int h)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    uint8_t *mem = malloc((size_t)w * h + 2 * (size_t)cw * ch);
    ck_assert_ptr_nonnull(mem);
    memset(pic, 0, sizeof(*pic));
    pic->width = w;
    pic->height = h;
    pic->data[0] = mem;
    pic->data[1] = mem + (size_t)w * h;
    pic->data[2] = pic->data[1] + (size_t)cw * ch;
    pic->stride[0] = w;
    pic->stride[1] = pic->stride[2] = cw;
    for (int i = 0; i < 3; i++)
        for (int y = 0; y < (i ? ch : h); y++)
            for (int x = 0; x < (i ? cw : w); x++)
                pic->data[i][y * pic->stride[i] + x] =
                    (uint8_t)(x * 5 + y * 3 + 60 * i + (int)(rng() % 24));
    return mem;
}

static void make_tmpdir(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, len, "%s/intsim_dump_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the files a dump wrote and the directory. */
static void remove_dump(const char *dir, const dump_set *s)
{
    char path[4096];
    for (int i = 0; i < s->n; i++) {
        snprintf(path, sizeof(path), "%s/%s.raw", dir, s->t[i].name);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/dump.json", dir);
    unlink(path);
    rmdir(dir);
}

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Every tensor of s: shape, and the file it wrote read back as
 * little-endian values equal to the memory. */
static void check_files(const char *dir, const dump_set *s)
{
    char path[4096];
    size_t size;
    snprintf(path, sizeof(path), "%s/dump.json", dir);
    char *json = read_file(path, &size);
    for (int i = 0; i < s->n; i++) {
        const dump_tensor *t = &s->t[i];
        char entry[160];
        snprintf(entry, sizeof(entry),
                 "{\"name\": \"%s\", \"type\": \"%s\", \"shape\": [%d, %d, %d]", t->name,
                 type_str(t->type), t->h, t->w, t->c);
        ck_assert_msg(strstr(json, entry) != NULL, "dump.json lacks %s", entry);
        snprintf(path, sizeof(path), "%s/%s.raw", dir, t->name);
        uint8_t *raw = read_file(path, &size);
        ck_assert_uint_eq(size, tensor_bytes(t));
        size_t n = size / nl_type_size(t->type);
        for (size_t k = 0; k < n; k++) {
            int64_t a, b;
            const uint8_t *p = raw + k * nl_type_size(t->type);
            switch (t->type) {
            case NL_U8: a = p[0]; b = ((const uint8_t *)t->data)[k]; break;
            case NL_S8: a = (int8_t)p[0]; b = ((const int8_t *)t->data)[k]; break;
            case NL_S16:
                a = (int16_t)(uint16_t)(p[0] | p[1] << 8);
                b = ((const int16_t *)t->data)[k];
                break;
            default:
                a = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                              (uint32_t)p[3] << 24);
                b = ((const int32_t *)t->data)[k];
                break;
            }
            ck_assert_msg(a == b, "%s[%zu]: file %lld, memory %lld", t->name, k, (long long)a,
                          (long long)b);
        }
        free(raw);
    }
    free(json);
}

static const int tiny_sizes[][2] = { { 70, 33 }, { 64, 64 }, { 1, 1 } };

/* A tiny picture: the dump runs, every check inside it (sub-streams
 * decode to z and yq, the encoder, public encoder and public decoder all
 * give x6rec) passes, shapes follow docs/codec.md, values stay in their
 * ranges, and the files read back to the same values. */
START_TEST(tiny_dump_roundtrip)
{
    const int w = tiny_sizes[_i][0], h = tiny_sizes[_i][1], qp = 10 + 17 * _i;
    NeuvcPicture pic;
    uint8_t *mem = make_picture(&pic, w, h);
    dump_set s;
    char err[DUMP_ERR] = "", dir[512];
    nv_model *m = NULL;
    memset(&s, 0, sizeof(s));
    int ret = dump_intra(&pic, qp, NULL, &s, err, sizeof(err));
    ck_assert_msg(ret == 0, "dump_intra %dx%d: %s", w, h, err);
    ck_assert_int_eq(nv_model_open(&m, NULL, err, sizeof(err)), 0);
    const int wp = nv_padded_size(w), hp = nv_padded_size(h);
    static const char *const names[] = { "x6", "y", "yq", "z", "mu", "sidx", "yd", "x6rec" };
    const nl_type types[] = { NL_U8, NL_S32, NL_S16, NL_S16, NL_S16, NL_U8, NL_S16, NL_U8 };
    const int div[] = { 2, 16, 16, 64, 16, 16, 16, 2 };
    const int ch[] = { 6, m->cy, m->cy, m->cz, m->cy, m->cy, m->cy, 6 };
    ck_assert_int_eq(s.n, 8);
    for (int i = 0; i < 8; i++) {
        const dump_tensor *t = set_find(&s, names[i]);
        ck_assert_msg(t != NULL, "no %s", names[i]);
        ck_assert_int_eq(t->type, types[i]);
        ck_assert_int_eq(t->h, hp / div[i]);
        ck_assert_int_eq(t->w, wp / div[i]);
        ck_assert_int_eq(t->c, ch[i]);
    }
    /* sidx within the tables, latents within the coded range, and the
     * coarse latent not all zero (the picture has content). */
    const dump_tensor *sidx = set_find(&s, "sidx"), *yq = set_find(&s, "yq");
    for (size_t k = 0; k < tensor_bytes(sidx); k++)
        ck_assert_int_lt(((const uint8_t *)sidx->data)[k], m->nscales);
    int nonzero = 0;
    for (size_t k = 0; k < tensor_bytes(yq) / 2; k++) {
        int v = ((const int16_t *)yq->data)[k];
        ck_assert_int_le(v < 0 ? -v : v, NV_LATENT_MAX);
        nonzero += v != 0;
    }
    ck_assert_int_gt(nonzero, 0);
    make_tmpdir(dir, sizeof(dir));
    ck_assert_msg(set_write(&s, dir, err, sizeof(err)) == 0, "%s", err);
    check_files(dir, &s);
    remove_dump(dir, &s);
    set_free(&s);
    nv_model_close(&m);
    free(mem);
}
END_TEST

/* The public-API check can fail: one changed sample of x6rec is found. */
START_TEST(public_check_detects_change)
{
    NeuvcPicture pic;
    uint8_t *mem = make_picture(&pic, 70, 33);
    dump_set s;
    char err[DUMP_ERR] = "";
    memset(&s, 0, sizeof(s));
    ck_assert_msg(dump_intra(&pic, 30, NULL, &s, err, sizeof(err)) == 0, "%s", err);
    const dump_tensor *x6rec = set_find(&s, "x6rec");
    nl_tensor v = tensor_view(x6rec);
    ck_assert_int_eq(public_check(&pic, 30, NULL, &v, err, sizeof(err)), 0);
    /* Luma sample (2 * 5 + 1, 2 * 7) is channel 2 of x6 position (5, 7). */
    uint8_t *p = (uint8_t *)x6rec->data + ((size_t)5 * x6rec->w + 7) * 6 + 2;
    *p ^= 1;
    ck_assert_int_ne(public_check(&pic, 30, NULL, &v, err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, "plane 0 (14, 11)") != NULL, "%s", err);
    set_free(&s);
    free(mem);
}
END_TEST

/* The command line: a Y4M file in, the eight files out; bad usage is
 * status 2. */
START_TEST(command_line)
{
    char dir[512], y4m[600], out[600], err[DUMP_ERR];
    NeuvcPicture pic;
    uint8_t *mem = make_picture(&pic, 67, 45);
    make_tmpdir(dir, sizeof(dir));
    snprintf(y4m, sizeof(y4m), "%s/in.y4m", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    ck_assert_int_eq(mkdir(out, 0700), 0);
    FILE *f = fopen(y4m, "wb");
    ck_assert_ptr_nonnull(f);
    y4m_writer wr;
    y4m_info info = { 67, 45, 25, 1, 1, 1, 'p', "" };
    ck_assert_int_eq(y4m_writer_open(&wr, f, &info), 0);
    const uint8_t *planes[3] = { pic.data[0], pic.data[1], pic.data[2] };
    ck_assert_int_eq(y4m_write_frame(&wr, planes, pic.stride), 0);
    ck_assert_int_eq(fclose(f), 0);

    dump_quiet = 1;
    char *argv_ok[] = { "test_intsim_dump", "--dump", y4m, "41", out, NULL };
    ck_assert_int_eq(dump_main(5, argv_ok), 0);
    /* The same dump in memory: the files hold it. */
    dump_set s;
    memset(&s, 0, sizeof(s));
    ck_assert_msg(dump_intra(&pic, 41, NULL, &s, err, sizeof(err)) == 0, "%s", err);
    check_files(out, &s);
    remove_dump(out, &s);
    set_free(&s);

    char *argv_qp[] = { "t", "--dump", y4m, "64", out, NULL };
    char *argv_short[] = { "t", "--dump", y4m, "20", NULL };
    char *argv_opt[] = { "t", "--dump", y4m, "20", out, "--shift", "1", "1", NULL };
    char *argv_missing[] = { "t", "--dump", "/nonexistent/in.y4m", "20", out, NULL };
    ck_assert_int_eq(dump_main(5, argv_qp), 2);
    ck_assert_int_eq(dump_main(4, argv_short), 2);
    ck_assert_int_eq(dump_main(8, argv_opt), 2);
    ck_assert_int_eq(dump_main(5, argv_missing), 1);
    rmdir(out);
    unlink(y4m);
    rmdir(dir);
    free(mem);
}
END_TEST

/* The inter dump of the built-in model: refused with status 3 when it has
 * no inter part, else every tensor of docs/codec.md's shapes. */
START_TEST(inter_dump)
{
    NeuvcPicture pic;
    uint8_t *mem = make_picture(&pic, 70, 33);
    dump_set s;
    char err[DUMP_ERR] = "";
    nvm_model *nm = NULL;
    int64_t inter = 0;
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(nvm_load_mem(&nm, nv_default_model, nv_default_model_size,
                                  NVM_DEFAULT_MAX_PAYLOAD, 0, err, sizeof(err)), 0);
    int has_inter = nvm_get_param(nm, "inter", 1, 1, &inter) == 0;
    nvm_free(&nm);
    int ret = dump_inter(&pic, 30, NULL, 3, 2, &s, err, sizeof(err));
    if (!has_inter) {
        ck_assert_int_eq(ret, NEUVC_ERR(ENOSYS));
        ck_assert_msg(strstr(err, "no inter part") != NULL, "%s", err);
    } else {
        static const char *const names[] = { "x6", "p6", "pt", "pf", "y", "yq", "z",
                                             "mu", "sidx", "yd", "x6rec" };
        ck_assert_msg(ret == 0, "%s", err);
        ck_assert_int_eq(s.n, 11);
        for (int i = 0; i < 11; i++)
            ck_assert_msg(set_find(&s, names[i]) != NULL, "no %s", names[i]);
        /* p6 is x6 moved by (3, 2): p6(0, 0) = x6(2, 3). */
        const dump_tensor *x6 = set_find(&s, "x6"), *p6 = set_find(&s, "p6");
        ck_assert_int_eq(memcmp(p6->data, (uint8_t *)x6->data + ((size_t)2 * x6->w + 3) * 6, 6),
                         0);
    }
    set_free(&s);
    free(mem);
}
END_TEST

static Suite *intsim_dump_suite(void)
{
    Suite *s = suite_create("intsim_dump");
    TCase *tc = tcase_create("dump");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, tiny_dump_roundtrip, 0,
                        (int)(sizeof(tiny_sizes) / sizeof(tiny_sizes[0])));
    tcase_add_test(tc, public_check_detects_change);
    tcase_add_test(tc, command_line);
    tcase_add_test(tc, inter_dump);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "--dump") || !strcmp(argv[1], "--dump-inter"))
            return dump_main(argc, argv);
        return usage(argv[0]);
    }
    SRunner *sr = srunner_create(intsim_dump_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
