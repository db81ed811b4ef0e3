/* The motion side of inter frames: interpolation and OBMC (common/mc.c)
 * against values worked out by hand and against a literal per-sample
 * transcription of docs/motion.md written here; the motion search
 * (encoder/me.c) on synthetic translations of a real picture and on a
 * real frame pair; vector coding (entropy/mv.c) round trips, garbage,
 * range and truncation checks, and its cost estimate.
 *
 * Tool modes (for tests/test_mc_py.py):
 *   test_mc --mc-file REF.raw W H CHROMA MVS.raw OUT.raw
 *   test_mc --mc-block-file REF.raw W H CHROMA MVS.raw OUT.raw
 * read a W x H u8 plane and a (W/n) x (H/n) field of int16 little-endian
 * (x, y) pairs in raster order, and write the OBMC (or non-overlapped
 * block) prediction.  `test_mc --bench [FILE.y4m]` times OBMC and the
 * search at 1920x1088.
 *
 * The clip is read from $NEUVC_CLIPS/eval, else ../shared/clips/eval
 * relative to the working directory (the repository root); a missing clip
 * fails.  All randomness is a fixed-seed splitmix64. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mc.h"
#include "common/mcdsp.h"
#include "common/threadpool.h"
#include "common/y4m.h"
#include "encoder/me.h"
#include "entropy/adaptive.h"
#include "entropy/mv.h"
#include "entropy/rangecoder.h"
#include "netlib/dsp.h"
#include "neuvc/neuvc.h"

#define CLIP_NAME "vmaf_park_joy_480x270_10f.y4m"

/* ck_assert records every pass; REQUIRE reports failures only (loops). */
#define REQUIRE(cond)                                                      \
    do {                                                                   \
        if (!(cond))                                                       \
            ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond); \
    } while (0)

typedef struct prng {
    uint64_t s;
} prng;

static uint64_t prng_next(prng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int prng_range(prng *r, int lo, int hi)
{
    return lo + (int)(((prng_next(r) >> 32) * (uint64_t)(hi - lo + 1)) >> 32);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ck_abort_msg("out of memory");
    return p;
}

/* ------------------------------------------ docs/motion.md, literally */

/* Floor division and non-negative remainder written with / and %, not
 * with the shifts mc.c uses. */
static int floor_div(int a, int b)
{
    return a / b - (a % b != 0 && a < 0);
}

static int mod_pos(int a, int b)
{
    return a - b * floor_div(a, b);
}

static const int lit_taps[8][4] = {
    { 0, 64, 0, 0 },   { -2, 58, 10, -2 }, { -4, 54, 16, -2 }, { -6, 46, 28, -4 },
    { -4, 36, 36, -4 }, { -4, 28, 46, -6 }, { -2, 16, 54, -4 }, { -2, 10, 58, -2 },
};

static int lit_clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One sample of the block prediction at (x, y) with (mvx, mvy). */
static int lit_pred(const uint8_t *ref, ptrdiff_t rs, int w, int h, int x, int y,
                    int mvx, int mvy, int chroma)
{
    int q = chroma ? 8 : 4;
    int ix = x + floor_div(mvx, q), iy = y + floor_div(mvy, q);
    int px = mod_pos(mvx, q) * (8 / q), py = mod_pos(mvy, q) * (8 / q);
    long sum = 0;

    for (int j = 0; j < 4; j++) {
        long hj = 0;
        for (int t = 0; t < 4; t++)
            hj += lit_taps[px][t] * ref[lit_clamp(iy - 1 + j, 0, h - 1) * rs + lit_clamp(ix - 1 + t, 0, w - 1)];
        sum += lit_taps[py][j] * hj;
    }
    return lit_clamp((int)floor_div((int)sum + 2048, 4096), 0, 255);
}

static int lit_w(int t, int n)
{
    return t < n ? 2 * t + 1 : 4 * n - 1 - 2 * t;
}

/* One OBMC output sample: the four windows covering (x, y). */
static int lit_obmc(const uint8_t *ref, ptrdiff_t rs, int w, int h, const nv_mv *mvs,
                    ptrdiff_t ms, int x, int y, int chroma)
{
    int n = chroma ? 8 : 16, wb = w / n, hb = h / n;
    int bx[2], by[2];
    long sum = 0;

    bx[0] = x / n;
    bx[1] = x % n < n / 2 ? bx[0] - 1 : bx[0] + 1;
    by[0] = y / n;
    by[1] = y % n < n / 2 ? by[0] - 1 : by[0] + 1;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            int wy = lit_w(y - (by[a] * n - n / 2), n), wx = lit_w(x - (bx[b] * n - n / 2), n);
            nv_mv v = mvs[lit_clamp(by[a], 0, hb - 1) * ms + lit_clamp(bx[b], 0, wb - 1)];
            sum += (long)wx * wy * lit_pred(ref, rs, w, h, x, y, v.x, v.y, chroma);
        }
    return (int)((sum + 2 * n * n) / (4 * n * n));
}

/* ------------------------------------------------------------ planes */

typedef struct plane {
    uint8_t *d;
    int w, h;
    ptrdiff_t s;
} plane;

static plane plane_new(int w, int h)
{
    plane p = { xmalloc((size_t)w * h), w, h, w };
    return p;
}

static void plane_random(plane *p, prng *r)
{
    for (int i = 0; i < p->w * p->h; i++)
        p->d[i] = (uint8_t)prng_next(r);
}

/* Random vectors: mostly in range with extremes and small values mixed. */
static nv_mv random_mv(prng *r)
{
    nv_mv v;
    switch (prng_range(r, 0, 3)) {
    case 0:
        v.x = (int16_t)prng_range(r, -8, 8);
        v.y = (int16_t)prng_range(r, -8, 8);
        break;
    case 1:
        v.x = (int16_t)(prng_range(r, 0, 1) ? NV_MV_MIN : NV_MV_MAX);
        v.y = (int16_t)prng_range(r, NV_MV_MIN, NV_MV_MAX);
        break;
    default:
        v.x = (int16_t)prng_range(r, NV_MV_MIN, NV_MV_MAX);
        v.y = (int16_t)prng_range(r, NV_MV_MIN, NV_MV_MAX);
        break;
    }
    return v;
}

/* Luma frames [0, n) of the clip, w x h (270 rows). */
static uint8_t **clip_luma(int n, int *w, int *h)
{
    const char *dir = getenv("NEUVC_CLIPS");
    char path[1024];
    uint8_t **frames = xmalloc(sizeof(*frames) * (size_t)n);
    y4m_reader r;
    FILE *f;

    snprintf(path, sizeof(path), "%s/eval/%s", dir && *dir ? dir : "../shared/clips", CLIP_NAME);
    f = fopen(path, "rb");
    if (!f)
        ck_abort_msg("test clip %s missing (set NEUVC_CLIPS to the clips folder)", path);
    ck_assert_int_eq(y4m_reader_open(&r, f, 0, 0), 0);
    *w = r.info.width;
    *h = r.info.height;
    for (int k = 0; k < n; k++) {
        NeuvcPicture pic;
        ck_assert_int_eq(y4m_read_picture(&r, &pic), 1);
        frames[k] = xmalloc((size_t)*w * *h);
        for (int y = 0; y < *h; y++)
            memcpy(frames[k] + y * *w, pic.data[0] + y * pic.stride[0], (size_t)*w);
    }
    y4m_reader_close(&r);
    fclose(f);
    return frames;
}

static void clip_free(uint8_t **frames, int n)
{
    for (int k = 0; k < n; k++)
        free(frames[k]);
    free(frames);
}

/* The cw x ch area at (x0, y0) of a frame of width fw, as a plane. */
static plane crop(const uint8_t *frame, int fw, int x0, int y0, int cw, int ch)
{
    plane p = plane_new(cw, ch);
    for (int y = 0; y < ch; y++)
        memcpy(p.d + y * cw, frame + (y0 + y) * fw + x0, (size_t)cw);
    return p;
}

/* ------------------------------------------------- interpolation */

START_TEST(test_taps_table)
{
    /* The table of docs/motion.md, and every row sums to 64. */
    for (int p = 0; p < 8; p++) {
        int s = 0;
        for (int t = 0; t < 4; t++) {
            ck_assert_int_eq(nv_mc_taps[p][t], lit_taps[p][t]);
            s += nv_mc_taps[p][t];
        }
        ck_assert_int_eq(s, 64);
    }
}
END_TEST

