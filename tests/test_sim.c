/* cache-sim's replay and trace readers (examples/cache-sim: sim.c,
 * trace.c, input.c), which cache-bench compiles too.
 *
 * The replay is checked against a reference LRU and FIFO written here, hit
 * for hit. That holds below 4,096 entries: such a cache has one shard and
 * so the exact global order (README, "Threads"); larger ones keep an order
 * per shard. The readers are checked on small files of each
 * format written by the tests. */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "sim.h"
#include "trace.h"

#include <stdbool.h>
#include <unistd.h>

#ifdef SIM_HAVE_ZLIB
#include <zlib.h>
#endif

/* ---- a deterministic trace --------------------------------------------- */

#define IDS 300
#define REQUESTS 4000
#define PHASE 400 /* requests of a loop, then of skewed random ids */
#define LOOP 180  /* ids the loop goes round: more than some caches hold */

/* Phases of a loop over ids 0..LOOP-1 (bad for LRU and FIFO below LOOP
 * entries) and of random ids skewed towards small ones (good for both),
 * so that the caches hit and miss in both ways. */
static void make_trace(sim_trace_t *t) {
  memset(t, 0, sizeof *t);
  t->ids = malloc(REQUESTS * sizeof *t->ids);
  ck_assert_ptr_nonnull(t->ids);
  uint32_t state = 7, next = 0;
  for (size_t i = 0; i < REQUESTS; i++) {
    if (i / PHASE % 2 == 0) {
      t->ids[i] = next++ % LOOP;
    } else {
      uint32_t a = tu_rand(&state) % IDS, b = tu_rand(&state) % IDS;
      t->ids[i] = a * b / IDS; /* small ids come up more often */
    }
  }
  t->length = REQUESTS;
  ck_assert_int_eq(sim_trace_count(t), 0);
}

/* ---- reference models: an array, most recent (or newest) last --------------
 */

typedef struct model {
  uint64_t slot[256];
  size_t count, capacity;
  bool lru;
} model_t;

static long model_find(const model_t *m, uint64_t id) {
  for (size_t i = 0; i < m->count; i++)
    if (m->slot[i] == id)
      return (long)i;
  return -1;
}

/* Takes the entry at i out, keeping the others in order. */
static void model_remove(model_t *m, size_t i) {
  memmove(&m->slot[i], &m->slot[i + 1], (m->count - i - 1) * sizeof *m->slot);
  m->count--;
}

/* get, and on a miss set: the replay rule. */
static bool model_request(model_t *m, uint64_t id) {
  long at = model_find(m, id);
  if (at >= 0) {
    if (m->lru) { /* a hit makes it the most recent */
      model_remove(m, (size_t)at);
      m->slot[m->count++] = id;
    }
    return true;
  }
  if (m->count == m->capacity)
    model_remove(m, 0); /* the least recent, or the oldest insertion */
  m->slot[m->count++] = id;
  return false;
}

static uint64_t model_hits(const sim_trace_t *t, bool lru, size_t capacity) {
  model_t m = {.capacity = capacity, .lru = lru};
  uint64_t hits = 0;
  for (size_t i = 0; i < t->length; i++)
    hits += model_request(&m, t->ids[i]);
  return hits;
}

static const size_t capacities[] = {1, 2, 17, 64, 100, 150, 179, 200, 255};
#define N_CAPACITIES (sizeof capacities / sizeof capacities[0])

static void check_against_model(int policy, bool lru, size_t c) {
  sim_trace_t t;
  make_trace(&t);
  sim_result_t r;
  ASSERT_OK(sim_replay(&t, policy, capacities[c], 0, &r));
  uint64_t expected = model_hits(&t, lru, capacities[c]);
  ck_assert_msg(r.hits == expected, "%s at %zu entries: %llu hits, model %llu",
                sim_policy_text(policy), capacities[c],
                (unsigned long long)r.hits, (unsigned long long)expected);
  ck_assert_uint_eq(r.requests, REQUESTS);
  ck_assert_uint_eq(r.refused, 0);
  sim_trace_free(&t);
}

START_TEST(lru_replay_matches_a_reference_lru) {
  check_against_model(CACHE_POLICY_LRU, true, (size_t)_i);
}
END_TEST

START_TEST(fifo_replay_matches_a_reference_fifo) {
  check_against_model(CACHE_POLICY_FIFO, false, (size_t)_i);
}
END_TEST

/* The trace is made so that the two policies part ways: otherwise the
 * tests above would not tell them apart. */
