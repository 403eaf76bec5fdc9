/*
 * cache-bench: the standard workloads (see bench/README.md) run against
 * libcache and against a plain hand-written cache compiled into the same
 * program (and, in W1 and W2, uthash with an LRU list: uthash_lru.c), so
 * that all are measured on the same machine, in the same process, under
 * the same conditions.
 *
 *   W1      read-through throughput, 1 and 2 threads, and get latency
 *   W2      resident memory per entry
 *   W3      hit ratio of every eviction policy on a Zipf trace
 *   expiry  cost of one expiry pass, and get latency while passes run
 *   traces  hit ratio of every policy on traces other than plain Zipf
 *           (scans, a loop, a moving hot set, a flatter Zipf)
 *   real    hit ratio of every policy on real traces (bench/traces),
 *           beside other caches' published figures (real.c)
 *
 * Usage: cache-bench [--runs N] [--only w1,w2,w3,expiry,traces,real]
 *                    [--traces DIR] [--quick]
 *        cache-bench --check-trace
 *
 * Every figure is printed twice: in a table for people, and as one JSON
 * object per line (each line starts with {"workload":) for scripts.
 */
#define _POSIX_C_SOURCE 200809L

#include <cache.h>

#include "floor.h"
#include "real.h"

#ifdef BENCH_HAVE_UTHASH
#include "uthash_lru.h"
#include <uthash.h> /* UTHASH_VERSION only */
#define UTHASH_TEXT(v) #v
#define UTHASH_VERSION_TEXT_OF(v) UTHASH_TEXT(v)
#define UTHASH_VERSION_TEXT UTHASH_VERSION_TEXT_OF(UTHASH_VERSION)
#endif

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 16   /* "k:%014u" */
#define VALUE_LEN 64 /* W1 and W2 values */

/* ======================================================================
 * Small helpers
 * ====================================================================== */

static int failures; /* checks that went wrong; the exit status */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cache-bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (p == NULL)
    die("out of memory (%zu bytes)", n);
  return p;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "<prefix>:%014u", written digit by digit. snprintf takes about 1,100
 * instructions for it (about 60 ns on the machine of the README's table,
 * nearly as much as a hit in libcache), where WORKLOAD.md counts 17 ns
 * for formatting a key: a cost shared by every cache measured, which would
 * hide what the caches themselves cost. */
static void format_key(char *key, size_t size, char prefix, uint32_t id) {
  if (size < KEY_LEN + 1)
    die("key buffer of %zu bytes", size);
  key[0] = prefix;
  key[1] = ':';
  for (int i = KEY_LEN - 1; i >= 2; i--) {
    key[i] = (char)('0' + id % 10);
    id /= 10;
  }
  key[KEY_LEN] = '\0';
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile (0 < q <= 1) of samples, nearest rank; sorts them. */
static uint64_t percentile(uint64_t *samples, size_t n, double q) {
  if (n == 0)
    return 0;
  qsort(samples, n, sizeof samples[0], compare_u64);
  size_t rank = (size_t)ceil(q * (double)n);
  return samples[rank == 0 ? 0 : rank - 1];
}

/* Median of n values; sorts them. */
static double median(double *values, size_t n) {
  qsort(values, n, sizeof values[0], compare_double);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static double min_of(const double *values, size_t n) {
  double m = values[0];
  for (size_t i = 1; i < n; i++)
    m = values[i] < m ? values[i] : m;
  return m;
}

static double max_of(const double *values, size_t n) {
  double m = values[0];
  for (size_t i = 1; i < n; i++)
    m = values[i] > m ? values[i] : m;
  return m;
}

/* What one clock_gettime() costs here: every latency sample includes it. */
static uint64_t timer_overhead_ns(void) {
  enum { N = 100001 };
  static uint64_t samples[N];
  for (size_t i = 0; i < N; i++) {
    uint64_t t0 = now_ns();
    samples[i] = now_ns() - t0;
  }
  return percentile(samples, N, 0.5);
}

/* The machine is shared: to tell a quiet run from a disturbed one, note
 * how much CPU time everything else used while a measurement ran. */
typedef struct cpu_sample {
  uint64_t t_ns;
  uint64_t busy;  /* all CPUs, jiffies: user, nice, system, irq, softirq */
  uint64_t steal; /* taken by the hypervisor */
  uint64_t self;  /* this process: utime + stime */
} cpu_sample_t;

static cpu_sample_t cpu_sample(void) {
  cpu_sample_t s = {.t_ns = now_ns()};
  unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  FILE *f = fopen("/proc/stat", "r");
  if (f != NULL) {
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
               &sys, &idle, &iowait, &irq, &softirq, &steal) < 7)
      user = nice = sys = irq = softirq = steal = 0;
    fclose(f);
  }
  s.busy = user + nice + sys + irq + softirq;
  s.steal = steal;

  char line[1024];
  f = fopen("/proc/self/stat", "r");
  if (f != NULL) {
    if (fgets(line, sizeof line, f) != NULL) {
      /* Fields after "pid (comm)": state is field 3, utime 14, stime 15. */
      char *p = strrchr(line, ')');
      unsigned long long utime, stime;
      if (p != NULL &&
          sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                 &utime, &stime) == 2)
        s.self = utime + stime;
    }
    fclose(f);
  }
  return s;
}

/* CPUs' worth of time other processes (and the hypervisor, as steal) took
 * between two samples. */
static double other_cpus(const cpu_sample_t *a, const cpu_sample_t *b) {
  double seconds = (double)(b->t_ns - a->t_ns) / 1e9;
  double jiffies = (double)(b->busy - a->busy) - (double)(b->self - a->self) +
                   (double)(b->steal - a->steal);
  double other = jiffies / (double)sysconf(_SC_CLK_TCK) / seconds;
  return other > 0 ? other : 0;
}

/* ---- core-to-core handoff --------------------------------------------------
 *
 * Two threads pass a counter back and forth; the time of one pass is what
 * it costs a core to get a cache line the other core has just written. On
 * a virtual machine it depends on where the host runs the virtual CPUs
 * (here it has been seen at about 30 ns and about 160 ns, changing from
 * one second to the next), and a cache shared by two threads pays it on
 * every line both write, starting with the locks. W1 prints it with each
 * two-thread run, so that a slow run can be told from a slow machine. */

#define HANDOFF_PASSES 20000

static _Alignas(64) atomic_long handoff_turn;

static void *handoff_main(void *arg) {
  long me = (long)(intptr_t)arg;
  for (long i = 0; i < HANDOFF_PASSES; i++) {
    while (atomic_load_explicit(&handoff_turn, memory_order_acquire) % 2 != me)
      ;
    atomic_fetch_add_explicit(&handoff_turn, 1, memory_order_release);
  }
  return NULL;
}

/* ns per one-way handoff, or 0 if the threads could not be started. */
static double handoff_ns(void) {
  pthread_t tid[2];
  atomic_store(&handoff_turn, 0);
  uint64_t t0 = now_ns();
  for (long i = 0; i < 2; i++)
    if (pthread_create(&tid[i], NULL, handoff_main, (void *)(intptr_t)i) != 0)
      die("pthread_create failed");
  for (int i = 0; i < 2; i++)
    pthread_join(tid[i], NULL);
  return (double)(now_ns() - t0) / (2.0 * HANDOFF_PASSES);
}

/* ======================================================================
 * The trace: zipf(N, R, alpha, seed), exactly as WORKLOAD.md defines it
 * ====================================================================== */

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* R key ids in [0, n). The caller frees the array. */
static uint32_t *zipf_trace(uint32_t n, size_t r, double alpha, uint64_t seed) {
  double *cdf = xmalloc(n * sizeof *cdf);
  double sum = 0;
  for (uint32_t rank = 0; rank < n; rank++) {
    sum += 1.0 / pow((double)rank + 1.0, alpha);
    cdf[rank] = sum;
  }

  uint32_t *ids = xmalloc(r * sizeof *ids);
  uint64_t state = seed;
  for (size_t i = 0; i < r; i++) {
    uint64_t z = splitmix64(&state);
    double u = (double)(z >> 11) / 9007199254740992.0 /* 2^53 */ * sum;
    /* The first rank with cdf[rank] >= u. */
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (cdf[mid] >= u)
        hi = mid;
      else
        lo = mid + 1;
    }
    ids[i] = (uint32_t)(((uint64_t)lo * 2654435761u) % n);
  }
  free(cdf);
  return ids;
}

static const uint32_t check_vector[8] = {395903, 178805, 123157, 576100,
                                         0,      659772, 536415, 682600};

/* Whether a trace of zipf(1000000, R, 0.99, 42) starts as it must. */
static bool trace_starts_right(const uint32_t *ids) {
  return memcmp(ids, check_vector, sizeof check_vector) == 0;
}

/* Whether format_key writes what snprintf would. */
static bool keys_format_right(void) {
  const uint32_t ids[] = {0, 7, 42, 999999, 1000000, UINT32_MAX};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    char fast[32], slow[32];
    memset(fast, '#', sizeof fast);
    format_key(fast, sizeof fast, 'k', ids[i]);
    snprintf(slow, sizeof slow, "k:%014u", (unsigned)ids[i]);
    if (strcmp(fast, slow) != 0)
      return false;
  }
  return true;
}

static int check_trace(void) {
  bool keys_ok = keys_format_right();
  printf("keys: %s\n", keys_ok ? "OK" : "FAIL");
  if (!keys_ok)
    return 1;
  uint32_t *ids = zipf_trace(1000000, 8, 0.99, 42);
  printf("zipf(1000000, 10000000, 0.99, 42) starts:");
  for (int i = 0; i < 8; i++)
    printf(" %u", (unsigned)ids[i]);
  printf("\nexpected:                                ");
  for (int i = 0; i < 8; i++)
    printf(" %u", (unsigned)check_vector[i]);
  bool ok = trace_starts_right(ids);
  printf("\n%s\n", ok ? "OK" : "FAIL");
  free(ids);
  return ok ? 0 : 1;
}

/* ======================================================================
 * The baseline: one mutex, a chained hash table, an LRU list
 *
 * The cache a C programmer writes by hand: a power-of-two array of bucket
 * chains sized for the bound, one malloc per entry holding the key and
 * the value, an intrusive doubly-linked list with the most recently used
 * entry at the head, and one pthread mutex around all of it. It honours a
 * TTL (checked on get) and has an expiry pass that scans the table.
 * ====================================================================== */

typedef struct bl_entry {
  struct bl_entry *chain;       /* next in the bucket */
  struct bl_entry *prev, *next; /* LRU list; head = most recent */
  uint64_t expires_ms;          /* UINT64_MAX: never */
  uint32_t hash;
  uint32_t key_len;
  uint32_t value_len;
  unsigned char data[]; /* key, then value */
} bl_entry_t;