/* A ramp ref[y][x] = 4x (or 4y), w = h = 40.  The horizontal sum at integer
 * position ix and phase p is 4 * (64 * ix + c[p]) with c[p] = -t0 + t2 +
 * 2 * t3 (the taps weight columns ix - 1 .. ix + 2):
 *   p:    0   1   2   3   4   5   6   7
 *   c:    0   8  16  26  32  38  48  56
 * and (256 ix + 4 c + 32) >> 6 = 4 ix + floor((4 c + 32) / 64):
 *   off:  0   1   1   2   2   2   3   4
 * Along the other direction the plane is constant, so the second pass
 * multiplies by 64 and (64 H + 2048) >> 12 == (H + 32) >> 6: the same
 * value for every phase of the other direction.  Blocks stay 2+ samples
 * inside the plane, so no clamping is involved. */
START_TEST(test_interp_ramp)
{
    static const int off[8] = { 0, 1, 1, 2, 2, 2, 3, 4 };
    const int n = 40;
    plane hr = plane_new(n, n), vr = plane_new(n, n);
    uint8_t out[8 * 8];

    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            hr.d[y * n + x] = (uint8_t)(4 * x);
            vr.d[y * n + x] = (uint8_t)(4 * y);
        }
    for (int chroma = 0; chroma < 2; chroma++)
        for (int mv = -8; mv < 24; mv++)           /* several integer parts */
            for (int other = 0; other < 8; other++) {
                int q = chroma ? 8 : 4;
                int ip = floor_div(mv, q), ph = mod_pos(mv, q) * (8 / q);
                int om = other - 3;          /* any vector in the other direction */
                /* horizontal ramp, vector (mv, om); block at (12, 10) */
                nv_mc_pred_block(out, 8, hr.d, n, n, n, 12, 10, 8, 8, mv, om, chroma);
                for (int j = 0; j < 8; j++)
                    for (int i = 0; i < 8; i++)
                        REQUIRE(out[j * 8 + i] == 4 * (12 + i + ip) + off[ph]);
                /* vertical ramp, vector (om, mv) */
                nv_mc_pred_block(out, 8, vr.d, n, n, n, 10, 12, 8, 8, om, mv, chroma);
                for (int j = 0; j < 8; j++)
                    for (int i = 0; i < 8; i++)
                        REQUIRE(out[j * 8 + i] == 4 * (12 + j + ip) + off[ph]);
            }
    free(hr.d);
    free(vr.d);
}
END_TEST

/* An impulse: ref = 100 everywhere except ref[8][8] = 164 (100 + 64).
 * Output sample (x, y) with integer position (ix, iy) sees the impulse at
 * taps tx = 9 - ix, ty = 9 - iy (when in 0..3), so its sum is
 * 100 * 64 * 64 + 64 * a * b with a = taps[px][tx], b = taps[py][ty], and
 *     pred = (409600 + 64 a b + 2048) >> 12 = 100 + floor((a b + 32) / 64).
 * Phase (4, 4) by hand, a b = 16, -144, 1296 -> 100, 98, 120:
 *     100  98  98 100
 *      98 120 120  98
 *      98 120 120  98
 *     100  98  98 100          (x, y = 6..9 with a zero vector)
 * Phase (1, 0): b = 64 at ty = 1 only, so pred = 100 + a on row 8:
 *     x = 6..9: a = -2, 10, 58, -2  ->  98 110 158 98, and 100 elsewhere.
 * Phase (0, 7): down column 8 with taps[7] = -2, 10, 58, -2 at ty = 9 - y,
 *     y = 6..9: b = -2, 58, 10, -2  ->  98 158 110 98. */
START_TEST(test_interp_impulse)
{
    static const uint8_t p44[4][4] = {
        { 100, 98, 98, 100 }, { 98, 120, 120, 98 }, { 98, 120, 120, 98 }, { 100, 98, 98, 100 },
    };
    static const uint8_t p10[4] = { 98, 110, 158, 98 };
    static const uint8_t p07[4] = { 98, 158, 110, 98 };
    const int n = 20;
    plane r = plane_new(n, n);
    uint8_t out[16 * 16];

    memset(r.d, 100, (size_t)n * n);
    r.d[8 * n + 8] = 164;
    /* chroma phases are the vector's low 3 bits */
    nv_mc_pred_block(out, 16, r.d, n, n, n, 2, 2, 16, 16, 4, 4, 1);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            int X = x + 2, Y = y + 2;
            int want = (X >= 6 && X <= 9 && Y >= 6 && Y <= 9) ? p44[Y - 6][X - 6] : 100;
            REQUIRE(out[y * 16 + x] == want);
        }
    /* chroma (1, 0): phase (1, 0) */
    nv_mc_pred_block(out, 16, r.d, n, n, n, 2, 2, 16, 16, 1, 0, 1);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            int X = x + 2, Y = y + 2;
            REQUIRE(out[y * 16 + x] == (Y == 8 && X >= 6 && X <= 9 ? p10[X - 6] : 100));
        }
    /* luma (0, 7) is not a luma phase; chroma (0, 7) is */
    nv_mc_pred_block(out, 16, r.d, n, n, n, 2, 2, 16, 16, 0, 7, 1);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            int X = x + 2, Y = y + 2;
            REQUIRE(out[y * 16 + x] == (X == 8 && Y >= 6 && Y <= 9 ? p07[Y - 6] : 100));
        }
    /* every phase pair, luma and chroma, with the formula above */
    for (int chroma = 0; chroma < 2; chroma++)
        for (int my = 0; my < 8; my++)
            for (int mx = 0; mx < 8; mx++) {
                int q = chroma ? 8 : 4;
                if (!chroma && (mx >= 4 || my >= 4))
                    continue;
                int px = mx * (8 / q), py = my * (8 / q);
                nv_mc_pred_block(out, 16, r.d, n, n, n, 2, 2, 16, 16, mx, my, chroma);
                for (int y = 0; y < 16; y++)
                    for (int x = 0; x < 16; x++) {
                        int tx = 9 - (x + 2), ty = 9 - (y + 2), want = 100;
                        if (tx >= 0 && tx < 4 && ty >= 0 && ty < 4)
                            want = 100 + floor_div(lit_taps[px][tx] * lit_taps[py][ty] + 32, 64);
                        REQUIRE(out[y * 16 + x] == want);
                    }
            }
    free(r.d);
}
END_TEST

/* Vectors far outside: every coordinate clamps to an edge. */
START_TEST(test_edge_clamp)
{
    const int n = 32;
    prng rg = { 1 };
    plane r = plane_new(n, n);
    uint8_t out[16 * 16];

    plane_random(&r, &rg);
    for (int chroma = 0; chroma < 2; chroma++) {
        /* up-left: everything reads ref[0][0] (all taps on one value) */
        nv_mc_pred_block(out, 16, r.d, n, n, n, 0, 0, 16, 16, NV_MV_MIN, NV_MV_MIN, chroma);
        for (int i = 0; i < 256; i++)
            REQUIRE(out[i] == r.d[0]);
        nv_mc_pred_block(out, 16, r.d, n, n, n, 0, 0, 16, 16, NV_MV_MIN + 1, NV_MV_MIN + 3, chroma);
        for (int i = 0; i < 256; i++)
            REQUIRE(out[i] == r.d[0]);
        /* down-right from the last block: ref[31][31] */
        nv_mc_pred_block(out, 16, r.d, n, n, n, 16, 16, 16, 16, NV_MV_MAX, NV_MV_MAX, chroma);
        for (int i = 0; i < 256; i++)
            REQUIRE(out[i] == r.d[n * n - 1]);
        /* right only, integer vertical part: row j copies ref[j][31] */
        nv_mc_pred_block(out, 16, r.d, n, n, n, 0, 0, 16, 16, chroma ? 504 : 508, 0, chroma);
        for (int j = 0; j < 16; j++)
            for (int i = 0; i < 16; i++)
                REQUIRE(out[j * 16 + i] == r.d[j * n + n - 1]);
        /* up only: column i copies ref[0][i + 3] (3 samples right) */
        nv_mc_pred_block(out, 16, r.d, n, n, n, 0, 16, 16, 16, chroma ? 24 : 12, NV_MV_MIN, chroma);
        for (int j = 0; j < 16; j++)
            for (int i = 0; i < 16; i++)
                REQUIRE(out[j * 16 + i] == r.d[i + 3]);
    }
    /* a 1 x 1 plane: any vector gives its sample */
    uint8_t one = 77;
    for (int k = 0; k < 50; k++) {
        nv_mv v = random_mv(&rg);
        nv_mc_pred_block(out, 16, &one, 1, 1, 1, 0, 0, 3, 2, v.x, v.y, k & 1);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                REQUIRE(out[i * 16 + j] == 77);
    }
    free(r.d);
}
END_TEST

/* nv_mc_pred_block against the literal formula: random planes, block
 * sizes 1..32, positions inside, across and outside the edges. */
