/*
 * The replay of a trace through libcache, and what it needs to know about
 * a trace beforehand (how many distinct ids, which policies exist). See
 * sim.h for the rule.
 */
#include "sim.h"

#include <cache.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_error_set(sim_error_t *err, const char *fmt, ...) {
  if (err == NULL)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->text, sizeof err->text, fmt, ap);
  va_end(ap);
}

/* ---- traces ------------------------------------------------------------ */

void sim_trace_free(sim_trace_t *trace) {
  if (trace == NULL)
    return;
  free(trace->ids);
  free(trace->sizes);
  if (trace->names != NULL) {
    free(trace->names->bytes);
    free(trace->names->offsets);
    free(trace->names);
  }
  memset(trace, 0, sizeof *trace);
}

/* A set of 64-bit ids: open addressing, linear probing, 0 marks a free
 * slot (the id 0 itself is kept aside), at most half full. */
typedef struct id_set {
  uint64_t *slots;
  uint64_t mask;
  uint64_t count;
  bool has_zero;
} id_set_t;

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdu;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53u;
  return x ^ (x >> 33);
}

static int id_set_init(id_set_t *s, uint64_t capacity) {
  uint64_t n = 1024;
  while (n < 2 * capacity)
    n *= 2;
  s->slots = calloc(n, sizeof *s->slots);
  s->mask = n - 1;
  s->count = 0;
  s->has_zero = false;
  return s->slots != NULL ? 0 : -1;
}

static void id_set_put(id_set_t *s, uint64_t id) {
  uint64_t i = mix64(id) & s->mask;
  while (s->slots[i] != 0)
    i = (i + 1) & s->mask;
  s->slots[i] = id;
}

static int id_set_grow(id_set_t *s) {
  id_set_t bigger;
  if (id_set_init(&bigger, s->mask + 1) != 0)
    return -1;
  for (uint64_t i = 0; i <= s->mask; i++)
    if (s->slots[i] != 0)
      id_set_put(&bigger, s->slots[i]);
  free(s->slots);
  s->slots = bigger.slots;
  s->mask = bigger.mask;
  return 0;
}

/* Adds id: 1 if it was new, 0 if it was there, -1 when out of memory. */
static int id_set_add(id_set_t *s, uint64_t id) {
  if (id == 0) {
    bool added = !s->has_zero;
    s->has_zero = true;
    s->count += added;
    return added;
  }
  uint64_t i = mix64(id) & s->mask;
  for (; s->slots[i] != 0; i = (i + 1) & s->mask)
    if (s->slots[i] == id)
      return 0;
  s->slots[i] = id;
  s->count++;
  if (2 * s->count > s->mask && id_set_grow(s) != 0)
    return -1;
  return 1;
}

/* String keys are numbered densely in the order they first appear: the
 * distinct ones are the names. */
static int count_named(sim_trace_t *trace) {
  trace->distinct = trace->names->count;
  if (trace->sizes == NULL)
    return 0;
  bool *seen = calloc(trace->distinct + 1, sizeof *seen);
  if (seen == NULL)
    return -1;
  for (size_t i = 0; i < trace->length; i++)
    if (!seen[trace->ids[i]]) {
      seen[trace->ids[i]] = true;
      trace->distinct_bytes += trace->sizes[i];
    }
  free(seen);
  return 0;
}

int sim_trace_count(sim_trace_t *trace) {
  trace->distinct = trace->distinct_bytes = 0;
  trace->max_size = 0;
  for (size_t i = 0; trace->sizes != NULL && i < trace->length; i++)
    if (trace->sizes[i] > trace->max_size)
      trace->max_size = trace->sizes[i];
  if (trace->names != NULL)
    return count_named(trace);

  id_set_t set;
  if (id_set_init(&set, 1024) != 0)
    return -1;
  for (size_t i = 0; i < trace->length; i++) {
    int added = id_set_add(&set, trace->ids[i]);
    if (added < 0) {
      free(set.slots);
      return -1;
    }
    if (added && trace->sizes != NULL)
      trace->distinct_bytes += trace->sizes[i];
  }
  trace->distinct = set.count;
  free(set.slots);
  return 0;
}

/* ---- policies ---------------------------------------------------------- */

/* The library answers NULL for an id it does not know; an older build
 * might have said "unknown", which is no policy either. */
static bool known_policy(int id) {
  const char *name = cache_policy_name(id);
  return name != NULL && strcmp(name, "unknown") != 0;
}

size_t sim_policies(int *out, size_t max) {
  size_t n = 0;
  for (int id = 0; id < SIM_POLICY_ID_LIMIT; id++)
    if (known_policy(id)) {
      if (n < max)
        out[n] = id;
      n++;
    }
  return n;
}

