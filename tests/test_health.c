/* Health: cache_health(), cache_health_report() and the two exports,
 * cache_health_json() and cache_metrics_prometheus().
 *
 * The exports are checked with real parsers rather than by comparing
 * strings: Python's json module (python3 -m json.tool, then a short script
 * for the structure) and the text-format parser of python3-prometheus-client
 * plus a line-by-line check of the exposition grammar. Both run as
 * /usr/bin/python3, Debian's interpreter, which has that package.
 *
 * Health levels are made with memory thresholds and with clocks the test
 * moves by hand; every test destroys the caches it made, so a report sees
 * exactly the caches of the running test. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#define MIB (UINT64_C(1) << 20)
#define VALUE_LEN 4000
#define PYTHON "/usr/bin/python3"

/* "a\"b\\c\nd\x01\xff": quotes, a backslash, a newline, a control
 * character and a byte that is not UTF-8. */
static const char odd_name[] = "a\"b\\c\nd\x01\xff";

/* ---- caches in a known state --------------------------------------------- */

static char value[VALUE_LEN];

#define MAX_TRACKED 8
static cache_t *tracked[MAX_TRACKED]; /* every cache the test made */
static size_t n_tracked;

static cache_t *make(const char *name, uint64_t threshold_mb,
                     test_clock_t *clk) {
  cache_options_t o;
  cache_options_init(&o);
  o.name = name;
  o.memory_threshold_mb = threshold_mb;
  if (clk != NULL) {
    o.clock_ms = test_clock_now;
    o.clock_ctx = clk;
  }
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  ck_assert_uint_lt(n_tracked, MAX_TRACKED);
  tracked[n_tracked++] = c;
  return c;
}

/* Destroys a cache made by make() before the test ends. */
static void drop(cache_t *c) {
  for (size_t i = 0; i < n_tracked; i++)
    if (tracked[i] == c) {
      tracked[i] = tracked[--n_tracked];
      cache_destroy(c);
      return;
    }
  ck_abort_msg("drop() of a cache make() did not make");
}

static void remove_temps(void);

/* Destroys what a test left, also when it failed half-way (with CK_FORK=no
 * the next test runs in the same process). */
static void teardown(void) {
  while (n_tracked > 0)
    cache_destroy(tracked[--n_tracked]);
  remove_temps();
}

static uint64_t footprint(cache_t *c) {
  cache_stats_t st = tu_stats(c);
  return st.bytes + st.table_bytes;
}

static void put(cache_t *c, uint64_t i) {
  char key[32];
  int n = snprintf(key, sizeof key, "k-%llu", (unsigned long long)i);
  memset(value, 'v', sizeof value);
  ASSERT_OK(cache_set(c, key, (size_t)n, value, sizeof value, 0));
}

/* A cache with a 1 MiB threshold, filled to just above it: WARNING. */
static cache_t *make_warning(const char *name, test_clock_t *clk) {
  cache_t *c = make(name, 1, clk);
  for (uint64_t i = 0; footprint(c) <= MIB; i++)
    put(c, i);
  ck_assert_int_eq(cache_health(c), CACHE_HEALTH_WARNING);
  return c;
}

/* A cache with a 1 MiB threshold, filled past twice it, so that it shed
 * and raised a critical alert: CRITICAL. */
static cache_t *make_critical(const char *name, test_clock_t *clk) {
  cache_t *c = make(name, 1, clk);
  for (uint64_t i = 0; tu_stats(c).alerts_critical == 0; i++) {
    ck_assert_uint_lt(i, 100000);
    put(c, i);
  }
  ck_assert_int_eq(cache_health(c), CACHE_HEALTH_CRITICAL);
  return c;
}

/* A few hits, misses, sets and a delete. */
static cache_t *make_healthy(const char *name) {
  cache_t *c = make(name, 0, NULL);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ASSERT_OK(tu_delete(c, "c"));
  ASSERT_VALUE(c, "a", "1");
  ASSERT_VALUE(c, "a", "1");
  ASSERT_MISSING(c, "zz");
  ck_assert_int_eq(cache_health(c), CACHE_HEALTH_HEALTHY);
  return c;
}

static cache_health_report_t report_now(void) {
  cache_health_report_t r;
  memset(&r, 0xa5, sizeof r);
  r.struct_size = sizeof r;
  ASSERT_OK(cache_health_report(&r));
  return r;
}