START_TEST(test_pred_vs_literal)
{
    prng rg = { 2 };
    uint8_t out[32 * 40];

    for (int it = 0; it < 400; it++) {
        int w = prng_range(&rg, 1, 70), h = prng_range(&rg, 1, 70);
        plane r = plane_new(w, h);
        int bw = prng_range(&rg, 1, 32), bh = prng_range(&rg, 1, 32);
        int x = prng_range(&rg, -40, w + 8), y = prng_range(&rg, -40, h + 8);
        int chroma = it & 1;
        nv_mv v = random_mv(&rg);

        plane_random(&r, &rg);
        if (it % 3 == 0) {                  /* short vectors: mostly inside */
            v.x = (int16_t)prng_range(&rg, -20, 20);
            v.y = (int16_t)prng_range(&rg, -20, 20);
        }
        nv_mc_pred_block(out, 40, r.d, r.s, w, h, x, y, bw, bh, v.x, v.y, chroma);
        for (int j = 0; j < bh; j++)
            for (int i = 0; i < bw; i++)
                REQUIRE(out[j * 40 + i] == lit_pred(r.d, r.s, w, h, x + i, y + j, v.x, v.y, chroma));
        free(r.d);
    }
}
END_TEST

/* -------------------------------------------------------------- OBMC */

static nv_mv *field_new(int wb, int hb)
{
    return xmalloc(sizeof(nv_mv) * (size_t)wb * hb);
}

/* Constant in, the same constant out, for any field: the weights of every
 * sample sum to 4 n^2 (1024, 256). */
START_TEST(test_obmc_constant)
{
    prng rg = { 3 };

    for (int it = 0; it < 40; it++) {
        int chroma = it & 1, n = chroma ? 8 : 16;
        int wb = prng_range(&rg, 1, 7), hb = prng_range(&rg, 1, 5), w = wb * n, h = hb * n;
        uint8_t c = (uint8_t)(it == 0 ? 0 : it == 1 ? 255 : prng_range(&rg, 0, 255));
        plane r = plane_new(w, h), o = plane_new(w, h);
        nv_mv *f = field_new(wb, hb);

        memset(r.d, c, (size_t)w * h);
        for (int i = 0; i < wb * hb; i++)
            f[i] = random_mv(&rg);
        nv_mc_obmc_plane(o.d, o.s, r.d, r.s, w, h, f, wb, chroma);
        for (int i = 0; i < w * h; i++)
            REQUIRE(o.d[i] == c);
        free(f);
        free(r.d);
        free(o.d);
    }
}
END_TEST

/* The weights by hand.  Two blocks side by side (32 x 16 luma), ref all 0
 * but its last sample 255; block 0 has (0, 0) (reads zeros: its window
 * ends at x = 23), block 1 points far down-right (reads 255 everywhere).
 * Every row is then 0 for x < 8 (blocks -1 and 0), 255 for x >= 24
 * (blocks 1 and 2), and between them block 1 has weight (2u + 1) * 2n
 * with u = x - 8, so out = ((2u + 1) * 32 * 255 + 512) >> 10:
 *     8 24 40 56 72 88 104 120 135 151 167 183 199 215 231 247.
 * Chroma (16 x 8, n = 8): ((2u + 1) * 16 * 255 + 128) >> 8 for x = 4..11:
 *     16 48 80 112 143 175 207 239. */
START_TEST(test_obmc_weights_by_hand)
{
    static const uint8_t ramp_l[16] = { 8, 24, 40, 56, 72, 88, 104, 120,
                                        135, 151, 167, 183, 199, 215, 231, 247 };
    static const uint8_t ramp_c[8] = { 16, 48, 80, 112, 143, 175, 207, 239 };
    for (int chroma = 0; chroma < 2; chroma++) {
        int n = chroma ? 8 : 16, w = 2 * n, h = n;
        plane r = plane_new(w, h), o = plane_new(w, h);
        nv_mv f[2] = { { 0, 0 }, { NV_MV_MAX, NV_MV_MAX } };

        memset(r.d, 0, (size_t)w * h);
        r.d[w * h - 1] = 255;
        nv_mc_obmc_plane(o.d, o.s, r.d, r.s, w, h, f, 2, chroma);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int want = x < n / 2 ? 0 : x >= w - n / 2 ? 255 : chroma ? ramp_c[x - 4] : ramp_l[x - 8];
                REQUIRE(o.d[y * w + x] == want);
            }
        free(r.d);
        free(o.d);
    }
}
END_TEST

/* A zero field gives the reference; a uniform integer field gives the
 * reference shifted (edge-clamped) everywhere; a field of integer
 * vectors per region gives the shifted reference away from the region
 * borders (where windows of other vectors reach). */
START_TEST(test_obmc_translation)
{
    prng rg = { 4 };
    const int wb = 9, hb = 7;

    for (int chroma = 0; chroma < 2; chroma++) {
        int n = chroma ? 8 : 16, w = wb * n, h = hb * n, q = chroma ? 8 : 4;
        plane r = plane_new(w, h), o = plane_new(w, h);
        nv_mv *f = field_new(wb, hb);

        plane_random(&r, &rg);
        for (int i = 0; i < wb * hb; i++)
            f[i] = (nv_mv){ 0, 0 };
        nv_mc_obmc_plane(o.d, o.s, r.d, r.s, w, h, f, wb, chroma);
        ck_assert_int_eq(memcmp(o.d, r.d, (size_t)w * h), 0);

        for (int k = 0; k < 6; k++) {
            int dx = prng_range(&rg, -20, 20), dy = prng_range(&rg, -20, 20);
            for (int i = 0; i < wb * hb; i++)
                f[i] = (nv_mv){ (int16_t)(dx * q), (int16_t)(dy * q) };
            nv_mc_obmc_plane(o.d, o.s, r.d, r.s, w, h, f, wb, chroma);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    REQUIRE(o.d[y * w + x] == r.d[lit_clamp(y + dy, 0, h - 1) * w + lit_clamp(x + dx, 0, w - 1)]);
        }
        /* left 4 block columns (3, -2), the rest (-5, 1): away from the
         * border column (windows reach n/2 into the neighbour) exact */
        for (int by = 0; by < hb; by++)
            for (int bx = 0; bx < wb; bx++)
                f[by * wb + bx] = bx < 4 ? (nv_mv){ (int16_t)(3 * q), (int16_t)(-2 * q) }
                                         : (nv_mv){ (int16_t)(-5 * q), (int16_t)(1 * q) };
        nv_mc_obmc_plane(o.d, o.s, r.d, r.s, w, h, f, wb, chroma);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int dx = x < 4 * n ? 3 : -5, dy = x < 4 * n ? -2 : 1;
                if (x >= 4 * n - n / 2 && x < 4 * n + n / 2)
                    continue;
                REQUIRE(o.d[y * w + x] == r.d[lit_clamp(y + dy, 0, h - 1) * w + lit_clamp(x + dx, 0, w - 1)]);
            }
        free(f);
        free(r.d);
        free(o.d);
    }
}
END_TEST

/* Whole planes against the literal OBMC: odd and tiny block counts, real
 * and random content, random fields with repeats (so the shared
 * predictions of equal vectors are exercised) and extremes. */
START_TEST(test_obmc_vs_literal)
{
    static const int sizes[][2] = { { 1, 1 }, { 3, 5 }, { 5, 3 }, { 1, 4 }, { 7, 2 }, { 2, 1 }, { 4, 4 } };
    prng rg = { 5 };

    for (int s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++)
        for (int chroma = 0; chroma < 2; chroma++)
            for (int k = 0; k < 4; k++) {
                int n = chroma ? 8 : 16, wb = sizes[s][0], hb = sizes[s][1], w = wb * n, h = hb * n;
                plane r = plane_new(w, h), o = plane_new(w, h);
                nv_mv *f = field_new(wb, hb);

                plane_random(&r, &rg);
                if (k & 1)                   /* smooth content */
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            r.d[y * w + x] = (uint8_t)(128 + (x * 7 - y * 5) % 97 + (r.d[y * w + x] & 7));
                for (int i = 0; i < wb * hb; i++) {
                    f[i] = random_mv(&rg);
                    if (i && prng_range(&rg, 0, 2) == 0)
                        f[i] = f[prng_range(&rg, 0, i - 1)];
                }
                nv_mc_obmc_plane(o.d, o.s, r.d, r.s, w, h, f, wb, chroma);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        REQUIRE(o.d[y * w + x] == lit_obmc(r.d, r.s, w, h, f, wb, x, y, chroma));
                free(f);
                free(r.d);
                free(o.d);
            }
}
END_TEST

/* Row bands computed separately equal the whole plane, and touch only
 * their rows; a field stride larger than wb is honoured. */
