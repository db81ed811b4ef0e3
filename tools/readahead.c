/*
 * Y4M read-ahead (tools/readahead.h).  Slots alternate: the thread fills
 * slot i while the caller holds slot i ^ 1; a slot is refilled only after
 * the caller has moved past it.
 */
#include "tools/readahead.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void planes_of(const y4m_readahead *ra, int slot, uint8_t *planes[3], ptrdiff_t strides[3])
{
    const int w = ra->r->info.width, h = ra->r->info.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    planes[0] = ra->buf[slot];
    planes[1] = planes[0] + (size_t)w * (size_t)h;
    planes[2] = planes[1] + (size_t)cw * (size_t)ch;
    strides[0] = w;
    strides[1] = strides[2] = cw;
}

static void *reader_main(void *v)
{
    y4m_readahead *ra = v;
    for (int slot = 0;; slot ^= 1) {
        pthread_mutex_lock(&ra->mu);
        while (ra->state[slot] && !ra->stop)
            pthread_cond_wait(&ra->cv, &ra->mu);
        const int stop = ra->stop;
        pthread_mutex_unlock(&ra->mu);
        if (stop)
            break;
        uint8_t *planes[3];
        ptrdiff_t strides[3];
        planes_of(ra, slot, planes, strides);
        const int64_t pts = ra->r->frames_read;
        const int ret = y4m_read_frame(ra->r, planes, strides);
        pthread_mutex_lock(&ra->mu);
        ra->ret[slot] = ret;
        ra->pts[slot] = pts;
        ra->state[slot] = 1;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        if (ret <= 0)
            break;
    }
    return NULL;
}

void y4m_readahead_start(y4m_readahead *ra, y4m_reader *r, FILE *f)
{
    struct stat st;
    memset(ra, 0, sizeof(*ra));
    ra->r = r;
    ra->held = -1;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode))
        return;
    ra->buf[0] = malloc(r->frame_size);
    ra->buf[1] = malloc(r->frame_size);
    if (!ra->buf[0] || !ra->buf[1])
        goto fail;
    if (pthread_mutex_init(&ra->mu, NULL))
        goto fail;
    if (pthread_cond_init(&ra->cv, NULL)) {
        pthread_mutex_destroy(&ra->mu);
        goto fail;
    }
    if (pthread_create(&ra->th, NULL, reader_main, ra)) {
        pthread_cond_destroy(&ra->cv);
        pthread_mutex_destroy(&ra->mu);
        goto fail;
    }
    ra->threaded = 1;
    return;
fail:
    free(ra->buf[0]);
    free(ra->buf[1]);
    ra->buf[0] = ra->buf[1] = NULL;
}

int y4m_readahead_next(y4m_readahead *ra, NeuvcPicture *pic)
{
    if (!ra->threaded)
        return y4m_read_picture(ra->r, pic);
    pthread_mutex_lock(&ra->mu);
    if (ra->held >= 0) {
        ra->state[ra->held] = 0;
        ra->held = -1;
        pthread_cond_broadcast(&ra->cv);
    }
    while (!ra->state[ra->take])
        pthread_cond_wait(&ra->cv, &ra->mu);
    const int slot = ra->take, ret = ra->ret[slot];
    if (ret > 0) {               /* an end or error stays in its slot: returned again */
        ra->held = slot;
        ra->take = slot ^ 1;
    }
    pthread_mutex_unlock(&ra->mu);
    if (ret <= 0)
        return ret;
    uint8_t *planes[3];
    ptrdiff_t strides[3];
    planes_of(ra, slot, planes, strides);
    memset(pic, 0, sizeof(*pic));
    for (int i = 0; i < 3; i++) {
        pic->data[i] = planes[i];
        pic->stride[i] = strides[i];
    }
    pic->width = ra->r->info.width;
    pic->height = ra->r->info.height;
    pic->pts = ra->pts[slot];
    pic->frame_type = NEUVC_FRAME_I;
    return 1;
}

void y4m_readahead_stop(y4m_readahead *ra)
{
    if (ra->threaded) {
        pthread_mutex_lock(&ra->mu);
        ra->stop = 1;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        pthread_join(ra->th, NULL);
        pthread_cond_destroy(&ra->cv);
        pthread_mutex_destroy(&ra->mu);
        ra->threaded = 0;
    }
    free(ra->buf[0]);
    free(ra->buf[1]);
    ra->buf[0] = ra->buf[1] = NULL;
}
