/* Health and exports: the health of one cache, the report over every open
 * cache, and two texts any tool can read, JSON and the Prometheus text
 * exposition format.
 *
 * The exports pin the open caches (cache_destroy() waits for the pin) and
 * read each through its public statistics, so they hold no lock of the
 * library across the whole walk and never scan entries. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cache_int.h"
#include "options.h"
#include "process.h"
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- health ---------------------------------------------------------------
 */

/* The worst level of the alerts raised within the window. */
static int recent_alert_level(cache_t *c) {
  uint64_t now = cache__now(c);
  int level = CACHE_HEALTH_HEALTHY;
  cache__alerts_t *a = &c->alerts;
  pthread_mutex_lock(&a->lock);
  for (uint32_t i = 0; i < a->len; i++) {
    const cache_alert_t *al = &a->ring[i];
    if (al->time_ms > now || now - al->time_ms < CACHE_HEALTH_WINDOW_MS)
      level = al->level > level ? al->level : level;
  }
  pthread_mutex_unlock(&a->lock);
  return level;
}

int cache__health_of(cache_t *c) {
  int memory = cache__memory_level(c); /* 0, 1, 2 map onto the levels */
  int alerts = recent_alert_level(c);
  return memory > alerts ? memory : alerts;
}

int cache_health(cache_t *c) {
  if (c == NULL)
    return CACHE_EINVAL;
  if (atomic_load(&c->closed))
    return CACHE_ECLOSED;
  return cache__health_of(c);
}

int cache_health_report(cache_health_report_t *out) {
  if (out == NULL || out->struct_size < CACHE__HEALTH_REPORT_V1_SIZE)
    return CACHE_EINVAL;
  cache_health_report_t r = {.struct_size = sizeof r};
  size_t n;
  cache_t **list = cache__registry_pin_all(&n);
  for (size_t i = 0; i < n; i++) {
    int h = cache__health_of(list[i]);
    r.caches++;
    r.healthy += h == CACHE_HEALTH_HEALTHY;
    r.warning += h == CACHE_HEALTH_WARNING;
    r.critical += h == CACHE_HEALTH_CRITICAL;
    r.overall = h > r.overall ? h : r.overall;
    r.total_bytes += cache__footprint(list[i]);
  }
  if (list != NULL)
    cache__registry_unpin_all(list, n);
  uint64_t rss;
  if (cache__memory_rss(&rss) == 1)
    r.rss_bytes = rss;
  return cache__struct_out(out, &r, sizeof r, CACHE__HEALTH_REPORT_V1_SIZE);
}

/* ---- a growing string ------------------------------------------------------
 */

typedef struct text {
  char *buf;
  size_t len, cap;
  bool failed; /* out of memory: every later append is dropped */
} text_t;

static void text_append(text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void text_append(text_t *t, const char *fmt, ...) {
  if (t->failed)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->failed = true;
      return;
    }
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = (t->cap + (size_t)n + 1) * 2;
    char *buf = realloc(t->buf, cap);
    if (buf == NULL) {
      t->failed = true;
      return;
    }
    t->buf = buf;
    t->cap = cap;
  }
}

static bool text_init(text_t *t) {
  t->len = 0;
  t->cap = 4096;
  t->failed = false;
  t->buf = malloc(t->cap);
  return t->buf != NULL;
}

/* The finished string, or NULL (and nothing leaked) if anything failed. */
static char *text_finish(text_t *t) {
  if (t->failed) {
    free(t->buf);
    return NULL;
  }
  return t->buf;
}