START_TEST(test_obmc_rows)
{
    prng rg = { 6 };

    for (int chroma = 0; chroma < 2; chroma++) {
        int n = chroma ? 8 : 16, wb = 5, hb = 6, ms = 8, w = wb * n, h = hb * n;
        plane r = plane_new(w, h), whole = plane_new(w, h), band = plane_new(w, h);
        nv_mv *f = field_new(ms, hb);

        plane_random(&r, &rg);
        for (int i = 0; i < ms * hb; i++)
            f[i] = i % ms < wb ? random_mv(&rg) : (nv_mv){ 9999, -9999 };   /* padding: never read */
        for (int by = 0; by < hb; by++)
            for (int bx = 0; bx < wb; bx++)
                if (prng_range(&rg, 0, 1))
                    f[by * ms + bx] = (nv_mv){ (int16_t)prng_range(&rg, -9, 9), (int16_t)prng_range(&rg, -9, 9) };
        nv_mc_obmc_plane(whole.d, whole.s, r.d, r.s, w, h, f, ms, chroma);
        for (int k = 0; k < 20; k++) {
            int y0 = prng_range(&rg, 0, h), y1 = prng_range(&rg, y0, h);
            memset(band.d, 0xA5, (size_t)w * h);
            nv_mc_obmc_rows(band.d, band.s, r.d, r.s, w, h, f, ms, chroma, y0, y1);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    REQUIRE(band.d[y * w + x] == (y >= y0 && y < y1 ? whole.d[y * w + x] : 0xA5));
        }
        /* bands of 1..n rows cover the plane */
        memset(band.d, 0, (size_t)w * h);
        for (int y = 0; y < h;) {
            int y1 = y + prng_range(&rg, 1, n);
            nv_mc_obmc_rows(band.d, band.s, r.d, r.s, w, h, f, ms, chroma, y, y1 > h ? h : y1);
            y = y1;
        }
        ck_assert_int_eq(memcmp(band.d, whole.d, (size_t)w * h), 0);
        free(f);
        free(r.d);
        free(whole.d);
        free(band.d);
    }
}
END_TEST

/* The picture helper: luma with the 16 grid, chroma with the 8 grid. */
START_TEST(test_obmc_picture)
{
    prng rg = { 7 };
    nv_picture ref, out;
    const int wb = 128 / 16, hb = 64 / 16;
    nv_mv f[8 * 4];
    uint8_t *plane_out;

    ck_assert_int_eq(nv_picture_alloc(&ref, 128, 64), 0);
    ck_assert_int_eq(nv_picture_alloc(&out, 128, 64), 0);
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < ref.width[p] * ref.height[p]; i++)
            ref.data[p][i] = (uint8_t)prng_next(&rg);
    for (int i = 0; i < wb * hb; i++)
        f[i] = random_mv(&rg);
    nv_mc_obmc_picture(&out, &ref, f, wb);
    plane_out = xmalloc(128 * 64);
    for (int p = 0; p < 3; p++) {
        nv_mc_obmc_plane(plane_out, ref.width[p], ref.data[p], ref.stride[p], ref.width[p],
                         ref.height[p], f, wb, p > 0);
        ck_assert_int_eq(memcmp(plane_out, out.data[p], (size_t)ref.width[p] * ref.height[p]), 0);
    }
    free(plane_out);
    nv_picture_free(&ref);
    nv_picture_free(&out);
}
END_TEST

/* -------------------------------------------------------- search */

/* cur = ref displaced by v (edge-clamped block prediction); a search must
 * find v for most interior blocks. */
static void check_finds_shift(nv_mv v, int min_percent)
{
    int fw, fh;
    uint8_t **fr = clip_luma(1, &fw, &fh);
    const int w = 320, h = 192, wb = w / 16, hb = h / 16;
    plane r = crop(fr[0], fw, 80, 40, w, h), cur = plane_new(w, h);
    nv_mv *f = field_new(wb, hb), *f2 = field_new(wb, hb), *uni = field_new(wb, hb);
    nv_me_params p;
    int hit = 0, total = 0;

    for (int i = 0; i < wb * hb; i++)
        uni[i] = v;
    nv_mc_pred_plane_blocks(cur.d, cur.s, r.d, r.s, w, h, uni, wb, 0);
    nv_me_default_params(&p);
    ck_assert_int_eq(nv_me_search(f, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL), 0);
    /* interior: blocks whose displaced source lies inside the plane */
    for (int by = 1; by < hb - 1; by++)
        for (int bx = 1; bx < wb - 1; bx++) {
            total++;
            hit += f[by * wb + bx].x == v.x && f[by * wb + bx].y == v.y;
        }
    ck_assert_msg(hit * 100 >= min_percent * total, "vector (%d, %d) found in %d of %d interior blocks",
                  v.x, v.y, hit, total);
    /* deterministic */
    ck_assert_int_eq(nv_me_search(f2, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL), 0);
    ck_assert_int_eq(memcmp(f, f2, sizeof(nv_mv) * (size_t)wb * hb), 0);
    free(f);
    free(f2);
    free(uni);
    free(r.d);
    free(cur.d);
    clip_free(fr, 1);
}

/* Rows on a pool (a wavefront, encoder/me.h): the field of two real
 * frames, with and without a previous field, is the one-thread field for
 * every thread count. */
START_TEST(test_me_threads)
{
    int fw, fh;
    uint8_t **fr = clip_luma(2, &fw, &fh);
    const int w = 320, h = 192, wb = w / 16, hb = h / 16;
    plane r = crop(fr[0], fw, 40, 24, w, h), cur = crop(fr[1], fw, 40, 24, w, h);
    nv_mv *want = field_new(wb, hb), *got = field_new(wb, hb), *want2 = field_new(wb, hb);
    nv_me_params p;
    int differ = 0;

    nv_me_default_params(&p);
    ck_assert_int_eq(nv_me_search(want, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL), 0);
    ck_assert_int_eq(nv_me_search(want2, wb, cur.d, cur.s, r.d, r.s, w, h, want, wb, &p, NULL), 0);
    for (int i = 1; i < wb * hb; i++)
        differ |= want[i].x != want[0].x || want[i].y != want[0].y;
    ck_assert_msg(differ, "a uniform field tests no dependency between rows");
    static const int counts[] = { 1, 2, 3, 5 };
    for (int c = 0; c < 4; c++) {
        nv_pool *pool = NULL;
        ck_assert_int_eq(nv_pool_new(&pool, counts[c]), 0);
        p.pool = pool;
        for (int rep = 0; rep < 3; rep++) {
            memset(got, 0x55, sizeof(nv_mv) * (size_t)wb * hb);
            ck_assert_int_eq(nv_me_search(got, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL),
                             0);
            ck_assert_msg(!memcmp(want, got, sizeof(nv_mv) * (size_t)wb * hb),
                          "%d threads: field differs from one thread", counts[c]);
            ck_assert_int_eq(nv_me_search(got, wb, cur.d, cur.s, r.d, r.s, w, h, want, wb, &p, NULL),
                             0);
            ck_assert_msg(!memcmp(want2, got, sizeof(nv_mv) * (size_t)wb * hb),
                          "%d threads, previous field: field differs from one thread", counts[c]);
        }
        p.pool = NULL;
        nv_pool_free(&pool);
    }
    free(want);
    free(want2);
    free(got);
    free(r.d);
    free(cur.d);
    clip_free(fr, 2);
}
END_TEST

START_TEST(test_me_integer_shift)
{
    check_finds_shift((nv_mv){ 12, -8 }, 90);      /* (3, -2) samples */
    check_finds_shift((nv_mv){ -28, 20 }, 90);     /* (-7, 5) */
}
END_TEST

START_TEST(test_me_qpel_shift)
{
    check_finds_shift((nv_mv){ 5, 3 }, 90);        /* (1.25, 0.75) */
    check_finds_shift((nv_mv){ -10, 7 }, 90);      /* (-2.5, 1.75) */
}
END_TEST

static uint64_t field_sad(const plane *cur, const plane *ref, const nv_mv *f, int wb, int hb)
{
    uint64_t s = 0;
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++)
            s += nv_me_block_sad(cur->d, cur->s, ref->d, ref->s, cur->w, cur->h, bx * 16, by * 16,
                                 f[by * wb + bx]);
    return s;
}

/* Frames 0 -> 1 of the clip (a pan): the searched field predicts much
 * better than (0, 0), integer-only search gives multiples of 4 and does
 * not beat quarter-sample search, and the field codes round trip. */