/* ---- running Python on an export ----------------------------------------- */

typedef struct buf {
  char data[16384];
  size_t len;
} buf_t;

static void buf_printf(buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void buf_printf(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->data + b->len, sizeof b->data - b->len, fmt, ap);
  va_end(ap);
  ck_assert_int_ge(n, 0);
  ck_assert_uint_lt((size_t)n, sizeof b->data - b->len);
  b->len += (size_t)n;
}

/* A Python expression for the str a cache name shows as in the exports:
 * its bytes, with bytes that are not UTF-8 replaced by U+FFFD. */
static void buf_py_name(buf_t *b, const char *name) {
  buf_printf(b, "b'");
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    buf_printf(b, "\\x%02x", *p);
  buf_printf(b, "'.decode('utf-8', 'replace')");
}

/* Temporary files of the running test, removed by teardown(). */
#define MAX_TEMPS 8
static char temps[MAX_TEMPS][256];
static size_t n_temps;

/* Writes len bytes to a new temporary file; its path goes to path. */
static void write_temp(char *path, size_t size, const char *data, size_t len) {
  const char *dir = getenv("TMPDIR");
  snprintf(path, size, "%s/libcache-test-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  ck_assert_msg(fd >= 0, "mkstemp %s failed", path);
  ck_assert_uint_lt(n_temps, MAX_TEMPS);
  snprintf(temps[n_temps++], sizeof temps[0], "%s", path);
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    ck_assert_int_gt(n, 0);
    done += (size_t)n;
  }
  ck_assert_int_eq(close(fd), 0);
}

static void remove_temps(void) {
  while (n_temps > 0)
    unlink(temps[--n_temps]);
}

/* Runs a shell command, collecting its output into out; returns its exit
 * status, or -1 if it did not exit normally. */
static int run(const char *cmd, buf_t *out) {
  out->len = 0;
  out->data[0] = '\0';
  FILE *p = popen(cmd, "r");
  ck_assert_msg(p != NULL, "popen(%s) failed", cmd);
  size_t n;
  char chunk[1024];
  while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
    size_t room = sizeof out->data - 1 - out->len;
    n = n < room ? n : room;
    memcpy(out->data + out->len, chunk, n);
    out->len += n;
  }
  out->data[out->len] = '\0';
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `python3 -m json.tool` must accept the text. */
static void assert_json_tool_accepts(const char *path) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, PYTHON " -m json.tool '%s' 2>&1 >/dev/null", path);
  buf_t out;
  int rc = run(cmd, &out);
  if (rc != 0)
    remove_temps(); /* a failed check ends the test before its teardown */
  ck_assert_msg(rc == 0, "json.tool exited with %d: %s", rc, out.data);
}

/* Runs the script on the data file; it must exit 0. */
static void assert_script_passes(const buf_t *script, const char *data_path,
                                 const char *what) {
  char script_path[256], cmd[768];
  write_temp(script_path, sizeof script_path, script->data, script->len);
  snprintf(cmd, sizeof cmd, PYTHON " '%s' '%s' 2>&1", script_path, data_path);
  buf_t out;
  int rc = run(cmd, &out);
  if (rc != 0)
    remove_temps(); /* a failed check ends the test before its teardown */
  ck_assert_msg(rc == 0, "%s check exited with %d:\n%s", what, rc, out.data);
}

/* Writes the export to a temporary file and frees it. */
static void export_to_file(char *export, char *path, size_t size) {
  ck_assert_ptr_nonnull(export);
  write_temp(path, size, export, strlen(export));
  cache_free_string(export);
}

/* ---- names --------------------------------------------------------------- */

START_TEST(health_names) {
  ck_assert_str_eq(cache_health_name(CACHE_HEALTH_HEALTHY), "healthy");
  ck_assert_str_eq(cache_health_name(CACHE_HEALTH_WARNING), "warning");
  ck_assert_str_eq(cache_health_name(CACHE_HEALTH_CRITICAL), "critical");
  ck_assert_ptr_null(cache_health_name(-1));
  ck_assert_ptr_null(cache_health_name(3));
  ck_assert_ptr_null(cache_health_name(1000));
}
END_TEST

/* ---- cache_health -------------------------------------------------------- */

START_TEST(health_of_null_is_einval) {
  ASSERT_STATUS(cache_health(NULL), CACHE_EINVAL);
}
END_TEST

