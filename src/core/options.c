/* Options, presets, and the struct_size contract for structs that cross
 * the library boundary. */
#include "options.h"

#include "policy.h"

#include <stddef.h>
#include <string.h>

static void defaults(cache_options_t *o) {
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
  o->max_retries = 3;
  o->retry_base_ms = 1000;
  o->policy = CACHE_POLICY_TINYLFU;
}

void cache_options_init(cache_options_t *options) {
  if (options != NULL)
    defaults(options);
}

int cache_options_init_sized(cache_options_t *options, size_t struct_size) {
  if (options == NULL || struct_size < CACHE__OPTIONS_V1_SIZE)
    return CACHE_EINVAL;
  cache_options_t full;
  defaults(&full);
  full.struct_size = struct_size;
  size_t known = struct_size < sizeof full ? struct_size : sizeof full;
  memcpy(options, &full, known);
  if (struct_size > known)
    memset((char *)options + known, 0, struct_size - known);
  return CACHE_OK;
}

typedef struct preset {
  const char *name;
  uint64_t ttl_ms, max_entries, cleanup_interval_ms;
  uint32_t max_retries;
  uint64_t memory_threshold_mb;
} preset_t;

static const preset_t presets[] = {
#define XX(id, value, name, ttl, max, cleanup, retries, mb)                    \
  [value] = {name, ttl, max, cleanup, retries, mb},
    CACHE_PRESET_MAP(XX)
#undef XX
};

/* Applies preset p over options whose layout is struct_size bytes long
 * (every preset field is in the first layout). */
static int apply_preset(int preset, cache_options_t *options,
                        size_t struct_size) {
  if (options == NULL || preset < 0 ||
      (size_t)preset >= sizeof presets / sizeof presets[0])
    return CACHE_EINVAL;
  int rc = cache_options_init_sized(options, struct_size);
  if (rc != CACHE_OK)
    return rc;
  const preset_t *p = &presets[preset];
  options->name = p->name;
  options->ttl_ms = p->ttl_ms;
  options->max_entries = p->max_entries;
  options->cleanup_interval_ms = p->cleanup_interval_ms;
  options->max_retries = p->max_retries;
  options->memory_threshold_mb = p->memory_threshold_mb;
  return CACHE_OK;
}

int cache_preset_options(int preset, cache_options_t *options) {
  return apply_preset(preset, options, sizeof *options);
}

int cache_preset_options_sized(int preset, cache_options_t *options,
                               size_t struct_size) {
  return apply_preset(preset, options, struct_size);
}

/* True if bytes [from, to) of p are all zero. */
static int tail_is_zero(const void *p, size_t from, size_t to) {
  const unsigned char *b = p;
  for (size_t i = from; i < to; i++)
    if (b[i] != 0)
      return 0;
  return 1;
}

int cache__options_load(const cache_options_t *in, cache_options_t *out) {
  if (in == NULL || in->struct_size < CACHE__OPTIONS_V1_SIZE)
    return CACHE_EINVAL;
  size_t n = in->struct_size;
  if (n > sizeof *out) {
    if (!tail_is_zero(in, sizeof *out, n))
      return CACHE_EINVAL; /* asks for something this version lacks */
    n = sizeof *out;
  }
  cache_options_init(out);
  memcpy(out, in, n);
  out->struct_size = sizeof *out;
  if (out->reserved0 != 0 || cache__policy_find(out->policy) == NULL)
    return CACHE_EINVAL;
  return CACHE_OK;
}

int cache__struct_out(void *out, const void *full, size_t full_size,
                      size_t min_size) {
  size_t n;
  if (out == NULL)
    return CACHE_EINVAL;
  memcpy(&n, out, sizeof n); /* the caller's struct_size */
  if (n < min_size)
    return CACHE_EINVAL;
  size_t known = n < full_size ? n : full_size;
  size_t skip = sizeof n; /* struct_size stays as the caller set it */
  memcpy((char *)out + skip, (const char *)full + skip, known - skip);
  if (n > known)
    memset((char *)out + known, 0, n - known);
  return CACHE_OK;
}