START_TEST(test_me_real_pair)
{
    int fw, fh;
    uint8_t **fr = clip_luma(2, &fw, &fh);
    const int w = 480, h = 256, wb = w / 16, hb = h / 16;
    plane r = crop(fr[0], fw, 0, 7, w, h), cur = crop(fr[1], fw, 0, 7, w, h);
    nv_mv *f = field_new(wb, hb), *fi = field_new(wb, hb), *z = field_new(wb, hb), *back = field_new(wb, hb);
    nv_me_params p;
    uint64_t s_zero, s_q, s_i;
    rc_enc e;
    const uint8_t *data;
    size_t size;

    for (int i = 0; i < wb * hb; i++)
        z[i] = (nv_mv){ 0, 0 };
    nv_me_default_params(&p);
    ck_assert_int_eq(nv_me_search(f, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL), 0);
    p.subpel = 0;
    ck_assert_int_eq(nv_me_search(fi, wb, cur.d, cur.s, r.d, r.s, w, h, f, wb, &p, NULL), 0);
    for (int i = 0; i < wb * hb; i++) {
        REQUIRE(f[i].x >= NV_MV_MIN && f[i].x <= NV_MV_MAX && f[i].y >= NV_MV_MIN && f[i].y <= NV_MV_MAX);
        REQUIRE(fi[i].x % 4 == 0 && fi[i].y % 4 == 0);
    }
    s_zero = field_sad(&cur, &r, z, wb, hb);
    s_q = field_sad(&cur, &r, f, wb, hb);
    s_i = field_sad(&cur, &r, fi, wb, hb);
    ck_assert_msg(s_q * 10 < s_zero * 7, "SAD searched %llu vs zero field %llu",
                  (unsigned long long)s_q, (unsigned long long)s_zero);
    ck_assert_msg(s_q < s_i, "quarter-sample SAD %llu, integer %llu", (unsigned long long)s_q,
                  (unsigned long long)s_i);
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    ck_assert_int_eq(nv_mv_write_substream(&e, f, wb, wb, hb, &data, &size), 0);
    ck_assert_int_eq(nv_mv_read_substream(data, size, back, wb, wb, hb), 0);
    ck_assert_int_eq(memcmp(f, back, sizeof(nv_mv) * (size_t)wb * hb), 0);
    /* a searched field of a pan: well under 2 bytes per block */
    ck_assert_msg(size < (size_t)(2 * wb * hb), "field of %d blocks took %zu bytes", wb * hb, size);
    rc_enc_free(&e);
    free(f);
    free(fi);
    free(z);
    free(back);
    free(r.d);
    free(cur.d);
    clip_free(fr, 2);
}
END_TEST

/* The search with every kernel table this CPU has (common/mcdsp.h: C,
 * AVX2, AVX-512) gives the C table's field exactly: frames 0 -> 1 and 1
 * -> 2 of the clip (blocks at all four plane edges, so edge-clamped
 * predictions too), with and without a previous field, several rate
 * weights, integer and sub-sample, one and two threads. */
START_TEST(test_me_kernels)
{
    int fw, fh;
    uint8_t **fr = clip_luma(3, &fw, &fh);
    const int w = 480, h = 256, wb = w / 16, hb = h / 16;
    plane pl[3];
    nv_mv *want = field_new(wb, hb), *got = field_new(wb, hb), *prev = field_new(wb, hb);
    const unsigned levels[3] = { 0, NL_CPU_FLAG_AVX2, NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512 };
    const uint32_t lambdas[3] = { 0, nv_me_lambda_q8(32), nv_me_lambda_q8(50) };
    nv_pool *pool = NULL;
    int runs = 0;

    ck_assert_int_eq(nv_pool_new(&pool, 2), 0);
    for (int k = 0; k < 3; k++)
        pl[k] = crop(fr[k], fw, 0, 7, w, h);
    for (int pair = 0; pair < 2; pair++)
        for (int li = 0; li < 3; li++)
            for (int sub = 0; sub <= 2; sub += 2) {
                nv_me_params p;
                nv_me_default_params(&p);
                p.lambda_q8 = lambdas[li];
                p.subpel = sub;
                const nv_mv *pv = pair ? prev : NULL;
                ck_assert_int_eq(nv_me_search(want, wb, pl[pair + 1].d, pl[pair + 1].s,
                                              pl[pair].d, pl[pair].s, w, h, pv, wb, &p, NULL), 0);
                for (int l = 0; l < 3; l++) {
                    p.mc = nv_mcdsp_get(levels[l]);
                    p.pool = l == 2 ? pool : NULL;
                    memset(got, 0x55, sizeof(nv_mv) * (size_t)wb * hb);
                    ck_assert_int_eq(nv_me_search(got, wb, pl[pair + 1].d, pl[pair + 1].s,
                                                  pl[pair].d, pl[pair].s, w, h, pv, wb, &p, NULL), 0);
                    ck_assert_msg(!memcmp(want, got, sizeof(nv_mv) * (size_t)wb * hb),
                                  "%s: field differs from C (pair %d, lambda %u, subpel %d)",
                                  p.mc->name, pair, p.lambda_q8, sub);
                    runs++;
                }
                if (pair == 0 && li == 1 && sub == 2)
                    memcpy(prev, want, sizeof(nv_mv) * (size_t)wb * hb);
            }
    ck_assert_int_eq(runs, 36);
    nv_pool_free(&pool);
    for (int k = 0; k < 3; k++)
        free(pl[k].d);
    free(want);
    free(got);
    free(prev);
    clip_free(fr, 3);
}
END_TEST

/* Step 4 of encoder/me.h (prefer_sad = m) on frames 0 -> 1 of the clip:
 * every vector is (0, 0), its predictor (from the final field), or one
 * whose SAD is lower than both of theirs by more than m; m = 65536 gives
 * the all-zero field; a margin makes more blocks take (0, 0) or the
 * predictor than none does. */
START_TEST(test_me_prefer)
{
    int fw, fh;
    uint8_t **fr = clip_luma(2, &fw, &fh);
    const int w = 480, h = 256, wb = w / 16, hb = h / 16;
    plane r = crop(fr[0], fw, 0, 7, w, h), cur = crop(fr[1], fw, 0, 7, w, h);
    nv_mv *f = field_new(wb, hb);
    const uint32_t margins[4] = { 0, 300, 2000, 65536 };
    int cheap[4];
    nv_me_params p;

    for (int i = 0; i < 4; i++) {
        nv_me_default_params(&p);
        p.prefer_sad = margins[i];
        ck_assert_int_eq(nv_me_search(f, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL), 0);
        cheap[i] = 0;
        for (int by = 0; by < hb; by++)
            for (int bx = 0; bx < wb; bx++) {
                nv_mv v = f[by * wb + bx], pred;
                int ctx;
                nv_mv_predict(f, wb, wb, bx, by, &pred, &ctx);
                if ((v.x == 0 && v.y == 0) || (v.x == pred.x && v.y == pred.y)) {
                    cheap[i]++;
                    continue;
                }
                uint32_t s = nv_me_block_sad(cur.d, cur.s, r.d, r.s, w, h, bx * 16, by * 16, v);
                uint32_t sp = nv_me_block_sad(cur.d, cur.s, r.d, r.s, w, h, bx * 16, by * 16, pred);
                uint32_t s0 = nv_me_block_sad(cur.d, cur.s, r.d, r.s, w, h, bx * 16, by * 16,
                                              (nv_mv){ 0, 0 });
                REQUIRE(sp > s + margins[i] && s0 > s + margins[i]);
            }
    }
    ck_assert_int_eq(cheap[3], wb * hb);
    for (int i = 0; i < wb * hb; i++)
        REQUIRE(f[i].x == 0 && f[i].y == 0);
    ck_assert_msg(cheap[2] > cheap[0], "blocks at (0, 0) or the predictor: %d with margin 0, %d "
                  "with 2000", cheap[0], cheap[2]);
    p.prefer_sad = 65537;
    ck_assert_int_eq(nv_me_search(f, wb, cur.d, cur.s, r.d, r.s, w, h, NULL, 0, &p, NULL),
                     NEUVC_ERR(EINVAL));
    free(f);
    free(r.d);
    free(cur.d);
    clip_free(fr, 2);
}
END_TEST

