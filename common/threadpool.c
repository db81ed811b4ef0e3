/*
 * The thread pool (common/threadpool.h).
 *
 * One run at a time: nv_pool_run publishes (fn, arg, n_jobs) under the
 * mutex with a new generation number and wakes the workers; every thread,
 * the caller included, takes jobs from the atomic counter `next` until it
 * passes n_jobs.  Each worker then reports back (active--), and the run
 * returns only when all of them have: so no worker can still read fn or
 * arg of a run that has returned.  Before sleeping on a condition variable
 * a thread spins briefly, since runs follow each other within
 * microseconds while a network executes (one run per layer).
 */
#include "common/threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "neuvc/neuvc.h"

#define SPIN_ITERS 4000          /* polls before sleeping (a few microseconds) */

struct nv_pool {
    int n;                       /* threads in all, caller included */
    int n_workers;               /* workers actually started */
    pthread_t *th;               /* [n - 1] */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    /* The current run; written under mu before gen is bumped. */
    nv_pool_fn fn;
    void *arg;
    int n_jobs;
    atomic_int next;             /* next job to take */
    atomic_int active;           /* workers not yet back from the current run */
    atomic_uint gen;             /* run generation */
    int quit;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

typedef struct worker_arg {
    nv_pool *p;
    int index;                   /* 1 .. n - 1 */
} worker_arg;

static worker_arg *worker_args(nv_pool *p)
{
    return (worker_arg *)(p->th + (p->n - 1));
}

int nv_pool_cpu_count(void)
{
    int n = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        n = CPU_COUNT(&set);
#endif
    if (n < 1) {
        long m = sysconf(_SC_NPROCESSORS_ONLN);
        n = m < 1 ? 1 : m > NV_POOL_MAX_THREADS ? NV_POOL_MAX_THREADS : (int)m;
    }
    return n > NV_POOL_MAX_THREADS ? NV_POOL_MAX_THREADS : n;
}

static void take_jobs(nv_pool *p, nv_pool_fn fn, void *arg, int n_jobs, int thread)
{
    int j;
    while ((j = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < n_jobs)
        fn(arg, j, thread);
}

static void *worker_main(void *v)
{
    worker_arg *wa = v;
    nv_pool *p = wa->p;
    unsigned seen = 0;
    for (;;) {
        /* Wait for a generation other than the last one served. */
        for (int i = 0; i < SPIN_ITERS &&
                        atomic_load_explicit(&p->gen, memory_order_acquire) == seen; i++)
            cpu_relax();
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->gen, memory_order_relaxed) == seen && !p->quit)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        seen = atomic_load_explicit(&p->gen, memory_order_relaxed);
        nv_pool_fn fn = p->fn;
        void *arg = p->arg;
        int n_jobs = p->n_jobs;
        pthread_mutex_unlock(&p->mu);
        take_jobs(p, fn, arg, n_jobs, wa->index);
        if (atomic_fetch_sub_explicit(&p->active, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

int nv_pool_new(nv_pool **pp, int n)
{
    if (!pp || n < 0 || n > NV_POOL_MAX_THREADS)
        return NEUVC_ERR(EINVAL);
    *pp = NULL;
    if (n == 0)
        n = nv_pool_cpu_count();
    nv_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NEUVC_ERR(ENOMEM);
    p->n = n;
    int ret = 0;
    pthread_attr_t attr;
    int have_attr = 0, have_sync = 0;
    /* Workers' handles, then their arguments, in one block. */
    p->th = calloc((size_t)n, sizeof(pthread_t) + sizeof(worker_arg));
    if (!p->th) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->wake, NULL) ||
        pthread_cond_init(&p->done, NULL)) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    have_sync = 1;
    atomic_init(&p->next, 0);
    atomic_init(&p->active, 0);
    atomic_init(&p->gen, 0);
    if (pthread_attr_init(&attr)) {
        ret = NEUVC_ERR(ENOMEM);
        goto fail;
    }
    have_attr = 1;
    if (pthread_attr_setstacksize(&attr, NV_POOL_STACK_BYTES)) {
        ret = NEUVC_ERR(EINVAL);
        goto fail;
    }
    worker_arg *wa = worker_args(p);
    for (int i = 0; i < n - 1; i++) {
        wa[i].p = p;
        wa[i].index = i + 1;
        int e = pthread_create(&p->th[i], &attr, worker_main, &wa[i]);
        if (e) {
            ret = NEUVC_ERR(e == EAGAIN ? EAGAIN : ENOMEM);
            goto fail;
        }
        p->n_workers++;
    }
    pthread_attr_destroy(&attr);
    *pp = p;
    return 0;
fail:
    if (have_attr)
        pthread_attr_destroy(&attr);
    if (!have_sync) {
        free(p->th);
        free(p);
        return ret;
    }
    nv_pool_free(&p);
    return ret;
}

void nv_pool_free(nv_pool **pp)
{
    if (!pp || !*pp)
        return;
    nv_pool *p = *pp;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p);
    *pp = NULL;
}

int nv_pool_threads(const nv_pool *p)
{
    return p ? p->n : 1;
}

void nv_pool_run(nv_pool *p, nv_pool_fn fn, void *arg, int n_jobs)
{
    if (n_jobs <= 0)
        return;
    if (!p || p->n_workers == 0 || n_jobs == 1) {
        for (int j = 0; j < n_jobs; j++)
            fn(arg, j, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n_jobs = n_jobs;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->active, p->n_workers, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    take_jobs(p, fn, arg, n_jobs, 0);
    for (int i = 0; i < SPIN_ITERS && atomic_load_explicit(&p->active, memory_order_acquire) > 0; i++)
        cpu_relax();
    if (atomic_load_explicit(&p->active, memory_order_acquire) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->active, memory_order_acquire) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