typedef struct baseline {
  pthread_mutex_t lock;
  bl_entry_t **buckets;
  size_t mask;
  bl_entry_t *head, *tail;
  size_t count, max_entries;
  uint64_t ttl_ms;
  uint64_t (*clock_ms)(void *ctx); /* NULL: CLOCK_MONOTONIC */
  void *clock_ctx;
} baseline_t;

static uint32_t fnv1a(const void *key, size_t len) {
  const unsigned char *p = key;
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3u;
  }
  return (uint32_t)(h ^ (h >> 32));
}

static uint64_t bl_now(const baseline_t *b) {
  if (b->clock_ms != NULL)
    return b->clock_ms(b->clock_ctx);
  return now_ns() / 1000000u;
}

static baseline_t *bl_create(size_t max_entries, uint64_t ttl_ms,
                             uint64_t (*clock_ms)(void *), void *clock_ctx) {
  baseline_t *b = xmalloc(sizeof *b);
  size_t nbuckets = 1024;
  while (nbuckets < max_entries)
    nbuckets *= 2;
  b->buckets = calloc(nbuckets, sizeof *b->buckets);
  if (b->buckets == NULL)
    die("out of memory");
  b->mask = nbuckets - 1;
  b->head = b->tail = NULL;
  b->count = 0;
  b->max_entries = max_entries;
  b->ttl_ms = ttl_ms;
  b->clock_ms = clock_ms;
  b->clock_ctx = clock_ctx;
  pthread_mutex_init(&b->lock, NULL);
  return b;
}

static void bl_destroy(baseline_t *b) {
  bl_entry_t *e = b->head;
  while (e != NULL) {
    bl_entry_t *next = e->next;
    free(e);
    e = next;
  }
  pthread_mutex_destroy(&b->lock);
  free(b->buckets);
  free(b);
}

static void bl_list_unlink(baseline_t *b, bl_entry_t *e) {
  if (e->prev != NULL)
    e->prev->next = e->next;
  else
    b->head = e->next;
  if (e->next != NULL)
    e->next->prev = e->prev;
  else
    b->tail = e->prev;
}

static void bl_list_push_front(baseline_t *b, bl_entry_t *e) {
  e->prev = NULL;
  e->next = b->head;
  if (b->head != NULL)
    b->head->prev = e;
  else
    b->tail = e;
  b->head = e;
}

/* The link that points at the entry for key (or the NULL at the end of its
 * chain). */
static bl_entry_t **bl_find(baseline_t *b, uint32_t hash, const void *key,
                            size_t key_len) {
  bl_entry_t **link = &b->buckets[hash & b->mask];
  while (*link != NULL) {
    bl_entry_t *e = *link;
    if (e->hash == hash && e->key_len == key_len &&
        memcmp(e->data, key, key_len) == 0)
      break;
    link = &e->chain;
  }
  return link;
}

/* Takes e out of the table and the list. */
static void bl_remove(baseline_t *b, bl_entry_t *e) {
  bl_entry_t **link = &b->buckets[e->hash & b->mask];
  while (*link != e)
    link = &(*link)->chain;
  *link = e->chain;
  bl_list_unlink(b, e);
  b->count--;
}

static int bl_get(baseline_t *b, const void *key, size_t key_len, void *buf,
                  size_t buf_len, size_t *value_len) {
  uint32_t hash = fnv1a(key, key_len);
  uint64_t now = bl_now(b);
  pthread_mutex_lock(&b->lock);
  bl_entry_t **link = bl_find(b, hash, key, key_len);
  bl_entry_t *e = *link;
  if (e == NULL) {
    pthread_mutex_unlock(&b->lock);
    return CACHE_NOT_FOUND;
  }
  if (e->expires_ms <= now) {
    *link = e->chain;
    bl_list_unlink(b, e);
    b->count--;
    pthread_mutex_unlock(&b->lock);
    free(e);
    return CACHE_NOT_FOUND;
  }
  bl_list_unlink(b, e);
  bl_list_push_front(b, e);
  *value_len = e->value_len;
  int rc = CACHE_ETOOSMALL;
  if (e->value_len <= buf_len) {
    memcpy(buf, e->data + e->key_len, e->value_len);
    rc = CACHE_OK;
  }
  pthread_mutex_unlock(&b->lock);
  return rc;
}

static int bl_set(baseline_t *b, const void *key, size_t key_len,
                  const void *value, size_t value_len, uint64_t ttl_ms) {
  if (ttl_ms == 0)
    ttl_ms = b->ttl_ms;
  bl_entry_t *e = malloc(sizeof *e + key_len + value_len);
  if (e == NULL)
    return CACHE_ENOMEM;
  e->hash = fnv1a(key, key_len);
  e->key_len = (uint32_t)key_len;
  e->value_len = (uint32_t)value_len;
  memcpy(e->data, key, key_len);
  memcpy(e->data + key_len, value, value_len);
  uint64_t now = bl_now(b);
  e->expires_ms = ttl_ms == 0 ? UINT64_MAX : now + ttl_ms;

  bl_entry_t *old = NULL;
  pthread_mutex_lock(&b->lock);
  bl_entry_t **link = bl_find(b, e->hash, key, key_len);
  if (*link != NULL) { /* replace: the new entry takes the old one's place */
    old = *link;
    e->chain = old->chain;
    *link = e;
    bl_list_unlink(b, old);
  } else {
    if (b->max_entries > 0 && b->count >= b->max_entries) {
      old = b->tail; /* evict the least recently used */
      bl_remove(b, old);
      link = bl_find(b, e->hash, key, key_len); /* may have moved */
    }
    e->chain = NULL;
    *link = e;
    b->count++;
  }
  bl_list_push_front(b, e);
  pthread_mutex_unlock(&b->lock);
  free(old);
  return CACHE_OK;
}

/* The expiry pass: one scan of the whole table under the lock. */
static int bl_cleanup(baseline_t *b, uint64_t *removed) {
  uint64_t now = bl_now(b), n = 0;
  bl_entry_t *dead = NULL;
  pthread_mutex_lock(&b->lock);
  for (size_t i = 0; i <= b->mask; i++) {
    bl_entry_t **link = &b->buckets[i];
    while (*link != NULL) {
      bl_entry_t *e = *link;
      if (e->expires_ms <= now) {
        *link = e->chain;
        bl_list_unlink(b, e);
        b->count--;
        e->chain = dead;
        dead = e;
        n++;
      } else {
        link = &e->chain;
      }
    }
  }
  pthread_mutex_unlock(&b->lock);
  while (dead != NULL) {
    bl_entry_t *next = dead->chain;
    free(dead);
    dead = next;
  }
  if (removed != NULL)
    *removed = n;
  return CACHE_OK;
}

/* ======================================================================
 * The two implementations behind one interface
 * ====================================================================== */

typedef struct bench_config {
  uint64_t max_entries;
  uint64_t ttl_ms;
  int policy; /* CACHE_POLICY_*, or -1 for the default */
  uint64_t (*clock_ms)(void *ctx);
  void *clock_ctx;
} bench_config_t;

typedef struct impl {
  const char *name;
  void *(*create)(const bench_config_t *cfg);
  void (*destroy)(void *cache);
  int (*get)(void *cache, const void *key, size_t key_len, void *buf,
             size_t buf_len, size_t *value_len);
  int (*set)(void *cache, const void *key, size_t key_len, const void *value,
             size_t value_len, uint64_t ttl_ms);
  int (*cleanup)(void *cache, uint64_t *removed);
} impl_t;

static void *lc_create(const bench_config_t *cfg) {
  cache_options_t options;
  cache_options_init(&options);
  options.max_entries = cfg->max_entries;
  options.ttl_ms = cfg->ttl_ms;
  if (cfg->policy >= 0)
    options.policy = cfg->policy;
  options.clock_ms = cfg->clock_ms;
  options.clock_ctx = cfg->clock_ctx;
  cache_t *cache;
  int rc = cache_create(&options, &cache);
  if (rc != CACHE_OK)
    die("cache_create: %s", cache_strerror(rc));
  return cache;
}

static void lc_destroy(void *cache) { cache_destroy(cache); }

static int lc_get(void *cache, const void *key, size_t key_len, void *buf,
                  size_t buf_len, size_t *value_len) {
  return cache_get(cache, key, key_len, buf, buf_len, value_len);
}

static int lc_set(void *cache, const void *key, size_t key_len,
                  const void *value, size_t value_len, uint64_t ttl_ms) {
  return cache_set(cache, key, key_len, value, value_len, ttl_ms);
}

static int lc_cleanup(void *cache, uint64_t *removed) {
  return cache_cleanup(cache, removed);
}

static void *bl_create_cfg(const bench_config_t *cfg) {
  return bl_create(cfg->max_entries, cfg->ttl_ms, cfg->clock_ms,
                   cfg->clock_ctx);
}

static void bl_destroy_any(void *cache) { bl_destroy(cache); }

static int bl_get_any(void *cache, const void *key, size_t key_len, void *buf,
                      size_t buf_len, size_t *value_len) {
  return bl_get(cache, key, key_len, buf, buf_len, value_len);
}

static int bl_set_any(void *cache, const void *key, size_t key_len,
                      const void *value, size_t value_len, uint64_t ttl_ms) {
  return bl_set(cache, key, key_len, value, value_len, ttl_ms);
}

static int bl_cleanup_any(void *cache, uint64_t *removed) {
  return bl_cleanup(cache, removed);
}

static const impl_t libcache_impl = {"libcache", lc_create, lc_destroy,
                                     lc_get,     lc_set,    lc_cleanup};
static const impl_t baseline_impl = {"baseline", bl_create_cfg, bl_destroy_any,
                                     bl_get_any, bl_set_any,    bl_cleanup_any};

#ifdef BENCH_HAVE_UTHASH
static void *ut_create_cfg(const bench_config_t *cfg) {
  ut_cache_t *c =
      ut_create(cfg->max_entries, cfg->ttl_ms, cfg->clock_ms, cfg->clock_ctx);
  if (c == NULL)
    die("out of memory");
  return c;
}

static void ut_destroy_any(void *cache) { ut_destroy(cache); }

static int ut_get_any(void *cache, const void *key, size_t key_len, void *buf,
                      size_t buf_len, size_t *value_len) {
  return ut_get(cache, key, key_len, buf, buf_len, value_len);
}

static int ut_set_any(void *cache, const void *key, size_t key_len,
                      const void *value, size_t value_len, uint64_t ttl_ms) {
  return ut_set(cache, key, key_len, value, value_len, ttl_ms);
}

static int ut_cleanup_any(void *cache, uint64_t *removed) {
  return ut_cleanup(cache, removed);
}

static const impl_t uthash_impl = {"uthash",   ut_create_cfg, ut_destroy_any,
                                   ut_get_any, ut_set_any,    ut_cleanup_any};