START_TEST(test_me_args)
{
    uint8_t pl[32 * 32] = { 0 };
    nv_mv f[4];
    nv_me_params p;

    nv_me_default_params(&p);
    ck_assert_int_eq(nv_me_search(f, 2, pl, 32, pl, 32, 32, 32, NULL, 0, &p, NULL), 0);
    for (int i = 0; i < 4; i++)
        ck_assert(f[i].x == 0 && f[i].y == 0);      /* flat: nothing beats (0, 0) */
    ck_assert_int_eq(nv_me_search(f, 2, pl, 32, pl, 32, 30, 32, NULL, 0, &p, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_me_search(f, 1, pl, 32, pl, 32, 32, 32, NULL, 0, &p, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_me_search(f, 2, pl, 32, pl, 32, 32, 32, f, 1, &p, NULL), NEUVC_ERR(EINVAL));
    p.max_iter = -1;
    ck_assert_int_eq(nv_me_search(f, 2, pl, 32, pl, 32, 32, 32, NULL, 0, &p, NULL), NEUVC_ERR(EINVAL));
    /* lambda: 2^((qp - 12) / 6) SAD per bit in 1/256 */
    ck_assert_uint_eq(nv_me_lambda_q8(12), 256);
    ck_assert_uint_eq(nv_me_lambda_q8(18), 512);
    ck_assert_uint_eq(nv_me_lambda_q8(30), 2048);
    ck_assert_uint_eq(nv_me_lambda_q8(0), 64);
    ck_assert_uint_eq(nv_me_lambda_q8(63), 92672);
    ck_assert_uint_eq(nv_me_lambda_q8(99), 92672);
    ck_assert_uint_eq(nv_me_lambda_q8(-5), 64);
    for (int qp = 1; qp < 64; qp++)
        REQUIRE(nv_me_lambda_q8(qp) > nv_me_lambda_q8(qp - 1));
}
END_TEST

/* ------------------------------------------------------ vector coding */

/* Neighbour rules by hand on a 3 x 2 field:
 *     A=(4,8)   B=(-4,0)  C=(12,-4)
 *     D=(0,4)   E         F
 * block (0,0): first row, no left -> (0,0), ctx 0 (all three (0,0));
 * block (1,0): first row: the left vector A = (4,8); ctx 1 (top and
 *              top-right missing, (0,0) != A);
 * block (2,0): first row: left B = (-4,0), ctx 1;
 * block (0,1): left missing, top A, top-right B -> median(0,4,-4)=0,
 *              median(0,8,0)=0, ctx 1;
 * block (1,1): left D, top B, top-right C -> (median(0,-4,12),
 *              median(4,0,-4)) = (0, 0), ctx 1;
 * block (2,1): left E=(7,7), top C, right edge so top-left B ->
 *              (median(7,12,-4), median(7,-4,0)) = (7, 0), ctx 1. */
START_TEST(test_mv_predict_rules)
{
    nv_mv f[6] = { { 4, 8 }, { -4, 0 }, { 12, -4 }, { 0, 4 }, { 7, 7 }, { 0, 0 } };
    nv_mv p;
    int ctx;

    nv_mv_predict(f, 3, 3, 0, 0, &p, &ctx);
    ck_assert(p.x == 0 && p.y == 0 && ctx == 0);
    nv_mv_predict(f, 3, 3, 1, 0, &p, &ctx);
    ck_assert(p.x == 4 && p.y == 8 && ctx == 1);
    nv_mv_predict(f, 3, 3, 2, 0, &p, &ctx);
    ck_assert(p.x == -4 && p.y == 0 && ctx == 1);
    nv_mv_predict(f, 3, 3, 0, 1, &p, &ctx);
    ck_assert(p.x == 0 && p.y == 0 && ctx == 1);
    nv_mv_predict(f, 3, 3, 1, 1, &p, &ctx);
    ck_assert(p.x == 0 && p.y == 0 && ctx == 1);
    nv_mv_predict(f, 3, 3, 2, 1, &p, &ctx);
    ck_assert(p.x == 7 && p.y == 0 && ctx == 1);
    /* three equal neighbours: ctx 0 and that vector */
    nv_mv g[4] = { { 5, -3 }, { 5, -3 }, { 5, -3 }, { 0, 0 } };
    nv_mv_predict(g, 2, 2, 1, 1, &p, &ctx);      /* right edge: top-left */
    ck_assert(p.x == 5 && p.y == -3 && ctx == 0);
    /* first row after a (0, 0) left: (0, 0), ctx 0 */
    nv_mv h[3] = { { 0, 0 }, { 9, 9 }, { 0, 0 } };
    nv_mv_predict(h, 3, 3, 1, 0, &p, &ctx);
    ck_assert(p.x == 0 && p.y == 0 && ctx == 0);
    nv_mv_predict(h, 3, 3, 2, 0, &p, &ctx);
    ck_assert(p.x == 9 && p.y == 9 && ctx == 1);
    /* classes */
    ck_assert_int_eq(nv_mv_class(0), 0);
    ck_assert_int_eq(nv_mv_class(1), 1);
    ck_assert_int_eq(nv_mv_class(-1), 1);
    ck_assert_int_eq(nv_mv_class(2), 2);
    ck_assert_int_eq(nv_mv_class(-3), 2);
    ck_assert_int_eq(nv_mv_class(4), 3);
    ck_assert_int_eq(nv_mv_class(512), 10);
    ck_assert_int_eq(nv_mv_class(-1023), 10);
}
END_TEST

/* Encodes f and decodes it back; returns the size. */
static size_t roundtrip(rc_enc *e, const nv_mv *f, int ms, int wb, int hb)
{
    const uint8_t *data;
    size_t size;
    nv_mv *back = field_new(ms, hb);

    REQUIRE(nv_mv_write_substream(e, f, ms, wb, hb, &data, &size) == 0);
    REQUIRE(nv_mv_read_substream(data, size, back, ms, wb, hb) == 0);
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++)
            REQUIRE(back[by * ms + bx].x == f[by * ms + bx].x && back[by * ms + bx].y == f[by * ms + bx].y);
    free(back);
    return size;
}

START_TEST(test_mv_roundtrip_random)
{
    prng rg = { 8 };
    rc_enc e;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int it = 0; it < 300; it++) {
        int wb = prng_range(&rg, 1, it < 10 ? 1 : 40), hb = prng_range(&rg, 1, 30);
        int ms = wb + prng_range(&rg, 0, 3);
        nv_mv *f = field_new(ms, hb);
        int mode = it % 4;

        for (int i = 0; i < ms * hb; i++) {
            if (mode == 0)                  /* uniform over the range */
                f[i] = (nv_mv){ (int16_t)prng_range(&rg, NV_MV_MIN, NV_MV_MAX),
                                (int16_t)prng_range(&rg, NV_MV_MIN, NV_MV_MAX) };
            else if (mode == 1)             /* extremes: largest differences */
                f[i] = (nv_mv){ (int16_t)(prng_range(&rg, 0, 1) ? NV_MV_MIN : NV_MV_MAX),
                                (int16_t)(prng_range(&rg, 0, 1) ? NV_MV_MIN : NV_MV_MAX) };
            else if (mode == 2)             /* sparse: mostly zero */
                f[i] = prng_range(&rg, 0, 9) ? (nv_mv){ 0, 0 } : random_mv(&rg);
            else
                f[i] = random_mv(&rg);
        }
        roundtrip(&e, f, ms, wb, hb);
        free(f);
    }
    rc_enc_free(&e);
}
END_TEST

/* A smooth motion field with small noise (what a search gives on a pan
 * with some objects): round trip and a small size. */
START_TEST(test_mv_roundtrip_smooth)
{
    prng rg = { 9 };
    const int wb = 120, hb = 68;                   /* 1920 x 1088 */
    nv_mv *f = field_new(wb, hb);
    rc_enc e;
    size_t size;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int by = 0; by < hb; by++)
        for (int bx = 0; bx < wb; bx++) {
            int x = 20 + bx / 8 + (prng_range(&rg, 0, 9) == 0 ? prng_range(&rg, -3, 3) : 0);
            int y = -6 + by / 10 + (prng_range(&rg, 0, 9) == 0 ? prng_range(&rg, -3, 3) : 0);
            f[by * wb + bx] = (nv_mv){ (int16_t)x, (int16_t)y };
        }
    size = roundtrip(&e, f, wb, wb, hb);
    /* About 19% of the blocks deviate (10% per component): H(0.19) = 0.7
     * bit for the nz flags plus about 7 bits per deviation (class, offset,
     * sign, the neighbours' disturbed medians): about 2 bits per block;
     * 2.5 is the bound (16 would be raw coding). */
    ck_assert_msg(size * 8 * 2 < (size_t)(wb * hb) * 5, "%zu bytes for %d blocks", size, wb * hb);
    rc_enc_free(&e);
    free(f);
}
END_TEST

/* All (0, 0): the all_zero bit and the flush, 1 byte for any size.  A
 * constant nonzero field: block (0, 0) predicts (0, 0) and pays the whole
 * vector (about 20 bits); the rest of the first row predicts from the
 * left and every other row by the median (the first column's median of
 * (0, 0) and two equal vectors is that vector), so every other block
 * predicts exactly: an nz flag each, under 0.05 bit once the models
 * adapt.  Bound: 64 bytes for the 8160 blocks (the median in the first
 * row too, as before, cost about 2 bytes per first-row block). */
