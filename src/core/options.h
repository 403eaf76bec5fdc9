/* Reading caller structs that carry a leading struct_size. */
#ifndef CACHE_OPTIONS_H
#define CACHE_OPTIONS_H

#include "cache.h"

#include <stddef.h>

/* The size of each struct in its first layout. A caller's struct_size
 * below this is an error; between it and the current sizeof, the caller has
 * an older layout and the fields it lacks take their defaults (options) or
 * are not written (results); above the current sizeof it is accepted only
 * if the bytes this library does not know are zero (options) and is zeroed
 * past the known fields (results). The first layouts of the options and
 * the statistics ended before the listener and the alert counters. */
#define CACHE__OPTIONS_V1_SIZE offsetof(cache_options_t, on_remove)
#define CACHE__STATS_V1_SIZE offsetof(cache_stats_t, alerts_warning)
#define CACHE__ALERT_V1_SIZE sizeof(cache_alert_t)
#define CACHE__MEMORY_USAGE_V1_SIZE sizeof(cache_memory_usage_t)
#define CACHE__HEALTH_REPORT_V1_SIZE sizeof(cache_health_report_t)

/* Copies a caller's options into a full, validated current struct, with
 * defaults for fields the caller's version did not have. CACHE_OK or
 * CACHE_EINVAL. */
int cache__options_load(const cache_options_t *in, cache_options_t *out);

/* Copies a result struct `full` (full_size bytes, struct_size first) into
 * the caller's `out` as far as out->struct_size covers, zeroing what it
 * covers past the known fields; struct_size is left as the caller set it.
 * CACHE_OK, or CACHE_EINVAL for NULL or a struct_size below min_size. */
int cache__struct_out(void *out, const void *full, size_t full_size,
                      size_t min_size);

#endif
