/* cache-bench's `real` workload: libcache's policies on real access traces
 * (bench/traces), beside what other caches' policies score on them. */
#ifndef CACHE_BENCH_REAL_H
#define CACHE_BENCH_REAL_H

/* Replays every trace in dir at 1, 5, 10 and 20 % of its distinct ids with
 * each policy the library has, and prints per trace a table with the
 * published figures of other policies, then a summary of the default
 * policy against them, then one JSON object per figure. Returns the
 * number of checks that failed: a directory with no trace in it, or a
 * trace that cannot be read. */
int run_real(const char *dir);

#endif /* CACHE_BENCH_REAL_H */