START_TEST(health_of_a_closed_cache_is_eclosed) {
  cache_t *c = make_healthy("h");
  ASSERT_OK(cache_close(c));
  ASSERT_STATUS(cache_health(c), CACHE_ECLOSED);
  drop(c);
}
END_TEST

START_TEST(health_of_a_fresh_cache_is_healthy) {
  cache_t *c = make("fresh", 1, NULL);
  ck_assert_int_eq(cache_health(c), CACHE_HEALTH_HEALTHY);
  ck_assert_int_eq(tu_stats(c).health, CACHE_HEALTH_HEALTHY);
  drop(c);
}
END_TEST

START_TEST(stats_health_matches_cache_health) {
  test_clock_t cw = {1000}, cc = {1000};
  cache_t *h = make_healthy("h");
  cache_t *w = make_warning("w", &cw);
  cache_t *c = make_critical("c", &cc);
  ck_assert_int_eq(tu_stats(h).health, CACHE_HEALTH_HEALTHY);
  ck_assert_int_eq(tu_stats(w).health, CACHE_HEALTH_WARNING);
  ck_assert_int_eq(tu_stats(c).health, CACHE_HEALTH_CRITICAL);
  drop(h);
  drop(w);
  drop(c);
}
END_TEST

/* ---- cache_health_report ------------------------------------------------- */

START_TEST(report_rejects_null_and_a_small_struct_size) {
  ASSERT_STATUS(cache_health_report(NULL), CACHE_EINVAL);
  cache_health_report_t r;
  memset(&r, 0xa5, sizeof r);
  r.struct_size = sizeof r - 1;
  ASSERT_STATUS(cache_health_report(&r), CACHE_EINVAL);
  r.struct_size = 0;
  ASSERT_STATUS(cache_health_report(&r), CACHE_EINVAL);
}
END_TEST

START_TEST(report_without_caches_is_healthy_and_empty) {
  cache_health_report_t r = report_now();
  ck_assert_int_eq(r.overall, CACHE_HEALTH_HEALTHY);
  ck_assert_int_eq(r.reserved0, 0);
  ck_assert_uint_eq(r.caches, 0);
  ck_assert_uint_eq(r.healthy, 0);
  ck_assert_uint_eq(r.warning, 0);
  ck_assert_uint_eq(r.critical, 0);
  ck_assert_uint_eq(r.total_bytes, 0);
  ck_assert_uint_gt(r.rss_bytes, 0);
}
END_TEST

START_TEST(report_counts_each_level_and_takes_the_worst) {
  test_clock_t cw = {1000}, cc = {1000};
  cache_t *h = make_healthy("h");
  cache_t *w = make_warning("w", &cw);
  cache_t *c = make_critical("c", &cc);

  cache_health_report_t r = report_now();
  ck_assert_uint_eq(r.caches, 3);
  ck_assert_uint_eq(r.healthy, 1);
  ck_assert_uint_eq(r.warning, 1);
  ck_assert_uint_eq(r.critical, 1);
  ck_assert_int_eq(r.overall, CACHE_HEALTH_CRITICAL);
  ck_assert_uint_eq(r.total_bytes, footprint(h) + footprint(w) + footprint(c));
  ck_assert_uint_gt(r.rss_bytes, 0);

  /* The critical alert ages out: the worst is the warning cache now. */
  cc.now_ms += CACHE_HEALTH_WINDOW_MS + 1;
  r = report_now();
  ck_assert_uint_eq(r.healthy, 2);
  ck_assert_uint_eq(r.warning, 1);
  ck_assert_uint_eq(r.critical, 0);
  ck_assert_int_eq(r.overall, CACHE_HEALTH_WARNING);

  /* Under its threshold, but its warning is recent: still warning. */
  ASSERT_OK(cache_clear(w));
  r = report_now();
  ck_assert_uint_eq(r.warning, 1);
  ck_assert_int_eq(r.overall, CACHE_HEALTH_WARNING);

  cw.now_ms += CACHE_HEALTH_WINDOW_MS + 1;
  r = report_now();
  ck_assert_uint_eq(r.caches, 3);
  ck_assert_uint_eq(r.healthy, 3);
  ck_assert_uint_eq(r.warning, 0);
  ck_assert_uint_eq(r.critical, 0);
  ck_assert_int_eq(r.overall, CACHE_HEALTH_HEALTHY);

  drop(h);
  drop(w);
  drop(c);
}
END_TEST

