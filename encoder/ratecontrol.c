#include "encoder/ratecontrol.h"
#include "common/errmsg.h"

#include <math.h>
#include <string.h>

/* qp per halving of a frame's bits, and the first frame's guess (bits per
 * luma sample at qp 32), measured with neuvc-rt-1 on the train clips
 * (sam2_01_dog 720p, qp 16..48: P frames 6.4..7.0, I frames 7.8..9.6;
 * I frames at qp 32 about 0.48 bit per sample). */
static const double rc_slope[NV_RC_KINDS] = { 8.0, 6.5, 7.0 };
#define RC_FIRST_BPP_Q32 0.48
/* Ratios before any frame of the kind was seen, then learnt.  I: the
 * lowest of the train clips at qp 26..32 (2.5 .. 3.6 on sam2_01_dog,
 * debian_opencv_vtest, liveportrait_driving_d14): the first frame's
 * overshoot cannot be paid back in a short call, its undershoot costs a
 * few frames of quality.  Refresh frames: a P frame plus a strip of about
 * a third of the picture. */
static const double rc_ratio_init[NV_RC_KINDS] = { 2.5, 1.0, 2.0 };
#define RC_CPLX_WEIGHT 0.3       /* weight of the newest frame in C_t */
#define RC_IP_OFFSET 1           /* an I frame's first qp: the last P frame's minus this */
#define RC_I_ABOVE_P 3           /* and at most the last P frame's plus this (VBV apart): an I
                                    frame's size flattens at high qp, P frames pay for its loss */
#define RC_WINDOW_MIN 4.0        /* frames */
#define RC_FLAT 16.0             /* qp per halving above which raising qp is not worth it */
#define RC_PROBE 8               /* the first frame also tries this much lower a qp */
#define RC_VBV_PLAN 0.5          /* P frames aim to keep the buffer below this fraction */
#define RC_SPIKE 2.0             /* out of trials, none larger than this x the frame budget is kept by choice */
#define RC_STEP_MAX 8            /* largest qp move of a trial before both sides are measured */

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int clampq(long v)
{
    return v < 0 ? 0 : v > 63 ? 63 : (int)v;
}

int nv_rc_init(nv_rc *rc, const NeuvcEncSettings *s, int period, int period_i, int period_r,
               int coded_w, int coded_h, char *err, size_t errlen)
{
    memset(rc, 0, sizeof(*rc));
    rc->abr = s->bitrate_kbps > 0;
    rc->qp_const = s->qp;
    rc->fps = (double)s->fps_num / s->fps_den;
    rc->bitrate = 1000.0 * s->bitrate_kbps;
    rc->maxrate = 1000.0 * s->vbv_maxrate_kbps;
    rc->bufsize = 1000.0 * s->vbv_bufsize_kbit;
    if (rc->bufsize > 0 && rc->maxrate <= 0)
        rc->maxrate = rc->bitrate;
    if (rc->bufsize > 0 && rc->maxrate <= 0)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                       "vbv-bufsize without a bitrate needs vbv-maxrate");
    if (rc->maxrate > 0 && rc->bufsize <= 0)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "vbv-maxrate needs vbv-bufsize");
    if (rc->abr && rc->maxrate > 0 && rc->maxrate < rc->bitrate)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                       "vbv-maxrate %d below the bitrate %d", s->vbv_maxrate_kbps,
                       s->bitrate_kbps);
    if (rc->bufsize > 0 && rc->bufsize < rc->maxrate / rc->fps)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL),
                       "vbv-bufsize %d kbit holds less than one frame interval at vbv-maxrate",
                       s->vbv_bufsize_kbit);
    rc->period = period > 0 ? period : 0;
    rc->period_i = period_i;
    rc->period_r = period_r;
    rc->pixels = (double)coded_w * coded_h;
    for (int t = 0; t < NV_RC_KINDS; t++)
        rc->ratio[t] = rc_ratio_init[t];
    rc->prev_qp = -1;
    return 0;
}