START_TEST(test_mv_all_zero)
{
    const int wb = 120, hb = 68;
    nv_mv *f = field_new(wb, hb);
    rc_enc e;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int i = 0; i < wb * hb; i++)
        f[i] = (nv_mv){ 0, 0 };
    ck_assert_uint_eq(roundtrip(&e, f, wb, wb, hb), 1);
    ck_assert_uint_eq(roundtrip(&e, f, 1, 1, 1), 1);
    for (int i = 0; i < wb * hb; i++)
        f[i] = (nv_mv){ -37, 11 };
    size_t size = roundtrip(&e, f, wb, wb, hb);
    ck_assert_msg(size <= 64, "constant field: %zu bytes", size);
    rc_enc_free(&e);
    free(f);
}
END_TEST

/* The decoder rejects a difference that leaves the range: block 0 with
 * d.x = +1023 (class 10) or d.y = -1023, coded by hand with the syntax. */
START_TEST(test_mv_decode_out_of_range)
{
    for (int which = 0; which < 3; which++) {
        nv_mv_models m;
        rc_enc e;
        const uint8_t *data;
        size_t size;
        nv_mv f[4] = { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } };

        ck_assert_int_eq(rc_enc_init(&e, 0), 0);
        nv_mv_models_init(&m);
        rc_enc_bits(&e, 0, 1);                   /* not all zero */
        if (which == 2) {                        /* a valid first block (511, 0) */
            rc_enc_bin(&e, &m.nz[0], 1);
            rc_enc_adapt(&e, &m.cls_x[0], 9);
            rc_enc_adapt(&e, &m.cls_y[0], 0);
            rc_enc_bits(&e, 511 - 256, 8);
            rc_enc_bits(&e, 0, 1);
            /* block (1, 0): pred = left = (511, 0), ctx 1: d.x = 512 gives 1023 */
            rc_enc_bin(&e, &m.nz[1], 1);
            rc_enc_adapt(&e, &m.cls_x[1], 10);
            rc_enc_adapt(&e, &m.cls_y[1], 0);
            rc_enc_bits(&e, 0, 9);
            rc_enc_bits(&e, 0, 1);
        } else {
            rc_enc_bin(&e, &m.nz[0], 1);
            rc_enc_adapt(&e, &m.cls_x[0], which ? 0 : 10);
            if (which)
                rc_enc_adapt(&e, &m.cls_y_nz[0], 10 - 1);
            else
                rc_enc_adapt(&e, &m.cls_y[0], 0);
            rc_enc_bits(&e, 1023 - 512, 9);
            rc_enc_bits(&e, which ? 1 : 0, 1);   /* +1023 or -1023 */
        }
        ck_assert_int_eq(rc_enc_finish(&e, &data, &size), 0);
        ck_assert_int_eq(nv_mv_read_substream(data, size, f, 2, 2, 2), NEUVC_ERR_INVALIDDATA);
        for (int i = 0; i < 4; i++)
            ck_assert(f[i].x == 0 && f[i].y == 0);
        rc_enc_free(&e);
    }
}
END_TEST

START_TEST(test_mv_encode_refuses)
{
    nv_mv f[2] = { { 0, 0 }, { NV_MV_MAX + 1, 0 } };
    rc_enc e;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    ck_assert_int_eq(nv_mv_encode_field(&e, f, 2, 2, 1), NEUVC_ERR(ERANGE));
    f[1] = (nv_mv){ 0, NV_MV_MIN - 1 };
    ck_assert_int_eq(nv_mv_encode_field(&e, f, 2, 2, 1), NEUVC_ERR(ERANGE));
    f[1] = (nv_mv){ 0, 0 };
    ck_assert_int_eq(nv_mv_encode_field(&e, f, 2, 0, 1), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_mv_encode_field(&e, f, 1, 2, 1), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_mv_encode_field(&e, f, 2, 2, NV_MV_FIELD_MAX + 1), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nv_mv_read_substream(NULL, 0, f, 2, 2, 0), NEUVC_ERR(EINVAL));
    rc_enc_free(&e);
}
END_TEST

/* Random bytes: decoding never crashes or hangs, and any field it returns
 * is in range (ASan/UBSan watch the rest). */
START_TEST(test_mv_garbage)
{
    prng rg = { 10 };
    uint8_t buf[600];
    nv_mv f[40 * 20];
    int ok = 0;

    for (int it = 0; it < 3000; it++) {
        size_t len = (size_t)prng_range(&rg, 0, (int)sizeof(buf));
        int wb = prng_range(&rg, 1, 40), hb = prng_range(&rg, 1, 20);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)prng_next(&rg);
        if (it % 5 == 0 && len)
            buf[0] &= 0x7F;                      /* all_zero = 0: decode blocks */
        int ret = nv_mv_read_substream(len ? buf : NULL, len, f, wb, wb, hb);
        REQUIRE(ret == 0 || ret == NEUVC_ERR_INVALIDDATA);
        ok += ret == 0;
        for (int i = 0; i < wb * hb; i++)
            REQUIRE(f[i].x >= NV_MV_MIN && f[i].x <= NV_MV_MAX && f[i].y >= NV_MV_MIN && f[i].y <= NV_MV_MAX);
    }
    /* rc_dec_finish makes accidental acceptance of noise rare */
    ck_assert_msg(ok < 30, "%d random streams accepted", ok);
}
END_TEST

/* Every cut of a valid sub-stream, and the stream with a byte appended,
 * is refused. */
START_TEST(test_mv_truncated)
{
    prng rg = { 11 };
    const int wb = 30, hb = 17;
    nv_mv f[30 * 17], back[30 * 17];
    rc_enc e;
    const uint8_t *data;
    size_t size;
    uint8_t *copy;

    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < wb * hb; i++)
            f[i] = k == 0 ? random_mv(&rg)
                          : (nv_mv){ (int16_t)(i % wb / 4 + k), (int16_t)(prng_range(&rg, 0, 5) ? 3 : -2) };
        ck_assert_int_eq(nv_mv_write_substream(&e, f, wb, wb, hb, &data, &size), 0);
        ck_assert_uint_gt(size, 4);
        copy = xmalloc(size + 1);
        memcpy(copy, data, size);
        for (size_t cut = 0; cut < size; cut++)
            REQUIRE(nv_mv_read_substream(cut ? copy : NULL, cut, back, wb, wb, hb) == NEUVC_ERR_INVALIDDATA);
        copy[size] = 0;
        ck_assert_int_eq(nv_mv_read_substream(copy, size + 1, back, wb, wb, hb), NEUVC_ERR_INVALIDDATA);
        ck_assert_int_eq(nv_mv_read_substream(copy, size, back, wb, wb, hb), 0);
        free(copy);
    }
    rc_enc_free(&e);
}
END_TEST

/* The cost estimate against what the coder spends on a one-block field
 * (all_zero bit + the block, fresh models): within a bit. */
START_TEST(test_mv_cost)
{
    nv_mv_costs c;
    rc_enc e;
    prng rg = { 12 };

    nv_mv_costs_init(&c, NULL);
    ck_assert_int_eq(rc_enc_init(&e, 0), 0);
    for (int it = 0; it < 500; it++) {
        nv_mv v = it == 0 ? (nv_mv){ 0, 1 } : random_mv(&rg);
        if (it % 3 == 1)
            v = (nv_mv){ (int16_t)prng_range(&rg, -3, 3), (int16_t)prng_range(&rg, -3, 3) };
        if (v.x == 0 && v.y == 0)
            continue;
        rc_enc_reset(&e);
        ck_assert_int_eq(nv_mv_encode_field(&e, &v, 1, 1, 1), 0);
        /* block (0, 0): pred (0, 0), ctx 0 */
        double coded = (double)rc_enc_tell_bits(&e) - 1.0;
        double est = nv_mv_cost_q8(&c, 0, v.x, v.y) / 256.0;
        ck_assert_msg(est > coded - 1.5 && est < coded + 1.5, "(%d, %d): estimate %.2f, coded %.2f",
                      v.x, v.y, est, coded);
    }
    /* costs grow with the magnitude and (0, 0) is the cheapest */
    ck_assert_uint_lt(nv_mv_cost_q8(&c, 0, 0, 0), nv_mv_cost_q8(&c, 0, 1, 0));
    ck_assert_uint_lt(nv_mv_cost_q8(&c, 1, 1, 0), nv_mv_cost_q8(&c, 1, 40, 0));
    ck_assert_uint_lt(nv_mv_cost_q8(&c, 1, 40, 0), nv_mv_cost_q8(&c, 1, 400, -3));
    ck_assert_uint_eq(nv_mv_cost_q8(&c, 1, 5000, 0), nv_mv_cost_q8(&c, 1, NV_MV_DIFF_MAX, 0));
    rc_enc_free(&e);
}
END_TEST

/* ------------------------------------------------------- tool modes */

static int read_file(const char *path, void *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t got;

    if (!f)
        return -1;
    got = fread(buf, 1, size, f);
    fclose(f);
    return got == size ? 0 : -1;
}

/* --mc-file / --mc-block-file: see the top of this file.  Returns the
 * exit status. */