START_TEST(report_leaves_out_closed_caches) {
  test_clock_t cc = {1000};
  cache_t *h = make_healthy("h");
  cache_t *c = make_critical("c", &cc);
  ck_assert_uint_eq(report_now().caches, 2);
  ASSERT_OK(cache_close(c));
  cache_health_report_t r = report_now();
  ck_assert_uint_eq(r.caches, 1);
  ck_assert_uint_eq(r.healthy, 1);
  ck_assert_uint_eq(r.critical, 0);
  ck_assert_int_eq(r.overall, CACHE_HEALTH_HEALTHY);
  ck_assert_uint_eq(r.total_bytes, footprint(h));
  drop(c);
  drop(h);
  ck_assert_uint_eq(report_now().caches, 0);
}
END_TEST

START_TEST(report_zeroes_the_tail_of_a_larger_struct) {
  cache_t *h = make_healthy("h");
  enum { EXTRA = 40 };
  union {
    cache_health_report_t r;
    unsigned char bytes[sizeof(cache_health_report_t) + EXTRA];
  } u;
  memset(&u, 0xa5, sizeof u);
  u.r.struct_size = sizeof u.bytes;
  ASSERT_OK(cache_health_report(&u.r));
  ck_assert_uint_eq(u.r.struct_size, sizeof u.bytes);
  ck_assert_uint_eq(u.r.caches, 1);
  for (size_t i = sizeof(cache_health_report_t); i < sizeof u.bytes; i++)
    ck_assert_msg(u.bytes[i] == 0, "byte %zu past the struct is %#x", i,
                  u.bytes[i]);
  drop(h);
}
END_TEST

/* ---- JSON ---------------------------------------------------------------- */

/* Python that loads argv[1] as JSON (strict UTF-8) into `doc` and indexes
 * its caches by name into `by_name`. */
static void json_prelude(buf_t *s) {
  buf_printf(s, "import json, sys\n"
                "with open(sys.argv[1], encoding='utf-8', errors='strict') "
                "as f:\n"
                "    doc = json.load(f)\n"
                "assert isinstance(doc, dict), type(doc)\n"
                "for k in ('overall', 'cache_count', 'caches'):\n"
                "    assert k in doc, ('missing', k, sorted(doc))\n"
                "assert isinstance(doc['caches'], list)\n"
                "assert doc['cache_count'] == len(doc['caches']), doc\n"
                "by_name = {}\n"
                "for c in doc['caches']:\n"
                "    for k in ('name', 'health', 'stats', 'alerts'):\n"
                "        assert k in c, ('cache lacks', k, c)\n"
                "    assert isinstance(c['name'], str)\n"
                "    assert c['health'] in ('healthy', 'warning', "
                "'critical'), c\n"
                "    assert isinstance(c['stats'], dict)\n"
                "    assert isinstance(c['alerts'], list)\n"
                "    for a in c['alerts']:\n"
                "        assert a['level'] in ('warning', 'critical'), a\n"
                "        assert isinstance(a['message'], str), a\n"
                "        assert isinstance(a['time_ms'], int), a\n"
                "    assert c['name'] not in by_name, c['name']\n"
                "    by_name[c['name']] = c\n");
}

/* Python asserting that the cache `name` is in the document with this
 * health, these statistics and alerts of these levels, newest first. */
static void json_expect_cache(buf_t *s, const char *name, cache_t *c,
                              const char *alert_levels) {
  cache_stats_t st = tu_stats(c);
  buf_printf(s, "name = ");
  buf_py_name(s, name);
  buf_printf(s, "\nassert name in by_name, (name, sorted(by_name))\n"
                "c = by_name[name]\n");
  buf_printf(s, "assert c['health'] == '%s', c['health']\n",
             cache_health_name(st.health));
  buf_printf(
      s,
      "expected = {'entries': %llu, 'bytes': %llu, 'table_bytes': "
      "%llu, 'hits': %llu, 'misses': %llu, 'sets': %llu, "
      "'deletes': %llu, 'evictions': %llu, 'memory_evictions': %llu, "
      "'expirations': %llu, 'alerts_warning': %llu, "
      "'alerts_critical': %llu, 'max_entries': %llu, "
      "'max_bytes': %llu}\n",
      (unsigned long long)st.entries, (unsigned long long)st.bytes,
      (unsigned long long)st.table_bytes, (unsigned long long)st.hits,
      (unsigned long long)st.misses, (unsigned long long)st.sets,
      (unsigned long long)st.deletes, (unsigned long long)st.evictions,
      (unsigned long long)st.memory_evictions,
      (unsigned long long)st.expirations, (unsigned long long)st.alerts_warning,
      (unsigned long long)st.alerts_critical,
      (unsigned long long)st.max_entries, (unsigned long long)st.max_bytes);
  buf_printf(s, "for k, v in expected.items():\n"
                "    assert c['stats'].get(k) == v, (name, k, "
                "c['stats'].get(k), v)\n");
  buf_printf(s,
             "levels = [a['level'] for a in c['alerts']]\n"
             "assert levels == [%s], (name, levels)\n",
             alert_levels);
}