START_TEST(the_trace_tells_lru_from_fifo) {
  sim_trace_t t;
  make_trace(&t);
  ck_assert_uint_le(t.distinct, IDS);
  ck_assert_uint_gt(t.distinct, LOOP);
  ck_assert_uint_ne(model_hits(&t, true, 64), model_hits(&t, false, 64));
  ck_assert_uint_gt(model_hits(&t, true, 64), REQUESTS / 10);
  sim_trace_free(&t);
}
END_TEST

START_TEST(every_policy_replays_and_hits_between_none_and_all) {
  sim_trace_t t;
  make_trace(&t);
  int ids[SIM_POLICY_ID_LIMIT];
  size_t n = sim_policies(ids, SIM_POLICY_ID_LIMIT);
  ck_assert_uint_ge(n, 3);
  for (size_t i = 0; i < n; i++) {
    sim_result_t r;
    ASSERT_OK(sim_replay(&t, ids[i], 100, 0, &r));
    ck_assert_uint_gt(r.hits, 0);
    ck_assert_uint_lt(r.hits, REQUESTS - t.distinct + 1);
  }
  sim_trace_free(&t);
}
END_TEST

/* ---- byte-bounded replays ---------------------------------------------- */

START_TEST(byte_bounds_need_sizes) {
  sim_trace_t t;
  make_trace(&t);
  sim_result_t r;
  ASSERT_STATUS(sim_replay(&t, CACHE_POLICY_LRU, 0, 1 << 20, &r), CACHE_EINVAL);
  sim_trace_free(&t);
}
END_TEST

START_TEST(an_object_larger_than_the_cache_is_refused_and_never_hits) {
  sim_trace_t t;
  make_trace(&t);
  t.sizes = calloc(t.length, sizeof *t.sizes);
  ck_assert_ptr_nonnull(t.sizes);
  for (size_t i = 0; i < t.length; i++)
    t.sizes[i] = t.ids[i] == 0 ? 100000 : 10;
  ck_assert_int_eq(sim_trace_count(&t), 0);
  ck_assert_uint_eq(t.max_size, 100000);

  uint64_t zeroes = 0;
  for (size_t i = 0; i < t.length; i++)
    zeroes += t.ids[i] == 0;
  ck_assert_uint_gt(zeroes, 1);
  sim_result_t r;
  ASSERT_OK(sim_replay(&t, CACHE_POLICY_LRU, 0, 50000, &r));
  ck_assert_uint_eq(r.refused, zeroes);
  ck_assert_uint_gt(r.hits, 0);

  /* With room for it, id 0 hits after its first request. */
  ASSERT_OK(sim_replay(&t, CACHE_POLICY_LRU, 0, 64 << 20, &r));
  ck_assert_uint_eq(r.refused, 0);
  ck_assert_uint_eq(r.hits, t.length - t.distinct);
  sim_trace_free(&t);
}
END_TEST

/* ---- policies ---------------------------------------------------------- */

START_TEST(policies_are_the_library_names) {
  int ids[SIM_POLICY_ID_LIMIT];
  size_t n = sim_policies(ids, SIM_POLICY_ID_LIMIT);
  for (size_t i = 0; i < n; i++) {
    ck_assert_ptr_nonnull(cache_policy_name(ids[i]));
    ck_assert_int_eq(sim_policy_by_name(cache_policy_name(ids[i])), ids[i]);
  }
  ck_assert_int_eq(sim_policy_by_name("lru"), CACHE_POLICY_LRU);
  ck_assert_int_eq(sim_policy_by_name("fifo"), CACHE_POLICY_FIFO);
  ck_assert_int_eq(sim_policy_by_name("no-such-policy"), -1);
  cache_options_t o;
  cache_options_init(&o);
  ck_assert_int_eq(sim_policy_default(), o.policy);
}
END_TEST

/* ---- files ------------------------------------------------------------- */

static char dir[256];

static void make_dir(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/test_sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) { rmdir(dir); }