int sim_policy_default(void) {
  cache_options_t options;
  cache_options_init(&options);
  return options.policy;
}

int sim_policy_by_name(const char *name) {
  for (int id = 0; id < SIM_POLICY_ID_LIMIT; id++)
    if (known_policy(id) && strcmp(cache_policy_name(id), name) == 0)
      return id;
  return -1;
}

const char *sim_policy_text(int policy) {
  return known_policy(policy) ? cache_policy_name(policy) : "?";
}

/* ---- replay ------------------------------------------------------------ */

/* v in decimal at the end of buf[0..SIM_KEY_BUF): the keys are written
 * once per request of every replay, so this stays off snprintf. */
static const char *format_u64(uint64_t v, char *buf, size_t *len) {
  char *end = buf + SIM_KEY_BUF;
  char *p = end;
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  *len = (size_t)(end - p);
  return p;
}

const char *sim_key(const sim_trace_t *trace, size_t i, char *buf,
                    size_t *len) {
  uint64_t id = trace->ids[i];
  if (trace->names == NULL)
    return format_u64(id, buf, len);
  const sim_names_t *n = trace->names;
  *len = (size_t)(n->offsets[id + 1] - n->offsets[id]);
  return n->bytes + n->offsets[id];
}

static int open_cache(int policy, uint64_t max_entries, uint64_t max_bytes,
                      cache_t **out) {
  cache_options_t options;
  cache_options_init(&options);
  options.name = "cache-sim";
  options.ttl_ms = 0;
  options.max_entries = max_entries;
  options.max_bytes = max_bytes;
  options.policy = policy;
  return cache_create(&options, out);
}

/* One request: get, and on a miss set. 1 for a hit, 0 for a miss, or a
 * negative status. The value is never copied out: finding the entry is
 * the hit, whatever the buffer (cache.h). */
static int request(cache_t *cache, const char *key, size_t key_len,
                   const void *value, size_t value_len, sim_result_t *out) {
  size_t len;
  int rc = cache_get(cache, key, key_len, NULL, 0, &len);
  if (rc == CACHE_OK || rc == CACHE_ETOOSMALL)
    return 1;
  if (rc != CACHE_NOT_FOUND)
    return rc;
  rc = cache_set(cache, key, key_len, value, value_len, 0);
  if (rc == CACHE_ETOOBIG) {
    out->refused++;
    return 0;
  }
  return rc == CACHE_OK ? 0 : rc;
}

static int replay_all(const sim_trace_t *trace, cache_t *cache,
                      const unsigned char *value, bool sized,
                      sim_progress_fn progress, void *ctx, sim_result_t *out) {
  char buf[SIM_KEY_BUF];
  for (size_t i = 0; i < trace->length; i++) {
    size_t key_len;
    const char *key = sim_key(trace, i, buf, &key_len);
    size_t value_len = sized ? trace->sizes[i] : 1;
    int rc = request(cache, key, key_len, value, value_len, out);
    if (rc < 0)
      return rc;
    out->hits += (uint64_t)rc;
    out->requests++;
    if (progress != NULL && (i + 1) % SIM_PROGRESS_EVERY == 0)
      progress(ctx, i + 1);
  }
  return CACHE_OK;
}

int sim_replay_progress(const sim_trace_t *trace, int policy,
                        uint64_t max_entries, uint64_t max_bytes,
                        sim_progress_fn progress, void *ctx,
                        sim_result_t *out) {
  memset(out, 0, sizeof *out);
  bool sized = max_bytes != 0;
  if (sized && trace->sizes == NULL)
    return CACHE_EINVAL;
  /* Byte-bounded values are as long as the largest object; calloc'ed
   * zeroes cost no memory until they are written, and they never are. */
  static const unsigned char one_byte[1] = {'v'};
  unsigned char *zeroes = NULL;
  if (sized && (zeroes = calloc((size_t)trace->max_size + 1, 1)) == NULL)
    return CACHE_ENOMEM;

  cache_t *cache;
  int rc = open_cache(policy, max_entries, max_bytes, &cache);
  if (rc == CACHE_OK) {
    rc = replay_all(trace, cache, sized ? zeroes : one_byte, sized, progress,
                    ctx, out);
    cache_destroy(cache);
  }
  free(zeroes);
  return rc;
}

int sim_replay(const sim_trace_t *trace, int policy, uint64_t max_entries,
               uint64_t max_bytes, sim_result_t *out) {
  return sim_replay_progress(trace, policy, max_entries, max_bytes, NULL, NULL,
                             out);
}
