/*
 * .nvm writer: the canonical encoding (docs/model-format.md), the bytes
 * training/nvm.py writes for the same content.  Checks what the encoding
 * needs, not graph semantics (the reader's job).
 */
#include "common/nvm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/sha256.h"
#include "neuvc/neuvc.h"
#include "netlib/graph.h"

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

typedef struct nvm_wtensor {
    char name[NVM_NAME_MAX + 1];
    nvm_dtype dtype;
    int ndim;
    int dims[NVM_MAX_NDIM];
    size_t size;
    uint8_t *data;
} nvm_wtensor;

struct nvm_writer {
    char id[NVM_NAME_MAX + 1];
    nvm_param *params;
    nvm_wtensor *tensors;
    nl_graph *graphs;            /* copies of the stored fields only */
    uint32_t n_params, n_tensors, n_graphs;
    uint32_t cap_params, cap_tensors, cap_graphs;
};

/* arr with room for item n (n < NVM_MAX_ITEMS), or NULL (arr unchanged). */
static void *grow_array(void *arr, uint32_t *cap, uint32_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    uint32_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > NVM_MAX_ITEMS)
        ncap = NVM_MAX_ITEMS;
    void *p = realloc(arr, (size_t)ncap * elem);
    if (p)
        *cap = ncap;
    return p;
}

int nvm_writer_new(nvm_writer **pw, const char *model_id)
{
    if (!pw)
        return NEUVC_ERR(EINVAL);
    *pw = NULL;
    if (!nvm_name_valid(model_id))
        return NEUVC_ERR(EINVAL);
    if (!host_is_little_endian())
        return NEUVC_ERR(ENOSYS);
    nvm_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NEUVC_ERR(ENOMEM);
    strcpy(w->id, model_id);
    *pw = w;
    return 0;
}

void nvm_writer_free(nvm_writer **pw)
{
    if (!pw || !*pw)
        return;
    nvm_writer *w = *pw;
    for (uint32_t i = 0; i < w->n_tensors; i++)
        free(w->tensors[i].data);
    for (uint32_t i = 0; i < w->n_graphs; i++) {
        free(w->graphs[i].inputs);
        free(w->graphs[i].outputs);
        free(w->graphs[i].ops);
    }
    free(w->params);
    free(w->tensors);
    free(w->graphs);
    free(w);
    *pw = NULL;
}

int nvm_writer_add_param(nvm_writer *w, const char *name, int64_t value)
{
    if (!w || !nvm_name_valid(name))
        return NEUVC_ERR(EINVAL);
    for (uint32_t i = 0; i < w->n_params; i++)
        if (strcmp(w->params[i].name, name) == 0)
            return NEUVC_ERR(EINVAL);
    if (w->n_params >= NVM_MAX_ITEMS)
        return NEUVC_ERR(ERANGE);
    nvm_param *p = grow_array(w->params, &w->cap_params, w->n_params, sizeof(*p));
    if (!p)
        return NEUVC_ERR(ENOMEM);
    w->params = p;
    p = &w->params[w->n_params++];
    strcpy(p->name, name);
    p->value = value;
    return 0;
}

int nvm_writer_add_tensor(nvm_writer *w, const char *name, nvm_dtype dtype, int ndim,
                          const int *dims, const void *data)
{
    if (!w || !nvm_name_valid(name) || !dims || !data || nvm_dtype_size(dtype) == 0 ||
        ndim < 1 || ndim > NVM_MAX_NDIM)
        return NEUVC_ERR(EINVAL);
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return NEUVC_ERR(EINVAL);
    if (w->n_tensors >= NVM_MAX_ITEMS)
        return NEUVC_ERR(ERANGE);
    size_t size = nvm_dtype_size(dtype);
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 1)
            return NEUVC_ERR(EINVAL);
        if ((size_t)dims[d] > SIZE_MAX / 2 / size)
            return NEUVC_ERR(ERANGE);
        size *= (size_t)dims[d];
    }
    nvm_wtensor *t = grow_array(w->tensors, &w->cap_tensors, w->n_tensors, sizeof(*t));
    if (!t)
        return NEUVC_ERR(ENOMEM);
    w->tensors = t;
    uint8_t *copy = malloc(size);
    if (!copy)
        return NEUVC_ERR(ENOMEM);
    memcpy(copy, data, size);
    t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof(*t));
    strcpy(t->name, name);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->dims[d] = dims[d];
    t->size = size;
    t->data = copy;
    return 0;
}

