/*
 * Shapes and buffer plan of a graph for given input sizes: the part of
 * graph execution that does not depend on where it runs, shared by the
 * CPU executor (graph_exec.c) and the OpenCL one (opencl/exec_cl.c).
 *
 * Buffer plan (liveness): walking the ops in order, each destination slot
 * takes a free buffer (the smallest that is large enough, else the largest
 * free one, grown, else a new one); a source slot's buffer becomes free
 * after the last op that reads it.  Graph outputs are never freed.  So a
 * buffer holds at most one live slot at any time, and no op overwrites a
 * value that a later op still reads.  Buffers are only numbered here
 * (0..n_buf-1, with a size each); the executor allocates them.
 *
 * Concat fusion (nl_graph_plan_fuse_concat, CPU executor only): a CONV
 * reads the concatenation of two slots through its kernel's run2 (dsp.h)
 * instead of a CONCAT's output.  The CONCAT does not run and its slot
 * gets no buffer; its two sources count as read by the CONV (their
 * last_use is at least the CONV's), so their buffers stay theirs until
 * the CONV has run, and the CONV's output never takes one of them.
 */
#ifndef NEUVC_NETLIB_GRAPH_PLAN_H
#define NEUVC_NETLIB_GRAPH_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/graph.h"

/* nl_graph_plan_buffers() flags. */
enum {
    /* Inputs get buffers of their own, before any op's (else inputs have
     * none: buf_of -1, the caller's memory is read). */
    NL_PLAN_INPUT_BUFFERS = 1 << 0,
    /* A CLAMP whose source dies at that op runs in place on its buffer. */
    NL_PLAN_CLAMP_IN_PLACE = 1 << 1,
};

typedef struct nl_graph_plan {
    const nl_graph *g;
    int *in_h, *in_w;            /* [n_inputs] sizes of the current plan */
    int *last_use;               /* [n_slots] last op reading the slot; -1 none */
    uint8_t *is_output;          /* [n_slots] */
    nl_tensor *view;             /* [n_slots] shapes; data is the executor's */
    size_t *slot_bytes;          /* [n_slots] */
    int *buf_of;                 /* [n_slots] buffer index; -1 none */
    size_t *buf_size;            /* [n_slots] (SSA: n_slots >= buffers) */
    int *free_bufs;              /* [n_slots] planning scratch */
    int *fused;                  /* [n_ops] a fused CONCAT: the CONV that reads its sources;
                                  * that CONV: the CONCAT; any other op: -1 */
    int n_buf;
    uint64_t macs;               /* of one run, once shapes are computed */
} nl_graph_plan;

/* Allocates the arrays of a zeroed plan and fills last_use and is_output.
 * 0 or NEUVC_ERR(ENOMEM); nl_graph_plan_free() in either case. */
int nl_graph_plan_init(nl_graph_plan *p, const nl_graph *g);
void nl_graph_plan_free(nl_graph_plan *p);

/* Concat fusion: every CONCAT whose output is not a graph output and is
 * read by one op alone, a CONV for which can(ctx, op) is 1, is fused into
 * it (fused[], last_use).  Call once, after nl_graph_plan_init and before
 * any buffer plan.  Returns the number of CONCATs fused. */
int nl_graph_plan_fuse_concat(nl_graph_plan *p, int (*can)(void *ctx, uint32_t op), void *ctx);

/* Checks the input sizes h[], w[] (1..NL_GRAPH_MAX_SIDE each): 1 when
 * planned is set and they are the sizes of the current plan, 0 when a new
 * plan is needed, NEUVC_ERR(ERANGE) with a message in err. */
int nl_graph_plan_same_sizes(const nl_graph_plan *p, int planned, const int *h, const int *w,
                             char *err, size_t errlen);

/* Records h[], w[] as the sizes of the current plan. */
void nl_graph_plan_set_sizes(nl_graph_plan *p, const int *h, const int *w);

/* Checks the run's inputs in[] against the graph and the current plan:
 * 0, or NEUVC_ERR(EINVAL) with a message in err. */
int nl_graph_plan_check_inputs(const nl_graph_plan *p, const nl_tensor *in, char *err,
                               size_t errlen);

/* Shape of every slot from the input sizes h[], w[] (already in
 * 1..NL_GRAPH_MAX_SIDE), slot_bytes, and macs (added to p->macs).  A slot
 * of more than max_elems elements fails with ERANGE.  op_cost, when not
 * NULL, gets the MACs of each CONV op (other entries untouched).  0, or a
 * negative errno with a message in err. */
int nl_graph_plan_shapes(nl_graph_plan *p, const int *h, const int *w, uint64_t max_elems,
                         uint64_t *op_cost, char *err, size_t errlen);

/* The buffer plan (buf_of, buf_size, n_buf) for the computed shapes;
 * flags: NL_PLAN_*.  p->n_buf must be 0 (nothing planned yet). */
void nl_graph_plan_buffers(nl_graph_plan *p, int flags);

#endif