int nv_rc_set_bitrate(nv_rc *rc, int kbps)
{
    if (!rc->abr || kbps < 1 || kbps > 1000000)
        return NEUVC_ERR(EINVAL);
    const double scale = 1000.0 * kbps / rc->bitrate;
    rc->bitrate = 1000.0 * kbps;
    rc->maxrate *= scale;
    rc->bufsize *= scale;
    rc->fill = rc->fill < rc->bufsize ? rc->fill : rc->bufsize;
    rc->spent = rc->budget = 0;
    rc->frames = 0;
    return 0;
}

/* log2 of the bits a frame of kind t would take at qp, from the model:
 * its own C_t, else another kind's scaled by the ratios, else a guess. */
static double rc_predict(const nv_rc *rc, int t, int qp)
{
    static const int order[NV_RC_KINDS] = { NV_RC_P, NV_RC_REFRESH, NV_RC_I };
    if (rc->have[t])
        return log2(rc->cplx[t]) - (qp - 32) / rc_slope[t];
    for (int i = 0; i < NV_RC_KINDS; i++) {
        const int o = order[i];
        if (rc->have[o])
            return log2(rc->cplx[o]) - (qp - 32) / rc_slope[o] + log2(rc->ratio[t]) -
                   log2(rc->ratio[o]);
    }
    return log2(rc->pixels * RC_FIRST_BPP_Q32) - (qp - 32) / rc_slope[NV_RC_I] +
           log2(rc->ratio[t]) - log2(rc->ratio[NV_RC_I]);
}

/* The qp whose predicted size is bits. */
static int rc_qp_for(const nv_rc *rc, int t, double bits)
{
    const double lb0 = rc_predict(rc, t, 0);
    return clampq(lround(rc_slope[t] * (lb0 - log2(bits > 1 ? bits : 1))));
}

int nv_rc_start(nv_rc *rc, int kind)
{
    rc->type = kind;
    rc->trials = 0;
    rc->final = 0;
    rc->probe_qp = -1;
    rc->best_qp = -1;
    rc->best_debt = 0;
    rc->lo_qp = -1;
    rc->hi_qp = 64;
    rc->lo_lb = rc->hi_lb = 0;
    const double drain = rc->maxrate / rc->fps;
    rc->cap = rc->bufsize > 0 ? rc->bufsize - rc->fill : 0;
    if (!rc->abr) {
        rc->target = 0;
        return rc->qp_const;
    }
    /* The P share of a frame interval when a period holds period_i I
     * frames and period_r refresh frames, each worth its ratio of P frames. */
    const double per = rc->bitrate / rc->fps;
    double p = per;
    if (rc->period > 1)
        p = per * rc->period / (rc->period_i * rc->ratio[NV_RC_I] +
                                rc->period_r * rc->ratio[NV_RC_REFRESH] +
                                (rc->period - rc->period_i - rc->period_r));
    /* Paid back over the frames coded so far (at least RC_WINDOW_MIN) until
     * that reaches NV_RC_WINDOW_S: a short call stays near its target. */
    double window = NV_RC_WINDOW_S * rc->fps;
    window = clampd((double)rc->frames, RC_WINDOW_MIN, window > RC_WINDOW_MIN ? window : RC_WINDOW_MIN);
    /* An I frame outside the period's budget (intra refresh: the first
     * and forced ones) is worth its ratio of a plain frame interval, not
     * of the P share that the refresh frames have reduced. */
    const double base = rc->type == NV_RC_I && rc->period_i == 0 ? per : p;
    const double pay = clampd(1.0 - (rc->spent - rc->budget) / (window * per), 0.25, 4.0);
    rc->share = base * rc->ratio[rc->type];
    p *= pay;
    double target = base * pay * rc->ratio[rc->type];
    if (rc->bufsize > 0) {
        /* Keep room: P frames aim below RC_VBV_PLAN of the buffer after
         * their drain, any frame within 90% of the room left. */
        if (rc->type != NV_RC_I) {
            const double room = RC_VBV_PLAN * rc->bufsize - rc->fill + drain;
            target = clampd(target, 0.25 * p, room > 0.25 * p ? room : 0.25 * p);
        }
        target = target < 0.9 * rc->cap ? target : 0.9 * rc->cap;
    }
    rc->target = target > 1 ? target : 1;
    int qp = rc_qp_for(rc, rc->type, rc->target);
    /* An I frame is coded as well as the P frames around it (the next P
     * frames predict from it) unless that exceeds its budget by more than
     * the tolerance. */
    if (rc->type == NV_RC_I && rc->have[NV_RC_P])
        qp = clampq(rc->last_qp[NV_RC_P] - RC_IP_OFFSET);
    if (rc->type != NV_RC_I && rc->prev_qp >= 0) {
        const int last = rc->prev_qp;
        qp = qp > last + NV_RC_QP_STEP ? last + NV_RC_QP_STEP : qp;
        qp = qp < last - NV_RC_QP_STEP ? last - NV_RC_QP_STEP : qp;
        /* A refresh frame is part of a keyframe spread over the cycle: coded
         * no better than the frame before it (the strip at the qp of its
         * neighbours, the P frames paying back the ABR error), so that its
         * size stays a P frame plus a strip's share of a keyframe. */
        if (rc->type == NV_RC_REFRESH && qp < last)
            qp = last;
    }
    return clampq(qp);
}