static int mc_file_tool(int block, char **argv)
{
    int w = atoi(argv[1]), h = atoi(argv[2]), chroma = atoi(argv[3]);
    int n = chroma ? 8 : 16, ret = 1;
    uint8_t *ref = NULL, *out = NULL, *raw = NULL;
    nv_mv *mvs = NULL;
    size_t nb;
    FILE *f = NULL;

    if (w < n || h < n || w % n || h % n || w > 65536 || h > 65536) {
        fprintf(stderr, "bad size %dx%d\n", w, h);
        goto fail;
    }
    nb = (size_t)(w / n) * (size_t)(h / n);
    ref = malloc((size_t)w * h);
    out = malloc((size_t)w * h);
    raw = malloc(nb * 4);
    mvs = malloc(nb * sizeof(*mvs));
    if (!ref || !out || !raw || !mvs)
        goto fail;
    if (read_file(argv[0], ref, (size_t)w * h) < 0 || read_file(argv[4], raw, nb * 4) < 0) {
        fprintf(stderr, "cannot read %s or %s\n", argv[0], argv[4]);
        goto fail;
    }
    for (size_t i = 0; i < nb; i++) {
        mvs[i].x = (int16_t)(uint16_t)(raw[4 * i] | raw[4 * i + 1] << 8);
        mvs[i].y = (int16_t)(uint16_t)(raw[4 * i + 2] | raw[4 * i + 3] << 8);
    }
    if (block)
        nv_mc_pred_plane_blocks(out, w, ref, w, w, h, mvs, w / n, chroma);
    else
        nv_mc_obmc_plane(out, w, ref, w, w, h, mvs, w / n, chroma);
    f = fopen(argv[5], "wb");
    if (!f || fwrite(out, 1, (size_t)w * h, f) != (size_t)w * h) {
        fprintf(stderr, "cannot write %s\n", argv[5]);
        goto fail;
    }
    ret = 0;
fail:
    if (f && fclose(f))
        ret = 1;
    free(ref);
    free(out);
    free(raw);
    free(mvs);
    return ret;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Times OBMC (luma + chroma) and the search at 1920x1088, one thread.
 * Input: the first two frames of a 1080p Y4M, or the test clip scaled 4x
 * (nearest) when none is given. */
static int bench(const char *path)
{
    const int W = 1920, H = 1088, wb = W / 16, hb = H / 16;
    nv_picture pic[2], out;
    nv_mv *f = malloc(sizeof(nv_mv) * wb * hb), *g = malloc(sizeof(nv_mv) * wb * hb);
    nv_me_params p;
    char def[1024];
    FILE *in;
    y4m_reader r;
    int reps = 10;

    if (!path) {
        const char *dir = getenv("NEUVC_CLIPS");
        snprintf(def, sizeof(def), "%s/eval/%s", dir && *dir ? dir : "../shared/clips", CLIP_NAME);
        path = def;
    }
    in = fopen(path, "rb");
    if (!in || !f || !g || y4m_reader_open(&r, in, 0, 0) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    if (nv_picture_alloc(&pic[0], W, H) || nv_picture_alloc(&pic[1], W, H) || nv_picture_alloc(&out, W, H))
        return 1;
    for (int k = 0; k < 2; k++) {
        NeuvcPicture s;
        if (y4m_read_picture(&r, &s) != 1)
            return 1;
        int sc = r.info.width * 2 < W ? 4 : 1;     /* small clip: scale 4x */
        for (int pl = 0; pl < 3; pl++) {
            int sw = pl ? (r.info.width + 1) / 2 : r.info.width, sh = pl ? (r.info.height + 1) / 2 : r.info.height;
            for (int y = 0; y < pic[k].height[pl]; y++)
                for (int x = 0; x < pic[k].width[pl]; x++)
                    pic[k].data[pl][y * pic[k].stride[pl] + x] =
                        s.data[pl][lit_clamp(y / sc, 0, sh - 1) * s.stride[pl] + lit_clamp(x / sc, 0, sw - 1)];
        }
    }
    int in_w = r.info.width, in_h = r.info.height;
    y4m_reader_close(&r);
    fclose(in);
    nv_me_default_params(&p);
    double t0 = now_s();
    nv_me_search(f, wb, pic[1].data[0], pic[1].stride[0], pic[0].data[0], pic[0].stride[0], W, H,
                 NULL, 0, &p, NULL);
    double t1 = now_s();
    nv_me_search(g, wb, pic[1].data[0], pic[1].stride[0], pic[0].data[0], pic[0].stride[0], W, H,
                 f, wb, &p, NULL);
    double t2 = now_s();
    int nz = 0, sub = 0;
    for (int i = 0; i < wb * hb; i++) {
        nz += f[i].x || f[i].y;
        sub += ((f[i].x | f[i].y) & 3) != 0;
    }
    nv_mc_obmc_picture(&out, &pic[0], f, wb);     /* warm-up */
    double t3 = now_s();
    for (int k = 0; k < reps; k++)
        nv_mc_obmc_picture(&out, &pic[0], f, wb);
    double t4 = now_s();
    for (int i = 0; i < wb * hb; i++)
        g[i] = (nv_mv){ 0, 0 };
    double t5 = now_s();
    for (int k = 0; k < reps; k++)
        nv_mc_obmc_picture(&out, &pic[0], g, wb);
    double t6 = now_s();
    for (int i = 0; i < wb * hb; i++)
        g[i] = (nv_mv){ (int16_t)((i * 7919) % 1024 - 512), (int16_t)((i * 104729) % 1024 - 512) };
    double t7 = now_s();
    for (int k = 0; k < reps; k++)
        nv_mc_obmc_picture(&out, &pic[0], g, wb);
    double t8 = now_s();
    printf("input %s (%dx%d%s)\n", path, in_w, in_h, in_w * 2 < W ? ", scaled 4x" : "");
    printf("search 1920x1088: %.1f ms (no previous field), %.1f ms (with previous field as candidates); "
           "%d of %d vectors nonzero, %d sub-sample\n",
           (t1 - t0) * 1e3, (t2 - t1) * 1e3, nz, wb * hb, sub);
    printf("OBMC luma+chroma 1920x1088: %.2f ms with the searched field, %.2f ms zero field, "
           "%.2f ms random field\n",
           (t4 - t3) * 1e3 / reps, (t6 - t5) * 1e3 / reps, (t8 - t7) * 1e3 / reps);
    nv_picture_free(&pic[0]);
    nv_picture_free(&pic[1]);
    nv_picture_free(&out);
    free(f);
    free(g);
    return 0;
}

/* ------------------------------------------------------------ suite */

static Suite *mc_suite(void)
{
    Suite *s = suite_create("mc");
    TCase *tc = tcase_create("mc");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_taps_table);
    tcase_add_test(tc, test_interp_ramp);
    tcase_add_test(tc, test_interp_impulse);
    tcase_add_test(tc, test_edge_clamp);
    tcase_add_test(tc, test_pred_vs_literal);
    tcase_add_test(tc, test_obmc_constant);
    tcase_add_test(tc, test_obmc_weights_by_hand);
    tcase_add_test(tc, test_obmc_translation);
    tcase_add_test(tc, test_obmc_vs_literal);
    tcase_add_test(tc, test_obmc_rows);
    tcase_add_test(tc, test_obmc_picture);
    tcase_add_test(tc, test_me_integer_shift);
    tcase_add_test(tc, test_me_threads);
    tcase_add_test(tc, test_me_qpel_shift);
    tcase_add_test(tc, test_me_real_pair);
    tcase_add_test(tc, test_me_kernels);
    tcase_add_test(tc, test_me_prefer);
    tcase_add_test(tc, test_me_args);
    tcase_add_test(tc, test_mv_predict_rules);
    tcase_add_test(tc, test_mv_roundtrip_random);
    tcase_add_test(tc, test_mv_roundtrip_smooth);
    tcase_add_test(tc, test_mv_all_zero);
    tcase_add_test(tc, test_mv_decode_out_of_range);
    tcase_add_test(tc, test_mv_encode_refuses);
    tcase_add_test(tc, test_mv_garbage);
    tcase_add_test(tc, test_mv_truncated);
    tcase_add_test(tc, test_mv_cost);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 8 && (!strcmp(argv[1], "--mc-file") || !strcmp(argv[1], "--mc-block-file")))
        return mc_file_tool(!strcmp(argv[1], "--mc-block-file"), argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "--bench"))
        return bench(argc >= 3 ? argv[2] : NULL);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--bench [FILE.y4m] | --mc-file REF W H CHROMA MVS OUT |"
                        " --mc-block-file REF W H CHROMA MVS OUT]\n", argv[0]);
        return 2;
    }
    SRunner *sr = srunner_create(mc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