START_TEST(json_is_valid_and_describes_every_cache) {
  test_clock_t cw = {1000}, cc = {1000};
  cache_t *h = make_healthy("healthy cache");
  cache_t *w = make_warning("warning cache", &cw);
  cache_t *c = make_critical("critical cache", &cc);

  char path[256];
  export_to_file(cache_health_json(), path, sizeof path);
  assert_json_tool_accepts(path);

  static buf_t script;
  script.len = 0;
  json_prelude(&script);
  buf_printf(&script, "assert doc['overall'] == 'critical', doc['overall']\n"
                      "assert doc['cache_count'] == 3, doc['cache_count']\n");
  json_expect_cache(&script, "healthy cache", h, "");
  json_expect_cache(&script, "warning cache", w, "'warning'");
  json_expect_cache(&script, "critical cache", c, "'critical', 'warning'");
  assert_script_passes(&script, path, "JSON structure");

  drop(h);
  drop(w);
  drop(c);
}
END_TEST

START_TEST(json_without_caches_is_valid) {
  char path[256];
  export_to_file(cache_health_json(), path, sizeof path);
  assert_json_tool_accepts(path);
  static buf_t script;
  script.len = 0;
  json_prelude(&script);
  buf_printf(&script, "assert doc['overall'] == 'healthy'\n"
                      "assert doc['cache_count'] == 0\n");
  assert_script_passes(&script, path, "JSON structure");
}
END_TEST

START_TEST(json_escapes_an_odd_cache_name) {
  cache_t *odd = make_healthy(odd_name);
  cache_t *plain = make_healthy("plain");
  char path[256];
  export_to_file(cache_health_json(), path, sizeof path);
  assert_json_tool_accepts(path);
  static buf_t script;
  script.len = 0;
  json_prelude(&script);
  buf_printf(&script, "assert doc['cache_count'] == 2\n");
  json_expect_cache(&script, odd_name, odd, "");
  json_expect_cache(&script, "plain", plain, "");
  assert_script_passes(&script, path, "JSON odd name");
  drop(odd);
  drop(plain);
}
END_TEST

/* ---- Prometheus ---------------------------------------------------------- */

/* Python that reads argv[1] as strict UTF-8, checks every line against the
 * text exposition grammar, parses it with prometheus_client into `fams`
 * (family name -> family) and defines sample(metric, name) -> the one
 * sample of that metric labelled cache=name. */
static void prom_prelude(buf_t *s) {
  buf_printf(
      s,
      "import re, sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "raw = open(sys.argv[1], 'rb').read()\n"
      "text = raw.decode('utf-8', 'strict')\n"
      "assert text.endswith('\\n'), 'no final newline'\n"
      "NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'\n"
      "LVAL = r'\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"'\n"
      "LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*=' + LVAL\n"
      "SAMPLE = re.compile('^(' + NAME + r')(\\{' + LABEL + '(?:,' + LABEL"
      " + r')*\\})? (-?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)$')\n"
      "COMMENT = re.compile(r'^# (HELP|TYPE) (' + NAME + r') (.*)$')\n"
      "types = {}\n"
      "for n, line in enumerate(text.split('\\n')[:-1], 1):\n"
      "    m = COMMENT.match(line)\n"
      "    if m:\n"
      "        if m.group(1) == 'TYPE':\n"
      "            assert m.group(3) in ('counter', 'gauge'), line\n"
      "            assert m.group(2) not in types, ('TYPE twice', line)\n"
      "            types[m.group(2)] = m.group(3)\n"
      "        continue\n"
      "    m = SAMPLE.match(line)\n"
      "    assert m, ('line %%d is not a sample: %%r' %% (n, line))\n"
      "    assert m.group(1) in types, ('sample before its TYPE', line)\n"
      "fams = {f.name: f for f in text_string_to_metric_families(text)}\n"
      "def sample(metric, name):\n"
      "    fam = fams[metric[:-6] if metric.endswith('_total') else metric]\n"
      "    got = [x for x in fam.samples if x.name == metric and "
      "x.labels.get('cache') == name]\n"
      "    assert len(got) == 1, (metric, name, fam.samples)\n"
      "    assert set(got[0].labels) == {'cache', 'cache_id'}, got[0]\n"
      "    assert re.fullmatch('[0-9]+', got[0].labels['cache_id']), got[0]\n"
      "    return got[0]\n");
}

