/*
 * real: libcache's policies on real access traces, beside what other
 * caches' policies score on the same traces at the same sizes.
 *
 * The traces are the files of bench/traces (its README.md says where each
 * comes from); the directory is fixed at build time and --traces DIR
 * changes it. Each is replayed by the rule of its README, the same as
 * cache-sim's (examples/cache-sim/sim.c, compiled in): for each request a
 * get, and on a miss a set, into a count-bounded cache of 1, 5, 10 and
 * 20 % of the trace's distinct ids, from cold. The figures of the other
 * policies are not measured here: they are the published ones, below.
 */
#define _POSIX_C_SOURCE 200809L

#include "real.h"

#include "input.h"
#include "sim.h"
#include "trace.h"

#include <cache.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REAL_SIZES 4
#define NEAR_BEST 0.02  /* within this of the best peer counts as keeping up */
#define BELOW_LRU 0.005 /* below LRU by more than this counts as a loss */

static const int percents[REAL_SIZES] = {1, 5, 10, 20};

/* ---- the published figures ------------------------------------------------
 *
 * From bench/traces/README.md: libCacheSim's cachesim (count-bounded,
 * --ignore-obj-size 1) for LRU, ARC, LIRS, S3-FIFO, W-TinyLFU (1 % window,
 * static), SIEVE and Belady, the best of the six online ones, and a port
 * of Caffeine's W-TinyLFU with a static 1 % window. They are deterministic,
 * so they need no measuring again; they are for the traces as they are
 * in bench/traces and at the sizes given, which this program checks. */

enum {
  PEER_LRU,
  PEER_ARC,
  PEER_LIRS,
  PEER_S3FIFO,
  PEER_WTINYLFU,
  PEER_SIEVE,
  PEER_BELADY,
  PEER_BEST,
  PEER_CAFFEINE,
  N_PEERS
};

static const char *const peer_names[N_PEERS] = {"LRU",
                                                "ARC",
                                                "LIRS",
                                                "S3-FIFO",
                                                "W-TinyLFU",
                                                "SIEVE",
                                                "Belady (offline)",
                                                "best online peer",
                                                "Caffeine static 1%"};

typedef struct published {
  const char *file;
  uint64_t sizes[REAL_SIZES]; /* entries at 1, 5, 10, 20 % */
  double ratio[N_PEERS][REAL_SIZES];
} published_t;