#endif

/* W1's one-thread yardstick (floor.h): no lock, W1's sizes only. */
static void *fl_create_cfg(const bench_config_t *cfg) {
  fl_cache_t *c =
      fl_create(cfg->max_entries, cfg->ttl_ms, cfg->clock_ms, cfg->clock_ctx);
  if (c == NULL)
    die("out of memory");
  return c;
}

static void fl_destroy_any(void *cache) { fl_destroy(cache); }

static int fl_get_any(void *cache, const void *key, size_t key_len, void *buf,
                      size_t buf_len, size_t *value_len) {
  return fl_get(cache, key, key_len, buf, buf_len, value_len);
}

static int fl_set_any(void *cache, const void *key, size_t key_len,
                      const void *value, size_t value_len, uint64_t ttl_ms) {
  return fl_set(cache, key, key_len, value, value_len, ttl_ms);
}

static const impl_t floor_impl = {"floor",    fl_create_cfg, fl_destroy_any,
                                  fl_get_any, fl_set_any,    NULL};

/* The caches W1 and W2 measure: libcache, the baseline, and uthash when
 * the build found it. */
static const impl_t *const rivals[] = {
    &libcache_impl,
    &baseline_impl,
#ifdef BENCH_HAVE_UTHASH
    &uthash_impl,
#endif
};
#define N_RIVALS ((int)(sizeof rivals / sizeof rivals[0]))

/* The policy a libcache gets from cache_options_init(). */
static const char *default_policy_name(void) {
  cache_options_t options;
  cache_options_init(&options);
  const char *name = cache_policy_name(options.policy);
  return name != NULL ? name : "?";
}

static const char *policy_of(const impl_t *impl) {
  return impl == &libcache_impl ? default_policy_name() : "lru";
}

/* Read-through: get, and on a miss set. Returns whether it was a hit. */
static bool read_through(const impl_t *impl, void *cache, const char *key,
                         const unsigned char *value) {
  unsigned char buf[VALUE_LEN];
  size_t len;
  int rc = impl->get(cache, key, KEY_LEN, buf, sizeof buf, &len);
  if (rc == CACHE_OK)
    return true;
  if (rc != CACHE_NOT_FOUND)
    die("%s get: %s", impl->name, cache_strerror(rc));
  rc = impl->set(cache, key, KEY_LEN, value, VALUE_LEN, 0);
  if (rc != CACHE_OK)
    die("%s set: %s", impl->name, cache_strerror(rc));
  return false;
}

/* ---- how far two threads scale when they share nothing written ------------
 *
 * Each request of a thread formats a W1 key, as W1 does, and reads two
 * random cache lines of one 19 MB array that both threads read and neither
 * writes: W1's working set and about what a hit reads, with no lock and no
 * line that the other core writes. Its rate with two threads over its rate
 * with one is how far the two virtual CPUs scale at that moment on a load
 * like W1's; what a cache shared by two threads falls short of it, it
 * loses to the lines the threads pass to each other. */

#define SCALING_BYTES ((size_t)19 << 20)
#define SCALING_REQUESTS 2000000

typedef struct scaling_thread {
  const unsigned char *lines;
  uint64_t seed;
  pthread_barrier_t *start;
  uint64_t sum; /* of the bytes read, so that the reads are kept */
} scaling_thread_t;

static void *scaling_main(void *arg) {
  scaling_thread_t *t = arg;
  const size_t n = SCALING_BYTES / 64;
  uint64_t state = t->seed, sum = 0;
  char key[32];
  pthread_barrier_wait(t->start);
  for (long i = 0; i < SCALING_REQUESTS; i++) {
    uint64_t z = splitmix64(&state);
    format_key(key, sizeof key, 'k', (uint32_t)(z % 1000000));
    sum += (unsigned char)key[15] + t->lines[(z >> 20) % n * 64] +
           t->lines[(z >> 40) % n * 64];
  }
  t->sum = sum;
  return NULL;
}

/* Requests per second of `threads` threads in all. */
static double scaling_rate(const unsigned char *lines, int threads) {
  scaling_thread_t t[2];
  pthread_t tid[2];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; i++) {
    t[i] = (scaling_thread_t){
        .lines = lines, .seed = (uint64_t)i + 1, .start = &start};
    if (pthread_create(&tid[i], NULL, scaling_main, &t[i]) != 0)
      die("pthread_create failed");
  }
  pthread_barrier_wait(&start);
  uint64_t t0 = now_ns();
  for (int i = 0; i < threads; i++)
    pthread_join(tid[i], NULL);
  double seconds = (double)(now_ns() - t0) / 1e9;
  pthread_barrier_destroy(&start);
  return (double)threads * SCALING_REQUESTS / seconds;
}

/* The 2-thread rate over the 1-thread rate, the latter measured before and
 * after, as the machine's speed drifts. */
static double scaling_ratio(const unsigned char *lines) {
  double one = scaling_rate(lines, 1);
  double two = scaling_rate(lines, 2);
  one = (one + scaling_rate(lines, 1)) / 2;
  return two / one;
}

/* ======================================================================
 * W1: read-through throughput
 * ====================================================================== */

typedef struct w1_thread {
  const impl_t *impl;
  void *cache;
  const uint32_t *trace;
  size_t length;      /* requests in the trace */
  size_t first, step; /* this thread takes first, first + step, ... */
  bool lookups_only;  /* no set after a miss */
  pthread_barrier_t *start;
  uint64_t hits;
  uint64_t *samples; /* latency of every 16th get, or NULL */
  size_t n_samples;
} w1_thread_t;

static void *w1_thread_main(void *arg) {
  w1_thread_t *t = arg;
  const impl_t *impl = t->impl;
  unsigned char value[VALUE_LEN], buf[VALUE_LEN];
  char key[32];
  size_t len;
  uint64_t hits = 0;
  memset(value, 'v', sizeof value);

  pthread_barrier_wait(t->start);
  for (size_t i = t->first; i < t->length; i += t->step) {
    format_key(key, sizeof key, 'k', t->trace[i]);
    int rc;
    if (t->samples != NULL && i % 16 == 0) {
      uint64_t t0 = now_ns();
      rc = impl->get(t->cache, key, KEY_LEN, buf, sizeof buf, &len);
      t->samples[t->n_samples++] = now_ns() - t0;
    } else {
      rc = impl->get(t->cache, key, KEY_LEN, buf, sizeof buf, &len);
    }
    if (rc == CACHE_OK) {
      hits++;
    } else if (rc == CACHE_NOT_FOUND) {
      if (t->lookups_only)
        continue;
      rc = impl->set(t->cache, key, KEY_LEN, value, VALUE_LEN, 0);
      if (rc != CACHE_OK)
        die("%s set: %s", impl->name, cache_strerror(rc));
    } else {
      die("%s get: %s", impl->name, cache_strerror(rc));
    }
  }
  t->hits = hits;
  return NULL;
}

/* One pass over the trace with `threads` threads sharing the cache; with
 * `copies` (threads 2), thread 0 on cache and thread 1 on copies, each
 * taking every request: two 1-thread runs at once. With lookups_only, a
 * miss is not followed by a set. Returns the seconds from the common start
 * to the last thread's end; *hits gets the hits of all threads, *other the
 * CPUs other processes used meanwhile. With samples (1 thread only), the
 * latency of every 16th get is stored there and *n_samples set. */
static double w1_pass_copies(const impl_t *impl, void *cache, void *copies,
                             bool lookups_only, const uint32_t *trace,
                             size_t length, int threads, uint64_t *hits,
                             double *other, uint64_t *samples,
                             size_t *n_samples) {
  w1_thread_t t[2];
  pthread_t tid[2];
  pthread_barrier_t start;
  cpu_sample_t before = cpu_sample();
  pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; i++) {
    t[i] = (w1_thread_t){.impl = impl,
                         .cache = copies != NULL && i == 1 ? copies : cache,
                         .trace = trace,
                         .length = length,
                         .first = copies != NULL ? 0 : (size_t)i,
                         .step = copies != NULL ? 1 : (size_t)threads,
                         .lookups_only = lookups_only,
                         .start = &start,
                         .samples = samples};
    if (pthread_create(&tid[i], NULL, w1_thread_main, &t[i]) != 0)
      die("pthread_create failed");
  }
  pthread_barrier_wait(&start);
  uint64_t t0 = now_ns();
  *hits = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(tid[i], NULL);
    *hits += t[i].hits;
  }
  uint64_t t1 = now_ns();
  cpu_sample_t after = cpu_sample();
  *other = other_cpus(&before, &after);
  pthread_barrier_destroy(&start);
  if (n_samples != NULL)
    *n_samples = t[0].n_samples;
  return (double)(t1 - t0) / 1e9;
}

static double w1_pass(const impl_t *impl, void *cache, const uint32_t *trace,
                      size_t length, int threads, uint64_t *hits, double *other,
                      uint64_t *samples, size_t *n_samples) {
  return w1_pass_copies(impl, cache, NULL, false, trace, length, threads, hits,
                        other, samples, n_samples);
}

/* The measurements of a W1 run: every cache of `rivals`, 1 and 2 threads,
 * each on a cache of its own; and two copies of libcache's 1-thread run at
 * once, each thread on a cache of its own. The copies share no line, but
 * they have two working sets, twice W1's, to keep in the last-level cache:
 * their rate over the 1-thread rate is what libcache's own 1-thread code
 * reaches twice over on the machine, not the most two threads can reach
 * (scaling_ratio measures that on one working set). Then the floor's
 * 1-thread run (floor.h), the yardstick of libcache's. Then libcache's
 * lookups alone, 1 and 2 threads: W1 with no set after a miss, on a cache
 * that stays as its warm-up pass left it, so that the 2-thread scaling of
 * the lookups can be told from that of the inserts. Last, libcache with
 * its other policies, 1 and 2 threads each: their inserts do less policy
 * work than W-TinyLFU's (LRU's hits take the lock, though), and their hit
 * ratios are lower, so they tell what W-TinyLFU's own work costs at 2
 * threads from what any insert into the shared cache costs. */
#define W1_COPIES (2 * N_RIVALS)     /* index of the two copies */
#define W1_FLOOR (W1_COPIES + 1)     /* the floor's 1-thread run (floor.h) */
#define W1_LOOKUPS (W1_FLOOR + 1)    /* lookups alone, 1 thread, then 2 */
#define W1_POLICIES (W1_LOOKUPS + 2) /* lru 1T, lru 2T, fifo 1T, fifo 2T */
#define W1_N_POLICIES 2
#define W1_CONFIGS (W1_POLICIES + 2 * W1_N_POLICIES)
static const int w1_policies[W1_N_POLICIES] = {CACHE_POLICY_LRU,
                                               CACHE_POLICY_FIFO};
