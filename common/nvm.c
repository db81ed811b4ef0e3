/*
 * .nvm reader: file image -> nvm_model, every rule of docs/model-format.md
 * checked.  The writer is common/nvm_write.c; both take the byte layout
 * from the NVM_OFF_* and NVM_*_REC constants of common/nvm.h.
 */
#include "common/nvm.h"
#include "common/errmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "common/sha256.h"
#include "neuvc/neuvc.h"
#include "netlib/graph.h"

#define NVM_MEM_ALIGN 64         /* in-memory copies: cache-line aligned */

typedef struct nvm_name_ref {
    const char *name;
    uint32_t index;
} nvm_name_ref;

struct nvm_model {
    char id[NVM_NAME_MAX + 1];
    uint8_t sha256[NEUVC_SHA256_SIZE];
    uint8_t *owned;              /* aligned copy of the file; NULL when borrowed */
    const uint8_t *file;
    size_t file_size;
    nvm_param *params;
    nvm_tensor *tensors;
    nl_graph *graphs;
    uint32_t n_params, n_tensors, n_graphs;
    nvm_name_ref *param_index, *tensor_index, *graph_index; /* sorted by name */
};

/* Bounded reads from the payload: take() returns NULL when fewer than n
 * bytes remain, and never moves past the end. */
typedef struct nvm_cursor {
    const uint8_t *p;
    size_t size, pos;
} nvm_cursor;

static const uint8_t *cursor_take(nvm_cursor *c, size_t n)
{
    if (n > c->size - c->pos)
        return NULL;
    const uint8_t *r = c->p + c->pos;
    c->pos += n;
    return r;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

size_t nvm_dtype_size(nvm_dtype dt)
{
    switch (dt) {
    case NVM_U8: case NVM_S8: return 1;
    case NVM_U16: case NVM_S16: return 2;
    case NVM_U32: case NVM_S32: return 4;
    default: return 0;
    }
}

const char *nvm_dtype_name(nvm_dtype dt)
{
    static const char *const names[NVM_NDTYPES] = { "u8", "s8", "u16", "s16", "u32", "s32" };
    return dt >= NVM_U8 && dt < NVM_NDTYPES ? names[dt] : "?";
}

int nvm_name_valid(const char *s)
{
    if (!s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= NVM_NAME_MAX || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return 0;
    return n >= 1;
}

/* A 64-byte name field: a valid name, then zeros to the end of the field. */
static int name_field_read(const uint8_t *p, char out[NVM_NAME_MAX + 1])
{
    size_t n = 0;
    while (n < NVM_NAME_MAX && p[n] != 0) {
        if (p[n] < 0x21 || p[n] > 0x7e)
            return 0;
        n++;
    }
    if (n == 0)
        return 0;
    for (size_t i = n; i < NVM_NAME_FIELD; i++)
        if (p[i] != 0)
            return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

/* Two's complement without the implementation-defined conversion. */
static int32_t s32_from_u32(uint32_t u)
{
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) + INT32_MIN;
}

static uint8_t *alloc_aligned(size_t n)
{
    if (n > SIZE_MAX - NVM_MEM_ALIGN)
        return NULL;
    size_t rounded = (n + NVM_MEM_ALIGN - 1) / NVM_MEM_ALIGN * NVM_MEM_ALIGN;
    return aligned_alloc(NVM_MEM_ALIGN, rounded ? rounded : NVM_MEM_ALIGN);
}

/* Header fields that can be checked before the payload is read.
 * hdr has NVM_HEADER_SIZE bytes. */
static int header_check(const uint8_t *hdr, size_t max_payload, char id[NVM_NAME_MAX + 1],
                        uint64_t *payload_size, char *err, size_t errlen)
{
    if (memcmp(hdr, NVM_MAGIC, 4) != 0)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "not an .nvm file (bad magic)");
    uint32_t version = bytes_load_u32le(hdr + NVM_OFF_VERSION);
    if (version != NVM_VERSION)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                        "unsupported .nvm version %u (this reader knows %d)",
                        (unsigned)version, NVM_VERSION);
    if (!name_field_read(hdr + NVM_OFF_ID, id))
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "invalid model id field");
    uint64_t size = bytes_load_u64le(hdr + NVM_OFF_PAYLOAD_SIZE);
    if (size > max_payload || size > SIZE_MAX - NVM_HEADER_SIZE)
        return nv_fail(err, errlen, NEUVC_ERR(ERANGE),
                        "payload of %llu bytes exceeds the limit of %zu",
                        (unsigned long long)size, max_payload);
    if (size < NVM_COUNTS_SIZE)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                        "payload of %llu bytes is too small", (unsigned long long)size);
    *payload_size = size;
    return 0;
}