void cache_free_string(char *s) { free(s); }

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t left) {
  size_t n = p[0] >= 0xf0 && p[0] <= 0xf4   ? 4
             : p[0] >= 0xe0                 ? 3
             : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
                                            : 0;
  if (n == 0 || n > left)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
      (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
    return 0; /* overlong, surrogate or beyond U+10FFFF */
  return n;
}

/* Appends s escaped for a JSON string (json) or a Prometheus label value:
 * quote and backslash escaped in both; control characters as \u00XX in
 * JSON and only the newline (as \n) in Prometheus; bytes that are not valid
 * UTF-8 become U+FFFD, so that both outputs are valid UTF-8. */
static void append_escaped(text_t *t, const char *s, bool json) {
  const unsigned char *p = (const unsigned char *)s;
  size_t left = strlen(s);
  while (left > 0) {
    size_t n = 1;
    if (*p == '"' || *p == '\\')
      text_append(t, "\\%c", *p);
    else if (*p == '\n' && !json)
      text_append(t, "\\n");
    else if (*p < 0x20 && json)
      text_append(t, "\\u%04x", *p);
    else if (*p < 0x80)
      text_append(t, "%c", *p);
    else if ((n = utf8_len(p, left)) > 0)
      text_append(t, "%.*s", (int)n, (const char *)p);
    else {
      n = 1;
      text_append(t, json ? "\\ufffd" : "\xef\xbf\xbd");
    }
    p += n;
    left -= n;
  }
}

static void json_string(text_t *t, const char *s) {
  text_append(t, "\"");
  append_escaped(t, s, true);
  text_append(t, "\"");
}

/* ---- JSON ------------------------------------------------------------------
 */

/* XX(field) of cache_stats_t that are plain counters or gauges. */
#define STATS_FIELDS(XX)                                                       \
  XX(entries)                                                                  \
  XX(bytes)                                                                    \
  XX(table_bytes)                                                              \
  XX(arena_resident_bytes)                                                     \
  XX(hits)                                                                     \
  XX(misses)                                                                   \
  XX(sets)                                                                     \
  XX(deletes)                                                                  \
  XX(evictions)                                                                \
  XX(memory_evictions)                                                         \
  XX(expirations)                                                              \
  XX(cleanup_runs)                                                             \
  XX(cleanup_errors)                                                           \
  XX(alerts_warning)                                                           \
  XX(alerts_critical)                                                          \
  XX(max_entries)                                                              \
  XX(max_bytes)

static void json_stats(text_t *t, const cache_stats_t *st) {
  const char *sep = "";
  text_append(t, "{");
#define XX(field)                                                              \
  text_append(t, "%s\"" #field "\":%llu", sep, (unsigned long long)st->field); \
  sep = ",";
  STATS_FIELDS(XX)
#undef XX
  text_append(t, "}");
}

static void json_alerts(text_t *t, cache_t *c) {
  cache_alert_t alerts[CACHE_ALERTS_KEPT];
  alerts[0].struct_size = sizeof alerts[0];
  size_t n = cache_alerts(c, alerts, CACHE_ALERTS_KEPT);
  text_append(t, "[");
  for (size_t i = 0; i < n; i++) {
    text_append(t, "%s{\"level\":\"%s\",\"time_ms\":%llu,\"message\":",
                i ? "," : "", cache_alert_level_name(alerts[i].level),
                (unsigned long long)alerts[i].time_ms);
    json_string(t, alerts[i].message);
    text_append(t, "}");
  }
  text_append(t, "]");
}

static void json_cache(text_t *t, cache_t *c, const cache_stats_t *st) {
  text_append(t, "{\"name\":");
  json_string(t, c->name);
  text_append(t, ",\"id\":%llu,\"policy\":\"%s\",\"health\":\"%s\",\"stats\":",
              (unsigned long long)c->registry_id,
              cache_policy_name(c->options.policy),
              cache_health_name(st->health));
  json_stats(t, st);
  text_append(t, ",\"alerts\":");
  json_alerts(t, c);
  text_append(t, "}");
}

char *cache_health_json(void) {
  cache_health_report_t r = {.struct_size = sizeof r};
  cache_health_report(&r);
  text_t t;
  if (!text_init(&t))
    return NULL;
  text_append(&t,
              "{\"overall\":\"%s\",\"cache_count\":%llu,\"total_bytes\":%llu,"
              "\"rss_bytes\":%llu,\"health_window_ms\":%u,\"caches\":[",
              cache_health_name(r.overall), (unsigned long long)r.caches,
              (unsigned long long)r.total_bytes,
              (unsigned long long)r.rss_bytes, CACHE_HEALTH_WINDOW_MS);
  size_t n;
  cache_t **list = cache__registry_pin_all(&n);
  const char *sep = "";
  for (size_t i = 0; i < n; i++) {
    cache_stats_t st = {.struct_size = sizeof st};
    if (cache_stats(list[i], &st) != CACHE_OK)
      continue; /* closed since the list was taken */
    text_append(&t, "%s", sep);
    json_cache(&t, list[i], &st);
    sep = ",";
  }
  if (list != NULL)
    cache__registry_unpin_all(list, n);
  text_append(&t, "]}\n");
  return text_finish(&t);
}

/* ---- Prometheus ------------------------------------------------------------
 */

typedef struct metric {
  const char *name, *type, *help;
  size_t offset; /* of a uint64_t in cache_stats_t */
} metric_t;

#define M(name, type, field, help)                                             \
  { "libcache_" name, type, help, offsetof(cache_stats_t, field) }
static const metric_t metrics[] = {
    M("entries", "gauge", entries, "Entries held."),
    M("bytes", "gauge", bytes, "Bytes of the entries, allocator-sized."),
    M("table_bytes", "gauge", table_bytes, "Bytes of the cache's tables."),
    M("arena_resident_bytes", "gauge", arena_resident_bytes,
      "Resident bytes of the cache's allocator arena."),
    M("max_entries", "gauge", max_entries, "Entry bound; 0 = unbounded."),
    M("max_bytes", "gauge", max_bytes, "Byte bound; 0 = unbounded."),
    M("hits_total", "counter", hits, "Lookups that found a live entry."),
    M("misses_total", "counter", misses, "Lookups that found none."),
    M("sets_total", "counter", sets, "Entries stored."),
    M("deletes_total", "counter", deletes, "Entries deleted."),
    M("evictions_total", "counter", evictions, "Entries evicted."),
    M("memory_evictions_total", "counter", memory_evictions,
      "Entries evicted to bring memory down."),
    M("expirations_total", "counter", expirations, "Expired entries removed."),
    M("cleanup_runs_total", "counter", cleanup_runs, "Expiry passes run."),
    M("cleanup_errors_total", "counter", cleanup_errors,
      "Expiry passes that failed."),
    M("alerts_warning_total", "counter", alerts_warning,
      "Warning alerts raised."),
    M("alerts_critical_total", "counter", alerts_critical,
      "Critical alerts raised."),
};
#undef M
#define N_METRICS (sizeof metrics / sizeof metrics[0])

static void prom_series(text_t *t, const char *name, cache_t *c,
                        unsigned long long value) {
  text_append(t, "%s{cache=\"", name);
  append_escaped(t, c->name, false);
  text_append(t, "\",cache_id=\"%llu\"} %llu\n",
              (unsigned long long)c->registry_id, value);
}

char *cache_metrics_prometheus(void) {
  text_t t;
  if (!text_init(&t))
    return NULL;
  size_t n;
  cache_t **list = cache__registry_pin_all(&n);
  cache_stats_t *st = n ? calloc(n, sizeof *st) : NULL;
  bool *open = n ? calloc(n, sizeof *open) : NULL;
  if (n > 0 && (st == NULL || open == NULL))
    t.failed = true;
  for (size_t i = 0; i < n && !t.failed; i++) {
    st[i].struct_size = sizeof st[i];
    open[i] = cache_stats(list[i], &st[i]) == CACHE_OK;
  }
  for (size_t m = 0; m < N_METRICS; m++) {
    text_append(&t, "# HELP %s %s\n# TYPE %s %s\n", metrics[m].name,
                metrics[m].help, metrics[m].name, metrics[m].type);
    for (size_t i = 0; i < n && !t.failed; i++) {
      uint64_t v;
      memcpy(&v, (const char *)&st[i] + metrics[m].offset, sizeof v);
      if (open[i])
        prom_series(&t, metrics[m].name, list[i], (unsigned long long)v);
    }
  }
  text_append(&t, "# HELP libcache_health Health: 0 healthy, 1 warning, "
                  "2 critical.\n# TYPE libcache_health gauge\n");
  for (size_t i = 0; i < n && !t.failed; i++)
    if (open[i])
      prom_series(&t, "libcache_health", list[i],
                  (unsigned long long)st[i].health);
  uint64_t rss;
  if (cache__memory_rss(&rss) == 1)
    text_append(&t,
                "# HELP libcache_process_resident_bytes Resident memory of "
                "the process.\n# TYPE libcache_process_resident_bytes "
                "gauge\nlibcache_process_resident_bytes %llu\n",
                (unsigned long long)rss);
  free(st);
  free(open);
  if (list != NULL)
    cache__registry_unpin_all(list, n);
  return text_finish(&t);
}