/* The timed pass of each is cut into this many segments, and the segments
 * of all of them take turns: every figure of a run is then measured over the
 * same stretch of time. The speed of a virtual CPU here changes by half or
 * more from one second to the next (other guests, clock boost), which
 * would otherwise land on whichever measurement ran at that moment. */
#define W1_SEGMENTS 10

typedef struct w1_config {
  const impl_t *impl;
  int threads;
  void *cache;
  void *copy;        /* the second copy's cache, or NULL */
  bool lookups_only; /* no set after a miss (W1_LOOKUPS) */
  double seconds;    /* of the timed segments so far */
  uint64_t hits;
  double other_seconds; /* CPU seconds other processes took meanwhile */
} w1_config_t;

/* Raises *max_other to the CPUs other processes took during c's timed
 * segments, if that is more. */
static void note_other(const w1_config_t *c, double *max_other) {
  double other = c->other_seconds / c->seconds;
  if (other > *max_other)
    *max_other = other;
}

/* A fresh cache after its untimed pass; policy: CACHE_POLICY_*, or -1 for
 * the default. */
static void w1_open(w1_config_t *w, const impl_t *impl, int threads,
                    bool copies, int policy, const uint32_t *trace,
                    size_t length) {
  bench_config_t cfg = {
      .max_entries = 100000, .ttl_ms = 10 * 60 * 1000, .policy = policy};
  *w = (w1_config_t){.impl = impl, .threads = threads};
  w->cache = impl->create(&cfg);
  if (copies)
    w->copy = impl->create(&cfg);
  uint64_t hits;
  double other;
  w1_pass_copies(impl, w->cache, w->copy, false, trace, length, threads, &hits,
                 &other, NULL, NULL);
}

/* The latency of every 16th get over one more pass, 1 thread. */
static void w1_latency(w1_config_t *w, const uint32_t *trace, size_t length,
                       double *p50, double *p99) {
  uint64_t *samples = xmalloc((length / 16 + 1) * sizeof *samples);
  uint64_t hits;
  double other;
  size_t n;
  w1_pass(w->impl, w->cache, trace, length, 1, &hits, &other, samples, &n);
  *p50 = (double)percentile(samples, n, 0.50);
  *p99 = (double)percentile(samples, n, 0.99);
  free(samples);
}

static void run_w1(int runs, bool quick) {
  const size_t length = quick ? 1000000 : 10000000;
  printf("\n== W1: read-through throughput ==\n");
  printf("trace zipf(1000000, %zu, 0.99, 42); key \"k:%%014u\" formatted in "
         "the loop; value %d B;\ncache 100000 entries, ttl 10 min; untimed "
         "warm-up pass, then timed pass; %d run%s;\nthe timed passes of "
         "every cache, 1 and 2 threads, in %d segments that take "
         "turns\n",
         length, VALUE_LEN, runs, runs == 1 ? "" : "s", W1_SEGMENTS);
  uint32_t *trace = zipf_trace(1000000, length, 0.99, 42);
  bool trace_ok = trace_starts_right(trace);
  printf("trace check vector: %s\n", trace_ok ? "OK" : "FAIL");
  if (!trace_ok)
    failures++;

  const impl_t *const *impls = rivals;
  /* [impl][threads - 1][run] */
  double rate[N_RIVALS][2][64], hit[N_RIVALS][2][64];
  double p50[N_RIVALS][64], p99[N_RIVALS][64];
  double handoff[64];      /* ns, at the start of each run */
  double copies[64];       /* two 1-thread copies at once, M req/s in all */
  double copies_ratio[64]; /* the same over libcache's 1-thread rate */
  double scaling[64];      /* scaling_ratio, at the start of each run */
  double floor_rate[64], floor_hit[64];        /* floor.h's 1-thread run */
  double lookups_rate[2][64], lookups_hit[64]; /* [threads - 1][run] */
  /* libcache's other policies: [policy][threads - 1][run] */
  double pol_rate[W1_N_POLICIES][2][64], pol_hit[W1_N_POLICIES][64];
  double max_other = 0; /* CPUs other processes took, worst timed pass */
  const size_t segment = length / W1_SEGMENTS;
  unsigned char *lines = xmalloc(SCALING_BYTES);
  memset(lines, 1, SCALING_BYTES);

  for (int run = 0; run < runs; run++) {
    handoff[run] = handoff_ns();
    scaling[run] = scaling_ratio(lines);
    w1_config_t w[W1_CONFIGS];
    for (int i = 0; i < W1_COPIES; i++)
      w1_open(&w[i], impls[i / 2], i % 2 + 1, false, -1, trace, length);
    w1_open(&w[W1_COPIES], &libcache_impl, 2, true, -1, trace, length);
    w1_open(&w[W1_FLOOR], &floor_impl, 1, false, -1, trace, length);
    for (int threads = 1; threads <= 2; threads++) {
      w1_config_t *l = &w[W1_LOOKUPS + threads - 1];
      w1_open(l, &libcache_impl, threads, false, -1, trace, length);
      l->lookups_only = true;
    }
    for (int i = 0; i < 2 * W1_N_POLICIES; i++)
      w1_open(&w[W1_POLICIES + i], &libcache_impl, i % 2 + 1, false,
              w1_policies[i / 2], trace, length);
    /* Each segment starts with another of them, so none is always
     * the one to find the CPU's caches full of another's data. */
    for (int seg = 0; seg < W1_SEGMENTS; seg++) {
      const uint32_t *part = trace + (size_t)seg * segment;
      size_t part_len =
          seg == W1_SEGMENTS - 1 ? length - (size_t)seg * segment : segment;
      for (int k = 0; k < W1_CONFIGS; k++) {
        w1_config_t *c = &w[(k + seg + run) % W1_CONFIGS];
        uint64_t hits;
        double other;
        double seconds =
            w1_pass_copies(c->impl, c->cache, c->copy, c->lookups_only, part,
                           part_len, c->threads, &hits, &other, NULL, NULL);
        c->seconds += seconds;
        c->hits += hits;
        c->other_seconds += other * seconds;
      }
    }
    printf("run %d:", run + 1);
    for (int i = 0; i < W1_COPIES; i++) {
      int which = i / 2, threads = i % 2 + 1;
      rate[which][threads - 1][run] = (double)length / w[i].seconds / 1e6;
      hit[which][threads - 1][run] = (double)w[i].hits / (double)length;
      note_other(&w[i], &max_other);
      printf("  %s %dT %6.3f", impls[which]->name, threads,
             rate[which][threads - 1][run]);
      if (threads == 1)
        w1_latency(&w[i], trace, length, &p50[which][run], &p99[which][run]);
      impls[which]->destroy(w[i].cache);
    }
    w1_config_t *two = &w[W1_COPIES];
    copies[run] = 2.0 * (double)length / two->seconds / 1e6;
    copies_ratio[run] = copies[run] / rate[0][0][run];
    note_other(two, &max_other);
    libcache_impl.destroy(two->cache);
    libcache_impl.destroy(two->copy);
    w1_config_t *fl = &w[W1_FLOOR];
    floor_rate[run] = (double)length / fl->seconds / 1e6;
    floor_hit[run] = (double)fl->hits / (double)length;
    note_other(fl, &max_other);
    floor_impl.destroy(fl->cache);
    for (int threads = 1; threads <= 2; threads++) {
      w1_config_t *l = &w[W1_LOOKUPS + threads - 1];
      lookups_rate[threads - 1][run] = (double)length / l->seconds / 1e6;
      if (threads == 1)
        lookups_hit[run] = (double)l->hits / (double)length;
      note_other(l, &max_other);
      libcache_impl.destroy(l->cache);
    }
    for (int i = 0; i < 2 * W1_N_POLICIES; i++) {
      w1_config_t *pc = &w[W1_POLICIES + i];
      pol_rate[i / 2][i % 2][run] = (double)length / pc->seconds / 1e6;
      if (i % 2 == 0)
        pol_hit[i / 2][run] = (double)pc->hits / (double)length;
      note_other(pc, &max_other);
      libcache_impl.destroy(pc->cache);
    }
    printf("  M/s; two libcache 1T copies at once %6.3f (x%.2f); floor 1T "
           "%6.3f; libcache lookups alone 1T %6.3f 2T %6.3f (x%.2f); handoff "
           "%.0f ns; shared-read scaling x%.2f\n",
           copies[run], copies_ratio[run], floor_rate[run],
           lookups_rate[0][run], lookups_rate[1][run],
           lookups_rate[1][run] / lookups_rate[0][run], handoff[run],
           scaling[run]);
    printf("       libcache by policy, M/s:");
    for (int p = 0; p < W1_N_POLICIES; p++)
      printf("  %s 1T %6.3f 2T %6.3f (x%.2f)",
             cache_policy_name(w1_policies[p]), pol_rate[p][0][run],
             pol_rate[p][1][run], pol_rate[p][1][run] / pol_rate[p][0][run]);
    printf("\n");
  }
  free(lines);

  printf("core-to-core handoff at the start of each run: %.0f..%.0f ns "
         "(median %.0f)\n",
         min_of(handoff, (size_t)runs), max_of(handoff, (size_t)runs),
         median(handoff, (size_t)runs));
  printf("other processes took up to %.2f CPU during a timed pass%s\n",
         max_other,
         max_other > 0.1 ? ": the machine was NOT quiet, compare with care"
                         : " (quiet)");

  double med_rate[N_RIVALS][2];
  printf("\nimpl      policy  threads   Mreq/s  (min..max)        hit ratio\n");
  for (int which = 0; which < N_RIVALS; which++) {
    for (int threads = 1; threads <= 2; threads++) {
      double *v = rate[which][threads - 1];
      double lo = min_of(v, (size_t)runs), hi = max_of(v, (size_t)runs);
      double m = median(v, (size_t)runs);
      double h = median(hit[which][threads - 1], (size_t)runs);
      med_rate[which][threads - 1] = m;
      printf("%-9s %-7s %7d %8.3f  (%.3f..%.3f) %10.4f\n", impls[which]->name,
             policy_of(impls[which]), threads, m, lo, hi, h);
    }
  }

  /* libcache's 2 threads over its 1, then libcache over each other cache
   * at 2 threads and at 1. */
  struct {
    char name[48];
    double value;
  } ratios[1 + 2 * (N_RIVALS - 1)];
  int n_ratios = 0;
  snprintf(ratios[n_ratios].name, sizeof ratios[0].name,
           "libcache_2t/libcache_1t");
  ratios[n_ratios++].value = med_rate[0][1] / med_rate[0][0];
  for (int which = 1; which < N_RIVALS; which++)
    for (int threads = 2; threads >= 1; threads--) {
      snprintf(ratios[n_ratios].name, sizeof ratios[0].name,
               "libcache_%dt/%s_%dt", threads, impls[which]->name, threads);
      ratios[n_ratios++].value =
          med_rate[0][threads - 1] / med_rate[which][threads - 1];
    }
  printf("\nratios of the medians:\n");
  for (int i = 0; i < n_ratios; i++)
    printf("  %-24s %6.3f\n", ratios[i].name, ratios[i].value);
  double med_copies = median(copies, (size_t)runs);
  double med_copies_ratio = median(copies_ratio, (size_t)runs);
  double med_scaling = median(scaling, (size_t)runs);
  printf("\ntwo copies: two libcache 1-thread runs at once, each on a cache "
         "of its own,\n%.3f M/s in all (%.3f..%.3f), %.3f times the 1-thread "
         "rate (%.2f..%.2f);\nlibcache's 2 threads on one cache reach %.2f "
         "of that\n",
         med_copies, min_of(copies, (size_t)runs), max_of(copies, (size_t)runs),
         med_copies_ratio, min_of(copies_ratio, (size_t)runs),
         max_of(copies_ratio, (size_t)runs), med_rate[0][1] / med_copies);
  double med_floor = median(floor_rate, (size_t)runs);
  double med_floor_hit = median(floor_hit, (size_t)runs);
  printf("floor: one thread on a table of 8-way sets with the entries inside "
         "it, no lock,\nno policy past the set's LRU (bench/floor.h), %.3f "
         "M/s (%.3f..%.3f), hit ratio %.4f:\n%.3f times the baseline's 1 "
         "thread; libcache's 1 thread reaches %.2f of it\n",
         med_floor, min_of(floor_rate, (size_t)runs),
         max_of(floor_rate, (size_t)runs), med_floor_hit,
         med_floor / med_rate[1][0], med_rate[0][0] / med_floor);
  double med_lookups[2] = {median(lookups_rate[0], (size_t)runs),
                           median(lookups_rate[1], (size_t)runs)};
  double med_lookups_hit = median(lookups_hit, (size_t)runs);
  printf("lookups alone: libcache's W1 with no set after a miss, on a cache "
         "left as its\nwarm-up pass filled it (hit ratio %.4f): 1 thread "
         "%.3f M/s, 2 threads %.3f M/s,\n%.3f times 1 thread (with the sets: "
         "%.3f times)\n",
         med_lookups_hit, med_lookups[0], med_lookups[1],
         med_lookups[1] / med_lookups[0], med_rate[0][1] / med_rate[0][0]);
  double med_pol[W1_N_POLICIES][2], med_pol_hit[W1_N_POLICIES];
  printf("libcache by policy: the same W1, 1 and 2 threads (M/s, median), "
         "the 2-thread\nrate over the 1-thread rate, and the hit ratio:\n");
  printf("  %-8s %8.3f %8.3f  x%.3f  %.4f\n", policy_of(&libcache_impl),
         med_rate[0][0], med_rate[0][1], med_rate[0][1] / med_rate[0][0],
         median(hit[0][0], (size_t)runs));
  for (int p = 0; p < W1_N_POLICIES; p++) {
    for (int threads = 1; threads <= 2; threads++)
      med_pol[p][threads - 1] = median(pol_rate[p][threads - 1], (size_t)runs);
    med_pol_hit[p] = median(pol_hit[p], (size_t)runs);
    printf("  %-8s %8.3f %8.3f  x%.3f  %.4f\n",
           cache_policy_name(w1_policies[p]), med_pol[p][0], med_pol[p][1],
           med_pol[p][1] / med_pol[p][0], med_pol_hit[p]);
  }
  printf("shared-read scaling: two threads that format W1 keys and read "
         "random lines of\none shared 19 MB array, writing nothing shared, "
         "%.3f times one such thread (%.2f..%.2f)\n",
         med_scaling, min_of(scaling, (size_t)runs),
         max_of(scaling, (size_t)runs));

  printf("\nget latency, 1 thread, every 16th request of a third pass (ns, "
         "median over runs;\none clock_gettime included, about %" PRIu64
         " ns here):\n",
         timer_overhead_ns());
  printf("impl          p50      p99\n");
  double med_p50[N_RIVALS], med_p99[N_RIVALS];
  for (int which = 0; which < N_RIVALS; which++) {
    med_p50[which] = median(p50[which], (size_t)runs);
    med_p99[which] = median(p99[which], (size_t)runs);
    printf("%-9s %8.0f %8.0f\n", impls[which]->name, med_p50[which],
           med_p99[which]);
  }

  printf("\n");
  for (int which = 0; which < N_RIVALS; which++)
    for (int threads = 1; threads <= 2; threads++)
      printf("{\"workload\":\"w1\",\"impl\":\"%s\",\"policy\":\"%s\","
             "\"threads\":%d,\"runs\":%d,\"mreq_per_s\":%.4f,"
             "\"hit_ratio\":%.4f,\"other_cpu_max\":%.2f}\n",
             impls[which]->name, policy_of(impls[which]), threads, runs,
             med_rate[which][threads - 1],
             median(hit[which][threads - 1], (size_t)runs), max_other);
  for (int i = 0; i < n_ratios; i++)
    printf("{\"workload\":\"w1_ratio\",\"ratio\":\"%s\",\"value\":%.4f}\n",
           ratios[i].name, ratios[i].value);
  printf("{\"workload\":\"w1_copies\",\"impl\":\"libcache\",\"copies\":2,"
         "\"runs\":%d,\"mreq_per_s\":%.4f,\"ratio_to_1t\":%.4f,"
         "\"libcache_2t_share\":%.4f}\n",
         runs, med_copies, med_copies_ratio, med_rate[0][1] / med_copies);
  printf("{\"workload\":\"w1_floor\",\"impl\":\"floor\",\"policy\":"
         "\"lru-8way\",\"threads\":1,\"runs\":%d,\"mreq_per_s\":%.4f,"
         "\"hit_ratio\":%.4f,\"ratio_to_baseline_1t\":%.4f,"
         "\"libcache_1t_share\":%.4f}\n",
         runs, med_floor, med_floor_hit, med_floor / med_rate[1][0],
         med_rate[0][0] / med_floor);
  printf("{\"workload\":\"w1_lookups\",\"impl\":\"libcache\",\"policy\":"
         "\"tinylfu\",\"runs\":%d,\"mreq_per_s_1t\":%.4f,\"mreq_per_s_2t\":"
         "%.4f,\"ratio_2t_1t\":%.4f,\"hit_ratio\":%.4f}\n",
         runs, med_lookups[0], med_lookups[1], med_lookups[1] / med_lookups[0],
         med_lookups_hit);
  for (int p = 0; p < W1_N_POLICIES; p++)
    printf("{\"workload\":\"w1_policy\",\"impl\":\"libcache\",\"policy\":"
           "\"%s\",\"runs\":%d,\"mreq_per_s_1t\":%.4f,\"mreq_per_s_2t\":"
           "%.4f,\"ratio_2t_1t\":%.4f,\"hit_ratio\":%.4f}\n",
           cache_policy_name(w1_policies[p]), runs, med_pol[p][0],
           med_pol[p][1], med_pol[p][1] / med_pol[p][0], med_pol_hit[p]);
  printf("{\"workload\":\"w1_scaling\",\"runs\":%d,\"ratio\":%.4f,"
         "\"min\":%.4f,\"max\":%.4f}\n",
         runs, med_scaling, min_of(scaling, (size_t)runs),
         max_of(scaling, (size_t)runs));
  printf("{\"workload\":\"w1_handoff\",\"runs\":%d,\"median_ns\":%.0f,"
         "\"min_ns\":%.0f,\"max_ns\":%.0f}\n",
         runs, median(handoff, (size_t)runs), min_of(handoff, (size_t)runs),
         max_of(handoff, (size_t)runs));
  for (int which = 0; which < N_RIVALS; which++)
    printf("{\"workload\":\"w1_latency\",\"impl\":\"%s\",\"policy\":\"%s\","
           "\"threads\":1,\"p50_ns\":%.0f,\"p99_ns\":%.0f}\n",
           impls[which]->name, policy_of(impls[which]), med_p50[which],
           med_p99[which]);
  free(trace);
}