static int params_read(nvm_model *m, nvm_cursor *c, char *err, size_t errlen)
{
    const uint8_t *p = cursor_take(c, (size_t)m->n_params * NVM_PARAM_REC);
    if (!p)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "param table beyond the payload");
    m->params = calloc(m->n_params ? m->n_params : 1, sizeof(*m->params));
    if (!m->params)
        return NEUVC_ERR(ENOMEM);
    for (uint32_t i = 0; i < m->n_params; i++, p += NVM_PARAM_REC) {
        if (!name_field_read(p, m->params[i].name))
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "param %u: invalid name", (unsigned)i);
        m->params[i].value = bytes_load_i64le(p + NVM_NAME_FIELD);
    }
    return 0;
}

/* Tensor records; data offsets go to offs[] and are checked by data_read. */
static int tensors_read(nvm_model *m, nvm_cursor *c, uint64_t *offs, char *err, size_t errlen)
{
    const uint8_t *p = cursor_take(c, (size_t)m->n_tensors * NVM_TENSOR_REC);
    if (!p)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "tensor table beyond the payload");
    for (uint32_t i = 0; i < m->n_tensors; i++, p += NVM_TENSOR_REC) {
        nvm_tensor *t = &m->tensors[i];
        if (!name_field_read(p, t->name))
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "tensor %u: invalid name", (unsigned)i);
        unsigned dtype = p[64], ndim = p[65];
        if (dtype >= NVM_NDTYPES)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "tensor '%s': unknown dtype %u",
                            t->name, dtype);
        if (ndim < 1 || ndim > NVM_MAX_NDIM)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "tensor '%s': ndim %u (1..%d)",
                            t->name, ndim, NVM_MAX_NDIM);
        if (bytes_load_u16le(p + 66) != 0 || bytes_load_u32le(p + 84) != 0)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "tensor '%s': reserved field not 0",
                            t->name);
        t->dtype = (nvm_dtype)dtype;
        t->ndim = (int)ndim;
        for (unsigned d = 0; d < NVM_MAX_NDIM; d++) {
            uint32_t v = bytes_load_u32le(p + 68 + 4 * d);
            if (d < ndim && (v < 1 || v > (uint32_t)INT32_MAX))
                return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                                "tensor '%s': dimension %u is %lu (1..%ld)", t->name, d,
                                (unsigned long)v, (long)INT32_MAX);
            if (d >= ndim && v != 0)
                return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                                "tensor '%s': unused dimension %u not 0", t->name, d);
            t->dims[d] = d < ndim ? (int)v : 1;
        }
        offs[i] = bytes_load_u64le(p + 88);
    }
    return 0;
}

