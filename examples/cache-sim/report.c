/*
 * The table on stdout, and the CSV and JSON files. The table is printed a
 * row at a time as the replays finish, so that a long run shows what it
 * has; the files get a trace's rows once all of them are done.
 */
#include "report.h"

#include <inttypes.h>
#include <string.h>

static const char *const label_extensions[] = {
    ".gz", ".zst", ".txt", ".csv", ".bin", ".oracleGeneral", ".ids"};

const char *report_label(const char *path, char *buf, size_t size) {
  const char *base = strrchr(path, '/');
  base = base != NULL && base[1] != '\0' ? base + 1 : path;
  snprintf(buf, size, "%s", base);
  /* Peel extensions off the end, in any order: x.oracleGeneral.bin.gz. */
  bool peeled = true;
  while (peeled) {
    peeled = false;
    size_t n = strlen(buf);
    for (size_t i = 0; i < sizeof label_extensions / sizeof *label_extensions;
         i++) {
      size_t m = strlen(label_extensions[i]);
      if (n > m && strcmp(buf + n - m, label_extensions[i]) == 0) {
        buf[n - m] = '\0';
        peeled = true;
        break;
      }
    }
  }
  return buf;
}

static const sim_result_t *result(const sim_table_t *t, size_t p, size_t c) {
  return &t->results[p * t->n_columns + c];
}

static double ratio(const sim_result_t *r) {
  return r->requests ? (double)r->hits / (double)r->requests : 0.0;
}

/* ---- the table -------------------------------------------------------------
 */

const char *report_grouped(uint64_t v, char buf[32]) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
  char *p = buf;
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0)
      *p++ = ',';
    *p++ = digits[i];
  }
  *p = '\0';
  return buf;
}

static bool all_columns(const sim_table_t *t, bool bytes) {
  for (size_t c = 0; c < t->n_columns; c++)
    if (t->columns[c].bytes != bytes)
      return false;
  return true;
}

/* A column's capacity as the table shows it: bytes carry a "B" only in a
 * table that mixes them with entries. */
static void capacity_text(const sim_table_t *t, size_t c, char *buf,
                          size_t size) {
  bool mixed = !all_columns(t, true) && !all_columns(t, false);
  snprintf(buf, size, "%" PRIu64 "%s", t->columns[c].capacity,
           mixed && t->columns[c].bytes ? "B" : "");
}

static int column_width(const sim_table_t *t, size_t c) {
  char cap[32];
  capacity_text(t, c, cap, sizeof cap);
  int w = 6; /* 0.1234 */
  int n = (int)strlen(t->columns[c].spec);
  w = n > w ? n : w;
  n = (int)strlen(cap);
  return n > w ? n : w;
}

static const char *row_name(const sim_table_t *t, size_t p, char *buf,
                            size_t size) {
  const char *name = sim_policy_text(t->policies[p]);
  snprintf(buf, size, "%s%s", name,
           t->policies[p] == t->default_policy ? " (default)" : "");
  return buf;
}

static int name_width(const sim_table_t *t) {
  int w = 8; /* "capacity" */
  for (size_t p = 0; p < t->n_policies; p++) {
    char name[64];
    int n = (int)strlen(row_name(t, p, name, sizeof name));
    w = n > w ? n : w;
  }
  return w;
}

static void trace_line(FILE *out, const sim_table_t *t) {
  char a[32], b[32];
  fprintf(out, "%s: %s requests, %s distinct ids", t->path,
          report_grouped(t->trace->length, a),
          report_grouped(t->trace->distinct, b));
  if (t->trace->sizes != NULL)
    fprintf(out, " (%s bytes)", report_grouped(t->trace->distinct_bytes, a));
  fprintf(out, "; %s%s%s\n", sim_format_name(t->info->format),
          t->info->gzip ? ", gzip" : "",
          t->info->header ? ", header line skipped" : "");
}

