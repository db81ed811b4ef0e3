/*
 * Network graphs: the op lists the codec runs (analysis, synthesis,
 * hyperprior, ...), as stored in .nvm files (docs/model-format.md), their
 * validation, and an executor on the reference ops.
 *
 * A graph is in SSA form over n_slots value slots: every slot is either a
 * graph input or the destination of exactly one op (so n_slots ==
 * n_inputs + n_ops), and an op only reads slots defined before it.  Each
 * slot has a type and a channel count fixed by the graph; its height and
 * width follow from the input sizes given to nl_graph_prepare().
 *
 * Op records (fields unused by an opcode are 0, or NL_GRAPH_NONE for slots
 * and tensor references):
 *
 *   opcode   src           attr[0..7]                           tensor[0..3]
 *   CONV     x             k stride cin cout in_type out_type    weight s8 [cout][k][k][cin],
 *                          lo hi                                 bias s32 [cout] or NONE,
 *                                                                mult s32 [cout], shift u8 [cout]
 *   REQUANT  x             out_type lo hi                        bias s32 [c] or NONE,
 *                                                                mult s32 [c], shift u8 [c]
 *   ADD      a b           out_type lo hi                        ma s32 [c], mb s32 [c], shift u8 [c]
 *   CLAMP    x             lo hi                                 -
 *   S2D      x             r                                     -
 *   D2S      x             r                                     -
 *   CONCAT   a b           -                                     -
 *
 * Types are nl_type codes (u8 0, s8 1, s16 2, s32 3).  Tensor references
 * are indices into the model's tensor table.
 */
#ifndef NEUVC_NETLIB_GRAPH_H
#define NEUVC_NETLIB_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "common/nvm.h"
#include "netlib/netlib.h"

typedef enum nl_opcode {
    NL_OP_CONV = 1,
    NL_OP_REQUANT = 2,
    NL_OP_ADD = 3,
    NL_OP_CLAMP = 4,
    NL_OP_S2D = 5,
    NL_OP_D2S = 6,
    NL_OP_CONCAT = 7,
} nl_opcode;

#define NL_GRAPH_NONE UINT32_MAX /* unused slot or tensor reference */
#define NL_GRAPH_NAME_MAX 63
#define NL_GRAPH_NATTR 8
#define NL_GRAPH_NTENSOR 4
#define NL_GRAPH_MAX_IO 16       /* inputs, outputs: 1..16 each */
#define NL_GRAPH_MAX_OPS 65536   /* ops: 1..65536 */
#define NL_GRAPH_MAX_SIDE 65536  /* height and width of every slot */
#define NL_GRAPH_R_MIN 2         /* space-to-depth / depth-to-space factor */
#define NL_GRAPH_R_MAX 8

/* Attribute positions, per opcode. */
enum {
    NL_CONV_K = 0, NL_CONV_STRIDE, NL_CONV_CIN, NL_CONV_COUT,
    NL_CONV_IN_TYPE, NL_CONV_OUT_TYPE, NL_CONV_LO, NL_CONV_HI
};
enum { NL_RQ_OUT_TYPE = 0, NL_RQ_LO, NL_RQ_HI };       /* REQUANT and ADD */
enum { NL_CLAMP_LO = 0, NL_CLAMP_HI };
enum { NL_SHUFFLE_R = 0 };                             /* S2D and D2S */
/* Tensor reference positions, per opcode. */
enum { NL_CONV_WEIGHT = 0, NL_CONV_BIAS, NL_CONV_MULT, NL_CONV_SHIFT };
enum { NL_RQ_BIAS = 0, NL_RQ_MULT, NL_RQ_SHIFT };
enum { NL_ADD_MA = 0, NL_ADD_MB, NL_ADD_SHIFT };

/* A graph input: its slot, element type (nl_type code) and channels. */
typedef struct nl_graph_input {
    uint32_t slot;
    uint32_t type;
    uint32_t c;
} nl_graph_input;

