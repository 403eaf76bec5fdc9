/* A program that uses an installed libcache, the way a consumer would:
 * built once with pkg-config and once with find_package(libcache). */
#include <cache.h>

#include <stdio.h>
#include <string.h>

#define CHECK(expr)                                                            \
  do {                                                                         \
    int check_rc_ = (expr);                                                    \
    if (check_rc_ != CACHE_OK) {                                               \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,            \
              cache_err_name(check_rc_));                                      \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  if (strcmp(cache_version(), CACHE_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s but library %s\n", CACHE_VERSION_STRING,
            cache_version());
    return 1;
  }

  cache_options_t options;
  cache_options_init(&options);
  options.name = "consumer";
  options.max_entries = 2;

  cache_t *cache = NULL;
  CHECK(cache_create(&options, &cache));
  CHECK(cache_set(cache, "a", 1, "apple", 5, 0));
  CHECK(cache_set(cache, "b", 1, "banana", 6, 0));

  char buf[16];
  size_t len = 0;
  CHECK(cache_get(cache, "a", 1, buf, sizeof buf, &len));
  if (len != 5 || memcmp(buf, "apple", 5) != 0) {
    fprintf(stderr, "cache_get returned the wrong value\n");
    return 1;
  }

  cache_stats_t stats;
  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  CHECK(cache_stats(cache, &stats));
  printf("libcache %s: %s holds %llu entries in %llu bytes, %llu hit(s)\n",
         cache_version(), cache_name(cache), (unsigned long long)stats.entries,
         (unsigned long long)stats.bytes, (unsigned long long)stats.hits);

  cache_destroy(cache);
  return 0;
}
