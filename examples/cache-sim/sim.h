/*
 * A request trace held in memory, and its replay through libcache.
 *
 * This part of cache-sim knows nothing of files or output: it is what
 * cache-bench compiles too, so that both replay a trace by the same rule.
 * It uses libcache through cache.h only, like any program would.
 *
 * The replay rule: for each request cache_get(); on a miss cache_set();
 * hit ratio = hits / requests. No expiry (ttl 0). A count-bounded replay
 * (max_entries) stores a 1-byte value; a byte-bounded one (max_bytes)
 * stores a value as long as the request's object size, so that the cache
 * holds what the trace's objects would take.
 *
 * Key bytes: a request's id written in decimal ("42"), or, for a trace
 * whose keys are strings (csv), the string itself. A csv trace of decimal
 * ids therefore replays exactly as the same ids given one per line.
 */
#ifndef CACHE_SIM_SIM_H
#define CACHE_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------------
 * Every function that can fail on its input fills one of these with a
 * one-line message (no trailing newline) for the program to print. */
typedef struct sim_error {
  char text[512];
} sim_error_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sim_error_set(sim_error_t *err, const char *fmt, ...);

/* ---- traces ----------------------------------------------------------------
 */

/* Keys that are strings: key i is bytes[offsets[i] .. offsets[i + 1]). */
typedef struct sim_names {
  char *bytes;
  uint64_t *offsets; /* count + 1 of them */
  uint64_t count;
} sim_names_t;

typedef struct sim_trace {
  uint64_t *ids;      /* one per request */
  uint32_t *sizes;    /* one per request; NULL when the format has none */
  size_t length;      /* requests */
  sim_names_t *names; /* NULL: the key is the id in decimal */
  /* Filled by sim_trace_count() */
  uint64_t distinct;       /* distinct ids */
  uint64_t distinct_bytes; /* sum over distinct ids of their first size */
  uint32_t max_size;       /* largest size of any request */
} sim_trace_t;

/* Frees what the trace holds and zeroes it. NULL-safe. */
void sim_trace_free(sim_trace_t *trace);

/* Counts the distinct ids (and their bytes, when there are sizes). 0, or
 * -1 when out of memory. */
int sim_trace_count(sim_trace_t *trace);

/* ---- policies ---------------------------------------------------------------
 */

/* Policy ids are small: the library's names are looked up for every id
 * below this. */
#define SIM_POLICY_ID_LIMIT 32

/* The ids the library has a name for, in increasing order; returns how
 * many (at most SIM_POLICY_ID_LIMIT, of which max are written). */
size_t sim_policies(int *out, size_t max);
/* The policy cache_options_init() sets. */
int sim_policy_default(void);
/* The id of a policy name ("lru"), or -1. */
int sim_policy_by_name(const char *name);
/* The library's name of a policy, or "?" . */
const char *sim_policy_text(int policy);

/* ---- replay ------------------------------------------------------------ */

typedef struct sim_result {
  uint64_t requests;
  uint64_t hits;
  /* Misses whose object could never fit (larger than max_bytes): the
   * cache refused them, so they were not stored. */
  uint64_t refused;
} sim_result_t;

/* Called every SIM_PROGRESS_EVERY requests with the number replayed so
 * far in this replay. */
typedef void (*sim_progress_fn)(void *ctx, uint64_t done);
#define SIM_PROGRESS_EVERY 65536u

/* Replays the whole trace from an empty cache of the given policy and
 * bounds: max_entries for a count-bounded cache, or max_bytes (then the
 * trace needs sizes) for a byte-bounded one. Returns CACHE_OK with *out
 * filled, or the libcache status that stopped it (CACHE_EINVAL for bounds
 * the trace cannot be replayed with, CACHE_ENOMEM, ...). */
int sim_replay(const sim_trace_t *trace, int policy, uint64_t max_entries,
               uint64_t max_bytes, sim_result_t *out);
/* The same, reporting progress. */
int sim_replay_progress(const sim_trace_t *trace, int policy,
                        uint64_t max_entries, uint64_t max_bytes,
                        sim_progress_fn progress, void *ctx, sim_result_t *out);

/* Writes the key of request i into buf (at least SIM_KEY_BUF bytes when
 * the key is an id) and returns a pointer to it and its length in *len:
 * for string keys the pointer is into the trace. */
#define SIM_KEY_BUF 24
const char *sim_key(const sim_trace_t *trace, size_t i, char *buf, size_t *len);

#endif /* CACHE_SIM_SIM_H */
