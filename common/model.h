/*
 * The codec's view of a model file: everything docs/codec.md uses, looked
 * up and checked once at load, and the graph executors that run it on one
 * coded size.
 *
 * nv_model_open() refuses (NEUVC_ERR_INVALIDDATA, with a message) a model
 * that lacks a graph, parameter or tensor of docs/codec.md, or has one of
 * another type or shape: graph inputs and outputs of the listed types and
 * channel counts; intra.y_qmult, intra.y_qshift, intra.y_dqmult,
 * intra.y_dqshift [64][cy] with every row a valid requantization to s16
 * (nl_requant_check); y.cdf u16 [nscales][257], y.k, y.b u8 [nscales];
 * intra.z.cdf u16 [cz][257], intra.z.k, intra.z.b u8 [cz]; every table
 * row valid (entropy/latent.h) with b < 16 (b == 0 for z); and a sidx
 * output whose producing op clamps it to [0, nscales - 1].
 *
 * The inter part ("Inter frame" of docs/codec.md) is optional: param
 * "inter" absent or 0 means none (every frame is then an I frame); 1 means
 * the five inter.* graphs and the inter.y_q* / inter.z.* tensors must all
 * be there and pass the same checks as their intra counterparts, the
 * channel counts of pt and pf being whatever inter.pred produces (cpt, cpf
 * in 1..NV_CHANNELS_LIMIT) and the other inter graphs taking the same.
 * Any other value of "inter" is refused.
 *
 * A model is immutable once open; executors (nv_nets) hold the run-time
 * buffers, one set per coded size and per user.
 */
#ifndef NEUVC_COMMON_MODEL_H
#define NEUVC_COMMON_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/nvm.h"
#include "entropy/latent.h"
#include "netlib/graph.h"
#include "netlib/netlib.h"

#define NV_QP_COUNT 64           /* qp 0..63: rows of the gain tables */
#define NV_CDF_WIDTH 257         /* entries per stored table row */
#define NV_CHANNELS_LIMIT 4096   /* cy, cz accepted: 1..this */
#define NV_NSCALES_LIMIT 256     /* nscales accepted: 1..this (sidx is u8) */
#define NV_LATENT_STRIDE 16      /* picture samples per latent sample */
#define NV_HYPER_STRIDE 64       /* picture samples per hyper-latent sample */
#define NV_PT_STRIDE 8           /* picture samples per sample of pt (inter.pred) */
#define NV_ERRMSG_SIZE 256

/* The inter part (docs/codec.md, "Inter frame"); pointers into the file. */
typedef struct nv_model_inter {
    const nl_graph *pred;             /* p6 u8 [6] -> pt s16 [cpt], pf u8 [cpf] */
    const nl_graph *analysis;         /* x6 u8 [6], p6 u8 [6], pt s16 [cpt] -> y s32 [cy] */
    const nl_graph *hyper_analysis;   /* yq s16 [cy] -> z s16 [cz] */
    const nl_graph *hyper_synthesis;  /* zq s16 [cz], pf u8 [cpf] -> mu s16 [cy], sidx u8 [cy] */
    const nl_graph *synthesis;        /* yd s16 [cy], pt s16 [cpt], p6 u8 [6] -> x6 u8 [6] */
    int cpt, cpf;                     /* 1..NV_CHANNELS_LIMIT */
    const int32_t *y_qmult, *y_dqmult;    /* [NV_QP_COUNT][cy] */
    const uint8_t *y_qshift, *y_dqshift;  /* [NV_QP_COUNT][cy] */
    nv_latent_tables z_tab;           /* cz rows, b == 0 */
} nv_model_inter;

typedef struct nv_model {
    nvm_model *nvm;
    const nl_graph *analysis;         /* x6 u8 [6] -> y s32 [cy] */
    const nl_graph *hyper_analysis;   /* yq s16 [cy] -> z s16 [cz] */
    const nl_graph *hyper_synthesis;  /* zq s16 [cz] -> mu s16 [cy], sidx u8 [cy] */
    const nl_graph *synthesis;        /* yd s16 [cy] -> x6 u8 [6] */
    int cy, cz, nscales;
    const int32_t *y_qmult, *y_dqmult;    /* [NV_QP_COUNT][cy] */
    const uint8_t *y_qshift, *y_dqshift;  /* [NV_QP_COUNT][cy] */
    nv_latent_tables y_tab;           /* nscales rows */
    nv_latent_tables z_tab;           /* cz rows, b == 0 */
    int has_inter;                    /* 1: inter is valid; 0: I frames only */
    nv_model_inter inter;             /* zeroed when !has_inter */
    const char *id;                   /* the model id, 1..63 printable bytes */
    uint8_t fp[NVM_FINGERPRINT_SIZE]; /* the fingerprint the bitstream carries */
} nv_model;

/* Loads path (nvm_load_file), or the built-in model when path is NULL,
 * and checks it as above.  Returns 0; NEUVC_ERR(ENOENT), NEUVC_ERR(EIO),
 * NEUVC_ERR(ERANGE), NEUVC_ERR(ENOMEM) or NEUVC_ERR_INVALIDDATA with a
 * one-line message in err (naming the file). */
int nv_model_open(nv_model **m, const char *path, char *err, size_t errlen);
/* The same checks on a file image in memory (copied; max_payload as for
 * nvm_load_mem); its messages name the "memory image". */
int nv_model_open_mem(nv_model **m, const void *buf, size_t size, size_t max_payload, char *err,
                      size_t errlen);
void nv_model_close(nv_model **m);

/* The quantizer (dequant == 0) or dequantizer (dequant != 0) of qp
 * (0..NV_QP_COUNT-1) as a requantization to s16, clamp +-NV_LATENT_MAX,
 * no bias: steps 2 and 7 of docs/codec.md with nl_requant_ref. */
void nv_model_requant(const nv_model *m, int qp, int dequant, nl_requant *rq);
/* The same with the inter tables (inter.y_q*, inter.y_dq*); m->has_inter. */
void nv_model_requant_inter(const nv_model *m, int qp, int dequant, nl_requant *rq);

/* Executors of the graphs for one coded size wp x hp (multiples of
 * NV_HYPER_STRIDE).  analysis, hyper_analysis and inter_analysis,
 * inter_hyper_analysis exist only for an encoder; the inter_* ones and
 * pred only when the model has the inter part (NULL otherwise). */
typedef struct nv_nets {
    nl_graph_exec *analysis, *hyper_analysis, *hyper_synthesis, *synthesis;
    nl_graph_exec *pred, *inter_analysis, *inter_hyper_analysis, *inter_hyper_synthesis,
        *inter_synthesis;
} nv_nets;

/* Creates and prepares the executors for wp x hp and checks that every
 * graph maps the sizes of docs/codec.md (x6 (hp/2, wp/2) <-> pt (hp/8,
 * wp/8) <-> latent and pf (hp/16, wp/16) <-> hyper-latent (hp/64,
 * wp/64)).  Returns 0,
 * NEUVC_ERR_INVALIDDATA (a graph of other strides), NEUVC_ERR(ERANGE) or
 * NEUVC_ERR(ENOMEM), with a message in err; on failure n holds nothing. */
struct nl_dsp;
/* dsp: the kernel table the executors use (copied). */
int nv_nets_open(nv_nets *n, const nv_model *m, int wp, int hp, int encoder, const struct nl_dsp *dsp,
                 char *err, size_t errlen);
void nv_nets_close(nv_nets *n);
/* Every executor of n runs its layers on pool (nl_graph_exec_set_pool). */
struct nv_pool;
void nv_nets_set_pool(nv_nets *n, struct nv_pool *pool);

#endif