static int graph_read(nl_graph *g, uint32_t gi, nvm_cursor *c, char *err, size_t errlen)
{
    const uint8_t *h = cursor_take(c, NVM_GRAPH_HDR);
    if (!h)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "graph %u: beyond the payload",
                        (unsigned)gi);
    if (!name_field_read(h, g->name))
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "graph %u: invalid name", (unsigned)gi);
    g->n_slots = bytes_load_u32le(h + 64);
    g->n_inputs = bytes_load_u32le(h + 68);
    g->n_outputs = bytes_load_u32le(h + 72);
    g->n_ops = bytes_load_u32le(h + 76);
    if (g->n_inputs < 1 || g->n_inputs > NL_GRAPH_MAX_IO || g->n_outputs < 1 ||
        g->n_outputs > NL_GRAPH_MAX_IO || g->n_ops < 1 || g->n_ops > NL_GRAPH_MAX_OPS)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                        "graph '%s': %u inputs, %u outputs, %u ops (limits 1..%d, 1..%d, 1..%d)",
                        g->name, (unsigned)g->n_inputs, (unsigned)g->n_outputs,
                        (unsigned)g->n_ops, NL_GRAPH_MAX_IO, NL_GRAPH_MAX_IO, NL_GRAPH_MAX_OPS);
    /* At most 16 * 12 + 16 * 4 + 65536 * 64 bytes: no overflow. */
    size_t bytes = (size_t)g->n_inputs * NVM_INPUT_REC + (size_t)g->n_outputs * NVM_OUTPUT_REC +
                   (size_t)g->n_ops * NVM_OP_REC;
    const uint8_t *p = cursor_take(c, bytes);
    if (!p)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "graph '%s': beyond the payload",
                        g->name);
    g->inputs = calloc(g->n_inputs, sizeof(*g->inputs));
    g->outputs = calloc(g->n_outputs, sizeof(*g->outputs));
    g->ops = calloc(g->n_ops, sizeof(*g->ops));
    if (!g->inputs || !g->outputs || !g->ops)
        return NEUVC_ERR(ENOMEM);
    for (uint32_t i = 0; i < g->n_inputs; i++, p += NVM_INPUT_REC) {
        g->inputs[i].slot = bytes_load_u32le(p);
        g->inputs[i].type = bytes_load_u32le(p + 4);
        g->inputs[i].c = bytes_load_u32le(p + 8);
    }
    for (uint32_t i = 0; i < g->n_outputs; i++, p += NVM_OUTPUT_REC)
        g->outputs[i] = bytes_load_u32le(p);
    for (uint32_t i = 0; i < g->n_ops; i++, p += NVM_OP_REC) {
        nl_graph_op *op = &g->ops[i];
        op->code = bytes_load_u32le(p);
        op->dst = bytes_load_u32le(p + 4);
        op->src[0] = bytes_load_u32le(p + 8);
        op->src[1] = bytes_load_u32le(p + 12);
        for (int a = 0; a < NL_GRAPH_NATTR; a++)
            op->attr[a] = s32_from_u32(bytes_load_u32le(p + 16 + 4 * a));
        for (int t = 0; t < NL_GRAPH_NTENSOR; t++)
            op->tensor[t] = bytes_load_u32le(p + 48 + 4 * t);
    }
    return 0;
}

/* Tensor data: each at the next NVM_ALIGN boundary after the previous
 * item, zero padding between, and nothing after the last. */
static int data_read(nvm_model *m, nvm_cursor *c, const uint64_t *offs, char *err, size_t errlen)
{
    size_t pos = c->pos;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        nvm_tensor *t = &m->tensors[i];
        size_t start = (pos + NVM_ALIGN - 1) / NVM_ALIGN * NVM_ALIGN;
        if (offs[i] != start)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                            "tensor '%s': data offset %llu, expected %zu", t->name,
                            (unsigned long long)offs[i], start);
        if (start > c->size)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                            "tensor '%s': data beyond the payload", t->name);
        for (size_t k = pos; k < start; k++)
            if (c->p[k] != 0)
                return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                                "tensor '%s': padding byte not 0", t->name);
        /* count <= limit after each step, so count * esize <= bytes left. */
        size_t esize = nvm_dtype_size(t->dtype);
        size_t limit = (c->size - start) / esize;
        size_t count = 1;
        for (int d = 0; d < t->ndim; d++) {
            if ((size_t)t->dims[d] > limit / count)
                return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                                "tensor '%s': data beyond the payload", t->name);
            count *= (size_t)t->dims[d];
        }
        t->count = count;
        t->size = count * esize;
        t->data = c->p + start;
        pos = start + t->size;
    }
    if (pos != c->size)
        return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "%zu unused bytes at the payload end",
                        c->size - pos);
    return 0;
}

static int name_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const nvm_name_ref *)a)->name, ((const nvm_name_ref *)b)->name);
}

