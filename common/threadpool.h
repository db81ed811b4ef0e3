/*
 * A small pthread pool: the caller and n - 1 workers share the jobs of one
 * parallel loop at a time (network rows, motion-search rows, entropy
 * sub-streams).
 *
 * nv_pool_run(p, fn, arg, n_jobs) calls fn(arg, job, thread) once for
 * every job in [0, n_jobs), in any order and on any of the pool's threads
 * (thread in [0, nv_pool_threads(p)), 0 being the caller), and returns
 * when every call has returned.  Jobs are taken from a shared counter, so
 * a thread slowed down by other load takes fewer.  Results must not depend
 * on which thread ran a job: callers write disjoint outputs per job, so the
 * bytes are the same for every thread count (the codec's contract).
 *
 * A pool belongs to one encoder or decoder: runs do not nest and are not
 * called from two threads at once.  Workers are created once, with stacks
 * of NV_POOL_STACK_BYTES (the x86 convolution kernels take about 80 KiB of
 * stack per call, netlib/dsp.h), and sleep between runs.  A pool of one
 * thread creates no workers and runs every job on the caller.
 */
#ifndef NEUVC_COMMON_THREADPOOL_H
#define NEUVC_COMMON_THREADPOOL_H

#define NV_POOL_MAX_THREADS 64
#define NV_POOL_STACK_BYTES (1 << 20)

typedef struct nv_pool nv_pool;
typedef void (*nv_pool_fn)(void *arg, int job, int thread);

/* Threads usable by this process (affinity mask, else online CPUs),
 * 1..NV_POOL_MAX_THREADS. */
int nv_pool_cpu_count(void);

/* A pool of n threads in all (caller included); n == 0 means
 * nv_pool_cpu_count().  n in 0..NV_POOL_MAX_THREADS.  0,
 * NEUVC_ERR(EINVAL) or NEUVC_ERR(ENOMEM) / NEUVC_ERR(EAGAIN) when a worker
 * cannot be created (*p is then NULL). */
int nv_pool_new(nv_pool **p, int n);
/* Stops and joins the workers; *p = NULL.  NULL-safe. */
void nv_pool_free(nv_pool **p);
/* Threads in all (1 for a NULL pool). */
int nv_pool_threads(const nv_pool *p);
/* See the top of this file.  p == NULL runs every job on the caller. */
void nv_pool_run(nv_pool *p, nv_pool_fn fn, void *arg, int n_jobs);

#endif
