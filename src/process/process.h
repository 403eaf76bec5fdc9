/* What the files of process/ share among themselves: memory figures and
 * thresholds (pressure.c, memory.c). core/ does not include it: it sees
 * process/ through hooks.h. */
#ifndef CACHE_PROCESS_H
#define CACHE_PROCESS_H

#include "cache.h"
#include "hooks.h"

#include <stdbool.h>
#include <stdint.h>

/* pressure.c: a cache's footprint (entries and tables). */
uint64_t cache__footprint(cache_t *c);
/* 0, 1 or 2: the footprint now against memory_threshold_mb. */
int cache__memory_level(cache_t *c);
/* Removes expired entries, then evicts (reason CACHE_REMOVED_MEMORY) until
 * the footprint is at most `target`. Returns the footprint freed. */
uint64_t cache__shed(cache_t *c, uint64_t target);
/* Enforces cache_set_process_memory_limit(); run by the reaper. */
void cache__process_limit_check(void);
bool cache__process_limit_active(void);

/* memory.c: the process's resident bytes (1), unknown (0) or an error. */
int cache__memory_rss(uint64_t *out);
int cache__memory_cgroup_usage(uint64_t *out);

#endif
