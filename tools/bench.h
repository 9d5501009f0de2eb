/* The benchmarks behind `vkft bench WHAT`: each `int bench_WHAT_main(argc, argv)` with argv[0] = WHAT,
 * listed in the table in tools/cmd_bench.c. */
#ifndef VKFT_BENCH_H
#define VKFT_BENCH_H
int bench_dispatch_main(int argc, char **argv);
int bench_rows_main(int argc, char **argv);
int bench_model_main(int argc, char **argv);
int bench_attention_main(int argc, char **argv);
int bench_matmul_main(int argc, char **argv);
#endif