/* One op as stored in the file (see the table above). */
typedef struct nl_graph_op {
    uint32_t code;               /* nl_opcode */
    uint32_t dst;
    uint32_t src[2];
    int32_t attr[NL_GRAPH_NATTR];
    uint32_t tensor[NL_GRAPH_NTENSOR];
} nl_graph_op;

/* Derived by nl_graph_validate. */
typedef struct nl_graph_slot {
    nl_type type;
    int c;
    int producer;                /* op index, -1 for a graph input */
} nl_graph_slot;

typedef struct nl_graph_bound {
    nl_conv_desc conv;           /* CONV */
    nl_requant rq;               /* REQUANT */
    nl_add_desc add;             /* ADD */
} nl_graph_bound;

typedef struct nl_graph {
    /* Stored fields (what nvm_writer_add_graph encodes). */
    char name[NL_GRAPH_NAME_MAX + 1];
    uint32_t n_slots, n_inputs, n_outputs, n_ops;
    nl_graph_input *inputs;      /* [n_inputs] */
    uint32_t *outputs;           /* [n_outputs] slots */
    nl_graph_op *ops;            /* [n_ops], in execution order */
    /* Derived by nl_graph_validate, freed by nl_graph_free_derived; NULL
     * until the graph is valid.  Pointers into the tensor table. */
    nl_graph_slot *slots;        /* [n_slots] */
    nl_graph_bound *bound;       /* [n_ops] */
} nl_graph;

/* "conv", "requant", "add", "clamp", "s2d", "d2s", "concat"; NULL for an
 * unknown code. */
const char *nl_opcode_name(uint32_t code);

/* Checks every rule of the header comment against tensors[0 .. n_tensors-1]
 * and, on success, fills g->slots and g->bound (the tensors must outlive
 * g).  0, NEUVC_ERR_INVALIDDATA (message in err) or NEUVC_ERR(ENOMEM). */
int nl_graph_validate(nl_graph *g, const nvm_tensor *tensors, uint32_t n_tensors,
                      char *err, size_t errlen);
void nl_graph_free_derived(nl_graph *g);

/* ------------------------------------------------------------ executor
 * Usage: new once per graph (and per thread), prepare for the input sizes
 * (allocates every slot buffer; a repeat with the same sizes does nothing),
 * then run any number of times without allocating.  Slot buffers are
 * shared between slots whose lifetimes do not overlap, and a CLAMP whose
 * source dies there runs in place; graph outputs keep their own buffers
 * until the next prepare or free. */
typedef struct nl_graph_exec nl_graph_exec;

/* g must be valid (nl_graph_validate) and outlive the executor. */
int nl_graph_exec_new(nl_graph_exec **ex, const nl_graph *g);
/* The same with an explicit kernel table (copied: it need not outlive the
 * call); nl_graph_exec_new() uses nl_dsp_default(). */
struct nl_dsp;
int nl_graph_exec_new_dsp(nl_graph_exec **ex, const nl_graph *g, const struct nl_dsp *dsp);
void nl_graph_exec_free(nl_graph_exec **ex);
/* Sizes of every graph input, h[i] x w[i] for i < n_inputs, each in
 * 1..NL_GRAPH_MAX_SIDE.  0; NEUVC_ERR(EINVAL) when sizes do not fit the
 * graph (an S2D input not divisible by r, ADD or CONCAT operands of
 * different sizes); NEUVC_ERR(ERANGE) when a slot would exceed
 * NL_GRAPH_MAX_SIDE or the address space; NEUVC_ERR(ENOMEM).  After a
 * failure the executor is unprepared. */
