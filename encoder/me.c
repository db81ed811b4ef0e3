/*
 * Block motion search (encoder/me.h).
 */
#include "encoder/me.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/mcdsp.h"
#include "common/threadpool.h"
#include "neuvc/neuvc.h"

#define BS NV_MC_LUMA_BLOCK                 /* 16 */
#define INT_MV_MAX (NV_MV_MAX & ~3)         /* 508: largest integer-sample vector */
#define MAX_CANDS 6
#define SUBPEL_MOVES 2                      /* diamond moves per sub-sample step */
#define SEEN_SIZE 512                       /* > points one block can try (about 230) */

/* One block's search: the source block, the reference, and the rate
 * model's predictor and context.  cost = (SAD << 16) + lambda_q8 *
 * bits_q8: SAD <= 256 * 255 < 2^16, bits_q8 < 2^15 (three symbols of at
 * most 15 bits and 20 bypass bits, times 256) and lambda_q8 <= 2^24, so
 * the sum is < 2^40. */
typedef struct me_block {
    const uint8_t *cur;
    ptrdiff_t cur_stride;
    const uint8_t *ref;
    ptrdiff_t ref_stride;
    int w, h, x, y;
    nv_mv pred;
    int ctx;
    uint64_t lambda_q8;
    const nv_mv_costs *costs;
    const nv_mcdsp *mc;
    nv_mv best;
    uint64_t best_cost;
    uint32_t best_sad;                      /* the SAD part of best_cost */
    /* Points this block already tried (open addressing; an entry is valid
     * when its stamp is the block's): trying one again cannot change the
     * result, since the best cost only falls and a point replaces it only
     * when strictly cheaper, so it is skipped. */
    uint32_t stamp;
    uint32_t seen_key[SEEN_SIZE], seen_stamp[SEEN_SIZE];
} me_block;

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* mc: the kernels (common/mcdsp.h); every table gives the same SAD. */
static uint32_t block_sad(const nv_mcdsp *mc, const uint8_t *cur, ptrdiff_t cur_stride,
                          const uint8_t *ref, ptrdiff_t ref_stride, int w, int h, int x, int y,
                          nv_mv mv)
{
    return nv_mc_sad16_pred_dsp(mc, cur, cur_stride, ref, ref_stride, w, h, x, y, mv.x, mv.y);
}

uint32_t nv_me_block_sad(const uint8_t *cur, ptrdiff_t cur_stride,
                         const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                         int x, int y, nv_mv mv)
{
    return block_sad(nv_mcdsp_get(0), cur + (ptrdiff_t)y * cur_stride + x, cur_stride, ref,
                     ref_stride, w, h, x, y, mv);
}

/* 1 when this block tried (mvx, mvy) before, else records it and 0.  A
 * full table (not reached: SEEN_SIZE exceeds what a block tries) answers
 * 0 without recording, which only costs time. */
static int seen_before(me_block *b, int mvx, int mvy)
{
    const uint32_t key = (uint32_t)(uint16_t)mvx << 16 | (uint16_t)mvy;
    uint32_t h = (key * 2654435761u) >> 23; /* 9 bits: SEEN_SIZE */
    for (int n = 0; n < SEEN_SIZE; n++, h = (h + 1) & (SEEN_SIZE - 1)) {
        if (b->seen_stamp[h] != b->stamp) {
            b->seen_stamp[h] = b->stamp;
            b->seen_key[h] = key;
            return 0;
        }
        if (b->seen_key[h] == key)
            return 1;
    }
    return 0;
}

/* Evaluates mv (in range) and keeps it when strictly better. */
static void try_mv(me_block *b, int mvx, int mvy)
{
    nv_mv mv = { (int16_t)mvx, (int16_t)mvy };
    if (seen_before(b, mvx, mvy))
        return;
    uint32_t sad = block_sad(b->mc, b->cur, b->cur_stride, b->ref, b->ref_stride, b->w, b->h,
                             b->x, b->y, mv);
    uint64_t cost = ((uint64_t)sad << 16) +
                    b->lambda_q8 * nv_mv_cost_q8(b->costs, b->ctx, mvx - b->pred.x, mvy - b->pred.y);

    if (cost < b->best_cost) {
        b->best_cost = cost;
        b->best_sad = sad;
        b->best = mv;
    }
}

/* The nearest integer-sample vector of v, within the integer range. */
static nv_mv to_int(nv_mv v)
{
    nv_mv r;

    r.x = (int16_t)clampi(((v.x + 2) >> 2) * 4, NV_MV_MIN, INT_MV_MAX);
    r.y = (int16_t)clampi(((v.y + 2) >> 2) * 4, NV_MV_MIN, INT_MV_MAX);
    return r;
}

/* Neighbour patterns, in units of a step.  Fixed orders: ties keep the
 * earlier point. */
