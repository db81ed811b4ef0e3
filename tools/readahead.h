/*
 * Y4M input read one frame ahead on a thread of its own (like x264's
 * threaded input), so that reading frame n + 1 overlaps the coding of
 * frame n instead of adding to it.  Only for regular files, whose reads
 * end by themselves; a pipe or terminal is read in the caller's thread,
 * as is any input when the thread cannot be started.
 *
 * Frames, their order, pts and errors are those of y4m_read_picture: an
 * error is returned for the frame where it occurred, after every frame
 * before it, with the reader's message in r->errmsg.
 */
#ifndef NEUVC_TOOLS_READAHEAD_H
#define NEUVC_TOOLS_READAHEAD_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "common/y4m.h"
#include "neuvc/neuvc.h"

typedef struct y4m_readahead {
    y4m_reader *r;
    int threaded;                /* 1: the thread reads; 0: the caller does */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[2];             /* two frames of r->frame_size bytes */
    int state[2];                /* 0 empty, 1 read (ret, pts set) */
    int ret[2];                  /* y4m_read_frame's result for the slot */
    int64_t pts[2];
    int take;                    /* the slot the caller takes next */
    int held;                    /* the slot whose picture the caller has, or -1 */
    int stop;
} y4m_readahead;

/* Starts reading ahead from r (opened on f, no frame read yet).  Never
 * fails: without a regular file, memory or a thread it reads in the
 * caller. */
void y4m_readahead_start(y4m_readahead *ra, y4m_reader *r, FILE *f);
/* The next picture, as y4m_read_picture (1, 0 at the end, < 0 on error);
 * its planes stay valid until the next call or y4m_readahead_stop. */
int y4m_readahead_next(y4m_readahead *ra, NeuvcPicture *pic);
/* Stops and joins the thread and frees the buffers.  Safe twice. */
void y4m_readahead_stop(y4m_readahead *ra);

#endif
