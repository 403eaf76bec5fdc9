/*
 * cache-soak: a long run of mixed traffic against bounded caches, watching
 * that they stay within their bounds and that the process's memory does
 * not creep up.
 *
 * Usage: cache-soak --seconds N [--threads T] [--seed S]
 *
 * Four caches, each with a max_entries and a max_bytes bound (and three of
 * them with a background expiry pass), are hammered by T threads (default
 * 4): 50% sets of a random size from 16 B to 16 KiB with a random time to
 * live from 1 ms to 2 s, 40% gets, 10% deletes, over key spaces about twice
 * what each cache can hold. Every get checks the value it read.
 *
 * Phases:
 *   1. Start: the caches are created. "rss at start" is printed for the
 *      record, before any cache exists.
 *   2. Warm-up: the same traffic runs for WARMUP_MS (1 s), which fills every
 *      cache to its bounds, so that the allocator has grown its metadata,
 *      the caches their tables and the threads their stacks. Then every
 *      cache is cleared and the allocator purged. The resident set measured
 *      now is the baseline "before".
 *   3. The run: N seconds. Once a second the program prints a sample (the
 *      elapsed seconds, the process's RSS, the jemalloc resident bytes when
 *      the library has jemalloc, and each cache's entries and bytes), and
 *      every 100 ms it checks every cache against its bounds.
 *   4. The end: the threads stop, every cache is cleared, the allocator is
 *      purged, and the resident set is measured again: "after".
 *
 * It exits 1 (after printing why) if
 *   - a cache ever held more entries than max_entries or more bytes than
 *     max_bytes, or a call failed, or a get read a value that was not the
 *     one stored;
 *   - the RSS grew by 5% or more from the first sample after the run's own
 *     warm-up (20% of the run, at least 2 s) to the last sample;
 *   - "after" is not within 10% of "before" (either way).
 * It exits 2 on a usage error and 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <cache.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64
#define VALUE_MIN 16
#define VALUE_MAX 16384
#define TTL_MIN_MS 1
#define TTL_MAX_MS 2000
#define WARMUP_MS 1000        /* phase 2 */
#define CHECK_MS 100          /* bound checks */
#define GROWTH_LIMIT 0.05     /* RSS growth over the run */
#define AFTER_LIMIT 0.10      /* "after" against "before" */
#define RUN_WARMUP_SHARE 0.20 /* of the run, before growth is measured */
#define RUN_WARMUP_MIN_S 2

/* ---- helpers ------------------------------------------------------------- */