/* Sorted index over n names at base + i * stride; rejects duplicates. */
static int index_build(nvm_name_ref **out, const char *base, size_t stride, uint32_t n,
                       const char *kind, char *err, size_t errlen)
{
    nvm_name_ref *idx = calloc(n ? n : 1, sizeof(*idx));
    if (!idx)
        return NEUVC_ERR(ENOMEM);
    *out = idx;
    for (uint32_t i = 0; i < n; i++) {
        idx[i].name = base + (size_t)i * stride;
        idx[i].index = i;
    }
    qsort(idx, n, sizeof(*idx), name_ref_cmp);
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(idx[i - 1].name, idx[i].name) == 0)
            return nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "duplicate %s name '%s'", kind,
                            idx[i].name);
    return 0;
}

static const nvm_name_ref *index_find(const nvm_name_ref *idx, uint32_t n, const char *name)
{
    if (!idx || !name)
        return NULL;
    nvm_name_ref key = { name, 0 };
    return bsearch(&key, idx, n, sizeof(*idx), name_ref_cmp);
}

/* Everything after the header check: m->file holds the whole image;
 * flags as for nvm_load_mem(). */
static int payload_parse(nvm_model *m, uint64_t payload_size, unsigned flags, char *err,
                         size_t errlen)
{
    uint64_t *offs = NULL;
    int ret;
    if (m->file_size - NVM_HEADER_SIZE != payload_size) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                       "file has %zu bytes, header declares %llu", m->file_size,
                       (unsigned long long)(payload_size + NVM_HEADER_SIZE));
        goto fail;
    }
    nvm_cursor c = { m->file + NVM_HEADER_SIZE, (size_t)payload_size, 0 };
    memcpy(m->sha256, m->file + NVM_OFF_SHA256, NEUVC_SHA256_SIZE);
    if (!(flags & NVM_LOAD_TRUSTED)) {
        uint8_t digest[NEUVC_SHA256_SIZE];
        neuvc_sha256(c.p, c.size, digest);
        if (memcmp(digest, m->sha256, NEUVC_SHA256_SIZE) != 0) {
            ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                          "payload SHA-256 mismatch (corrupt file)");
            goto fail;
        }
    }
    const uint8_t *counts = cursor_take(&c, NVM_COUNTS_SIZE);
    m->n_params = bytes_load_u32le(counts);
    m->n_tensors = bytes_load_u32le(counts + 4);
    m->n_graphs = bytes_load_u32le(counts + 8);
    if (m->n_params > NVM_MAX_ITEMS || m->n_tensors > NVM_MAX_ITEMS || m->n_graphs > NVM_MAX_ITEMS ||
        bytes_load_u32le(counts + 12) != 0) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                       "bad counts: %u params, %u tensors, %u graphs (limit %d each; reserved 0)",
                       (unsigned)m->n_params, (unsigned)m->n_tensors, (unsigned)m->n_graphs,
                       NVM_MAX_ITEMS);
        m->n_params = m->n_tensors = m->n_graphs = 0;
        goto fail;
    }
    if ((ret = params_read(m, &c, err, errlen)) < 0)
        goto fail;
    m->tensors = calloc(m->n_tensors ? m->n_tensors : 1, sizeof(*m->tensors));
    offs = calloc(m->n_tensors ? m->n_tensors : 1, sizeof(*offs));
    if (!m->tensors || !offs) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    if ((ret = tensors_read(m, &c, offs, err, errlen)) < 0)
        goto fail;
    /* A graph takes at least NVM_GRAPH_HDR bytes: check before allocating. */
    if ((uint64_t)m->n_graphs * NVM_GRAPH_HDR > c.size - c.pos) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "graph table beyond the payload");
        goto fail;
    }
    m->graphs = calloc(m->n_graphs ? m->n_graphs : 1, sizeof(*m->graphs));
    if (!m->graphs) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    for (uint32_t i = 0; i < m->n_graphs; i++)
        if ((ret = graph_read(&m->graphs[i], i, &c, err, errlen)) < 0)
            goto fail;
    if ((ret = data_read(m, &c, offs, err, errlen)) < 0)
        goto fail;
    if ((ret = index_build(&m->param_index, m->params[0].name, sizeof(nvm_param), m->n_params,
                           "param", err, errlen)) < 0 ||
        (ret = index_build(&m->tensor_index, m->tensors[0].name, sizeof(nvm_tensor),
                           m->n_tensors, "tensor", err, errlen)) < 0 ||
        (ret = index_build(&m->graph_index, m->graphs[0].name, sizeof(nl_graph), m->n_graphs,
                           "graph", err, errlen)) < 0)
        goto fail;
    for (uint32_t i = 0; i < m->n_graphs; i++)
        if ((ret = nl_graph_validate(&m->graphs[i], m->tensors, m->n_tensors, err, errlen)) < 0)
            goto fail;
    free(offs);
    return 0;