int nv_rc_next(nv_rc *rc, int qp, size_t bytes)
{
    const double bits = 8.0 * (double)(bytes > 0 ? bytes : 1);
    const double lb = log2(bits);
    rc->trials++;
    if (rc->cap > 0 && bits > rc->cap) {
        /* VBV: must shrink, whatever the trial count. */
        if (qp >= 63)
            return -1;
        rc->lo_qp = qp;
        rc->lo_lb = lb;
        int next = qp + (int)ceil(rc_slope[rc->type] * log2(bits / (0.9 * rc->cap)));
        next = next > qp ? next : qp + 1;
        return clampq(next);
    }
    if (rc->final || !rc->abr)
        return -1;
    if (rc->probe_qp >= 0) {
        /* The probe below the first frame's qp: keep it when the size
         * grew by less than the flat slope allows, else code the first
         * qp again. */
        rc->final = 1;
        return lb - rc->probe_lb <= (rc->probe_qp - qp) / RC_FLAT &&
                       bits <= rc->target * exp2(NV_RC_TOLERANCE) ? -1 : rc->probe_qp;
    }
    const double e = log2(bits / rc->target);
    /* The best trial so far (closest to the target; all fit the VBV). */
    /* The best trial so far: of those not above the accepted window, the
     * one that leaves the smallest error of the bits spent against the
     * budget (bits are what ABR counts: near a P frame's size cliff, a
     * frame far below its target now and then pays for those above it);
     * a credit is spent by the targets of the next frames, never by one
     * frame above its window (a spike on the link); none such: the
     * smallest. */
    const double debt = rc->spent - rc->budget + bits - rc->share;
    const int over = bits > RC_SPIKE * (rc->target > rc->share ? rc->target : rc->share);
    if (rc->best_qp < 0 || (!over && (rc->best_over || fabs(debt) < fabs(rc->best_debt))) ||
        (over && rc->best_over && bits < rc->best_bits)) {
        rc->best_qp = qp;
        rc->best_debt = debt;
        rc->best_over = over;
        rc->best_bits = bits;
    }
    /* Accepted: within the tolerance below the target, and as far above
     * it in bits (not in log2: ABR counts bits, so a log-symmetric window
     * would tilt the kept sizes upwards). */
    const double tol = NV_RC_TOLERANCE;
    if ((e >= -tol && exp2(e) <= 2 - exp2(-tol)) ||
        (rc->type != NV_RC_P && rc->have[NV_RC_P] && e < 0)) {
        /* The stream's first frame has no history to tell a size floor:
         * probe RC_PROBE qp lower once (within the VBV room). */
        if (rc->type == NV_RC_I && !rc->have[NV_RC_I] && !rc->have[NV_RC_P] && qp >= RC_PROBE &&
            e > -tol / 2) {
            rc->probe_qp = qp;
            rc->probe_lb = lb;
            return qp - RC_PROBE;
        }
        return -1;
    }
    if (rc->trials >= NV_RC_TRIALS) {
        /* Out of trials: code the best one again unless it is this one. */
        rc->final = 1;
        return rc->best_qp == qp ? -1 : rc->best_qp;
    }
    if (e > 0 && rc->lo_qp >= 0 && qp > rc->lo_qp &&
        (rc->lo_lb <= lb || (qp - rc->lo_qp) / (rc->lo_lb - lb) > RC_FLAT)) {
        /* Too big at two qp, and the size barely moved between them (the
         * floor of a frame's size at high qp): the lower qp costs about
         * the same and looks better. */
        rc->final = 1;
        return rc->lo_qp;
    }
    if (e > 0 && qp > rc->lo_qp) {
        rc->lo_qp = qp;
        rc->lo_lb = lb;
    }
    if (e < 0 && qp < rc->hi_qp) {
        rc->hi_qp = qp;
        rc->hi_lb = lb;
    }
    int next;
    if (rc->lo_qp >= 0 && rc->hi_qp <= 63 && rc->lo_lb > rc->hi_lb) {
        /* Both sides measured: interpolate log2(bits) linearly in qp (the
         * slope right after a better-coded reference is far steeper than
         * the model's). */
        const double lt = log2(rc->target);
        next = clampq(lround(rc->lo_qp + (rc->hi_qp - rc->lo_qp) * (rc->lo_lb - lt) /
                                             (rc->lo_lb - rc->hi_lb)));
    } else {
        /* One side only: the model's slope, at most RC_STEP_MAX qp (near
         * the reference's qp a P frame's size falls off a cliff: the
         * next trial should bracket it, not overshoot past it). */
        const long step = lround(rc_slope[rc->type] * e);
        next = clampq(qp + (step > RC_STEP_MAX ? RC_STEP_MAX : step < -RC_STEP_MAX ? -RC_STEP_MAX : step));
    }
    /* Stay strictly inside the bracket of qp tried. */
    if (next <= rc->lo_qp)
        next = rc->lo_qp + 1;
    if (next >= rc->hi_qp)
        next = rc->hi_qp - 1;
    if (rc->type == NV_RC_I && rc->have[NV_RC_P] && next > rc->last_qp[NV_RC_P] + RC_I_ABOVE_P)
        next = rc->last_qp[NV_RC_P] + RC_I_ABOVE_P;
    /* No step limit here: a trial runs only when the size is off by more
     * than twice (P frames), where holding qp back costs more. */
    if (next == qp || next < 0 || next > 63)
        return -1;
    return next;
}

void nv_rc_done(nv_rc *rc, int qp, size_t bytes)
{
    const double bits = 8.0 * (double)(bytes > 0 ? bytes : 1);
    const int t = rc->type;
    if (t != NV_RC_P && rc->have[NV_RC_P]) {
        const double lp = rc_predict(rc, NV_RC_P, qp);
        rc->ratio[t] = clampd(0.5 * rc->ratio[t] + 0.5 * exp2(log2(bits) - lp), 1.0, 20.0);
    }
    const double c = bits * exp2((qp - 32) / rc_slope[t]);
    rc->cplx[t] = rc->have[t] ? (1 - RC_CPLX_WEIGHT) * rc->cplx[t] + RC_CPLX_WEIGHT * c : c;
    rc->have[t] = 1;
    rc->last_qp[t] = qp;
    rc->prev_qp = qp;
    rc->spent += bits;
    rc->budget += rc->bitrate / rc->fps;
    rc->frames++;
    if (rc->bufsize > 0) {
        rc->fill += bits;
        rc->fill -= rc->maxrate / rc->fps;
        rc->fill = rc->fill > 0 ? rc->fill : 0;
    }
}