static const int8_t pat_square[8][2] = {
    { -1, -1 }, { 0, -1 }, { 1, -1 }, { -1, 0 }, { 1, 0 }, { -1, 1 }, { 0, 1 }, { 1, 1 },
};
static const int8_t pat_diamond[4][2] = { { 0, -1 }, { -1, 0 }, { 1, 0 }, { 0, 1 } };
static const int8_t pat_hexagon[6][2] = { { -2, 0 }, { -1, -2 }, { 1, -2 }, { 2, 0 }, { 1, 2 }, { -1, 2 } };

/* Tries the npts points of pat times step (qpel) around the best, and
 * again around the new best while one improves, at most moves times;
 * components stay in [NV_MV_MIN, lim]. */
static void pattern_search(me_block *b, const int8_t (*pat)[2], int npts, int step, int lim, int moves)
{
    for (int m = 0; m < moves; m++) {
        const nv_mv c = b->best;
        for (int k = 0; k < npts; k++) {
            int x = c.x + pat[k][0] * step, y = c.y + pat[k][1] * step;
            if (x < NV_MV_MIN || x > lim || y < NV_MV_MIN || y > lim)
                continue;
            try_mv(b, x, y);
        }
        if (b->best.x == c.x && b->best.y == c.y)
            break;
    }
}

static void search_block(me_block *b, const nv_mv *cands, int ncands, const nv_me_params *p)
{
    b->best_cost = UINT64_MAX;
    b->best_sad = UINT32_MAX;
    b->best = (nv_mv){ 0, 0 };
    if (++b->stamp == 0) { /* wrapped: forget every entry */
        memset(b->seen_stamp, 0, sizeof(b->seen_stamp));
        b->stamp = 1;
    }
    /* 1. candidates at integer positions (a repeat is skipped by try_mv) */
    for (int k = 0; k < ncands; k++) {
        nv_mv v = to_int(cands[k]);
        try_mv(b, v.x, v.y);
    }
    /* 2. hexagon moves, then the square at distance 1 */
    pattern_search(b, pat_hexagon, 6, 4, INT_MV_MAX, p->max_iter);
    pattern_search(b, pat_square, 8, 4, INT_MV_MAX, 1);
    /* 3. the exact predictor, then half and quarter samples; nothing can
     * lower a SAD of 0 */
    if (p->subpel <= 0 || b->best_sad == 0)
        return;
    if (b->pred.x != b->best.x || b->pred.y != b->best.y)
        try_mv(b, b->pred.x, b->pred.y);
    pattern_search(b, pat_diamond, 4, 2, NV_MV_MAX, SUBPEL_MOVES);
    if (p->subpel >= 2)
        pattern_search(b, pat_diamond, 4, 1, NV_MV_MAX, SUBPEL_MOVES);
}

/* Step 4 of me.h: the predictor, then (0, 0), within prefer_sad of the
 * best SAD replaces it.  best_sad <= 65280 and prefer_sad <= 65536: the
 * sum fits a uint32_t. */
static void prefer_cheap(me_block *b, uint32_t prefer_sad)
{
    const nv_mv cheap[2] = { b->pred, { 0, 0 } };

    for (int k = 0; k < 2; k++) {
        nv_mv v = cheap[k];
        if (v.x == b->best.x && v.y == b->best.y)
            return;
        uint32_t sad = block_sad(b->mc, b->cur, b->cur_stride, b->ref, b->ref_stride, b->w,
                                 b->h, b->x, b->y, v);
        if (sad <= b->best_sad + prefer_sad) {
            b->best = v;
            b->best_sad = sad;
            return;
        }
    }
}

void nv_me_default_params(nv_me_params *p)
{
    p->lambda_q8 = 4 * 256;
    p->subpel = 2;
    p->max_iter = NV_ME_MAX_ITER_DEFAULT;
    p->prefer_sad = 0;
    p->pool = NULL;
    p->mc = NULL;
}

uint32_t nv_me_lambda_q8(int qp)
{
    /* round(256 * 2^(k / 6)), k = 0..5 */
    static const uint32_t base[6] = { 256, 287, 323, 362, 406, 456 };

    qp = clampi(qp, 0, 63);
    /* 2^(qp/6 - 2) * 256 = (base[qp % 6] << (qp / 6)) >> 2 */
    return (base[qp % 6] << (qp / 6)) >> 2;
}

static nv_mv clamp_mv(nv_mv v)
{
    nv_mv r = { (int16_t)clampi(v.x, NV_MV_MIN, NV_MV_MAX), (int16_t)clampi(v.y, NV_MV_MIN, NV_MV_MAX) };

    return r;
}