/* ======================================================================
 * Expiry: one pass over a large cache, and gets while passes run
 * ====================================================================== */

#define LONG_TTL_MS (24u * 3600u * 1000u)
#define SHORT_TTL_MS 1000u
#define STALL_NS 100000u /* a get slower than 100 us counts as a stall */

static uint64_t manual_clock(void *ctx) {
  return atomic_load_explicit((_Atomic uint64_t *)ctx, memory_order_relaxed);
}

/* Is id one of the entries inserted with the short TTL? */
static bool is_short_lived(uint32_t id) { return id % 1000 == 999; }

typedef struct expiry_reader {
  const impl_t *impl;
  void *cache;
  uint32_t entries; /* ids 0..entries-1 were inserted */
  double seconds;   /* how long to read */
  uint64_t *samples;
  size_t max_samples, n_samples;
  uint64_t misses;
  uint64_t elapsed_ns;
} expiry_reader_t;

/* Gets of random live keys for r->seconds, each one timed. */
static void *expiry_reader_main(void *arg) {
  expiry_reader_t *r = arg;
  unsigned char buf[VALUE_LEN];
  char key[32];
  size_t len;
  uint64_t state = 12345;
  uint64_t start = now_ns(), t1 = start;
  uint64_t end = start + (uint64_t)(r->seconds * 1e9);
  r->n_samples = 0;
  r->misses = 0;
  while (r->n_samples < r->max_samples && t1 < end) {
    uint32_t id = (uint32_t)(splitmix64(&state) % r->entries);
    if (is_short_lived(id))
      id--;
    format_key(key, sizeof key, 'k', id);
    uint64_t t0 = now_ns();
    int rc = r->impl->get(r->cache, key, KEY_LEN, buf, sizeof buf, &len);
    t1 = now_ns();
    r->samples[r->n_samples++] = t1 - t0;
    if (rc != CACHE_OK)
      r->misses++;
  }
  r->elapsed_ns = t1 - start;
  return NULL;
}

typedef struct expiry_passer {
  const impl_t *impl;
  void *cache;
  _Atomic uint64_t *clock;
  atomic_bool stop;
  uint64_t *pass_ns;
  size_t max_passes, passes;
  uint64_t wrong; /* passes that did not remove 1000 */
} expiry_passer_t;