/* dir/name, for the test's files (which each test removes). */
static const char *path_of(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static const char *write_file(const char *name, const void *data, size_t n) {
  const char *path = path_of(name);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
  return path;
}

static const char *write_text(const char *name, const char *text) {
  return write_file(name, text, strlen(text));
}

/* Reads path with the options (NULL: the defaults); the error, if any, in
 * err. */
static int read_trace(const char *path, const sim_read_options_t *options,
                      sim_trace_t *t, sim_trace_info_t *info,
                      sim_error_t *err) {
  sim_read_options_t defaults;
  sim_read_options_init(&defaults);
  return sim_trace_read(path, options ? options : &defaults, t, info, err);
}

static void assert_ids(const sim_trace_t *t, const uint64_t *ids, size_t n) {
  ck_assert_uint_eq(t->length, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(t->ids[i] == ids[i], "request %zu: id %llu, expected %llu", i,
                  (unsigned long long)t->ids[i], (unsigned long long)ids[i]);
}

/* Reading path fails with a message that contains want. */
static void assert_read_fails(const char *path,
                              const sim_read_options_t *options,
                              const char *want) {
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  ck_assert_int_eq(read_trace(path, options, &t, &info, &err), -1);
  ck_assert_msg(strstr(err.text, want) != NULL, "'%s' does not say '%s'",
                err.text, want);
  ck_assert_ptr_null(strchr(err.text, '\n'));
  ck_assert_ptr_null(t.ids);
}

START_TEST(ids_are_read_one_per_line) {
  make_dir();
  const char *path = write_text(
      "a.txt", "# a comment\n1\n\n  22 \r\n18446744073709551615\n0\n1");
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  ck_assert_int_eq(read_trace(path, NULL, &t, &info, &err), 0);
  const uint64_t want[] = {1, 22, UINT64_MAX, 0, 1};
  assert_ids(&t, want, 5);
  ck_assert_uint_eq(t.distinct, 4);
  ck_assert_ptr_null(t.sizes);
  ck_assert_int_eq(info.format, SIM_FORMAT_IDS);
  ck_assert(!info.gzip);
  sim_trace_free(&t);
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(a_bad_id_line_is_named_by_file_and_line) {
  make_dir();
  const char *path = write_text("bad.txt", "1\n2\n# skip\n3x\n4\n");
  char want[512];
  snprintf(want, sizeof want, "%s:4: not a decimal id: '3x'", path);
  assert_read_fails(path, NULL, want);
  unlink(path);
  path = write_text("big.txt", "18446744073709551616\n");
  assert_read_fails(path, NULL, ":1: id out of range");
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(an_empty_trace_is_an_error) {
  make_dir();
  const char *path = write_text("empty.txt", "");
  assert_read_fails(path, NULL, "empty trace");
  unlink(path);
  path = write_text("comments.txt", "# nothing\n\n");
  assert_read_fails(path, NULL, "empty trace");
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(a_missing_file_is_an_error) {
  assert_read_fails("/nonexistent/trace.txt", NULL, "/nonexistent/trace.txt");
}
END_TEST

/* One oracleGeneral record, little-endian whatever the machine. */
static void oracle_record(unsigned char *rec, uint32_t time, uint64_t id,
                          uint32_t size) {
  memset(rec, 0xff, 24); /* next_access_vtime: -1 */
  for (int i = 0; i < 4; i++)
    rec[i] = (unsigned char)(time >> (8 * i));
  for (int i = 0; i < 8; i++)
    rec[4 + i] = (unsigned char)(id >> (8 * i));
  for (int i = 0; i < 4; i++)
    rec[12 + i] = (unsigned char)(size >> (8 * i));
}

START_TEST(oracle_records_give_ids_and_sizes) {
  make_dir();
  const uint64_t ids[] = {5, 0x0102030405060708u, 5, 7};
  const uint32_t sizes[] = {100, 4000000000u, 100, 0};
  unsigned char data[4 * 24];
  for (int i = 0; i < 4; i++)
    oracle_record(data + 24 * i, (uint32_t)i, ids[i], sizes[i]);
  /* No name to go by: the content is binary. */
  const char *path = write_file("records", data, sizeof data);
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  ck_assert_int_eq(read_trace(path, NULL, &t, &info, &err), 0);
  ck_assert_int_eq(info.format, SIM_FORMAT_ORACLE);
  assert_ids(&t, ids, 4);
  ck_assert_ptr_nonnull(t.sizes);
  for (int i = 0; i < 4; i++)
    ck_assert_uint_eq(t.sizes[i], sizes[i]);
  ck_assert_uint_eq(t.distinct, 3);
  ck_assert_uint_eq(t.distinct_bytes, 100 + 4000000000u);
  ck_assert_uint_eq(t.max_size, 4000000000u);
  sim_trace_free(&t);
  unlink(path);

  path = write_file("cut.oracleGeneral.bin", data, sizeof data - 5);
  assert_read_fails(path, NULL, "record 4 is truncated (19 of 24 bytes)");
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(csv_keys_are_strings_and_sizes_a_column) {
  make_dir();
  const char *path = write_text("t.csv", "time,key,size\n"
                                         "1,alpha,10\n"
                                         "2, \"be,ta\" ,20\n"
                                         "\n"
                                         "3,alpha,30\n"
                                         "4,\"say \"\"hi\"\"\",5\n"
                                         "5,42,6\n");
  sim_read_options_t o;
  sim_read_options_init(&o);
  o.key_col = 2;
  o.size_col = 3;
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  ck_assert_int_eq(read_trace(path, &o, &t, &info, &err), 0);
  ck_assert_int_eq(info.format, SIM_FORMAT_CSV);
  ck_assert(info.header);
  const uint64_t want[] = {0, 1, 0, 2, 3}; /* in order of appearance */
  assert_ids(&t, want, 5);
  ck_assert_uint_eq(t.distinct, 4);
  ck_assert_uint_eq(t.distinct_bytes, 10 + 20 + 5 + 6);
  const char *keys[] = {"alpha", "be,ta", "alpha", "say \"hi\"", "42"};
  for (size_t i = 0; i < 5; i++) {
    char buf[SIM_KEY_BUF];
    size_t len;
    const char *key = sim_key(&t, i, buf, &len);
    ck_assert_uint_eq(len, strlen(keys[i]));
    ck_assert_mem_eq(key, keys[i], len);
  }
  sim_trace_free(&t);
  unlink(path);
  remove_dir();
}
END_TEST

/* A header is guessed from a column that holds a number below it, and
 * --header/--no-header settle it either way. */
START_TEST(a_csv_header_is_guessed_or_declared) {
  make_dir();
  sim_read_options_t o;
  sim_read_options_init(&o);
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  const char *path = write_text("h.csv", "key;n\na;1\nb;2\n");
  o.delim = ';';
  ck_assert_int_eq(read_trace(path, &o, &t, &info, &err), 0);
  ck_assert(info.header);
  ck_assert_uint_eq(t.length, 2);
  sim_trace_free(&t);

  o.header = 0; /* then "key" is a request */
  ck_assert_int_eq(read_trace(path, &o, &t, &info, &err), 0);
  ck_assert(!info.header);
  ck_assert_uint_eq(t.length, 3);
  sim_trace_free(&t);
  unlink(path);

  path = write_text("words.csv", "x,y\nb,c\n");
  o.delim = ',';
  o.header = -1; /* words over words: nothing tells, so it is data */
  ck_assert_int_eq(read_trace(path, &o, &t, &info, &err), 0);
  ck_assert_uint_eq(t.length, 2);
  sim_trace_free(&t);
  o.header = 1;
  ck_assert_int_eq(read_trace(path, &o, &t, &info, &err), 0);
  ck_assert_uint_eq(t.length, 1);
  sim_trace_free(&t);
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(csv_errors_name_the_line) {
  make_dir();
  sim_read_options_t o;
  sim_read_options_init(&o);
  o.size_col = 2;
  const char *path = write_text("e.csv", "k,size\na,1\nb\n");
  assert_read_fails(path, &o, "e.csv:3: no column 2 (the line has 1 field)");
  unlink(path);
  path = write_text("f.csv", "k,size\na,1\nb,x1\n");
  assert_read_fails(path, &o, "f.csv:3: not a size");
  unlink(path);
  /* An error on the first line is on line 1, even once line 2 is read. */
  o.size_col = 3;
  path = write_text("g.csv", "a,1\nb,2,3\n");
  assert_read_fails(path, &o, "g.csv:1: no column 3");
  unlink(path);
  path = write_text("q.csv", "\"open,1\n");
  assert_read_fails(path, &o, "q.csv:1: unterminated quote");
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(the_format_is_told_by_name_then_content) {
  make_dir();
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  const char *path = write_text("plain", "1\n2\n");
  ck_assert_int_eq(read_trace(path, NULL, &t, &info, &err), 0);
  ck_assert_int_eq(info.format, SIM_FORMAT_IDS);
  sim_trace_free(&t);
  unlink(path);
  path = write_text("rows", "a,1\nb,2\n");
  ck_assert_int_eq(read_trace(path, NULL, &t, &info, &err), 0);
  ck_assert_int_eq(info.format, SIM_FORMAT_CSV);
  sim_trace_free(&t);
  unlink(path);
  path = write_text("prose", "hello world\n");
  assert_read_fails(path, NULL, "cannot tell the format");
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(zstd_is_refused_with_what_to_do) {
  make_dir();
  const char *path = write_text("t.oracleGeneral.zst", "");
  assert_read_fails(path, NULL, "zstd not supported: decompress first");
  unlink(path);
  const unsigned char magic[] = {0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0};
  path = write_file("t.bin", magic, sizeof magic);
  assert_read_fails(path, NULL, "zstd not supported: decompress first");
  unlink(path);
  remove_dir();
}
END_TEST

#ifdef SIM_HAVE_ZLIB
/* text, gzip'ed, appended to path ("ab": a second member). */
static void gzip_text(const char *path, const char *mode, const char *text) {
  gzFile gz = gzopen(path, mode);
  ck_assert_ptr_nonnull(gz);
  ck_assert_int_eq(gzputs(gz, text), (int)strlen(text));
  ck_assert_int_eq(gzclose(gz), Z_OK);
}

START_TEST(gzip_is_told_by_its_bytes_not_its_name) {
  make_dir();
  const char *path = path_of("ids.txt"); /* no .gz */
  gzip_text(path, "wb", "10\n20\n");
  gzip_text(path, "ab", "10\n30\n"); /* as `cat a.gz b.gz` */
  sim_trace_t t;
  sim_trace_info_t info;
  sim_error_t err;
  ck_assert_int_eq(read_trace(path, NULL, &t, &info, &err), 0);
  ck_assert(info.gzip);
  ck_assert_int_eq(info.format, SIM_FORMAT_IDS);
  const uint64_t want[] = {10, 20, 10, 30};
  assert_ids(&t, want, 4);
  sim_trace_free(&t);
  unlink(path);
  remove_dir();
}
END_TEST

START_TEST(cut_gzip_data_is_an_error) {
  make_dir();
  char *text = malloc(200000);
  ck_assert_ptr_nonnull(text);
  uint32_t state = 1;
  size_t n = 0;
  while (n < 190000)
    n += (size_t)sprintf(text + n, "%u\n", (unsigned)tu_rand(&state));
  const char *path = path_of("cut.txt.gz");
  gzip_text(path, "wb", text);
  free(text);
  ck_assert_int_eq(truncate(path, 5000), 0);
  assert_read_fails(path, NULL, "truncated gzip data");
  unlink(path);
  remove_dir();
}
END_TEST
#else
START_TEST(gzip_without_zlib_says_so) {
  make_dir();
  const unsigned char magic[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  const char *path = write_file("t.txt.gz", magic, sizeof magic);
  assert_read_fails(path, NULL, "built without zlib");
  unlink(path);
  remove_dir();
}
END_TEST
#endif

static Suite *sim_suite(void) {
  Suite *s = suite_create("sim");
  TCase *r = tcase_create("replay");
  tcase_add_loop_test(r, lru_replay_matches_a_reference_lru, 0, N_CAPACITIES);
  tcase_add_loop_test(r, fifo_replay_matches_a_reference_fifo, 0, N_CAPACITIES);
  tcase_add_test(r, the_trace_tells_lru_from_fifo);
  tcase_add_test(r, every_policy_replays_and_hits_between_none_and_all);
  tcase_add_test(r, byte_bounds_need_sizes);
  tcase_add_test(r, an_object_larger_than_the_cache_is_refused_and_never_hits);
  tcase_add_test(r, policies_are_the_library_names);
  suite_add_tcase(s, r);

  TCase *f = tcase_create("files");
  tcase_add_test(f, ids_are_read_one_per_line);
  tcase_add_test(f, a_bad_id_line_is_named_by_file_and_line);
  tcase_add_test(f, an_empty_trace_is_an_error);
  tcase_add_test(f, a_missing_file_is_an_error);
  tcase_add_test(f, oracle_records_give_ids_and_sizes);
  tcase_add_test(f, csv_keys_are_strings_and_sizes_a_column);
  tcase_add_test(f, a_csv_header_is_guessed_or_declared);
  tcase_add_test(f, csv_errors_name_the_line);
  tcase_add_test(f, the_format_is_told_by_name_then_content);
  tcase_add_test(f, zstd_is_refused_with_what_to_do);
#ifdef SIM_HAVE_ZLIB
  tcase_add_test(f, gzip_is_told_by_its_bytes_not_its_name);
  tcase_add_test(f, cut_gzip_data_is_an_error);
#else
  tcase_add_test(f, gzip_without_zlib_says_so);
#endif
  suite_add_tcase(s, f);
  return s;
}

int main(void) { return tu_run(sim_suite()); }