int nvm_writer_add_graph(nvm_writer *w, const nl_graph *g)
{
    if (!w || !g || !nvm_name_valid(g->name) || (g->n_inputs && !g->inputs) ||
        (g->n_outputs && !g->outputs) || (g->n_ops && !g->ops))
        return NEUVC_ERR(EINVAL);
    if (g->n_inputs > NL_GRAPH_MAX_IO || g->n_outputs > NL_GRAPH_MAX_IO ||
        g->n_ops > NL_GRAPH_MAX_OPS || w->n_graphs >= NVM_MAX_ITEMS)
        return NEUVC_ERR(ERANGE);
    for (uint32_t i = 0; i < w->n_graphs; i++)
        if (strcmp(w->graphs[i].name, g->name) == 0)
            return NEUVC_ERR(EINVAL);
    nl_graph *c = grow_array(w->graphs, &w->cap_graphs, w->n_graphs, sizeof(*c));
    if (!c)
        return NEUVC_ERR(ENOMEM);
    w->graphs = c;
    c = &w->graphs[w->n_graphs];
    memset(c, 0, sizeof(*c));
    strcpy(c->name, g->name);
    c->n_slots = g->n_slots;
    c->n_inputs = g->n_inputs;
    c->n_outputs = g->n_outputs;
    c->n_ops = g->n_ops;
    c->inputs = malloc((g->n_inputs ? g->n_inputs : 1) * sizeof(*c->inputs));
    c->outputs = malloc((g->n_outputs ? g->n_outputs : 1) * sizeof(*c->outputs));
    c->ops = malloc((g->n_ops ? g->n_ops : 1) * sizeof(*c->ops));
    if (!c->inputs || !c->outputs || !c->ops) {
        free(c->inputs);
        free(c->outputs);
        free(c->ops);
        return NEUVC_ERR(ENOMEM);
    }
    if (g->n_inputs)
        memcpy(c->inputs, g->inputs, g->n_inputs * sizeof(*c->inputs));
    if (g->n_outputs)
        memcpy(c->outputs, g->outputs, g->n_outputs * sizeof(*c->outputs));
    if (g->n_ops)
        memcpy(c->ops, g->ops, g->n_ops * sizeof(*c->ops));
    w->n_graphs++;
    return 0;
}

static size_t align_up(size_t n)
{
    return (n + NVM_ALIGN - 1) / NVM_ALIGN * NVM_ALIGN;
}

static uint8_t *name_field_write(uint8_t *p, const char *name)
{
    memcpy(p, name, strlen(name)); /* the rest of the field stays zero */
    return p + NVM_NAME_FIELD;
}

static uint8_t *graph_write(uint8_t *p, const nl_graph *g)
{
    p = name_field_write(p, g->name);
    bytes_store_u32le(p, g->n_slots);
    bytes_store_u32le(p + 4, g->n_inputs);
    bytes_store_u32le(p + 8, g->n_outputs);
    bytes_store_u32le(p + 12, g->n_ops);
    p += NVM_GRAPH_HDR - NVM_NAME_FIELD;
    for (uint32_t i = 0; i < g->n_inputs; i++, p += NVM_INPUT_REC) {
        bytes_store_u32le(p, g->inputs[i].slot);
        bytes_store_u32le(p + 4, g->inputs[i].type);
        bytes_store_u32le(p + 8, g->inputs[i].c);
    }
    for (uint32_t i = 0; i < g->n_outputs; i++, p += NVM_OUTPUT_REC)
        bytes_store_u32le(p, g->outputs[i]);
    for (uint32_t i = 0; i < g->n_ops; i++, p += NVM_OP_REC) {
        const nl_graph_op *op = &g->ops[i];
        bytes_store_u32le(p, op->code);
        bytes_store_u32le(p + 4, op->dst);
        bytes_store_u32le(p + 8, op->src[0]);
        bytes_store_u32le(p + 12, op->src[1]);
        for (int a = 0; a < NL_GRAPH_NATTR; a++)
            bytes_store_u32le(p + 16 + 4 * a, (uint32_t)op->attr[a]);
        for (int t = 0; t < NL_GRAPH_NTENSOR; t++)
            bytes_store_u32le(p + 48 + 4 * t, op->tensor[t]);
    }
    return p;
}