/* loop { insert 1000 entries with ttl 1; advance the clock by 2; pass } */
static void *expiry_passer_main(void *arg) {
  expiry_passer_t *p = arg;
  unsigned char value[VALUE_LEN];
  char key[32];
  uint32_t next_id = 0;
  memset(value, 'x', sizeof value);
  p->passes = 0;
  while (!atomic_load(&p->stop) && p->passes < p->max_passes) {
    for (int i = 0; i < 1000; i++) {
      format_key(key, sizeof key, 'x', next_id++);
      int rc = p->impl->set(p->cache, key, KEY_LEN, value, VALUE_LEN, 1);
      if (rc != CACHE_OK)
        die("%s set: %s", p->impl->name, cache_strerror(rc));
    }
    atomic_fetch_add(p->clock, 2);
    uint64_t removed = 0;
    uint64_t t0 = now_ns();
    int rc = p->impl->cleanup(p->cache, &removed);
    p->pass_ns[p->passes++] = now_ns() - t0;
    if (rc != CACHE_OK)
      die("%s cleanup: %s", p->impl->name, cache_strerror(rc));
    if (removed != 1000)
      p->wrong++;
  }
  return NULL;
}

/* What the reader saw in one phase. */
typedef struct read_stats {
  size_t gets;
  double gets_per_s;
  uint64_t p50, p99, p999, max;
  double stalled;    /* share of the time spent in gets over STALL_NS */
  double other_cpus; /* used by other processes meanwhile */
} read_stats_t;

static read_stats_t read_stats_of(expiry_reader_t *r, double other) {
  read_stats_t st = {.gets = r->n_samples, .other_cpus = other};
  uint64_t stalled_ns = 0;
  for (size_t i = 0; i < r->n_samples; i++)
    if (r->samples[i] > STALL_NS)
      stalled_ns += r->samples[i];
  st.gets_per_s = (double)r->n_samples / ((double)r->elapsed_ns / 1e9);
  st.stalled = (double)stalled_ns / (double)r->elapsed_ns;
  st.p50 = percentile(r->samples, r->n_samples, 0.50);
  st.p99 = percentile(r->samples, r->n_samples, 0.99);
  st.p999 = percentile(r->samples, r->n_samples, 0.999);
  st.max = percentile(r->samples, r->n_samples, 1.0);
  return st;
}

static void print_read_row(const impl_t *impl, const char *phase,
                           const read_stats_t *st) {
  printf("%-9s %-14s %9.0f %6" PRIu64 " %7" PRIu64 " %8" PRIu64 " %10" PRIu64
         " %7.1f%% %6.2f\n",
         impl->name, phase, st->gets_per_s, st->p50, st->p99, st->p999, st->max,
         100 * st->stalled, st->other_cpus);
}

static void print_read_json(const impl_t *impl, const char *phase,
                            const read_stats_t *st, double pass_ms) {
  printf("{\"workload\":\"expiry\",\"impl\":\"%s\",\"policy\":\"%s\","
         "\"phase\":\"%s\",\"threads\":1,\"gets\":%zu,\"gets_per_s\":%.0f,"
         "\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"p999_ns\":%" PRIu64
         ",\"max_ns\":%" PRIu64 ",\"stalled\":%.4f",
         impl->name, policy_of(impl), phase, st->gets, st->gets_per_s, st->p50,
         st->p99, st->p999, st->max, st->stalled);
  if (pass_ms >= 0)
    printf(",\"pass_ms\":%.3f", pass_ms);
  printf(",\"other_cpu\":%.2f}\n", st->other_cpus);
}

typedef struct expiry_result {
  uint32_t expected;
  uint64_t removed;
  double pass_ms;
  read_stats_t idle, busy;
  size_t passes;
  double pass_med_ms, pass_max_ms;
} expiry_result_t;

static expiry_result_t run_expiry_one(const impl_t *impl, uint32_t entries,
                                      double seconds) {
  expiry_result_t res = {0};
  _Atomic uint64_t fake_now = 1000000;
  bench_config_t cfg = {.max_entries = 2 * (uint64_t)entries,
                        .ttl_ms = 0,
                        .policy = -1,
                        .clock_ms = manual_clock,
                        .clock_ctx = &fake_now};
  void *cache = impl->create(&cfg);
  unsigned char value[VALUE_LEN];
  char key[32];
  memset(value, 'v', sizeof value);

  for (uint32_t id = 0; id < entries; id++) {
    format_key(key, sizeof key, 'k', id);
    bool short_lived = is_short_lived(id);
    res.expected += short_lived;
    int rc = impl->set(cache, key, KEY_LEN, value, VALUE_LEN,
                       short_lived ? SHORT_TTL_MS : LONG_TTL_MS);
    if (rc != CACHE_OK)
      die("%s set: %s", impl->name, cache_strerror(rc));
  }
  atomic_fetch_add(&fake_now, SHORT_TTL_MS + 1000);

  /* One pass with `expected` entries to remove. */
  uint64_t t0 = now_ns();
  int rc = impl->cleanup(cache, &res.removed);
  res.pass_ms = (double)(now_ns() - t0) / 1e6;
  if (rc != CACHE_OK)
    die("%s cleanup: %s", impl->name, cache_strerror(rc));

  /* (a) gets with no pass running */
  expiry_reader_t reader = {.impl = impl,
                            .cache = cache,
                            .entries = entries,
                            .seconds = seconds,
                            .max_samples = 8000000};
  reader.samples = xmalloc(reader.max_samples * sizeof *reader.samples);
  pthread_t reader_tid, passer_tid;
  cpu_sample_t before = cpu_sample();
  if (pthread_create(&reader_tid, NULL, expiry_reader_main, &reader) != 0)
    die("pthread_create failed");
  pthread_join(reader_tid, NULL);
  cpu_sample_t after = cpu_sample();
  uint64_t idle_misses = reader.misses;
  res.idle = read_stats_of(&reader, other_cpus(&before, &after));

  /* (b) the same gets while another thread keeps running passes. Its
   * CPU does not count as "other": it is this process. */
  expiry_passer_t passer = {
      .impl = impl, .cache = cache, .clock = &fake_now, .max_passes = 1000000};
  atomic_init(&passer.stop, false);
  passer.pass_ns = xmalloc(passer.max_passes * sizeof *passer.pass_ns);
  before = cpu_sample();
  if (pthread_create(&passer_tid, NULL, expiry_passer_main, &passer) != 0 ||
      pthread_create(&reader_tid, NULL, expiry_reader_main, &reader) != 0)
    die("pthread_create failed");
  pthread_join(reader_tid, NULL);
  atomic_store(&passer.stop, true);
  pthread_join(passer_tid, NULL);
  after = cpu_sample();
  res.busy = read_stats_of(&reader, other_cpus(&before, &after));
  res.passes = passer.passes;
  res.pass_med_ms =
      (double)percentile(passer.pass_ns, passer.passes, 0.5) / 1e6;
  res.pass_max_ms =
      (double)percentile(passer.pass_ns, passer.passes, 1.0) / 1e6;

  if (res.removed != res.expected || idle_misses || reader.misses ||
      passer.wrong) {
    failures++;
    fprintf(stderr,
            "cache-bench: %s expiry: removed %" PRIu64 " (expected %u), "
            "misses on live keys %" PRIu64 " idle / %" PRIu64
            " during passes, %" PRIu64 " passes removed other than 1000\n",
            impl->name, res.removed, res.expected, idle_misses, reader.misses,
            passer.wrong);
  }
  free(passer.pass_ns);
  free(reader.samples);
  impl->destroy(cache);
  return res;
}

static void run_expiry(bool quick) {
  uint32_t entries = quick ? 100000 : 1000000;
  double seconds = quick ? 0.3 : 2.0;
  printf("\n== Expiry pass ==\n");
  printf("%u entries (16 B key, 64 B value), %u of them with a 1 s ttl, the "
         "rest 24 h; manual clock\nmoved 2 s on; then one timed expiry pass. "
         "Then %.1f s of timed gets on random live keys\nfrom one thread: "
         "idle, and while a second thread loops { set 1000 entries with ttl "
         "1 ms;\nadvance the clock 2 ms; expiry pass }.\n",
         entries, entries / 1000, seconds);
  const impl_t *impls[2] = {&libcache_impl, &baseline_impl};
  expiry_result_t res[2];
  for (int i = 0; i < 2; i++)
    res[i] = run_expiry_one(impls[i], entries, seconds);

  printf("\none pass:\nimpl       pass ms  removed  expected\n");
  for (int i = 0; i < 2; i++)
    printf("%-9s %8.3f %8" PRIu64 " %9u%s\n", impls[i]->name, res[i].pass_ms,
           res[i].removed, res[i].expected,
           res[i].removed == res[i].expected ? "" : "  MISMATCH");

  printf("\ngets on live keys (ns, one clock_gettime included); stalled = "
         "share of the time\nspent in gets over %u us; others = CPUs other "
         "processes took meanwhile:\n",
         STALL_NS / 1000);
  printf("%-9s %-14s %9s %6s %7s %8s %10s %8s %6s\n", "impl", "phase", "gets/s",
         "p50", "p99", "p99.9", "max", "stalled", "others");
  for (int i = 0; i < 2; i++) {
    print_read_row(impls[i], "idle", &res[i].idle);
    print_read_row(impls[i], "passes running", &res[i].busy);
  }
  printf("\npasses while reading:\nimpl      passes   med ms   max ms\n");
  for (int i = 0; i < 2; i++)
    printf("%-9s %6zu %8.3f %8.3f\n", impls[i]->name, res[i].passes,
           res[i].pass_med_ms, res[i].pass_max_ms);
  printf("(the baseline's pass scans the whole table under its one lock; a "
         "reader blocked\nbehind a pass records one slow get per pass, so "
         "look at max and stalled, not only p99)\n\n");

  for (int i = 0; i < 2; i++) {
    printf("{\"workload\":\"expiry\",\"impl\":\"%s\",\"policy\":\"%s\","
           "\"phase\":\"pass\",\"entries\":%u,\"expired\":%u,"
           "\"removed\":%" PRIu64 ",\"pass_ms\":%.3f}\n",
           impls[i]->name, policy_of(impls[i]), entries, res[i].expected,
           res[i].removed, res[i].pass_ms);
    print_read_json(impls[i], "idle", &res[i].idle, -1);
    print_read_json(impls[i], "during_passes", &res[i].busy,
                    res[i].pass_med_ms);
  }
}

/* ======================================================================
 * W2: resident memory per entry, each cache in a fresh process
 * ====================================================================== */

static long resident_pages(void) {
  long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2)
    die("cannot read /proc/self/statm");
  fclose(f);
  return resident;
}