static const published_t published[] = {
    {"lirs-multi1.txt.gz",
     {26, 130, 260, 521},
     {
         {0.0103, 0.2384, 0.4342, 0.4672}, /* LRU */
         {0.0614, 0.4441, 0.4827, 0.4943}, /* ARC */
         {0.0581, 0.4540, 0.4978, 0.5644}, /* LIRS */
         {0.0657, 0.4553, 0.4810, 0.4894}, /* S3-FIFO */
         {0.0000, 0.4362, 0.4846, 0.5441}, /* W-TinyLFU */
         {0.0557, 0.3354, 0.4688, 0.4933}, /* SIEVE */
         {0.2041, 0.4931, 0.5273, 0.5931}, /* Belady */
         {0.0657, 0.4553, 0.4978, 0.5644}, /* best online peer */
         {0.1666, 0.4587, 0.4830, 0.5621}, /* Caffeine static 1 % */
     }},
    {"lirs-multi2.txt.gz",
     {56, 284, 568, 1136},
     {
         {0.0351, 0.2689, 0.3692, 0.4802}, /* LRU */
         {0.1060, 0.3476, 0.3983, 0.5080}, /* ARC */
         {0.1290, 0.3703, 0.5164, 0.5945}, /* LIRS */
         {0.0974, 0.3520, 0.4930, 0.4983}, /* S3-FIFO */
         {0.0000, 0.3978, 0.5048, 0.5894}, /* W-TinyLFU */
         {0.0676, 0.2819, 0.3616, 0.5075}, /* SIEVE */
         {0.2768, 0.4865, 0.5490, 0.6422}, /* Belady */
         {0.1290, 0.3978, 0.5164, 0.5945}, /* best online peer */
         {0.2128, 0.4340, 0.5116, 0.5949}, /* Caffeine static 1 % */
     }},
    {"lirs-sprite.txt.gz",
     {70, 353, 707, 1415},
     {
         {0.1633, 0.6563, 0.8648, 0.9221}, /* LRU */
         {0.1903, 0.6539, 0.8550, 0.9146}, /* ARC */
         {0.2022, 0.6497, 0.8402, 0.8959}, /* LIRS */
         {0.2124, 0.6718, 0.8614, 0.9169}, /* S3-FIFO */
         {0.0000, 0.6091, 0.7547, 0.8702}, /* W-TinyLFU */
         {0.1929, 0.6053, 0.8152, 0.9008}, /* SIEVE */
         {0.4216, 0.8230, 0.9136, 0.9413}, /* Belady */
         {0.2124, 0.6718, 0.8648, 0.9221}, /* best online peer */
         {0.2376, 0.6529, 0.8116, 0.8765}, /* Caffeine static 1 % */
     }},
    {"lirs-gli.txt.gz",
     {25, 126, 252, 505},
     {
         {0.0090, 0.0091, 0.0091, 0.0095}, /* LRU */
         {0.0135, 0.0138, 0.0138, 0.0138}, /* ARC */
         {0.0136, 0.0790, 0.1616, 0.3355}, /* LIRS */
         {0.0118, 0.0113, 0.0121, 0.1629}, /* S3-FIFO */
         {0.0000, 0.0751, 0.1534, 0.3182}, /* W-TinyLFU */
         {0.0135, 0.0138, 0.0138, 0.0138}, /* SIEVE */
         {0.0268, 0.0939, 0.1777, 0.3460}, /* Belady */
         {0.0136, 0.0790, 0.1616, 0.3355}, /* best online peer */
         {0.0101, 0.0326, 0.1553, 0.2856}, /* Caffeine static 1 % */
     }},
    {"lirs-ps.txt.gz",
     {30, 154, 308, 616},
     {
         {0.0728, 0.1219, 0.1633, 0.4855}, /* LRU */
         {0.0922, 0.1680, 0.1680, 0.5259}, /* ARC */
         {0.0905, 0.2868, 0.5313, 0.5897}, /* LIRS */
         {0.0907, 0.1316, 0.5062, 0.5259}, /* S3-FIFO */
         {0.0000, 0.3543, 0.5331, 0.5931}, /* W-TinyLFU */
         {0.0126, 0.1680, 0.1680, 0.5259}, /* SIEVE */
         {0.1775, 0.4148, 0.5442, 0.6032}, /* Belady */
         {0.0922, 0.3543, 0.5331, 0.5931}, /* best online peer */
         {0.1038, 0.3799, 0.5328, 0.5950}, /* Caffeine static 1 % */
     }},
    {"lirs-loop.txt.gz",
     {10, 50, 101, 202},
     {
         {0.0000, 0.0000, 0.0000, 0.0000}, /* LRU */
         {0.0000, 0.0000, 0.0000, 0.0000}, /* ARC */
         {0.0089, 0.0484, 0.0987, 0.1974}, /* LIRS */
         {0.0000, 0.0000, 0.0000, 0.0000}, /* S3-FIFO */
         {0.0000, 0.0000, 0.0935, 0.1923}, /* W-TinyLFU */
         {0.0000, 0.0000, 0.0000, 0.0000}, /* SIEVE */
         {0.0089, 0.0485, 0.0989, 0.1988}, /* Belady */
         {0.0089, 0.0484, 0.0987, 0.1974}, /* best online peer */
         {0.0000, 0.0000, 0.0770, 0.1962}, /* Caffeine static 1 % */
     }},
    {"lirs-2_pools.txt.gz",
     {99, 496, 993, 1987},
     {
         {0.2177, 0.5101, 0.5438, 0.5925}, /* LRU */
         {0.4647, 0.5186, 0.5430, 0.5920}, /* ARC */
         {0.4697, 0.5190, 0.5432, 0.5909}, /* LIRS */
         {0.4461, 0.5188, 0.5435, 0.5927}, /* S3-FIFO */
         {0.0000, 0.5192, 0.5436, 0.5925}, /* W-TinyLFU */
         {0.4770, 0.5184, 0.5432, 0.5928}, /* SIEVE */
         {0.5051, 0.6279, 0.6846, 0.7528}, /* Belady */
         {0.4770, 0.5192, 0.5438, 0.5928}, /* best online peer */
         {0.4740, 0.5199, 0.5439, 0.5929}, /* Caffeine static 1 % */
     }},
    {"lirs-cs.txt.gz",
     {14, 70, 140, 281},
     {
         {0.0181, 0.0183, 0.0183, 0.0183}, /* LRU */
         {0.0180, 0.0183, 0.0183, 0.0183}, /* ARC */
         {0.0178, 0.0351, 0.0765, 0.1581}, /* LIRS */
         {0.0000, 0.0183, 0.0183, 0.0183}, /* S3-FIFO */
         {0.0000, 0.0000, 0.0826, 0.1487}, /* W-TinyLFU */
         {0.0180, 0.0183, 0.0183, 0.0183}, /* SIEVE */
         {0.0265, 0.0596, 0.1009, 0.1840}, /* Belady */
         {0.0181, 0.0351, 0.0826, 0.1581}, /* best online peer */
         {0.0171, 0.0170, 0.0830, 0.1609}, /* Caffeine static 1 % */
     }},
    {"cache2k-web07.txt.gz",
     {204, 1024, 2048, 4096},
     {
         {0.3915, 0.5056, 0.5566, 0.6103}, /* LRU */
         {0.4191, 0.5321, 0.5806, 0.6282}, /* ARC */
         {0.3865, 0.5241, 0.5739, 0.6203}, /* LIRS */
         {0.4379, 0.5422, 0.5812, 0.6256}, /* S3-FIFO */
         {0.3905, 0.5171, 0.5586, 0.6042}, /* W-TinyLFU */
         {0.4232, 0.5344, 0.5793, 0.6256}, /* SIEVE */
         {0.5338, 0.6372, 0.6809, 0.7172}, /* Belady */
         {0.4379, 0.5422, 0.5812, 0.6282}, /* best online peer */
         {0.4044, 0.5266, 0.5634, 0.6083}, /* Caffeine static 1 % */
     }},
};