void report_table_head(FILE *out, const sim_table_t *t) {
  int nw = name_width(t);
  trace_line(out, t);
  fprintf(out, "%-*s", nw, "policy");
  for (size_t c = 0; c < t->n_columns; c++)
    fprintf(out, "  %*s", column_width(t, c), t->columns[c].spec);
  fprintf(out, "\n%-*s", nw,
          all_columns(t, false)  ? "entries"
          : all_columns(t, true) ? "bytes"
                                 : "capacity");
  for (size_t c = 0; c < t->n_columns; c++) {
    char cap[32];
    capacity_text(t, c, cap, sizeof cap);
    fprintf(out, "  %*s", column_width(t, c), cap);
  }
  fprintf(out, "\n");
  fflush(out);
}

void report_table_foot(FILE *out, const sim_table_t *t) {
  /* Whether an object fits depends on its size and the bound only, not on
   * the policy: the first row's counts are every row's. */
  bool any = false;
  for (size_t c = 0; c < t->n_columns; c++)
    any = any || result(t, 0, c)->refused > 0;
  if (!any || t->n_policies == 0)
    return;
  fprintf(out, "%-*s", name_width(t), "too big");
  for (size_t c = 0; c < t->n_columns; c++)
    fprintf(out, "  %*" PRIu64, column_width(t, c), result(t, 0, c)->refused);
  fprintf(out, "\n(too big: requests for objects larger than the byte bound, "
               "never stored)\n");
}

void report_table_row(FILE *out, const sim_table_t *t, size_t p) {
  char name[64];
  fprintf(out, "%-*s", name_width(t), row_name(t, p, name, sizeof name));
  for (size_t c = 0; c < t->n_columns; c++)
    fprintf(out, "  %*.4f", column_width(t, c), ratio(result(t, p, c)));
  fprintf(out, "\n");
  fflush(out);
}

/* ---- CSV --------------------------------------------------------------- */

/* A CSV field, quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *out, const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

void report_csv_head(FILE *out) {
  fprintf(out,
          "trace,policy,size_spec,capacity,requests,hits,hit_ratio,bound\n");
}

void report_csv_rows(FILE *out, const sim_table_t *t) {
  for (size_t p = 0; p < t->n_policies; p++)
    for (size_t c = 0; c < t->n_columns; c++) {
      const sim_result_t *r = result(t, p, c);
      csv_field(out, t->path);
      fprintf(out, ",%s,", sim_policy_text(t->policies[p]));
      csv_field(out, t->columns[c].spec);
      fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%s\n",
              t->columns[c].capacity, r->requests, r->hits, ratio(r),
              t->columns[c].bytes ? "bytes" : "entries");
    }
}

/* ---- JSON -------------------------------------------------------------------
 */

static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(out, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(out, "\\u%04x", ch);
    else
      fputc(ch, out);
  }
  fputc('"', out);
}

void report_json_begin(FILE *out) { fputs("[", out); }

void report_json_rows(FILE *out, const sim_table_t *t, bool *first) {
  for (size_t p = 0; p < t->n_policies; p++)
    for (size_t c = 0; c < t->n_columns; c++) {
      const sim_result_t *r = result(t, p, c);
      fputs(*first ? "\n  {\"trace\": " : ",\n  {\"trace\": ", out);
      *first = false;
      json_string(out, t->path);
      fputs(", \"policy\": ", out);
      json_string(out, sim_policy_text(t->policies[p]));
      fputs(", \"size_spec\": ", out);
      json_string(out, t->columns[c].spec);
      fprintf(out,
              ", \"capacity\": %" PRIu64 ", \"requests\": %" PRIu64
              ", \"hits\": %" PRIu64 ", \"hit_ratio\": %.6f, \"bound\": "
              "\"%s\"}",
              t->columns[c].capacity, r->requests, r->hits, ratio(r),
              t->columns[c].bytes ? "bytes" : "entries");
    }
}

void report_json_end(FILE *out) { fputs("\n]\n", out); }