/* Runs in the child: prints "<bytes per entry> <accounted bytes>". */
static int w2_child(const char *name, uint32_t entries) {
  const impl_t *impl = NULL;
  for (int i = 0; i < N_RIVALS; i++)
    if (strcmp(name, rivals[i]->name) == 0)
      impl = rivals[i];
  if (impl == NULL)
    die("no cache named %s", name);
  unsigned char value[VALUE_LEN];
  char key[32];
  memset(value, 'v', sizeof value);

  long before = resident_pages();
  bench_config_t cfg = {.max_entries = entries, .policy = -1};
  void *cache = impl->create(&cfg);
  for (uint32_t id = 0; id < entries; id++) {
    format_key(key, sizeof key, 'k', id);
    int rc = impl->set(cache, key, KEY_LEN, value, VALUE_LEN, 0);
    if (rc != CACHE_OK)
      die("%s set: %s", impl->name, cache_strerror(rc));
  }
  long after = resident_pages();

  uint64_t count, accounted = 0;
  if (impl == &libcache_impl) {
    cache_stats_t stats = {.struct_size = sizeof stats};
    cache_stats(cache, &stats);
    count = stats.entries;
    accounted = stats.bytes;
  } else if (impl == &baseline_impl) {
    count = ((baseline_t *)cache)->count;
  } else {
#ifdef BENCH_HAVE_UTHASH
    count = ut_count(cache);
#else
    count = 0; /* not reached: no other cache */
#endif
  }
  if (count != entries)
    die("%s holds %" PRIu64 " entries, not %u", impl->name, count, entries);
  double per_entry = (double)(after - before) * (double)sysconf(_SC_PAGESIZE) /
                     (double)entries;
  printf("%.2f %.2f\n", per_entry, (double)accounted / (double)entries);
  fflush(stdout);
  impl->destroy(cache);
  return 0;
}

/* Runs this program again as "--w2-child impl entries" and reads its
 * answer. Returns false if the child failed. */
