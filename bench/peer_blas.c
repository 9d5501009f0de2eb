/* The OpenBLAS peer of `vkft bench matmul`: cblas_sgemm on the same shapes and forms, row-major fp32,
 * printing lines in the same format ("blas FORM M N K  ms  GFLOP/s  cpu-ms"). bench/matmul_vs_blas.sh runs
 * both.
 *
 * usage: peer_blas [--shapes all|small|MxNxK[,MxNxK...]] [--forms nn,nt,tn] [--threads N] [--min-s S] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int M, N, K;
} shape;

static const shape shapes_all[] = {{4096, 576, 576},   {4096, 1536, 576},  {4096, 576, 1536},
                                   {4096, 2048, 2048}, {4096, 5632, 2048}, {1024, 1024, 1024}};
static const shape shapes_small[] = {{1024, 576, 576}, {1024, 1024, 1024}, {4096, 576, 576}};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process (all threads): comparable with vkft's cpu-ms when other work shares the cores.
 */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_shapes(const char *v, shape *out, int cap) {
    if (!strcmp(v, "all")) {
        memcpy(out, shapes_all, sizeof shapes_all);
        return (int)(sizeof shapes_all / sizeof shapes_all[0]);
    }
    if (!strcmp(v, "small")) {
        memcpy(out, shapes_small, sizeof shapes_small);
        return (int)(sizeof shapes_small / sizeof shapes_small[0]);
    }
    int n = 0;
    while (*v && n < cap) {
        int used = 0;
        if (sscanf(v, "%dx%dx%d%n", &out[n].M, &out[n].N, &out[n].K, &used) != 3 || out[n].M < 1 ||
            out[n].N < 1 || out[n].K < 1)
            return -1;
        n++;
        v += used;
        if (*v == ',')
            v++;
        else if (*v)
            return -1;
    }
    return n;
}

int main(int argc, char **argv) {
    shape shapes[32];
    int n_shapes = parse_shapes("all", shapes, 32), threads = 2;
    const char *forms = "nn,nt,tn";
    double min_s = 0.3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shapes") && i + 1 < argc) {
            n_shapes = parse_shapes(argv[++i], shapes, 32);
            if (n_shapes <= 0) {
                fprintf(stderr, "peer_blas: --shapes takes all, small or MxNxK[,MxNxK...]\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--forms") && i + 1 < argc) {
            forms = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--min-s") && i + 1 < argc) {
            min_s = atof(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: peer_blas [--shapes all|small|MxNxK,...] [--forms nn,nt,tn] [--threads N]\n");
            return 2;
        }
    }
    openblas_set_num_threads(threads);
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    printf("# OpenBLAS sgemm, %d threads, core %s (OPENBLAS_CORETYPE=%s, OPENBLAS_L2_SIZE=%s)\n", threads,
           openblas_get_corename(), ct ? ct : "unset", l2 ? l2 : "unset");
    for (int s = 0; s < n_shapes; s++) {
        int M = shapes[s].M, N = shapes[s].N, K = shapes[s].K;
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N),
              *C = malloc(sizeof(float) * M * N);
        for (size_t i = 0; i < (size_t)M * K; i++) A[i] = 0.01f;
        for (size_t i = 0; i < (size_t)K * N; i++) B[i] = 0.01f;
        static const char *names[] = {"nn", "nt", "tn"}, *upper[] = {"NN", "NT", "TN"};
        for (int f = 0; f < 3; f++) {
            if (!strstr(forms, names[f])) continue;
            enum CBLAS_TRANSPOSE ta = f == 2 ? CblasTrans : CblasNoTrans,
                                 tb = f == 1 ? CblasTrans : CblasNoTrans;
            int lda = f == 2 ? M : K, ldb = f == 1 ? K : N;
            cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N); /* warm-up */
            int n = 0;
            double t0 = now_s(), c0 = cpu_s(), el;
            do {
                cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
                n++;
                el = now_s() - t0;
            } while (n < 3 || el < min_s);
            printf("blas %s %5d %5d %5d  %10.3f ms  %8.1f GFLOP/s  %10.1f cpu-ms\n", upper[f], M, N, K,
                   el / n * 1e3, 2.0 * M * N * K / (el / n) / 1e9, (cpu_s() - c0) / n * 1e3);
            fflush(stdout);
        }
        free(A), free(B), free(C);
    }
    return 0;
}
