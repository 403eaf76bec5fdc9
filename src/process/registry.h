/* The registry of live caches: what cache_shutdown_all() closes, what the
 * fork handlers lock and repair, and (later) what a health report lists. */
#ifndef CACHE_REGISTRY_H
#define CACHE_REGISTRY_H

#include "cache.h"
#include "hooks.h" /* cache__registry_add, cache__registry_remove */

#include <stddef.h>

/* Pins every open cache (cache_destroy() waits for the pin to go) and
 * returns them, oldest first, in an array to give back to
 * cache__registry_unpin_all(). NULL with *n = 0 if there is none or no
 * memory. */
cache_t **cache__registry_pin_all(size_t *n);
void cache__registry_unpin_all(cache_t **list, size_t n);

#endif
