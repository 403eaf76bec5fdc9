/*
 * cache-sim: replays request traces through libcache and reports the hit
 * ratio of each policy at each cache size.
 *
 *   cache-sim --policy all --size 1%,5%,10%,20% trace.txt.gz
 *
 * Each trace is read into memory once (trace.c), then replayed from an
 * empty cache for every policy and size (sim.c); the results go to a
 * table on stdout and, if asked, to CSV, JSON and SVG files (report.c,
 * svg.c). See options.c, or --help, for the command line.
 */
#define _POSIX_C_SOURCE 200809L

#include "options.h"
#include "report.h"
#include "sim.h"
#include "trace.h"

#include "input.h"

#include <cache.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LABEL_MAX 256

/* ---- progress on stderr ------------------------------------------------ */

/* A report every second or so of what a long trace is doing. Nothing is
 * printed for the first second of a phase, so short traces print
 * nothing. On a terminal the report overwrites itself. */
typedef struct progress {
  bool on, tty;
  const char *label;
  const char *phase; /* "reading", "replaying" */
  char what[96];     /* "lru at 5%" */
  uint64_t total, base;
  double last;
  bool shown;
} progress_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_start(progress_t *pr, const char *phase) {
  pr->phase = phase;
  pr->what[0] = '\0';
  pr->last = now_s();
}

static void progress_show(progress_t *pr, double fraction) {
  double t = now_s();
  if (!pr->on || t - pr->last < 1.0)
    return;
  pr->last = t;
  pr->shown = true;
  char line[256];
  snprintf(line, sizeof line, "cache-sim: %s: %s %.0f%%%s%s%s", pr->label,
           pr->phase, 100 * fraction, pr->what[0] ? " (" : "", pr->what,
           pr->what[0] ? ")" : "");
  if (pr->tty)
    fprintf(stderr, "\r%-78s", line);
  else
    fprintf(stderr, "%s\n", line);
  fflush(stderr);
}

/* Clears the report line before anything else is printed. */
static void progress_end(progress_t *pr) {
  if (pr->shown && pr->tty)
    fprintf(stderr, "\r%78s\r", "");
  pr->shown = false;
}

static void reading_progress(void *ctx, uint64_t done, uint64_t total) {
  if (total > 0)
    progress_show(ctx, (double)done / (double)total);
}

static void replay_progress(void *ctx, uint64_t done) {
  progress_t *pr = ctx;
  progress_show(pr, (double)(pr->base + done) / (double)pr->total);
}

/* ---- output files ------------------------------------------------------ */

typedef struct outputs {
  FILE *csv, *json;
  bool json_first;
} outputs_t;

static FILE *open_output(const char *path, sim_error_t *err) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    sim_error_set(err, "%s: cannot write: %s", path, strerror(errno));
  return f;
}

/* Opened before any trace is read, so that a path that cannot be written
 * is found before the work. */
static int open_outputs(const options_t *o, outputs_t *out, sim_error_t *err) {
  memset(out, 0, sizeof *out);
  out->json_first = true;
  if (o->csv != NULL) {
    if ((out->csv = open_output(o->csv, err)) == NULL)
      return -1;
    report_csv_head(out->csv);
  }
  if (o->json != NULL) {
    if ((out->json = open_output(o->json, err)) == NULL)
      return -1;
    report_json_begin(out->json);
  }
  return 0;
}

static int close_output(FILE *f, const char *path, sim_error_t *err) {
  if (f == NULL)
    return 0;
  bool failed = ferror(f) != 0;
  if (fclose(f) != 0 || failed) {
    sim_error_set(err, "%s: write error", path);
    return -1;
  }
  return 0;
}

/* After a failure the files are removed: half a JSON array is no use,
 * and a CSV without some traces would pass for a whole one. */
static int close_outputs(const options_t *o, outputs_t *out, bool ok,
                         sim_error_t *err) {
  if (ok && out->json != NULL)
    report_json_end(out->json);
  int rc = close_output(out->csv, o->csv, err);
  rc |= close_output(out->json, o->json, err);
  if (!ok || rc != 0) {
    if (out->csv != NULL)
      remove(o->csv);
    if (out->json != NULL)
      remove(o->json);
  }
  return rc;
}

/* ---- one trace --------------------------------------------------------- */

typedef struct job {
  const options_t *o;
  const char *path;
  const char *label;
  const char *svg; /* this trace's chart, or NULL */
  outputs_t *out;
  progress_t *pr;
} job_t;