static bool w2_measure(const char *name, uint32_t entries, double *per_entry,
                       double *accounted) {
  int fd[2];
  if (pipe(fd) != 0)
    die("pipe failed");
  pid_t pid = fork();
  if (pid < 0)
    die("fork failed");
  if (pid == 0) {
    char count[16];
    snprintf(count, sizeof count, "%u", (unsigned)entries);
    dup2(fd[1], STDOUT_FILENO);
    close(fd[0]);
    close(fd[1]);
    execl("/proc/self/exe", "cache-bench", "--w2-child", name, count,
          (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  int got = fscanf(f, "%lf %lf", per_entry, accounted);
  fclose(f);
  int status;
  waitpid(pid, &status, 0);
  return got == 2 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void run_w2(bool quick) {
  uint32_t entries = quick ? 100000 : 1000000;
  printf("\n== W2: memory per entry ==\n");
  printf("%u entries (16 B key + 64 B value = 80 B) into a cache bounded at "
         "%u, each cache\nin a fresh process; (resident after - before) / "
         "entries\n",
         entries, entries);
  printf("\nimpl      policy  bytes/entry  overhead  accounted by "
         "cache_stats\n");
  const impl_t *const *impls = rivals;
  double per_entry[N_RIVALS], accounted[N_RIVALS];
  bool ok[N_RIVALS];
  for (int i = 0; i < N_RIVALS; i++) {
    ok[i] = w2_measure(impls[i]->name, entries, &per_entry[i], &accounted[i]);
    if (!ok[i]) {
      failures++;
      printf("%-9s %-7s FAILED\n", impls[i]->name, policy_of(impls[i]));
      continue;
    }
    printf("%-9s %-7s %11.1f %9.1f", impls[i]->name, policy_of(impls[i]),
           per_entry[i], per_entry[i] - (KEY_LEN + VALUE_LEN));
    if (impls[i] == &libcache_impl)
      printf("  %10.1f", accounted[i]);
    else
      printf("  %10s", "-");
    printf("\n");
  }
  printf("\n");
  for (int i = 0; i < N_RIVALS; i++)
    if (ok[i])
      printf("{\"workload\":\"w2\",\"impl\":\"%s\",\"policy\":\"%s\","
             "\"entries\":%u,\"bytes_per_entry\":%.1f}\n",
             impls[i]->name, policy_of(impls[i]), entries, per_entry[i]);
}

/* ======================================================================
 * W3: hit ratio of each policy
 * ====================================================================== */

typedef struct policy_desc {
  int value;
  const char *text;
} policy_desc_t;

static const policy_desc_t libcache_policies[] = {
#define POLICY_DESC(name, value, text) {value, text},
    CACHE_POLICY_MAP(POLICY_DESC)
#undef POLICY_DESC
};

#define N_POLICIES (sizeof libcache_policies / sizeof libcache_policies[0])

/* libCacheSim's figures from WORKLOAD.md, for the full W3 trace. */
static const struct {
  const char *text;
  double ratio[4];
} reference[] = {
    {"fifo", {0.4432, 0.6058, 0.6814, 0.7613}},
    {"lru", {0.4843, 0.6448, 0.7182, 0.7940}},
};

static double w3_hit_ratio(const impl_t *impl, int policy, uint64_t size,
                           const uint32_t *trace, size_t length) {
  bench_config_t cfg = {.max_entries = size, .policy = policy};
  void *cache = impl->create(&cfg);
  unsigned char value[VALUE_LEN];
  char key[32];
  memset(value, 'v', sizeof value);
  uint64_t hits = 0;
  for (size_t i = 0; i < length; i++) {
    format_key(key, sizeof key, 'k', trace[i]);
    hits += read_through(impl, cache, key, value);
  }
  impl->destroy(cache);
  return (double)hits / (double)length;
}

static void run_w3(bool quick) {
  const uint32_t n = 100000;
  const size_t length = quick ? 200000 : 2000000;
  const int percent[4] = {1, 5, 10, 20};
  uint32_t *trace = zipf_trace(n, length, 0.99, 7);

  bool *seen = calloc(n, sizeof *seen);
  if (seen == NULL)
    die("out of memory");
  uint64_t distinct = 0;
  for (size_t i = 0; i < length; i++)
    if (!seen[trace[i]]) {
      seen[trace[i]] = true;
      distinct++;
    }
  free(seen);

  uint64_t size[4];
  for (int j = 0; j < 4; j++)
    size[j] = distinct * (uint64_t)percent[j] / 100;

  printf("\n== W3: hit ratio ==\n");
  printf("trace zipf(%u, %zu, 0.99, 7): %" PRIu64 " distinct ids; "
         "read-through, 1 thread, no warm-up excluded\n",
         n, length, distinct);
  printf("\nimpl         policy  %8s %8s %8s %8s   (entries: 1%% 5%% 10%% "
         "20%% of distinct)\n",
         "1%", "5%", "10%", "20%");
  printf("%-12s %-7s", "", "");
  for (int j = 0; j < 4; j++)
    printf(" %8" PRIu64, size[j]);
  printf("\n");

  double ratio[N_POLICIES + 1][4];
  for (size_t p = 0; p <= N_POLICIES; p++) {
    bool is_baseline = p == N_POLICIES;
    const impl_t *impl = is_baseline ? &baseline_impl : &libcache_impl;
    const char *text = is_baseline ? "lru" : libcache_policies[p].text;
    int policy = is_baseline ? -1 : libcache_policies[p].value;
    printf("%-12s %-7s", impl->name, text);
    for (int j = 0; j < 4; j++) {
      ratio[p][j] = w3_hit_ratio(impl, policy, size[j], trace, length);
      printf(" %8.4f", ratio[p][j]);
      fflush(stdout);
    }
    printf("\n");
  }
  if (!quick)
    for (size_t k = 0; k < sizeof reference / sizeof reference[0]; k++)
      printf("%-12s %-7s %8.4f %8.4f %8.4f %8.4f   (reference)\n",
             "libCacheSim", reference[k].text, reference[k].ratio[0],
             reference[k].ratio[1], reference[k].ratio[2],
             reference[k].ratio[3]);

  printf("\n");
  for (size_t p = 0; p <= N_POLICIES; p++) {
    bool is_baseline = p == N_POLICIES;
    for (int j = 0; j < 4; j++)
      printf("{\"workload\":\"w3\",\"impl\":\"%s\",\"policy\":\"%s\","
             "\"threads\":1,\"cache_pct\":%d,\"max_entries\":%" PRIu64
             ",\"hit_ratio\":%.4f}\n",
             is_baseline ? "baseline" : "libcache",
             is_baseline ? "lru" : libcache_policies[p].text, percent[j],
             size[j], ratio[p][j]);
  }
  free(trace);
}

/* ======================================================================
 * traces: hit ratio on synthetic traces other than plain Zipf
 *
 * W3 alone rewards a policy tuned to Zipf. Each trace here stresses
 * something Zipf does not: one-off scans that flush a recency-only cache,
 * a loop a little larger than most of the caches (LRU and FIFO keep none
 * of it), a popular set that moves (old frequency counts mislead), and a
 * flatter Zipf where frequency tells less. Everything is deterministic;
 * the seeds (101, 102, 11) differ from W1's (42) and W3's (7).
 * ====================================================================== */

/* The texts in synthetic_traces[] quote these numbers. */
enum {
  TR_IDS = 100000,         /* Zipf ids of scan, shift and zipf07 */
  TR_SCAN_EVERY = 50000,   /* scan: Zipf requests before each scan */
  TR_SCAN_LENGTH = 20000,  /* scan: ids in one scan */
  TR_SCAN_FIRST = 1000000, /* scan: first scan id, clear of the Zipf ids */
  TR_LOOP_LENGTH = 12000,  /* loop: more than all but the largest cache */
  TR_SHIFT_PHASES = 8,     /* shift: phases of equal length */
  TR_SHIFT_STEP = 12345,   /* shift: how far the ids move each phase */
  TR_SIZES = 4
};

/* Fixed sizes, the same for every trace so that a row reads across them:
 * three below the loop's length, one above it. */
static const uint64_t tr_sizes[TR_SIZES] = {1000, 5000, 10000, 20000};

/* The first requests of zipf(TR_IDS, R, 0.99, 101), with after every
 * TR_SCAN_EVERY of them a scan of TR_SCAN_LENGTH new ids in order. A scan
 * id is never requested again, so a policy that lets a scan push out the
 * hot ids pays for it after every scan. */
static uint32_t *scan_trace(size_t length) {
  uint32_t *zipf = zipf_trace(TR_IDS, length, 0.99, 101);
  uint32_t *ids = xmalloc(length * sizeof *ids);
  uint32_t next_scan_id = TR_SCAN_FIRST;
  size_t next_zipf = 0;
  for (size_t i = 0; i < length; i++) {
    if (i % (TR_SCAN_EVERY + TR_SCAN_LENGTH) < TR_SCAN_EVERY)
      ids[i] = zipf[next_zipf++];
    else
      ids[i] = next_scan_id++;
  }
  free(zipf);
  return ids;
}

/* Ids 0 .. TR_LOOP_LENGTH - 1 in order, over and over. A cache smaller
 * than the loop under LRU or FIFO always evicts the id needed next. */
static uint32_t *loop_trace(size_t length) {
  uint32_t *ids = xmalloc(length * sizeof *ids);
  for (size_t i = 0; i < length; i++)
    ids[i] = (uint32_t)(i % TR_LOOP_LENGTH);
  return ids;
}

/* zipf(TR_IDS, R, 0.99, 102) in TR_SHIFT_PHASES phases of equal length;
 * in phase k the id is (zipf id + k * TR_SHIFT_STEP) mod TR_IDS, so each
 * phase has its own hot set and what was hot before is now cold. */
static uint32_t *shift_trace(size_t length) {
  uint32_t *ids = zipf_trace(TR_IDS, length, 0.99, 102);
  for (size_t i = 0; i < length; i++) {
    uint64_t phase = (uint64_t)i * TR_SHIFT_PHASES / length;
    ids[i] = (uint32_t)((ids[i] + phase * TR_SHIFT_STEP) % TR_IDS);
  }
  return ids;
}

/* zipf(TR_IDS, R, 0.7, 11): a long tail, few ids much hotter than others. */
static uint32_t *zipf07_trace(size_t length) {
  return zipf_trace(TR_IDS, length, 0.7, 11);
}

typedef struct synthetic_trace {
  const char *name;
  size_t length; /* requests; --quick takes a tenth */
  uint32_t *(*make)(size_t length);
  const char *about;
} synthetic_trace_t;

static const synthetic_trace_t synthetic_traces[] = {
    {"scan", 2000000, scan_trace,
     "zipf(100000, R, 0.99, 101), and after every 50000 of its requests a "
     "scan\n  of 20000 new ids (from 1000000 up), each requested once"},
    {"loop", 1000000, loop_trace, "ids 0..11999 in order, over and over"},
    {"shift", 2000000, shift_trace,
     "zipf(100000, R, 0.99, 102) in 8 phases of equal length; in phase k "
     "the id\n  is (zipf id + k * 12345) mod 100000: the hot set moves"},
    {"zipf07", 2000000, zipf07_trace, "zipf(100000, R, 0.7, 11)"},
};

#define N_TRACES (sizeof synthetic_traces / sizeof synthetic_traces[0])

/* Row p of a traces table: libcache under libcache_policies[p], and after
 * them (p == N_POLICIES) the baseline's LRU. */
static const impl_t *tr_impl(size_t p) {
  return p < N_POLICIES ? &libcache_impl : &baseline_impl;
}

static const char *tr_policy_text(size_t p) {
  return p < N_POLICIES ? libcache_policies[p].text : "lru";
}

static int tr_policy(size_t p) {
  return p < N_POLICIES ? libcache_policies[p].value : -1;
}

static uint64_t distinct_ids(const uint32_t *ids, size_t length) {
  uint32_t max = 0;
  for (size_t i = 0; i < length; i++)
    max = ids[i] > max ? ids[i] : max;
  bool *seen = calloc((size_t)max + 1, sizeof *seen);
  if (seen == NULL)
    die("out of memory");
  uint64_t distinct = 0;
  for (size_t i = 0; i < length; i++)
    if (!seen[ids[i]]) {
      seen[ids[i]] = true;
      distinct++;
    }
  free(seen);
  return distinct;
}

/* Prints the table of one trace and fills ratio[p][j] for row p and
 * tr_sizes[j]. */
static void traces_table(const synthetic_trace_t *tr, size_t length,
                         double ratio[][TR_SIZES]) {
  uint32_t *ids = tr->make(length);
  printf("\n%s: %s\n  %zu requests, %" PRIu64 " distinct ids\n", tr->name,
         tr->about, length, distinct_ids(ids, length));
  printf("%-12s %-7s", "impl", "policy");
  for (int j = 0; j < TR_SIZES; j++)
    printf(" %8" PRIu64, tr_sizes[j]);
  printf("\n");
  for (size_t p = 0; p <= N_POLICIES; p++) {
    printf("%-12s %-7s", tr_impl(p)->name, tr_policy_text(p));
    for (int j = 0; j < TR_SIZES; j++) {
      ratio[p][j] =
          w3_hit_ratio(tr_impl(p), tr_policy(p), tr_sizes[j], ids, length);
      printf(" %8.4f", ratio[p][j]);
      fflush(stdout);
    }
    printf("\n");
  }
  free(ids);
}

static void run_traces(bool quick) {
  double ratio[N_TRACES][N_POLICIES + 1][TR_SIZES];
  printf("\n== traces: hit ratio on synthetic traces ==\n");
  printf("read-through from cold, 1 thread, no warm-up excluded; every trace "
         "at the same\ncache sizes:");
  for (int j = 0; j < TR_SIZES; j++)
    printf(" %" PRIu64, tr_sizes[j]);
  printf(" entries\n");
  for (size_t t = 0; t < N_TRACES; t++) {
    const synthetic_trace_t *tr = &synthetic_traces[t];
    traces_table(tr, quick ? tr->length / 10 : tr->length, ratio[t]);
  }

  /* Each figure weighs the same: a policy that wins big on one trace and
   * loses on the others does not come out ahead. */
  double mean[N_POLICIES + 1];
  printf("\nmean over all %zu traces and %d sizes:\n", N_TRACES, TR_SIZES);
  printf("%-12s %-7s %8s\n", "impl", "policy", "mean");
  for (size_t p = 0; p <= N_POLICIES; p++) {
    double sum = 0;
    for (size_t t = 0; t < N_TRACES; t++)
      for (int j = 0; j < TR_SIZES; j++)
        sum += ratio[t][p][j];
    mean[p] = sum / (double)(N_TRACES * TR_SIZES);
    printf("%-12s %-7s %8.4f\n", tr_impl(p)->name, tr_policy_text(p), mean[p]);
  }

  printf("\n");
  for (size_t t = 0; t < N_TRACES; t++)
    for (size_t p = 0; p <= N_POLICIES; p++)
      for (int j = 0; j < TR_SIZES; j++)
        printf("{\"workload\":\"traces\",\"impl\":\"%s\",\"policy\":\"%s\","
               "\"trace\":\"%s\",\"max_entries\":%" PRIu64
               ",\"hit_ratio\":%.4f}\n",
               tr_impl(p)->name, tr_policy_text(p), synthetic_traces[t].name,
               tr_sizes[j], ratio[t][p][j]);
  for (size_t p = 0; p <= N_POLICIES; p++)
    printf("{\"workload\":\"traces\",\"impl\":\"%s\",\"policy\":\"%s\","
           "\"trace\":\"mean\",\"hit_ratio\":%.4f}\n",
           tr_impl(p)->name, tr_policy_text(p), mean[p]);
}

/* ======================================================================
 * main
 * ====================================================================== */

static void usage(FILE *out) {
  fprintf(out,
          "usage: cache-bench [--runs N] [--only LIST] [--traces DIR] "
          "[--quick]\n"
          "       cache-bench --check-trace\n"
          "  --runs N       W1 runs per configuration, median reported "
          "(default 5)\n"
          "  --only LIST    comma-separated subset of "
          "w1,w2,w3,expiry,traces,real\n"
          "  --traces DIR   the real traces (default: " BENCH_TRACES_DIR ")\n"
          "  --quick        small sizes and 1 run: a smoke test, not a "
          "measurement\n"
          "  --check-trace  print the start of the W1 trace, OK or FAIL\n");
}

int main(int argc, char **argv) {
  int runs = 5;
  bool quick = false, runs_given = false;
  const char *only = "w1,w2,w3,expiry,traces,real";
  const char *traces_dir = BENCH_TRACES_DIR;

  if (argc == 4 && strcmp(argv[1], "--w2-child") == 0)
    return w2_child(argv[2], (uint32_t)strtoul(argv[3], NULL, 10));

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--check-trace") == 0) {
      return check_trace();
    } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = atoi(argv[++i]);
      runs_given = true;
      if (runs < 1 || runs > 64)
        die("--runs must be 1 to 64");
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (strcmp(argv[i], "--traces") == 0 && i + 1 < argc) {
      traces_dir = argv[++i];
    } else if (strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (quick && !runs_given)
    runs = 1;
  if (!keys_format_right())
    die("format_key does not write \"k:%%014u\"");

  /* w1, w2, w3, expiry, traces, real */
  enum { N_WORKLOADS = 6 };
  bool want[N_WORKLOADS] = {false};
  const char *names[N_WORKLOADS] = {"w1",     "w2",     "w3",
                                    "expiry", "traces", "real"};
  char list[128];
  snprintf(list, sizeof list, "%s", only);
  for (char *item = strtok(list, ","); item != NULL; item = strtok(NULL, ",")) {
    bool known = false;
    for (int k = 0; k < N_WORKLOADS; k++)
      if (strcmp(item, names[k]) == 0)
        want[k] = known = true;
    if (!known)
      die("unknown workload '%s' (w1, w2, w3, expiry, traces, real)", item);
  }

  setvbuf(stdout, NULL, _IOLBF, 0);
  char host[256] = "?";
  gethostname(host, sizeof host);
  host[sizeof host - 1] = '\0';
  printf("cache-bench: libcache %s (compiled against %s), %ld CPUs online, "
         "host %s%s\n",
         cache_version(), CACHE_VERSION_STRING, sysconf(_SC_NPROCESSORS_ONLN),
         host, quick ? ", QUICK mode (smoke test sizes)" : "");
  char load[128] = "?";
  FILE *f = fopen("/proc/loadavg", "r");
  if (f != NULL) {
    if (fgets(load, sizeof load, f) != NULL)
      load[strcspn(load, "\n")] = '\0';
    fclose(f);
  }
  printf("load average at start: %s\n", load);
  /* Options of the bundled jemalloc given at run time (README: huge
   * pages) change libcache's figures: a run says so. */
  const char *je_conf = getenv("CACHE_JE_MALLOC_CONF");
  if (je_conf != NULL)
    printf("CACHE_JE_MALLOC_CONF=%s\n", je_conf);
  printf("baseline: one pthread mutex, chained hash table (FNV-1a, "
         "power-of-two buckets),\none malloc per entry, intrusive LRU list, "
         "count bound, ttl checked on get\n");
#ifdef BENCH_HAVE_UTHASH
  printf("uthash: one pthread mutex, uthash " UTHASH_VERSION_TEXT
         " with its defaults, one malloc per\nentry, LRU list, count bound, "
         "ttl checked on get (W1 and W2 only)\n");
#else
  printf("uthash: not measured (uthash.h was not found when this program "
         "was built)\n");
#endif

  /* W2 first: its children start from a clean process either way, but the
   * parent is small then too. */
  if (want[1])
    run_w2(quick);
  if (want[0])
    run_w1(runs, quick);
  if (want[3])
    run_expiry(quick);
  if (want[2])
    run_w3(quick);
  if (want[4])
    run_traces(quick);
  if (want[5])
    failures += run_real(traces_dir);

  if (failures)
    printf("\n%d check%s FAILED (see above)\n", failures,
           failures == 1 ? "" : "s");
  return failures ? 1 : 0;
}