/* Python asserting the samples of the cache `name` against its statistics. */
static void prom_expect_cache(buf_t *s, const char *name, cache_t *c) {
  cache_stats_t st = tu_stats(c);
  buf_printf(s, "name = ");
  buf_py_name(s, name);
  buf_printf(s, "\n");
  buf_printf(
      s,
      "expected = {'libcache_hits_total': %llu, "
      "'libcache_misses_total': %llu, 'libcache_sets_total': %llu, "
      "'libcache_deletes_total': %llu, "
      "'libcache_evictions_total': %llu, "
      "'libcache_memory_evictions_total': %llu, "
      "'libcache_expirations_total': %llu, "
      "'libcache_alerts_warning_total': %llu, "
      "'libcache_alerts_critical_total': %llu, "
      "'libcache_entries': %llu, 'libcache_bytes': %llu, "
      "'libcache_table_bytes': %llu, 'libcache_max_entries': %llu, "
      "'libcache_max_bytes': %llu, 'libcache_health': %d}\n",
      (unsigned long long)st.hits, (unsigned long long)st.misses,
      (unsigned long long)st.sets, (unsigned long long)st.deletes,
      (unsigned long long)st.evictions, (unsigned long long)st.memory_evictions,
      (unsigned long long)st.expirations, (unsigned long long)st.alerts_warning,
      (unsigned long long)st.alerts_critical, (unsigned long long)st.entries,
      (unsigned long long)st.bytes, (unsigned long long)st.table_bytes,
      (unsigned long long)st.max_entries, (unsigned long long)st.max_bytes,
      st.health);
  buf_printf(s, "ids = set()\n"
                "for metric, v in expected.items():\n"
                "    x = sample(metric, name)\n"
                "    assert x.value == v, (metric, name, x.value, v)\n"
                "    ids.add(x.labels['cache_id'])\n"
                "assert len(ids) == 1, (name, ids)\n"
                "cache_ids[name] = ids.pop()\n");
}

START_TEST(prometheus_text_parses_and_matches_the_stats) {
  test_clock_t cc = {1000};
  cache_t *a = make_healthy("alpha");
  cache_t *b = make_critical("beta", &cc);
  cache_t *b2 = make_healthy("beta2");
  ASSERT_OK(tu_set(b2, "x", "y", 0));

  char path[256];
  export_to_file(cache_metrics_prometheus(), path, sizeof path);
  static buf_t script;
  script.len = 0;
  prom_prelude(&script);
  buf_printf(&script,
             "assert fams['libcache_hits'].type == 'counter'\n"
             "assert types['libcache_hits_total'] == 'counter'\n"
             "assert fams['libcache_entries'].type == 'gauge'\n"
             "for f in fams.values():\n"
             "    assert f.name.startswith('libcache_'), f.name\n"
             "assert fams['libcache_process_resident_bytes'].samples[0]"
             ".value > 0\n"
             "cache_ids = {}\n");
  prom_expect_cache(&script, "alpha", a);
  prom_expect_cache(&script, "beta", b);
  prom_expect_cache(&script, "beta2", b2);
  buf_printf(&script,
             "assert len(set(cache_ids.values())) == 3, cache_ids\n"
             "assert sample('libcache_hits_total', 'alpha').value == 2\n"
             "assert sample('libcache_misses_total', 'alpha').value == 1\n"
             "assert sample('libcache_health', 'beta').value == 2\n");
  assert_script_passes(&script, path, "Prometheus");
  drop(a);
  drop(b);
  drop(b2);
}
END_TEST

