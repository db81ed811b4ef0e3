/*
 * Rate control: one qp per frame for a bitrate target, with an optional
 * VBV (x264 meanings), no lookahead and no frame delay.
 *
 * Model.  Bits of a frame of type t at qp: bits = C_t * 2^((32 - qp) / S_t),
 * with S_t (qp per halving) fixed per type and C_t a moving average over
 * the recent frames of that type (a P frame's size depends on how well
 * its reference was coded, so P sizes alternate when qp does: the average
 * spans a few frames, and P frames change qp by at most NV_RC_QP_STEP).
 * Three kinds of frames: I, P, and P frames that refresh a band (intra
 * refresh: they also carry an intra strip).  I and refresh frames are
 * budgeted as ratio_t x a P frame, each ratio learnt from the frames of
 * that kind coded so far; once P frames were coded, an I frame starts at
 * the last P frame's qp - 1 and is only made smaller when it exceeds
 * its budget by more than the tolerance, down to the last P frame's qp + 3
 * (further only for the VBV room).
 *
 * Per frame the encoder analyses the picture once and may then code it at
 * up to NV_RC_TRIALS qp (quantization and entropy coding only, cheap next
 * to the analysis and synthesis): nv_rc_start gives the first qp, each
 * coded size goes to nv_rc_next, which returns the qp to try next or -1
 * to keep the last one coded (after NV_RC_TRIALS it asks once more for
 * the best of them when that was not the last).  A trial is kept when its
 * bits are within [2^-T, 2 - 2^-T] x the frame's target (T =
 * NV_RC_TOLERANCE; symmetric in bits, which ABR counts) or, for an I frame
 * after P frames, below it.  Trials interpolate between the sizes
 * measured on both sides of the target; with one side only they follow
 * the model's slope by at most RC_STEP_MAX qp (just above its reference's
 * qp a P frame's size falls off a cliff: the next trial should bracket
 * the target, not jump past it).  Out of trials, the best one is, of
 * those not above the window, the one that leaves the smallest ABR error
 * (bits spent minus budget after the frame, the frame's budget counted
 * before the payback): near the cliff a frame far below its target now
 * and then pays for those above it, while a credit is spent by the next
 * frames' targets, not by one frame above its window; if all are above,
 * the smallest.  When
 * two trials are too large and the size barely moved between them (less
 * than half per 16 qp: the floor of a frame's size), the lower qp is
 * kept; the stream's first frame, with no history to tell such a floor,
 * also tries 8 qp lower and keeps that when its size grows less than that
 * slope and stays within the tolerance above its target.  The VBV bound
 * (the frame must fit in what is left of the buffer) is enforced by
 * further trials up to qp 63 whatever the count.
 *
 * ABR.  The target of a frame is its share of the bitrate corrected by
 * the bits spent above or below the target so far, spread over as many
 * frames as were coded (at least 4), at most NV_RC_WINDOW_S seconds.
 *
 * VBV.  The transmit buffer (encoder side; x264's decoder buffer seen from
 * the other end): a coded frame adds its bits, and maxrate / fps drain
 * each frame interval; the buffer overflows when a frame's bits exceed
 * bufsize minus the fullness before it.  Fullness starts at 0.
 *
 * Floating point here only steers qp choices; nothing that a decoder
 * computes depends on it.
 */
#ifndef NEUVC_ENCODER_RATECONTROL_H
#define NEUVC_ENCODER_RATECONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "neuvc/neuvc.h"

#define NV_RC_TRIALS 3           /* codings per frame aiming at the target (+1 to code the best
                                    again, VBV may add more) */
#define NV_RC_WINDOW_S 1.0       /* seconds over which an ABR error is paid back */
#define NV_RC_QP_STEP 2          /* largest qp change of a P frame's first trial */
#define NV_RC_TOLERANCE 0.5      /* log2 of the size error a trial accepts */

enum { NV_RC_I = 0, NV_RC_P = 1, NV_RC_REFRESH = 2, NV_RC_KINDS = 3 };

typedef struct nv_rc {
    int abr;                     /* 1: a bitrate target; 0: constant qp (VBV may still raise it) */
    int qp_const;                /* the settings' qp (abr == 0) */
    double fps;
    double bitrate;              /* bits per second; 0 with abr == 0 */
    double maxrate, bufsize;     /* bits per second, bits; 0: no VBV */
    int period;                  /* frames per budget period; 0: no periodic I or refresh frames */
    int period_i, period_r;      /* I frames and refresh frames in a period */
    double pixels;               /* coded luma samples per frame */
    double fill;                 /* transmit buffer fullness after the last frame's drain */
    double spent, budget;        /* bits coded and bits allowed since the last target change */
    int64_t frames;              /* frames coded since then */
    int have[NV_RC_KINDS];       /* a frame of kind t was coded */
    int last_qp[NV_RC_KINDS];    /* and its qp */
    int prev_qp;                 /* qp of the last frame (any kind), -1 before the first */
    double cplx[NV_RC_KINDS];    /* C_t: average bits at qp 32 */
    double ratio[NV_RC_KINDS];   /* bits / P frame bits at equal qp (ratio[NV_RC_P] = 1) */
    /* The frame being coded. */
    int type;
    double target, cap;          /* bits; cap: the VBV room (0: none) */
    int trials;
    int final;                   /* the trial given last is the one kept */
    int probe_qp;                /* first frame: the qp accepted before the probe below it */
    double probe_lb;             /* log2 of its bits */
    double share;                /* bits: the frame's budget before paying back the ABR error */
    int best_qp;                 /* trial leaving the smallest ABR error so far (-1: none) */
    double best_debt;            /* that error: bits spent - budget after it */
    int best_over;               /* it is above the accepted window */
    double best_bits;            /* its bits */
    int lo_qp, hi_qp;            /* bracket: qp known too big (bits > target) / small enough */
    double lo_lb, hi_lb;         /* log2 of their bits */
} nv_rc;

/* From the encoder settings (checked: bitrate > 0 or VBV set).  The
 * budget period: period frames (0: none) of which period_i are I frames
 * and period_r refresh frames, as the encoder places them.  0, or
 * NEUVC_ERR(EINVAL) with a message for an inconsistent VBV. */
int nv_rc_init(nv_rc *rc, const NeuvcEncSettings *s, int period, int period_i, int period_r,
               int coded_w, int coded_h, char *err, size_t errlen);
/* A new target (kbit/s, 1..1000000) from the next frame on: maxrate and
 * bufsize scale with it; the ABR error so far is forgotten. */
int nv_rc_set_bitrate(nv_rc *rc, int kbps);
/* The first qp for a frame of kind t (NV_RC_I, NV_RC_P, NV_RC_REFRESH). */
int nv_rc_start(nv_rc *rc, int kind);
/* After coding at qp gave bits: the next qp to try, or -1 to keep it. */
int nv_rc_next(nv_rc *rc, int qp, size_t bytes);
/* The frame was kept at qp with bytes: updates the model and the buffer. */
void nv_rc_done(nv_rc *rc, int qp, size_t bytes);

#endif