int nvm_writer_finish(nvm_writer *w, uint8_t **out, size_t *out_size)
{
    if (!w || !out || !out_size)
        return NEUVC_ERR(EINVAL);
    *out = NULL;
    *out_size = 0;
    /* Tables: at most 16 + 65536 * (72 + 96 + 80 + 16 * 16 + 65536 * 64)
     * bytes, < 2^39: size_t is 64-bit wherever such a model fits. */
    uint64_t tables = NVM_COUNTS_SIZE + (uint64_t)w->n_params * NVM_PARAM_REC +
                      (uint64_t)w->n_tensors * NVM_TENSOR_REC;
    for (uint32_t i = 0; i < w->n_graphs; i++)
        tables += NVM_GRAPH_HDR + (uint64_t)w->graphs[i].n_inputs * NVM_INPUT_REC +
                  (uint64_t)w->graphs[i].n_outputs * NVM_OUTPUT_REC +
                  (uint64_t)w->graphs[i].n_ops * NVM_OP_REC;
    if (tables > SIZE_MAX / 2)
        return NEUVC_ERR(ERANGE);
    size_t payload = (size_t)tables;
    for (uint32_t i = 0; i < w->n_tensors; i++) {
        payload = align_up(payload);
        if (w->tensors[i].size > SIZE_MAX / 2 - payload)
            return NEUVC_ERR(ERANGE);
        payload += w->tensors[i].size;
    }
    size_t total = NVM_HEADER_SIZE + payload;
    uint8_t *buf = calloc(1, total);
    if (!buf)
        return NEUVC_ERR(ENOMEM);
    memcpy(buf, NVM_MAGIC, 4);
    bytes_store_u32le(buf + NVM_OFF_VERSION, NVM_VERSION);
    name_field_write(buf + NVM_OFF_ID, w->id);
    bytes_store_u64le(buf + NVM_OFF_PAYLOAD_SIZE, payload);

    uint8_t *base = buf + NVM_HEADER_SIZE, *p = base;
    bytes_store_u32le(p, w->n_params);
    bytes_store_u32le(p + 4, w->n_tensors);
    bytes_store_u32le(p + 8, w->n_graphs);
    p += NVM_COUNTS_SIZE;
    for (uint32_t i = 0; i < w->n_params; i++) {
        p = name_field_write(p, w->params[i].name);
        bytes_store_i64le(p, w->params[i].value);
        p += NVM_PARAM_REC - NVM_NAME_FIELD;
    }
    size_t data_pos = (size_t)tables;
    for (uint32_t i = 0; i < w->n_tensors; i++, p += NVM_TENSOR_REC) {
        const nvm_wtensor *t = &w->tensors[i];
        name_field_write(p, t->name);
        p[64] = (uint8_t)t->dtype;
        p[65] = (uint8_t)t->ndim;
        for (int d = 0; d < t->ndim; d++)
            bytes_store_u32le(p + 68 + 4 * d, (uint32_t)t->dims[d]);
        data_pos = align_up(data_pos);
        bytes_store_u64le(p + 88, data_pos);
        memcpy(base + data_pos, t->data, t->size);
        data_pos += t->size;
    }
    for (uint32_t i = 0; i < w->n_graphs; i++)
        p = graph_write(p, &w->graphs[i]);
    neuvc_sha256(base, payload, buf + NVM_OFF_SHA256);
    *out = buf;
    *out_size = total;
    return 0;
}

int nvm_writer_save(nvm_writer *w, const char *path)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    FILE *f = NULL;
    int ret;
    if (!path)
        return NEUVC_ERR(EINVAL);
    if ((ret = nvm_writer_finish(w, &buf, &size)) < 0)
        goto fail;
    f = fopen(path, "wb");
    if (!f) {
        ret = NEUVC_ERR(EIO);
        goto fail;
    }
    if (fwrite(buf, 1, size, f) != size) {
        ret = NEUVC_ERR(EIO);
        goto fail;
    }
    ret = fclose(f);
    f = NULL;
    if (ret != 0) {
        ret = NEUVC_ERR(EIO);
        goto fail;
    }
    free(buf);
    return 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return ret;
}