/* The sizes as this trace makes them; SIM_EXIT_USAGE for a byte size on a
 * trace without object sizes. */
static int make_columns(const job_t *j, const sim_trace_t *trace,
                        sim_column_t *columns, sim_error_t *err) {
  for (size_t c = 0; c < j->o->n_sizes; c++) {
    const size_spec_t *s = &j->o->sizes[c];
    if (s->bytes && trace->sizes == NULL) {
      sim_error_set(err,
                    "%s: size '%s' is in bytes, but the trace has no object "
                    "sizes (an oracle trace has them; for csv give "
                    "--size-col)",
                    j->path, s->text);
      return SIM_EXIT_USAGE;
    }
    columns[c] = (sim_column_t){s->text, size_capacity(s, trace), s->bytes};
  }
  return SIM_EXIT_OK;
}

static int replay_row(const job_t *j, const sim_table_t *t, size_t p,
                      sim_result_t *row, sim_error_t *err) {
  for (size_t c = 0; c < t->n_columns; c++) {
    const sim_column_t *col = &t->columns[c];
    snprintf(j->pr->what, sizeof j->pr->what, "%s at %s",
             sim_policy_text(t->policies[p]), col->spec);
    int rc = sim_replay_progress(
        t->trace, t->policies[p], col->bytes ? 0 : col->capacity,
        col->bytes ? col->capacity : 0, replay_progress, j->pr, &row[c]);
    j->pr->base += t->trace->length;
    if (rc != CACHE_OK) {
      sim_error_set(err, "%s: replay with %s at %s failed: %s", j->path,
                    sim_policy_text(t->policies[p]), col->spec,
                    cache_strerror(rc));
      return SIM_EXIT_INPUT;
    }
  }
  return SIM_EXIT_OK;
}

/* Fills results (the table's) a row at a time, printing each. */
static int replay_table(const job_t *j, const sim_table_t *t,
                        sim_result_t *results, sim_error_t *err) {
  progress_start(j->pr, "replaying");
  j->pr->base = 0;
  j->pr->total = (uint64_t)t->n_policies * t->n_columns * t->trace->length;
  report_table_head(stdout, t);
  for (size_t p = 0; p < t->n_policies; p++) {
    int rc = replay_row(j, t, p, &results[p * t->n_columns], err);
    progress_end(j->pr);
    if (rc != SIM_EXIT_OK)
      return rc;
    report_table_row(stdout, t, p);
  }
  report_table_foot(stdout, t);
  return SIM_EXIT_OK;
}

static int write_outputs(const job_t *j, const sim_table_t *t,
                         sim_error_t *err) {
  if (j->out->csv != NULL)
    report_csv_rows(j->out->csv, t);
  if (j->out->json != NULL)
    report_json_rows(j->out->json, t, &j->out->json_first);
  if (j->svg != NULL && report_svg(j->svg, t, err) != 0)
    return SIM_EXIT_INPUT;
  return SIM_EXIT_OK;
}

static int run_trace(const job_t *j, sim_error_t *err) {
  const options_t *o = j->o;
  sim_read_options_t read = o->read;
  read.progress = reading_progress;
  read.progress_ctx = j->pr;
  j->pr->label = j->label;
  progress_start(j->pr, "reading");

  sim_trace_t trace;
  sim_trace_info_t info;
  int rc = sim_trace_read(j->path, &read, &trace, &info, err);
  progress_end(j->pr);
  if (rc != 0)
    return SIM_EXIT_INPUT;

  sim_column_t *columns = calloc(o->n_sizes, sizeof *columns);
  sim_result_t *results = calloc(o->n_policies * o->n_sizes, sizeof *results);
  sim_table_t t = {.path = j->path,
                   .label = j->label,
                   .trace = &trace,
                   .info = &info,
                   .policies = o->policies,
                   .n_policies = o->n_policies,
                   .default_policy = sim_policy_default(),
                   .columns = columns,
                   .n_columns = o->n_sizes,
                   .results = results};
  if (columns == NULL || results == NULL) {
    sim_error_set(err, "out of memory");
    rc = SIM_EXIT_INPUT;
  } else if ((rc = make_columns(j, &trace, columns, err)) == SIM_EXIT_OK &&
             (rc = replay_table(j, &t, results, err)) == SIM_EXIT_OK) {
    rc = write_outputs(j, &t, err);
  }
  free(columns);
  free(results);
  sim_trace_free(&trace);
  return rc;
}

/* ---- all the traces ---------------------------------------------------- */