static void die(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cache-soak: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(status);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_until(uint64_t deadline_ms) {
  for (;;) {
    uint64_t t = now_ms();
    if (t >= deadline_ms)
      return;
    uint64_t left = deadline_ms - t;
    struct timespec ts = {(time_t)(left / 1000),
                          (long)(left % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

/* xorshift64*: fast, and good enough to pick operations and sizes. */
static uint64_t rnd(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * UINT64_C(2685821657736338717);
}

/* Uniform in [lo, hi]. */
static uint64_t rnd_range(uint64_t *state, uint64_t lo, uint64_t hi) {
  return lo + rnd(state) % (hi - lo + 1);
}

static cache_memory_usage_t memory_now(void) {
  cache_memory_usage_t m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  int rc = cache_memory_usage(&m);
  if (rc != CACHE_OK)
    die(1, "cache_memory_usage: %s", cache_strerror(rc));
  return m;
}

/* ---- the caches ---------------------------------------------------------- */

typedef struct soak_cache {
  const char *name;
  uint64_t max_entries, max_bytes, cleanup_interval_ms;
  /* Keys are key:0 to key:(keys - 1): about twice what the bounds let the
   * cache hold with values of 8 KiB on average, so that gets both hit and
   * miss and sets both replace and evict. */
  uint64_t keys;
  cache_t *cache;
} soak_cache_t;

static soak_cache_t caches[] = {
    {"soak-small", 500, UINT64_C(2) << 20, 50, 500, NULL},
    {"soak-entries", 1000, UINT64_C(64) << 20, 200, 2000, NULL}, /* entries */
    {"soak-bytes", 20000, UINT64_C(8) << 20, 1000, 2000, NULL},  /* bytes */
    {"soak-lazy", 2000, UINT64_C(4) << 20, 0, 1000, NULL},       /* no pass */
};
#define N_CACHES (sizeof caches / sizeof caches[0])

static void create_caches(void) {
  for (size_t i = 0; i < N_CACHES; i++) {
    cache_options_t o;
    cache_options_init(&o);
    o.name = caches[i].name;
    o.max_entries = caches[i].max_entries;
    o.max_bytes = caches[i].max_bytes;
    o.cleanup_interval_ms = caches[i].cleanup_interval_ms;
    o.policy = i % 2 ? CACHE_POLICY_FIFO : CACHE_POLICY_LRU;
    int rc = cache_create(&o, &caches[i].cache);
    if (rc != CACHE_OK)
      die(1, "cache_create(%s): %s", caches[i].name, cache_strerror(rc));
  }
}

static void clear_caches(void) {
  for (size_t i = 0; i < N_CACHES; i++) {
    int rc = cache_clear(caches[i].cache);
    if (rc != CACHE_OK)
      die(1, "cache_clear(%s): %s", caches[i].name, cache_strerror(rc));
  }
}

static void destroy_caches(void) {
  for (size_t i = 0; i < N_CACHES; i++) {
    cache_destroy(caches[i].cache);
    caches[i].cache = NULL;
  }
}

static cache_stats_t stats_of(size_t i) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  int rc = cache_stats(caches[i].cache, &st);
  if (rc != CACHE_OK)
    die(1, "cache_stats(%s): %s", caches[i].name, cache_strerror(rc));
  return st;
}

/* ---- failures ------------------------------------------------------------ */

static atomic_uint_fast64_t failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...) {
  /* Print the first few of each run in full; count them all. */
  if (atomic_fetch_add(&failures, 1) < 20) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
  }
}

/* Every cache against its bounds. */
static void check_bounds(uint64_t elapsed_ms) {
  for (size_t i = 0; i < N_CACHES; i++) {
    cache_stats_t st = stats_of(i);
    if (st.entries > caches[i].max_entries)
      fail("%.1f s: %s holds %" PRIu64 " entries, bound %" PRIu64,
           elapsed_ms / 1000.0, caches[i].name, st.entries,
           caches[i].max_entries);
    if (st.bytes > caches[i].max_bytes)
      fail("%.1f s: %s holds %" PRIu64 " bytes, bound %" PRIu64,
           elapsed_ms / 1000.0, caches[i].name, st.bytes, caches[i].max_bytes);
  }
}

/* ---- the traffic --------------------------------------------------------- */

typedef struct worker {
  pthread_t thread;
  uint64_t seed;
  unsigned char *value; /* VALUE_MAX bytes each, allocated up front */
  unsigned char *buf;
  uint64_t sets, gets, hits, deletes;
} worker_t;

static atomic_bool stop;

/* Every byte of a value is this function of its key and length, so a get
 * can tell a value that is not the one stored under its key. */
static unsigned char fill_byte(uint64_t key_id, size_t len) {
  return (unsigned char)(key_id * 31u + len * 7u + 1u);
}

static void one_op(worker_t *w) {
  size_t ci = (size_t)rnd_range(&w->seed, 0, N_CACHES - 1);
  soak_cache_t *sc = &caches[ci];
  uint64_t key_id = rnd_range(&w->seed, 0, sc->keys - 1);
  char key[32];
  int key_len = snprintf(key, sizeof key, "key:%" PRIu64, key_id);
  unsigned op = (unsigned)rnd_range(&w->seed, 0, 99);

  if (op < 50) {
    size_t len = (size_t)rnd_range(&w->seed, VALUE_MIN, VALUE_MAX);
    uint64_t ttl = rnd_range(&w->seed, TTL_MIN_MS, TTL_MAX_MS);
    memset(w->value, fill_byte(key_id, len), len);
    int rc = cache_set(sc->cache, key, (size_t)key_len, w->value, len, ttl);
    if (rc != CACHE_OK)
      fail("cache_set(%s, %s, %zu bytes): %s", sc->name, key, len,
           cache_err_name(rc));
    w->sets++;
  } else if (op < 90) {
    size_t len = 0;
    int rc =
        cache_get(sc->cache, key, (size_t)key_len, w->buf, VALUE_MAX, &len);
    if (rc == CACHE_OK) {
      unsigned char b = fill_byte(key_id, len);
      if (len < VALUE_MIN || len > VALUE_MAX || w->buf[0] != b ||
          w->buf[len / 2] != b || w->buf[len - 1] != b)
        fail("cache_get(%s, %s) read a value that was never stored under it "
             "(%zu bytes)",
             sc->name, key, len);
      w->hits++;
    } else if (rc != CACHE_NOT_FOUND) {
      fail("cache_get(%s, %s): %s", sc->name, key, cache_err_name(rc));
    }
    w->gets++;
  } else {
    int rc = cache_delete(sc->cache, key, (size_t)key_len);
    if (rc != CACHE_OK && rc != CACHE_NOT_FOUND)
      fail("cache_delete(%s, %s): %s", sc->name, key, cache_err_name(rc));
    w->deletes++;
  }
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed))
    for (int i = 0; i < 64; i++)
      one_op(w);
  return NULL;
}

