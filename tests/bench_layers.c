/* make bench: where the networks' time goes at 1920x1080 (coded
 * 1920x1088), per layer, with the default model and the best kernels of
 * this CPU, on 1 and 2 threads (or the counts given as arguments).
 *
 * For every graph: each op with its kernel, output shape, MACs, best
 * wall time of 9 runs (the other load of a shared machine only ever adds
 * time, so the best run is the least disturbed), GMAC/s; then the kMAC per pixel and the network
 * time of an encoder and a decoder P frame, against the INT8 peak this
 * machine is assumed to have:
 *   peak = threads x 128 MAC/cycle x the clock of /proc/cpuinfo,
 * 128 = two 512-bit vpdpbusd per cycle (64 u8 x s8 products each) on
 * cores with two AVX-512 FMA ports (Xeon Skylake-SP and later); layers on
 * s16 input use vpdpwssd (32 products), so their own peak is half.  With
 * AMX (kernels avx512+amx): 1024 MAC/cycle, one 16x16x64 tdpbusd per 16
 * cycles; s16 layers take two (low and high byte planes).  The inputs
 * are synthetic (time does not depend on values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/model.h"
#include "common/threadpool.h"
#include "netlib/dsp.h"
#include "netlib/graph.h"
#include "tests/common/tu_netlib.h"

#define WP 1920
#define HP 1088
#define RUNS 9

static double mhz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    double v = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "cpu MHz", 7) && sscanf(strchr(line, ':') + 1, "%lf", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs ex RUNS times on synthetic inputs; prints its ops; returns the
 * sum of the ops' best times, in ms; *cpu_ms: the best process CPU time
 * of a whole run (what other load on a shared machine disturbs least). */
static double bench_graph(const char *name, nl_graph_exec *ex, const nl_graph *g, int threads,
                          double *cpu_ms)
{
    nl_tensor in[NL_GRAPH_MAX_IO];
    void *mem[NL_GRAPH_MAX_IO] = { 0 };
    uint64_t *ns = calloc((size_t)g->n_ops * RUNS, sizeof(uint64_t));
    uint64_t tot[RUNS], cpu[RUNS];
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        in[i] = *nl_graph_exec_view(ex, g->inputs[i].slot);
        size_t n = (size_t)in[i].h * (size_t)in[i].w * (size_t)in[i].c;
        mem[i] = malloc(n * nl_type_size(in[i].type));
        in[i].data = mem[i];
        in[i].stride = (ptrdiff_t)in[i].w * in[i].c;
        for (size_t k = 0; k < n; k++) {
            uint32_t v = (uint32_t)(k * 2654435761u) >> 24;
            if (in[i].type == NL_U8)
                ((uint8_t *)mem[i])[k] = (uint8_t)v;
            else
                ((int16_t *)mem[i])[k] = (int16_t)((int)v - 128);
        }
    }
    nl_graph_run(ex, in, NULL, NULL); /* warm-up */
    for (int r = 0; r < RUNS; r++) {
        struct timespec a, b, ca, cb;
        nl_graph_exec_set_profile(ex, ns + (size_t)r * g->n_ops);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
        clock_gettime(CLOCK_MONOTONIC, &a);
        nl_graph_run(ex, in, NULL, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
        tot[r] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)(b.tv_nsec - a.tv_nsec);
        cpu[r] = (uint64_t)(cb.tv_sec - ca.tv_sec) * 1000000000u +
                 (uint64_t)(cb.tv_nsec - ca.tv_nsec);
    }
    nl_graph_exec_set_profile(ex, NULL);
    qsort(tot, RUNS, sizeof(tot[0]), cmp_u64);
    qsort(cpu, RUNS, sizeof(cpu[0]), cmp_u64);
    double ms = 0;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        uint64_t best = UINT64_MAX;
        for (int r = 0; r < RUNS; r++)
            best = ns[(size_t)r * g->n_ops + i] < best ? ns[(size_t)r * g->n_ops + i] : best;
        ms += best * 1e-6;
    }
    printf("\n%s, %d thread%s: %.2f ms, %.1f MMAC, %.1f GMAC/s; whole graph: wall %.2f ms, "
           "CPU %.2f ms (best runs)\n", name, threads,
           threads > 1 ? "s" : "", ms, nl_graph_exec_macs(ex) * 1e-6,
           nl_graph_exec_macs(ex) / (ms * 1e6), tot[0] * 1e-6, cpu[0] * 1e-6);
    if (cpu_ms)
        *cpu_ms = cpu[0] * 1e-6;
    for (uint32_t i = 0; i < g->n_ops; i++) {
        uint64_t t[RUNS];
        for (int r = 0; r < RUNS; r++)
            t[r] = ns[(size_t)r * g->n_ops + i];
        qsort(t, RUNS, sizeof(t[0]), cmp_u64);
        const nl_tensor *d = nl_graph_exec_view(ex, g->ops[i].dst);
        uint64_t macs = nl_graph_exec_op_macs(ex, i);
        double oms = t[0] * 1e-6;
        char gm[32] = "";
        if (macs)
            snprintf(gm, sizeof(gm), "%7.1f GMAC/s", macs / (oms * 1e6));
        printf("  %2u %-7s %-30s %4dx%4dx%4d %-3s %8.1f MMAC %8.3f ms %s\n", (unsigned)i,
               nl_opcode_name(g->ops[i].code), nl_graph_exec_kernel(ex, i), d->w, d->h, d->c,
               tu_type_name(d->type), macs * 1e-6, oms, gm);
    }
    for (uint32_t i = 0; i < g->n_inputs; i++)
        free(mem[i]);
    free(ns);
    return ms;
}