#define N_PUBLISHED (sizeof published / sizeof published[0])

static const published_t *published_for(const char *file) {
  for (size_t i = 0; i < N_PUBLISHED; i++)
    if (strcmp(published[i].file, file) == 0)
      return &published[i];
  return NULL;
}

/* ---- the traces of the directory --------------------------------------- */

typedef struct names {
  char **name;
  size_t count, cap;
} names_t;

static int add_name(names_t *n, const char *name) {
  if (n->count == n->cap) {
    size_t cap = n->cap ? 2 * n->cap : 16;
    char **name_ = realloc(n->name, cap * sizeof *name_);
    if (name_ == NULL)
      return -1;
    n->name = name_;
    n->cap = cap;
  }
  return (n->name[n->count++] = strdup(name)) != NULL ? 0 : -1;
}

static void free_names(names_t *n) {
  for (size_t i = 0; i < n->count; i++)
    free(n->name[i]);
  free(n->name);
}

/* The published traces first, in the README's order, then any other. */
static int trace_order(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  const published_t *px = published_for(x), *py = published_for(y);
  if (px != NULL && py != NULL)
    return (px > py) - (px < py);
  if ((px == NULL) != (py == NULL))
    return px != NULL ? -1 : 1;
  return strcmp(x, y);
}

static bool is_trace(const char *dir, const char *name) {
  size_t n = strlen(name);
  if (name[0] == '.' || (n > 3 && strcmp(name + n - 3, ".md") == 0))
    return false;
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int list_traces(const char *dir, names_t *out) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL)
    if (is_trace(dir, e->d_name))
      rc = add_name(out, e->d_name);
  closedir(d);
  if (rc == 0)
    qsort(out->name, out->count, sizeof *out->name, trace_order);
  return rc;
}

/* ---- one trace --------------------------------------------------------- */

typedef struct policies {
  int id[SIM_POLICY_ID_LIMIT];
  size_t count;
  int default_id;
} policies_t;