/* One search: what every row shares, and the rows' progress. */
typedef struct me_frame {
    nv_mv *mvs;
    ptrdiff_t mv_stride;
    const uint8_t *cur;
    ptrdiff_t cur_stride;
    const uint8_t *ref;
    ptrdiff_t ref_stride;
    int w, h, wb, hb;
    const nv_mv *prev;
    ptrdiff_t prev_stride;
    const nv_me_params *p;
    const nv_mv_costs *costs;
    atomic_int *done;            /* [hb]: blocks of each row already final; NULL: one thread */
} me_frame;

/* Waits until row by - 1 has its blocks up to bx + 1 final (the top,
 * top-right and top-left neighbours that the predictor and the
 * candidates read); spins briefly, then yields (the row above runs on
 * another thread, which may be preempted). */
static void wait_above(const me_frame *f, int bx, int by)
{
    const int need = bx + 2 < f->wb ? bx + 2 : f->wb;
    for (int i = 0; atomic_load_explicit(&f->done[by - 1], memory_order_acquire) < need; i++)
        if (i >= 64)
            sched_yield();
}

/* Block row by, left to right. */
static void search_row(const me_frame *f, int by)
{
    const nv_me_params *p = f->p;
    nv_mv *mvs = f->mvs;
    const ptrdiff_t mv_stride = f->mv_stride;
    const nv_mv *prev = f->prev;
    const ptrdiff_t prev_stride = f->prev_stride;
    const int wb = f->wb;
    me_block b;

    b.cur_stride = f->cur_stride;
    b.ref = f->ref;
    b.ref_stride = f->ref_stride;
    b.w = f->w;
    b.h = f->h;
    b.lambda_q8 = p->lambda_q8;
    b.costs = f->costs;
    b.mc = p->mc ? p->mc : nv_mcdsp_get(0);
    b.stamp = 0;
    memset(b.seen_stamp, 0, sizeof(b.seen_stamp));
    for (int bx = 0; bx < wb; bx++) {
        nv_mv cands[MAX_CANDS];
        int n = 0;
        const nv_mv *row = mvs + (ptrdiff_t)by * mv_stride;

        if (f->done && by > 0)
            wait_above(f, bx, by);
        nv_mv_predict(mvs, mv_stride, wb, bx, by, &b.pred, &b.ctx);
        cands[n++] = (nv_mv){ 0, 0 };
        cands[n++] = b.pred;
        if (bx > 0)
            cands[n++] = row[bx - 1];
        if (by > 0)
            cands[n++] = row[bx - mv_stride];
        if (by > 0 && bx + 1 < wb)
            cands[n++] = row[bx + 1 - mv_stride];
        if (prev)
            cands[n++] = clamp_mv(prev[(ptrdiff_t)by * prev_stride + bx]);
        b.x = bx * BS;
        b.y = by * BS;
        b.cur = f->cur + (ptrdiff_t)b.y * f->cur_stride + b.x;
        search_block(&b, cands, n, p);
        if (p->prefer_sad)
            prefer_cheap(&b, p->prefer_sad);
        mvs[(ptrdiff_t)by * mv_stride + bx] = b.best;
        if (f->done)
            atomic_store_explicit(&f->done[by], bx + 1, memory_order_release);
    }
}

static void row_job(void *arg, int job, int thread)
{
    (void)thread;
    search_row(arg, job);
}

int nv_me_search(nv_mv *mvs, ptrdiff_t mv_stride,
                 const uint8_t *cur, ptrdiff_t cur_stride,
                 const uint8_t *ref, ptrdiff_t ref_stride, int w, int h,
                 const nv_mv *prev, ptrdiff_t prev_stride,
                 const nv_me_params *p, const nv_mv_costs *costs)
{
    const int wb = w / BS, hb = h / BS;
    nv_mv_costs init_costs;
    /* Row progress of the wavefront: hb <= 4096 (h <= 65536). */
    atomic_int done[65536 / BS];

    if (!mvs || !cur || !ref || !p || w < BS || h < BS || w % BS || h % BS || w > 65536 ||
        h > 65536 || mv_stride < wb || (prev && prev_stride < wb) || p->lambda_q8 > (1u << 24) ||
        p->max_iter < 0 || p->prefer_sad > 65536)
        return NEUVC_ERR(EINVAL);
    if (!costs) {
        nv_mv_costs_init(&init_costs, NULL);
        costs = &init_costs;
    }
    me_frame f = { mvs, mv_stride, cur, cur_stride, ref, ref_stride, w, h, wb, hb,
                   prev, prev_stride, p, costs, NULL };
    if (nv_pool_threads(p->pool) > 1 && hb > 1) {
        for (int by = 0; by < hb; by++)
            atomic_init(&done[by], 0);
        f.done = done;
        /* The pool hands out rows in increasing order (a shared counter),
         * so the row a job waits for was taken earlier and progresses:
         * no deadlock, and each block sees final neighbours as with one
         * thread. */
        nv_pool_run(p->pool, row_job, &f, hb);
    } else {
        for (int by = 0; by < hb; by++)
            search_row(&f, by);
    }
    return 0;
}