fail:
    free(offs);
    return ret;
}

/* Takes ownership of owned (NULL when file is borrowed) in every case. */
static int model_from_image(nvm_model **out, const uint8_t *file, size_t size, uint8_t *owned,
                            size_t max_payload, unsigned flags, char *err, size_t errlen)
{
    int ret;
    nvm_model *m = calloc(1, sizeof(*m));
    if (!m) {
        free(owned);
        return NEUVC_ERR(ENOMEM);
    }
    m->owned = owned;
    m->file = file;
    m->file_size = size;
    uint64_t payload_size = 0;
    if (size < NVM_HEADER_SIZE) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "truncated header (%zu of %d bytes)",
                       size, NVM_HEADER_SIZE);
        goto fail;
    }
    if ((ret = header_check(file, max_payload, m->id, &payload_size, err, errlen)) < 0)
        goto fail;
    if ((ret = payload_parse(m, payload_size, flags, err, errlen)) < 0)
        goto fail;
    *out = m;
    return 0;
fail:
    nvm_free(&m);
    return ret;
}

int nvm_load_mem(nvm_model **out, const void *buf, size_t size, size_t max_payload,
                 unsigned flags, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!out)
        return NEUVC_ERR(EINVAL);
    *out = NULL;
    if (!buf && size > 0)
        return NEUVC_ERR(EINVAL);
    if (!host_is_little_endian())
        return nv_fail(err, errlen, NEUVC_ERR(ENOSYS), ".nvm needs a little-endian host");
    if ((flags & NVM_LOAD_BORROW) && (uintptr_t)buf % NVM_ALIGN == 0)
        return model_from_image(out, buf, size, NULL, max_payload, flags, err, errlen);
    /* Bound the copy by the limit before allocating it. */
    if (size > NVM_HEADER_SIZE && size - NVM_HEADER_SIZE > max_payload)
        return nv_fail(err, errlen, NEUVC_ERR(ERANGE), "model of %zu bytes exceeds the limit of %zu",
                        size, max_payload);
    uint8_t *copy = alloc_aligned(size);
    if (!copy)
        return NEUVC_ERR(ENOMEM);
    if (size > 0)
        memcpy(copy, buf, size);
    return model_from_image(out, copy, size, copy, max_payload, flags, err, errlen);
}

int nvm_load_file(nvm_model **out, const char *path, size_t max_payload, char *err,
                  size_t errlen)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    uint8_t hdr[NVM_HEADER_SIZE];
    char id[NVM_NAME_MAX + 1];
    uint64_t payload_size;
    int ret;
    if (err && errlen > 0)
        err[0] = '\0';
    if (!out || !path)
        return NEUVC_ERR(EINVAL);
    *out = NULL;
    if (!host_is_little_endian())
        return nv_fail(err, errlen, NEUVC_ERR(ENOSYS), ".nvm needs a little-endian host");
    f = fopen(path, "rb");
    if (!f) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOENT), "cannot open '%s': %s", path, strerror(errno));
        goto fail;
    }
    size_t got = fread(hdr, 1, sizeof(hdr), f);
    if (got < sizeof(hdr)) {
        ret = ferror(f) ? nv_fail(err, errlen, NEUVC_ERR(EIO), "'%s': read error", path)
                        : nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA,
                                   "'%s': truncated header (%zu of %d bytes)", path, got,
                                   NVM_HEADER_SIZE);
        goto fail;
    }
    if ((ret = header_check(hdr, max_payload, id, &payload_size, err, errlen)) < 0)
        goto fail;
    size_t total = NVM_HEADER_SIZE + (size_t)payload_size;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size != total) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "'%s': file has %llu bytes, header declares %zu",
                       path, (unsigned long long)st.st_size, total);
        goto fail;
    }
    buf = alloc_aligned(total);
    if (!buf) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    memcpy(buf, hdr, NVM_HEADER_SIZE);
    got = fread(buf + NVM_HEADER_SIZE, 1, (size_t)payload_size, f);
    if (got != payload_size) {
        ret = ferror(f) ? nv_fail(err, errlen, NEUVC_ERR(EIO), "'%s': read error", path)
                        : nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "'%s': truncated payload", path);
        goto fail;
    }
    if (fgetc(f) != EOF) {
        ret = nv_fail(err, errlen, NEUVC_ERR_INVALIDDATA, "'%s': bytes after the payload", path);
        goto fail;
    }
    fclose(f);
    f = NULL;
    ret = model_from_image(out, buf, total, buf, max_payload, 0, err, errlen);
    buf = NULL;
    if (ret < 0)
        goto fail;
    return 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return ret;
}