/* The default policy's row first: it is the one the summary is about. */
static void find_policies(policies_t *p) {
  p->default_id = sim_policy_default();
  p->id[0] = p->default_id;
  p->count = 1;
  int all[SIM_POLICY_ID_LIMIT];
  size_t n = sim_policies(all, SIM_POLICY_ID_LIMIT);
  for (size_t i = 0; i < n; i++)
    if (all[i] != p->default_id)
      p->id[p->count++] = all[i];
}

typedef struct trace_result {
  const char *file;
  const published_t *peers; /* NULL: none, or not at the same sizes */
  uint64_t sizes[REAL_SIZES];
  double ratio[SIM_POLICY_ID_LIMIT][REAL_SIZES]; /* by policies_t row */
} trace_result_t;

static uint64_t percent_of(uint64_t distinct, int percent) {
  uint64_t v = distinct * (uint64_t)percent / 100;
  return v > 0 ? v : 1;
}

static void print_row(const char *impl, const char *name, const double *ratio) {
  printf("%-9s %-19s", impl, name);
  for (int j = 0; j < REAL_SIZES; j++)
    printf(" %8.4f", ratio[j]);
  printf("\n");
}

static void print_table(const trace_result_t *r, const sim_trace_t *t,
                        const policies_t *p) {
  printf("\n%s: %zu requests, %" PRIu64 " distinct ids\n", r->file, t->length,
         t->distinct);
  printf("%-29s", "");
  for (int j = 0; j < REAL_SIZES; j++)
    printf(" %7d%%", percents[j]);
  printf("\n%-29s", "entries");
  for (int j = 0; j < REAL_SIZES; j++)
    printf(" %8" PRIu64, r->sizes[j]);
  printf("\n");
  for (size_t i = 0; i < p->count; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%s", sim_policy_text(p->id[i]),
             i == 0 ? " (default)" : "");
    print_row("libcache", name, r->ratio[i]);
  }
  if (r->peers == NULL)
    return;
  for (int k = 0; k < N_PEERS; k++)
    print_row("published", peer_names[k], r->peers->ratio[k]);
  double diff[REAL_SIZES];
  for (int j = 0; j < REAL_SIZES; j++)
    diff[j] = r->ratio[0][j] - r->peers->ratio[PEER_BEST][j];
  printf("%-29s", "default - best online peer");
  for (int j = 0; j < REAL_SIZES; j++)
    printf(" %+8.4f", diff[j]);
  printf("\n");
}

/* Reads and replays one trace into *r. 0, or -1 after saying why. */
static int replay_trace(const char *dir, const char *file, const policies_t *p,
                        trace_result_t *r) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  sim_read_options_t options;
  sim_read_options_init(&options);
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  if (sim_trace_read(path, &options, &t, &info, &err) != 0) {
    printf("real: %s\n", err.text);
    return -1;
  }
  r->file = file;
  r->peers = published_for(file);
  for (int j = 0; j < REAL_SIZES; j++) {
    r->sizes[j] = percent_of(t.distinct, percents[j]);
    if (r->peers != NULL && r->peers->sizes[j] != r->sizes[j]) {
      printf("real: %s: %d %% is %" PRIu64 " entries here, %" PRIu64
             " in the published figures: another file? They are left out\n",
             file, percents[j], r->sizes[j], r->peers->sizes[j]);
      r->peers = NULL;
    }
  }
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < p->count; i++)
    for (int j = 0; rc == 0 && j < REAL_SIZES; j++) {
      sim_result_t res;
      rc = sim_replay(&t, p->id[i], r->sizes[j], 0, &res);
      if (rc == CACHE_OK)
        r->ratio[i][j] = (double)res.hits / (double)res.requests;
      else
        printf("real: %s: replay with %s: %s\n", file,
               sim_policy_text(p->id[i]), cache_strerror(rc));
    }
  if (rc == 0)
    print_table(r, &t, p);
  sim_trace_free(&t);
  return rc == 0 ? 0 : -1;
}

/* ---- the summary ------------------------------------------------------- */

typedef struct summary {
  int cells;     /* with published figures */
  int near_best; /* at or above the best online peer - NEAR_BEST */
  int below_lru; /* under the published LRU by more than BELOW_LRU */
  double diff;   /* sum of (ratio - best online peer) */
} summary_t;