static void start_workers(worker_t *w, unsigned n) {
  atomic_store(&stop, false);
  for (unsigned i = 0; i < n; i++)
    if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
      die(1, "pthread_create failed");
}

static void stop_workers(worker_t *w, unsigned n) {
  atomic_store(&stop, true);
  for (unsigned i = 0; i < n; i++)
    pthread_join(w[i].thread, NULL);
}

/* ---- output -------------------------------------------------------------- */

static void print_sample(uint64_t elapsed_ms, const cache_memory_usage_t *m) {
  printf("%5.1f s  rss %7.1f MiB", elapsed_ms / 1000.0, mib(m->rss_bytes));
  if (m->sources & CACHE_MEMORY_ALLOCATOR)
    printf("  je_resident %7.1f MiB", mib(m->je_resident));
  for (size_t i = 0; i < N_CACHES; i++) {
    cache_stats_t st = stats_of(i);
    printf("  | %s %5" PRIu64 " / %6.2f MiB", caches[i].name, st.entries,
           mib(st.bytes));
  }
  printf("\n");
  fflush(stdout);
}

static void print_memory(const char *what, const cache_memory_usage_t *m) {
  printf("%-7s rss %7.1f MiB", what, mib(m->rss_bytes));
  if (m->sources & CACHE_MEMORY_ALLOCATOR)
    printf("  je allocated %.1f, active %.1f, resident %.1f, mapped %.1f, "
           "retained %.1f MiB",
           mib(m->je_allocated), mib(m->je_active), mib(m->je_resident),
           mib(m->je_mapped), mib(m->je_retained));
  printf("\n");
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: cache-soak --seconds N [--threads T] [--seed S]\n"
          "  --seconds N  length of the run after the warm-up (N >= 1)\n"
          "  --threads T  worker threads (1 to %d, default 4)\n"
          "  --seed S     seed of the random traffic (default: the clock)\n",
          MAX_THREADS);
  exit(2);
}

static uint64_t parse_u64(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
    die(2, "%s: not a number: '%s'", what, s);
  return v;
}