void nvm_free(nvm_model **pm)
{
    if (!pm || !*pm)
        return;
    nvm_model *m = *pm;
    if (m->graphs) {
        for (uint32_t i = 0; i < m->n_graphs; i++) {
            nl_graph_free_derived(&m->graphs[i]);
            free(m->graphs[i].inputs);
            free(m->graphs[i].outputs);
            free(m->graphs[i].ops);
        }
    }
    free(m->graphs);
    free(m->params);
    free(m->tensors);
    free(m->param_index);
    free(m->tensor_index);
    free(m->graph_index);
    free(m->owned);
    free(m);
    *pm = NULL;
}

const char *nvm_model_id(const nvm_model *m)
{
    return m->id;
}

const uint8_t *nvm_payload_sha256(const nvm_model *m)
{
    return m->sha256;
}

void nvm_fingerprint(const nvm_model *m, uint8_t fp[NVM_FINGERPRINT_SIZE])
{
    memcpy(fp, m->sha256, NVM_FINGERPRINT_SIZE);
}

uint32_t nvm_num_params(const nvm_model *m)
{
    return m->n_params;
}

const nvm_param *nvm_param_at(const nvm_model *m, uint32_t i)
{
    return i < m->n_params ? &m->params[i] : NULL;
}

uint32_t nvm_num_tensors(const nvm_model *m)
{
    return m->n_tensors;
}

const nvm_tensor *nvm_tensor_at(const nvm_model *m, uint32_t i)
{
    return i < m->n_tensors ? &m->tensors[i] : NULL;
}

uint32_t nvm_num_graphs(const nvm_model *m)
{
    return m->n_graphs;
}

const nl_graph *nvm_graph_at(const nvm_model *m, uint32_t i)
{
    return i < m->n_graphs ? &m->graphs[i] : NULL;
}

const nvm_param *nvm_find_param(const nvm_model *m, const char *name)
{
    const nvm_name_ref *r = index_find(m->param_index, m->n_params, name);
    return r ? &m->params[r->index] : NULL;
}

int nvm_get_param(const nvm_model *m, const char *name, int64_t lo, int64_t hi, int64_t *value)
{
    const nvm_param *p = nvm_find_param(m, name);
    if (!p)
        return NEUVC_ERR(ENOENT);
    if (p->value < lo || p->value > hi)
        return NEUVC_ERR_INVALIDDATA;
    *value = p->value;
    return 0;
}

const nvm_tensor *nvm_find_tensor(const nvm_model *m, const char *name, nvm_dtype dtype,
                                  int ndim, ...)
{
    const nvm_name_ref *r = index_find(m->tensor_index, m->n_tensors, name);
    if (!r)
        return NULL;
    const nvm_tensor *t = &m->tensors[r->index];
    if (t->dtype != dtype || t->ndim != ndim)
        return NULL;
    int ok = 1;
    va_list ap;
    va_start(ap, ndim);
    for (int d = 0; d < ndim; d++) {
        int want = va_arg(ap, int);
        if (want != NVM_ANY_DIM && want != t->dims[d])
            ok = 0;
    }
    va_end(ap);
    return ok ? t : NULL;
}

const nl_graph *nvm_find_graph(const nvm_model *m, const char *name)
{
    const nvm_name_ref *r = index_find(m->graph_index, m->n_graphs, name);
    return r ? &m->graphs[r->index] : NULL;
}
