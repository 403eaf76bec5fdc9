/*
 * cache-demo: creates the four preset caches, runs a small read-mostly
 * workload on each and prints their statistics.
 *
 * Each workload looks keys up in a skewed pattern (a few hot keys, a long
 * tail of cold ones) and stores a value after every miss, the way an
 * application fills a cache in front of a slower source. The key space is
 * larger than each cache's max_entries, so there are hits, misses and
 * evictions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define ROUNDS 5000
#define KEY_SPACE 2000

typedef struct preset_cache {
  const char *label;
  int (*create)(cache_t **out);
} preset_cache_t;

static const preset_cache_t presets[] = {
    {"proposal", cache_create_proposal},
    {"user", cache_create_user},
    {"market data", cache_create_market_data},
    {"calculation", cache_create_calculation},
};
#define N_PRESETS (sizeof presets / sizeof presets[0])

static int check(int status, const char *what) {
  if (status < 0) {
    fprintf(stderr, "cache-demo: %s: %s (%s)\n", what, cache_strerror(status),
            cache_err_name(status));
    return -1;
  }
  return 0;
}

/* A skewed key: small ids come up far more often than large ones. */
static unsigned next_key(uint32_t *state) {
  *state = *state * 1103515245u + 12345u;
  uint32_t r = (*state >> 8) % KEY_SPACE;
  *state = *state * 1103515245u + 12345u;
  uint32_t s = (*state >> 8) % KEY_SPACE;
  return (unsigned)(r * s / KEY_SPACE);
}

/* Looks ROUNDS keys up, storing a value for every miss. */
static int run_workload(cache_t *cache, uint32_t seed) {
  char key[32], value[64], buf[64];
  uint32_t state = seed;
  for (int i = 0; i < ROUNDS; i++) {
    unsigned id = next_key(&state);
    int klen = snprintf(key, sizeof key, "item:%u", id);
    size_t len = 0;
    int st = cache_get(cache, key, (size_t)klen, buf, sizeof buf, &len);
    if (check(st, "cache_get") != 0)
      return -1;
    if (st == CACHE_NOT_FOUND) {
      int vlen =
          snprintf(value, sizeof value, "{\"id\":%u,\"round\":%d}", id, i);
      st = cache_set(cache, key, (size_t)klen, value, (size_t)vlen, 0);
      if (check(st, "cache_set") != 0)
        return -1;
    }
  }
  return 0;
}

static int print_row(cache_t *cache) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  if (check(cache_stats(cache, &st), "cache_stats") != 0)
    return -1;
  uint64_t gets = st.hits + st.misses;
  double ratio = gets ? 100.0 * (double)st.hits / (double)gets : 0.0;
  printf("%-18s %7" PRIu64 " %9" PRIu64 " %7" PRIu64 " %7" PRIu64
         " %8.1f%% %9" PRIu64 "\n",
         cache_name(cache), st.entries, st.bytes, st.hits, st.misses, ratio,
         st.evictions);
  return 0;
}

int main(void) {
  cache_t *caches[N_PRESETS] = {NULL};
  int failed = 0;

  printf("libcache %s\n\n", cache_version());
  for (size_t i = 0; i < N_PRESETS && !failed; i++) {
    if (check(presets[i].create(&caches[i]), presets[i].label) != 0)
      failed = 1;
    else if (run_workload(caches[i], 42u + (uint32_t)i) != 0)
      failed = 1;
  }

  if (!failed) {
    printf("%-18s %7s %9s %7s %7s %9s %9s\n", "cache", "entries", "bytes",
           "hits", "misses", "hit ratio", "evictions");
    for (size_t i = 0; i < N_PRESETS && !failed; i++)
      if (print_row(caches[i]) != 0)
        failed = 1;
  }

  for (size_t i = 0; i < N_PRESETS; i++)
    cache_destroy(caches[i]); /* NULL-safe */
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