/* A missing file should not wait for the traces before it to replay. */
static int check_traces(const options_t *o, sim_error_t *err) {
  for (size_t i = 0; i < o->n_traces; i++)
    if (access(o->traces[i], R_OK) != 0) {
      sim_error_set(err, "%s: %s", o->traces[i], strerror(errno));
      return -1;
    }
  return 0;
}

/* Each trace's short name, made unique by a "-2", "-3", ... after the
 * first of a name: the names go into chart file names. */
static char *make_labels(const options_t *o) {
  char *labels = calloc(o->n_traces, LABEL_MAX);
  for (size_t i = 0; labels != NULL && i < o->n_traces; i++) {
    char *label = labels + i * LABEL_MAX;
    report_label(o->traces[i], label, LABEL_MAX - 12);
    int same = 1;
    for (size_t k = 0; k < i; k++) {
      char base[LABEL_MAX];
      report_label(o->traces[k], base, LABEL_MAX - 12);
      same += strcmp(base, label) == 0;
    }
    if (same > 1)
      snprintf(label + strlen(label), 12, "-%d", same);
  }
  return labels;
}

/* --svg FILE for one trace; FILE-<label>.svg (FILE less its .svg) for
 * each of several. */
static char *svg_path(const options_t *o, const char *label) {
  if (o->svg == NULL)
    return NULL;
  size_t n = strlen(o->svg);
  if (o->n_traces == 1)
    return strdup(o->svg);
  if (n >= 4 && strcmp(o->svg + n - 4, ".svg") == 0)
    n -= 4;
  size_t size = n + strlen(label) + 6;
  char *path = malloc(size);
  if (path != NULL)
    snprintf(path, size, "%.*s-%s.svg", (int)n, o->svg, label);
  return path;
}

static int run_all(const options_t *o, outputs_t *out, sim_error_t *err) {
  progress_t pr = {.tty = isatty(STDERR_FILENO) != 0};
  pr.on = o->progress == 1 || (o->progress == -1 && pr.tty);
  char *labels = make_labels(o);
  if (labels == NULL) {
    sim_error_set(err, "out of memory");
    return SIM_EXIT_INPUT;
  }
  int rc = SIM_EXIT_OK;
  for (size_t i = 0; rc == SIM_EXIT_OK && i < o->n_traces; i++) {
    job_t j = {o, o->traces[i], labels + i * LABEL_MAX, NULL, out, &pr};
    char *svg = svg_path(o, j.label);
    j.svg = svg;
    if (o->svg != NULL && svg == NULL) {
      sim_error_set(err, "out of memory");
      rc = SIM_EXIT_INPUT;
      break;
    }
    if (i > 0)
      printf("\n");
    rc = run_trace(&j, err);
    free(svg);
  }
  free(labels);
  return rc;
}

static int run(const options_t *o) {
  sim_error_t err;
  outputs_t out;
  if (check_traces(o, &err) != 0) {
    fprintf(stderr, "cache-sim: %s\n", err.text);
    return SIM_EXIT_INPUT;
  }
  int rc = open_outputs(o, &out, &err) == 0 ? run_all(o, &out, &err)
                                            : SIM_EXIT_INPUT;
  sim_error_t close_err;
  if (close_outputs(o, &out, rc == SIM_EXIT_OK, &close_err) != 0 &&
      rc == SIM_EXIT_OK) {
    err = close_err;
    rc = SIM_EXIT_INPUT;
  }
  if (rc != SIM_EXIT_OK)
    fprintf(stderr, "cache-sim: %s\n", err.text);
  return rc;
}

static void version(void) {
  const char *zlib = sim_input_zlib_version();
  printf("cache-sim %s\nlibcache %s (compiled against %s)\n",
         CACHE_VERSION_STRING, cache_version(), CACHE_VERSION_STRING);
  if (zlib != NULL)
    printf("zlib %s\n", zlib);
  else
    printf("no gzip support (built without zlib)\n");
}

int main(int argc, char **argv) {
  options_t o;
  sim_error_t err;
  int rc = options_parse(argc, argv, &o, &err);
  if (rc != SIM_EXIT_OK)
    fprintf(stderr, "cache-sim: %s (see cache-sim --help)\n", err.text);
  else if (o.help)
    options_usage(stdout);
  else if (o.version)
    version();
  else
    rc = run(&o);
  options_free(&o);
  if (fflush(stdout) != 0 && rc == SIM_EXIT_OK) {
    fprintf(stderr, "cache-sim: stdout: %s\n", strerror(errno));
    rc = SIM_EXIT_INPUT;
  }
  return rc;
}