START_TEST(prometheus_tells_caches_of_the_same_name_apart) {
  cache_t *a = make_healthy("twin");
  cache_t *b = make("twin", 0, NULL);
  char path[256];
  export_to_file(cache_metrics_prometheus(), path, sizeof path);
  static buf_t script;
  script.len = 0;
  prom_prelude(&script);
  buf_printf(&script,
             "got = [x for x in fams['libcache_entries'].samples "
             "if x.labels['cache'] == 'twin']\n"
             "assert len(got) == 2, got\n"
             "assert got[0].labels['cache_id'] != got[1].labels['cache_id']\n"
             "assert sorted(x.value for x in got) == [0, 2], got\n");
  assert_script_passes(&script, path, "Prometheus twins");
  drop(a);
  drop(b);
}
END_TEST

START_TEST(prometheus_escapes_an_odd_cache_name) {
  cache_t *odd = make_healthy(odd_name);
  cache_t *plain = make_healthy("plain");
  char path[256];
  export_to_file(cache_metrics_prometheus(), path, sizeof path);
  static buf_t script;
  script.len = 0;
  prom_prelude(&script);
  buf_printf(&script, "cache_ids = {}\n");
  prom_expect_cache(&script, odd_name, odd);
  prom_expect_cache(&script, "plain", plain);
  assert_script_passes(&script, path, "Prometheus odd name");
  drop(odd);
  drop(plain);
}
END_TEST

/* The two exports name a cache the same way and give it the same id. */
START_TEST(json_and_prometheus_agree_on_names_and_ids) {
  cache_t *odd = make_healthy(odd_name);
  cache_t *plain = make_healthy("plain");
  char prom_path[256], json_path[256];
  export_to_file(cache_metrics_prometheus(), prom_path, sizeof prom_path);
  export_to_file(cache_health_json(), json_path, sizeof json_path);
  static buf_t script;
  script.len = 0;
  prom_prelude(&script);
  buf_printf(&script,
             "import json\n"
             "doc = json.load(open('%s', encoding='utf-8'))\n"
             "from_json = {(c['name'], str(c['id'])) for c in doc['caches']}\n"
             "from_prom = {(x.labels['cache'], x.labels['cache_id']) "
             "for x in fams['libcache_entries'].samples}\n"
             "assert from_json == from_prom, (from_json, from_prom)\n",
             json_path);
  assert_script_passes(&script, prom_path, "JSON and Prometheus");
  drop(odd);
  drop(plain);
}
END_TEST

START_TEST(free_string_accepts_null) { cache_free_string(NULL); }
END_TEST

static Suite *health_suite(void) {
  Suite *s = suite_create("health");
  TCase *t = tcase_create("health");
  tcase_add_checked_fixture(t, NULL, teardown);
  tcase_add_test(t, health_names);
  tcase_add_test(t, health_of_null_is_einval);
  tcase_add_test(t, health_of_a_closed_cache_is_eclosed);
  tcase_add_test(t, health_of_a_fresh_cache_is_healthy);
  tcase_add_test(t, stats_health_matches_cache_health);
  suite_add_tcase(s, t);

  t = tcase_create("report");
  tcase_add_checked_fixture(t, NULL, teardown);
  tcase_add_test(t, report_rejects_null_and_a_small_struct_size);
  tcase_add_test(t, report_without_caches_is_healthy_and_empty);
  tcase_add_test(t, report_counts_each_level_and_takes_the_worst);
  tcase_add_test(t, report_leaves_out_closed_caches);
  tcase_add_test(t, report_zeroes_the_tail_of_a_larger_struct);
  suite_add_tcase(s, t);

  t = tcase_create("export");
  tcase_add_checked_fixture(t, NULL, teardown);
  tcase_set_timeout(t, 60);
  tcase_add_test(t, json_is_valid_and_describes_every_cache);
  tcase_add_test(t, json_without_caches_is_valid);
  tcase_add_test(t, json_escapes_an_odd_cache_name);
  tcase_add_test(t, prometheus_text_parses_and_matches_the_stats);
  tcase_add_test(t, prometheus_tells_caches_of_the_same_name_apart);
  tcase_add_test(t, prometheus_escapes_an_odd_cache_name);
  tcase_add_test(t, json_and_prometheus_agree_on_names_and_ids);
  tcase_add_test(t, free_string_accepts_null);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(health_suite()); }
