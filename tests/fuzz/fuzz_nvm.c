/*
 * Fuzz target: the .nvm model loader (common/nvm.c: header, payload
 * tables, tensors, graph validation) and the codec's checks on top of it
 * (common/model.c), on a file image in memory; then every graph of a
 * model that loads is run once (netlib/graph_exec.c and the kernels) on
 * small inputs, as the codec would run a model it accepted.  The payload
 * SHA-256 in the header is recomputed first, so that mutations of the
 * payload are parsed rather than refused by the digest check.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"
#include "common/model.h"
#include "common/sha256.h"
#include "netlib/graph.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

#define FNVM_MAX_PAYLOAD (4u << 20)
#define FNVM_SIDE 16                  /* input height and width */
#define FNVM_MAX_C 512                /* inputs with more channels are not run */
#define FNVM_MAX_MACS 20000000u       /* graphs above this are not run */

/* Runs graph g once on small inputs of in-range values.
 * Failures to prepare (sizes the graph does not take) are fine. */
static void fnvm_run(const nl_graph *g)
{
    nl_graph_exec *ex = NULL;
    nl_tensor in[NL_GRAPH_MAX_IO];
    int h[NL_GRAPH_MAX_IO], w[NL_GRAPH_MAX_IO];
    void *mem[NL_GRAPH_MAX_IO] = { 0 };
    uint32_t n = g->n_inputs;
    if (n > NL_GRAPH_MAX_IO || nl_graph_exec_new(&ex, g) < 0)
        return;
    for (uint32_t i = 0; i < n; i++)
        if (g->inputs[i].c > FNVM_MAX_C)
            goto done;
    /* Input 0 FNVM_SIDE square, the others that or 1/2 or 1/4 of it (as
     * the codec's graphs take features of several resolutions). */
    int ok = 0;
    for (int d = 1; d <= 4 && !ok; d *= 2) {
        for (uint32_t i = 0; i < n; i++)
            h[i] = w[i] = i ? FNVM_SIDE / d : FNVM_SIDE;
        ok = nl_graph_prepare(ex, h, w) == 0;
    }
    if (!ok || nl_graph_exec_macs(ex) > FNVM_MAX_MACS)
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        nl_type t = (nl_type)g->inputs[i].type;
        int c = (int)g->inputs[i].c;
        size_t count = (size_t)h[i] * (size_t)w[i] * (size_t)c;
        if (!(mem[i] = malloc(count * nl_type_size(t))))
            goto done;
        for (size_t k = 0; k < count; k++) {
            int v = (int)((k * 37 + i * 11) % 201) - 100;  /* -100..100: in every range */
            switch (t) {
            case NL_U8: ((uint8_t *)mem[i])[k] = (uint8_t)(v + 100); break;
            case NL_S8: ((int8_t *)mem[i])[k] = (int8_t)v; break;
            case NL_S16: ((int16_t *)mem[i])[k] = (int16_t)v; break;
            default: ((int32_t *)mem[i])[k] = v; break;
            }
        }
        in[i] = (nl_tensor){ mem[i], h[i], w[i], c, (ptrdiff_t)w[i] * c, t };
    }
    if (nl_graph_run(ex, in, NULL, NULL) < 0)
        abort();                      /* prepared with these sizes: must run */
done:
    for (uint32_t i = 0; i < n; i++)
        free(mem[i]);
    nl_graph_exec_free(&ex);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    if (size >= NVM_HEADER_SIZE && !memcmp(buf, NVM_MAGIC, 4))
        neuvc_sha256(buf + NVM_HEADER_SIZE, size - NVM_HEADER_SIZE, buf + NVM_OFF_SHA256);
    char err[NV_ERRMSG_SIZE] = "";
    nvm_model *nm = NULL;
    if (nvm_load_mem(&nm, buf, size, FNVM_MAX_PAYLOAD, 0, err, sizeof(err)) == 0) {
        for (uint32_t i = 0; i < nvm_num_graphs(nm); i++)
            fnvm_run(nvm_graph_at(nm, i));
        nvm_free(&nm);
    }
    nv_model *m = NULL;
    int ret = nv_model_open_mem(&m, buf, size, FNVM_MAX_PAYLOAD, err, sizeof(err));
    if (ret < 0 && (m || !err[0]))
        abort();                      /* failures leave nothing and say why */
    nv_model_close(&m);
    free(buf);
    return 0;
}