static summary_t summarize(const trace_result_t *r, size_t n, size_t row) {
  summary_t s = {0};
  for (size_t t = 0; t < n; t++) {
    if (r[t].peers == NULL)
      continue;
    for (int j = 0; j < REAL_SIZES; j++) {
      double v = r[t].ratio[row][j];
      double best = r[t].peers->ratio[PEER_BEST][j];
      s.cells++;
      s.near_best += v >= best - NEAR_BEST;
      s.below_lru += v < r[t].peers->ratio[PEER_LRU][j] - BELOW_LRU;
      s.diff += v - best;
    }
  }
  return s;
}

static void print_summary(const trace_result_t *r, size_t n,
                          const policies_t *p) {
  printf("\nsummary over the traces with published figures (each cell "
         "weighs the same):\n");
  for (size_t i = 0; i < p->count; i++) {
    summary_t s = summarize(r, n, i);
    if (s.cells == 0)
      return;
    printf("libcache %s%s: %d of %d cells within %.2f of the best online "
           "peer (or above it), %d below LRU by more than %.3f, mean "
           "difference to the best peer %+.4f\n",
           sim_policy_text(p->id[i]), i == 0 ? " (default)" : "", s.near_best,
           s.cells, NEAR_BEST, s.below_lru, BELOW_LRU, s.diff / s.cells);
  }
}

static void print_json(const trace_result_t *r, size_t n, const policies_t *p) {
  printf("\n");
  for (size_t t = 0; t < n; t++)
    for (size_t i = 0; i < p->count; i++)
      for (int j = 0; j < REAL_SIZES; j++) {
        printf("{\"workload\":\"real\",\"impl\":\"libcache\",\"policy\":\"%s\","
               "\"trace\":\"%s\",\"cache_pct\":%d,\"max_entries\":%" PRIu64
               ",\"hit_ratio\":%.4f",
               sim_policy_text(p->id[i]), r[t].file, percents[j], r[t].sizes[j],
               r[t].ratio[i][j]);
        if (r[t].peers != NULL)
          printf(",\"best_peer\":%.4f,\"lru_peer\":%.4f",
                 r[t].peers->ratio[PEER_BEST][j],
                 r[t].peers->ratio[PEER_LRU][j]);
        printf("}\n");
      }
  for (size_t i = 0; i < p->count; i++) {
    summary_t s = summarize(r, n, i);
    if (s.cells > 0)
      printf("{\"workload\":\"real_summary\",\"impl\":\"libcache\","
             "\"policy\":\"%s\",\"default\":%s,\"cells\":%d,"
             "\"near_best\":%d,\"below_lru\":%d,\"mean_diff_to_best\":%.4f}\n",
             sim_policy_text(p->id[i]), i == 0 ? "true" : "false", s.cells,
             s.near_best, s.below_lru, s.diff / s.cells);
  }
}

int run_real(const char *dir) {
  printf("\n== real: hit ratio on real traces ==\n");
  printf("traces in %s; read-through from cold, 1 thread, count-bounded, "
         "1/5/10/20 %% of\neach trace's distinct ids; the other policies' "
         "figures are the published ones\n(libCacheSim's cachesim, and a port "
         "of Caffeine's W-TinyLFU: see the traces' README.md)\n",
         dir);
  if (!sim_input_have_gzip()) {
    printf("real: skipped: this cache-bench was built without zlib, and the "
           "traces are gzip'ed\n");
    return 0;
  }
  names_t names = {0};
  if (list_traces(dir, &names) != 0 || names.count == 0) {
    printf("real: no trace found in %s (--traces DIR)\n", dir);
    free_names(&names);
    return 1;
  }
  policies_t p;
  find_policies(&p);
  trace_result_t *r = calloc(names.count, sizeof *r);
  int failures = r == NULL;
  size_t done = 0;
  for (size_t i = 0; r != NULL && i < names.count; i++) {
    if (replay_trace(dir, names.name[i], &p, &r[done]) == 0)
      done++;
    else
      failures++;
  }
  if (r != NULL) {
    print_summary(r, done, &p);
    print_json(r, done, &p);
  }
  free(r);
  free_names(&names);
  return failures;
}
