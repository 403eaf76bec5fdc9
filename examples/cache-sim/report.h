/*
 * What cache-sim prints and writes about one trace's replays: the table
 * on stdout, rows of CSV and JSON, and an SVG chart.
 */
#ifndef CACHE_SIM_REPORT_H
#define CACHE_SIM_REPORT_H

#include "sim.h"
#include "trace.h"

#include <stdbool.h>
#include <stdio.h>

/* One cache size of the table. */
typedef struct sim_column {
  const char *spec;  /* as given: "5%", "1000", "64MiB" */
  uint64_t capacity; /* entries, or bytes when byte-bounded */
  bool bytes;        /* byte-bounded */
} sim_column_t;

/* A trace's replays: results[p * n_columns + c] for policies[p] at
 * columns[c]. Rows not replayed yet are not read. */
typedef struct sim_table {
  const char *path;  /* as given */
  const char *label; /* short name: the file name without its extensions */
  const sim_trace_t *trace;
  const sim_trace_info_t *info;
  const int *policies;
  size_t n_policies;
  int default_policy;
  const sim_column_t *columns;
  size_t n_columns;
  const sim_result_t *results;
} sim_table_t;

/* The file name of path without its directory and its trace extensions
 * (.gz, .zst, .txt, .csv, .bin, .oracleGeneral), into buf. */
const char *report_label(const char *path, char *buf, size_t size);

/* v with a comma every three digits: "133,996". */
const char *report_grouped(uint64_t v, char buf[32]);

/* ---- the table on stdout ----------------------------------------------- */
/* The header line (trace, requests, distinct ids) and the column heads. */
void report_table_head(FILE *out, const sim_table_t *t);
/* Row p, once its replays are done. */
void report_table_row(FILE *out, const sim_table_t *t, size_t p);
/* After the rows: the requests a byte-bounded cache refused, if any. */
void report_table_foot(FILE *out, const sim_table_t *t);

/* ---- CSV and JSON: every trace's rows in one file ---------------------- */
/* Fields: trace, policy, size_spec, capacity, requests, hits, hit_ratio,
 * bound ("entries" or "bytes"). */
void report_csv_head(FILE *out);
void report_csv_rows(FILE *out, const sim_table_t *t);
/* One array of objects with the same fields: begin, rows (first is true
 * until a row has been written), end. */
void report_json_begin(FILE *out);
void report_json_rows(FILE *out, const sim_table_t *t, bool *first);
void report_json_end(FILE *out);

/* ---- SVG --------------------------------------------------------------- */
/* A chart of hit ratio by cache size, one line per policy, written to
 * path. 0, or -1 with a message. */
int report_svg(const char *path, const sim_table_t *t, sim_error_t *err);

#endif /* CACHE_SIM_REPORT_H */
