// A C++ translation unit that uses cache.h: the header must compile as C++
// (extern "C" linkage, no C-only constructs) and link against the C library.
#include <cache.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct cache_deleter {
  void operator()(cache_t *c) const { cache_destroy(c); }
};

int fail(const char *what, int rc) {
  std::fprintf(stderr, "%s: %s\n", what, cache_err_name(rc));
  return 1;
}

}  // namespace

int main() {
  cache_options_t options;
  cache_options_init(&options);
  options.name = "cxx";
  options.max_entries = 4;
  options.policy = CACHE_POLICY_FIFO;

  cache_t *raw = nullptr;
  int rc = cache_create(&options, &raw);
  if (rc != CACHE_OK)
    return fail("cache_create", rc);
  cache_deleter del;

  const std::string key = "answer", value = "42";
  rc = cache_set(raw, key.data(), key.size(), value.data(), value.size(), 0);
  if (rc != CACHE_OK)
    return del(raw), fail("cache_set", rc);

  char buf[16];
  size_t len = 0;
  rc = cache_get(raw, key.data(), key.size(), buf, sizeof buf, &len);
  if (rc != CACHE_OK || std::string(buf, len) != value)
    return del(raw), fail("cache_get", rc);

  cache_stats_t stats;
  std::memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  rc = cache_stats(raw, &stats);
  if (rc != CACHE_OK)
    return del(raw), fail("cache_stats", rc);
  std::printf("C++ consumer: libcache %s, %llu entry, %llu hit, policy %s\n",
              cache_version(), static_cast<unsigned long long>(stats.entries),
              static_cast<unsigned long long>(stats.hits),
              cache_policy_name(CACHE_POLICY_FIFO));
  del(raw);
  return 0;
}