int main(int argc, char **argv)
{
    char err[256];
    nv_model *m = NULL;
    int counts[8] = { 1, 2 }, n_counts = 2;
    if (argc > 1) {
        n_counts = 0;
        for (int i = 1; i < argc && n_counts < 8; i++)
            counts[n_counts++] = atoi(argv[i]);
    }
    if (nv_model_open(&m, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_layers: %s\n", err);
        return 1;
    }
    const nl_dsp *dsp = nl_dsp_default();
    const double clock_mhz = mhz();
    printf("bench_layers: default model at %dx%d (coded), kernels %s, best of %d runs per "
           "op, wall time\n", WP, HP, nl_dsp_level_name(dsp), RUNS);
    for (int ci = 0; ci < n_counts; ci++) {
        nv_nets n;
        nv_pool *pool = NULL;
        if (nv_nets_open(&n, m, WP, HP, 1, dsp, err, sizeof(err)) < 0 ||
            nv_pool_new(&pool, counts[ci]) < 0) {
            fprintf(stderr, "bench_layers: %s\n", err);
            return 1;
        }
        nv_nets_set_pool(&n, pool);
        const int th = nv_pool_threads(pool);
        const struct {
            const char *name;
            nl_graph_exec *ex;
            const nl_graph *g;
            int enc_p, dec_p;
        } gs[] = {
            { "inter.pred", n.pred, m->inter.pred, 1, 1 },
            { "inter.analysis", n.inter_analysis, m->inter.analysis, 1, 0 },
            { "inter.hyper_analysis", n.inter_hyper_analysis, m->inter.hyper_analysis, 1, 0 },
            { "inter.hyper_synthesis", n.inter_hyper_synthesis, m->inter.hyper_synthesis, 1, 1 },
            { "inter.synthesis", n.inter_synthesis, m->inter.synthesis, 1, 1 },
            { "intra.synthesis", n.synthesis, m->synthesis, 0, 0 },
        };
        double enc_ms = 0, dec_ms = 0, enc_cpu = 0, dec_cpu = 0;
        uint64_t enc_macs = 0, dec_macs = 0;
        for (size_t i = 0; i < sizeof(gs) / sizeof(gs[0]); i++) {
            if (!gs[i].ex)
                continue;
            double cpu_ms = 0;
            double ms = bench_graph(gs[i].name, gs[i].ex, gs[i].g, th, &cpu_ms);
            uint64_t macs = nl_graph_exec_macs(gs[i].ex);
            if (gs[i].enc_p) {
                enc_cpu += cpu_ms;
                enc_ms += ms;
                enc_macs += macs;
            }
            if (gs[i].dec_p) {
                dec_cpu += cpu_ms;
                dec_ms += ms;
                dec_macs += macs;
            }
        }
        const int amx = (dsp->flags & NL_CPU_FLAG_AMX) != 0, mpc = amx ? 1024 : 128;
        const double px = 1920.0 * 1080.0, peak = th * (double)mpc * clock_mhz * 1e-3;
        printf("\nP frame networks, %d thread%s:\n", th, th > 1 ? "s" : "");
        printf("  encoder: %.1f kMAC/px, %.2f ms (%.1f fps if networks were all), %.1f GMAC/s, "
               "CPU %.2f ms\n", enc_macs / px * 1e-3, enc_ms, 1e3 / enc_ms,
               enc_macs / (enc_ms * 1e6), enc_cpu);
        printf("  decoder: %.1f kMAC/px, %.2f ms (%.1f fps if networks were all), %.1f GMAC/s, "
               "CPU %.2f ms\n", dec_macs / px * 1e-3, dec_ms, 1e3 / dec_ms,
               dec_macs / (dec_ms * 1e6), dec_cpu);
        printf("  assumed INT8 peak: %d x %d MAC/cycle x %.0f MHz = %.0f GMAC/s (u8 x s8 %s; "
               "s16 layers: half); decoder at %.0f%% of it\n", th, mpc, clock_mhz, peak,
               amx ? "AMX tdpbusd" : "vpdpbusd",
               100.0 * dec_macs / (dec_ms * 1e6) / (peak > 0 ? peak : 1));
        nv_nets_close(&n);
        nv_pool_free(&pool);
    }
    nv_model_close(&m);
    return 0;
}
