/* Reading caller structs that carry a leading struct_size. */
#ifndef CACHE_OPTIONS_H
#define CACHE_OPTIONS_H

#include "cache.h"

#include <stddef.h>

/* The size of each struct in the first release that had it. A caller's
 * struct_size below this is an error; above the current sizeof it is
 * accepted only if the bytes this library does not know are zero. */
#define CACHE__OPTIONS_V1_SIZE sizeof(cache_options_t)

#define CACHE__STATS_V1_SIZE sizeof(cache_stats_t)

/* Copies a caller's options into a full, validated current struct, with
 * defaults for fields the caller's version did not have. CACHE_OK or
 * CACHE_EINVAL. */
int cache__options_load(const cache_options_t *in, cache_options_t *out);

/* Copies `full` into the caller's `out` as far as out->struct_size covers,
 * zeroing what it covers past the known fields. CACHE_OK, or CACHE_EINVAL
 * for NULL or a struct_size below CACHE__STATS_V1_SIZE. */
int cache__stats_store(const cache_stats_t *full, cache_stats_t *out);

#endif