int main(int argc, char **argv) {
  uint64_t seconds = 0, threads = 4, seed = now_ms() ^ UINT64_C(0x5eed);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      usage();
    if (i + 1 >= argc)
      usage();
    if (strcmp(argv[i], "--seconds") == 0)
      seconds = parse_u64(argv[++i], "--seconds");
    else if (strcmp(argv[i], "--threads") == 0)
      threads = parse_u64(argv[++i], "--threads");
    else if (strcmp(argv[i], "--seed") == 0)
      seed = parse_u64(argv[++i], "--seed");
    else
      usage();
  }
  if (seconds == 0 || threads == 0 || threads > MAX_THREADS)
    usage();

  uint64_t run_warmup_s = (uint64_t)(seconds * RUN_WARMUP_SHARE + 0.5);
  if (run_warmup_s < RUN_WARMUP_MIN_S)
    run_warmup_s = RUN_WARMUP_MIN_S;
  if (run_warmup_s >= seconds)
    die(2,
        "--seconds %" PRIu64 " leaves no time after the warm-up of %" PRIu64
        " s: use at least %" PRIu64,
        seconds, run_warmup_s, run_warmup_s + 1);

  printf("cache-soak: libcache %s, %" PRIu64 " s, %" PRIu64
         " threads, seed %" PRIu64 "\n",
         cache_version(), seconds, threads, seed);
  for (size_t i = 0; i < N_CACHES; i++)
    printf("  %-12s max_entries %6" PRIu64 "  max_bytes %5.1f MiB  "
           "cleanup every %" PRIu64 " ms\n",
           caches[i].name, caches[i].max_entries, mib(caches[i].max_bytes),
           caches[i].cleanup_interval_ms);

  /* Phase 1. */
  cache_memory_usage_t start = memory_now();
  print_memory("start", &start);
  create_caches();

  worker_t *w = calloc(threads, sizeof *w);
  if (w == NULL)
    die(1, "out of memory");
  for (unsigned i = 0; i < threads; i++) {
    w[i].seed = seed * 0x9e3779b97f4a7c15u + i + 1;
    if (w[i].seed == 0)
      w[i].seed = 1;
    w[i].value = malloc(VALUE_MAX);
    w[i].buf = malloc(VALUE_MAX);
    if (w[i].value == NULL || w[i].buf == NULL)
      die(1, "out of memory");
  }

  /* Phase 2. */
  uint64_t t0 = now_ms();
  start_workers(w, (unsigned)threads);
  for (uint64_t t = t0 + CHECK_MS; t <= t0 + WARMUP_MS; t += CHECK_MS) {
    sleep_until(t);
    check_bounds(t - t0);
  }
  stop_workers(w, (unsigned)threads);
  cache_memory_usage_t warm = memory_now();
  print_memory("warm", &warm);
  clear_caches();
  if (cache_memory_purge() != CACHE_OK)
    die(1, "cache_memory_purge failed");
  cache_memory_usage_t before = memory_now();
  print_memory("before", &before);

  /* Phase 3. */
  printf("run: samples every second; growth is measured from %" PRIu64 " s\n",
         run_warmup_s);
  uint64_t base_rss = 0, last_rss = 0;
  t0 = now_ms();
  start_workers(w, (unsigned)threads);
  for (uint64_t t = t0 + CHECK_MS; t <= t0 + seconds * 1000; t += CHECK_MS) {
    sleep_until(t);
    uint64_t elapsed = t - t0;
    check_bounds(elapsed);
    if (elapsed % 1000 != 0)
      continue;
    cache_memory_usage_t m = memory_now();
    print_sample(elapsed, &m);
    if (base_rss == 0 && elapsed >= run_warmup_s * 1000)
      base_rss = m.rss_bytes;
    last_rss = m.rss_bytes;
  }
  stop_workers(w, (unsigned)threads);

  /* Phase 4. */
  cache_memory_usage_t end = memory_now();
  print_memory("end", &end);
  clear_caches();
  if (cache_memory_purge() != CACHE_OK)
    die(1, "cache_memory_purge failed");
  cache_memory_usage_t after = memory_now();
  print_memory("after", &after);

  uint64_t sets = 0, gets = 0, hits = 0, deletes = 0;
  for (unsigned i = 0; i < threads; i++) {
    sets += w[i].sets;
    gets += w[i].gets;
    hits += w[i].hits;
    deletes += w[i].deletes;
  }
  printf("ops: %" PRIu64 " sets, %" PRIu64 " gets (%.1f%% hits), %" PRIu64
         " deletes: %.0f ops/s\n",
         sets, gets, gets ? 100.0 * (double)hits / (double)gets : 0.0, deletes,
         (double)(sets + gets + deletes) / (double)seconds);
  for (size_t i = 0; i < N_CACHES; i++) {
    cache_stats_t st = stats_of(i);
    printf("  %-12s evictions %" PRIu64 ", expirations %" PRIu64
           ", cleanup runs %" PRIu64 "\n",
           caches[i].name, st.evictions, st.expirations, st.cleanup_runs);
  }

  double growth = ((double)last_rss - (double)base_rss) / (double)base_rss;
  printf("growth: rss %.1f MiB at %" PRIu64 " s -> %.1f MiB at %" PRIu64
         " s: %+.2f%% (limit %+.0f%%)\n",
         mib(base_rss), run_warmup_s, mib(last_rss), seconds, 100.0 * growth,
         100.0 * GROWTH_LIMIT);
  if (growth >= GROWTH_LIMIT)
    fail("the resident set grew by %.2f%% during the run", 100.0 * growth);

  double drift = ((double)after.rss_bytes - (double)before.rss_bytes) /
                 (double)before.rss_bytes;
  printf("after clear and purge: rss %.2f MiB against %.2f MiB before the "
         "run: %+.2f%% (limit +-%.0f%%)\n",
         mib(after.rss_bytes), mib(before.rss_bytes), 100.0 * drift,
         100.0 * AFTER_LIMIT);
  if (drift > AFTER_LIMIT || drift < -AFTER_LIMIT)
    fail("after clear and purge the resident set is %+.2f%% off the one "
         "before the run",
         100.0 * drift);

  destroy_caches();
  for (unsigned i = 0; i < threads; i++) {
    free(w[i].value);
    free(w[i].buf);
  }
  free(w);

  uint64_t n = atomic_load(&failures);
  if (n > 0) {
    printf("result: FAIL (%" PRIu64 " failed checks)\n", n);
    return 1;
  }
  printf("result: PASS\n");
  return 0;
}