int nl_graph_prepare(nl_graph_exec *ex, const int *h, const int *w);
/* Runs every op on in[0 .. n_inputs-1] (type, c, h, w as prepared; any
 * row stride >= w * c; s16 samples within +-NL_S16_MAX, as netlib.h
 * requires of every producer: not checked here).  Inputs are only read.
 * When out is not NULL, out[0 .. n_outputs-1] receive views of the
 * outputs: their contents hold until the next run, their memory until the
 * next prepare with other sizes or free.  MACs are added to *st when st
 * is not NULL.  0 or NEUVC_ERR(EINVAL). */
int nl_graph_run(nl_graph_exec *ex, const nl_tensor *in, nl_tensor *out, nl_stats *st);
/* Threads: every later run cuts each large op into bands of rows run on
 * pool (common/threadpool.h; borrowed, must outlive its use; NULL: the
 * calling thread alone).  The output bytes do not depend on the pool. */
struct nv_pool;
void nl_graph_exec_set_pool(nl_graph_exec *ex, struct nv_pool *pool);
/* Profiling: when ns is not NULL (n_ops entries, borrowed), every later run
 * adds the wall time of op i, in nanoseconds, to ns[i]. */
void nl_graph_exec_set_profile(nl_graph_exec *ex, uint64_t *ns);
/* Wall time of every run of ex so far, in nanoseconds. */
uint64_t nl_graph_exec_run_ns(const nl_graph_exec *ex);
/* The prepared view of slot s (shape and type; data only after a run,
 * never for a CONCAT fused into its CONV, graph_exec.c); NULL if
 * unprepared or out of range. */
const nl_tensor *nl_graph_exec_view(const nl_graph_exec *ex, uint32_t s);
/* MACs of op i per run as prepared (0 for an op that is not a CONV). */
uint64_t nl_graph_exec_op_macs(const nl_graph_exec *ex, uint32_t i);
/* Name of the kernel that runs op i (e.g. "nl_conv3x3_u8s8_avx512vnni";
 * "(fused into its conv)" for a CONCAT that does not run). */
const char *nl_graph_exec_kernel(const nl_graph_exec *ex, uint32_t i);
/* View of output i after prepare (data filled by run); NULL if unprepared
 * or out of range. */
const nl_tensor *nl_graph_output(const nl_graph_exec *ex, uint32_t i);
/* MACs of one run and bytes of slot buffers, as prepared (0 before). */
uint64_t nl_graph_exec_macs(const nl_graph_exec *ex);
size_t nl_graph_exec_bytes(const nl_graph_exec *ex);
/* Message of the last failed prepare or run ("" if none). */
const char *nl_graph_exec_error(const nl_graph_exec *ex);
/* Input `in` of ex is output `out` of src (same type and channels): when
 * both run on a device, a run of ex given src's output view takes the
 * device copy instead of uploading it (src must outlive ex).  Nothing to
 * do on the CPU.  0 or NEUVC_ERR(EINVAL). */
int nl_graph_exec_link(nl_graph_exec *ex, uint32_t in, const nl_graph_exec *src, uint32_t out);
/* Output `out` of ex is read only by executors linked to it: a device
 * backend then does not copy it to the host, and the contents of its
 * view are undefined (its shape and data pointer, which links match, stay
 * valid).  Nothing to do on the CPU.  0 or NEUVC_ERR(EINVAL). */
int nl_graph_exec_device_only(nl_graph_exec *ex, uint32_t out);
/* ex[0 .. n-1] (NULL entries skipped; the others prepared and distinct)
 * never run at the same time, and no output of one is read once another
 * has run: their slot buffers become one block of the largest size (views
 * taken before are stale; a prepare at other sizes gives an executor a
 * block of its own again).  Executors on a device are left alone.  0,
 * NEUVC_ERR(EINVAL) or NEUVC_ERR(ENOMEM) (nothing changed then). */
int nl_graph_exec_share(nl_graph_exec *const *ex, int n);
/* 1 when ex runs on OpenCL (its table had opencl set), else 0. */
int nl_graph_exec_on_device(const nl_graph_exec *ex);

#endif
