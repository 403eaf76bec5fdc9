/*
 * The SVG chart of one trace: hit ratio (y) by cache size (x), one line
 * with markers per policy, a legend on the right. Self-contained (no
 * script, no external font or style), so that any browser opens it.
 *
 * The x axis is logarithmic when the sizes span more than 10 times, as
 * 1 % to 20 % of a trace's ids do, else linear from 0. A table that mixes
 * entry and byte bounds has no common unit: its sizes are then placed
 * side by side in the order given. The y axis runs from 0 to just above
 * the best ratio, so that a trace where everything scores under 0.1 still
 * shows its differences; it never starts above 0, which would make small
 * differences look large.
 */
#include "report.h"

#include <cache.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 800
#define HEIGHT 500
#define PLOT_LEFT 72
#define PLOT_RIGHT (WIDTH - 200) /* the legend is to the right */
#define PLOT_TOP 64
#define PLOT_BOTTOM (HEIGHT - 64)

/* Okabe and Ito's palette, which readers with any colour vision can tell
 * apart (its yellow is left out: it does not show on white). */
static const char *const colors[] = {"#0072B2", "#D55E00", "#009E73",
                                     "#CC79A7", "#E69F00", "#56B4E9",
                                     "#000000", "#999999"};
#define N_COLORS (sizeof colors / sizeof colors[0])
#define N_SHAPES 6

typedef struct x_axis {
  bool categorical; /* mixed units: the columns side by side */
  bool log;
  bool bytes;
  double lo, hi; /* in axis units (log10 of the size when log) */
} x_axis_t;

typedef struct y_axis {
  double hi, step;
} y_axis_t;

static void xml_text(FILE *out, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", out);
      break;
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    default:
      /* Control characters are not allowed in XML 1.0 at all. */
      fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
    }
  }
}

static double hit_ratio(const sim_table_t *t, size_t p, size_t c) {
  const sim_result_t *r = &t->results[p * t->n_columns + c];
  return r->requests ? (double)r->hits / (double)r->requests : 0.0;
}

/* ---- axes -------------------------------------------------------------- */

static x_axis_t make_x_axis(const sim_table_t *t) {
  x_axis_t a = {.bytes = t->columns[0].bytes};
  double min = INFINITY, max = 0;
  for (size_t c = 0; c < t->n_columns; c++) {
    a.categorical = a.categorical || t->columns[c].bytes != a.bytes;
    double v = (double)t->columns[c].capacity;
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
  if (a.categorical) {
    a.lo = -0.5;
    a.hi = (double)t->n_columns - 0.5;
  } else if (max > 10 * min) {
    a.log = true;
    double span = log10(max) - log10(min);
    a.lo = log10(min) - 0.05 * span;
    a.hi = log10(max) + 0.05 * span;
  } else {
    a.lo = 0;
    a.hi = max * 1.05;
  }
  return a;
}

/* Column c's place on the axis. */
static double x_value(const x_axis_t *a, const sim_table_t *t, size_t c) {
  if (a->categorical)
    return (double)c;
  double v = (double)t->columns[c].capacity;
  return a->log ? log10(v) : v;
}

static double x_pixel(const x_axis_t *a, double v) {
  return PLOT_LEFT + (v - a->lo) / (a->hi - a->lo) * (PLOT_RIGHT - PLOT_LEFT);
}

/* The smallest step of 1, 2 or 5 thousandths, hundredths or tenths that
 * needs at most 10 steps to reach the best ratio. */
static y_axis_t make_y_axis(const sim_table_t *t) {
  double best = 0;
  for (size_t p = 0; p < t->n_policies; p++)
    for (size_t c = 0; c < t->n_columns; c++)
      best = hit_ratio(t, p, c) > best ? hit_ratio(t, p, c) : best;
  static const double steps[] = {0.001, 0.002, 0.005, 0.01,
                                 0.02,  0.05,  0.1,   0.2};
  y_axis_t a = {1.0, 0.2};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    double n = ceil(best / steps[i] - 1e-9);
    if (n <= 10) {
      a.step = steps[i];
      a.hi = (n < 1 ? 1 : n) * steps[i];
      break;
    }
  }
  a.hi = a.hi > 1.0 ? 1.0 : a.hi;
  return a;
}

static double y_pixel(const y_axis_t *a, double ratio) {
  double r = ratio < 0 ? 0 : ratio > a->hi ? a->hi : ratio;
  return PLOT_BOTTOM - r / a->hi * (PLOT_BOTTOM - PLOT_TOP);
}

/* 1500 as "1.5k", or "1.5kB" for bytes. */
static const char *size_text(double v, bool bytes, char *buf, size_t size) {
  static const char *const units[] = {"", "k", "M", "G", "T", "P"};
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    u++;
  }
  snprintf(buf, size, "%g%s%s", v, units[u], bytes ? "B" : "");
  return buf;
}

static void x_tick(FILE *out, double px, const char *label) {
  fprintf(out,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
          "stroke=\"#e4e4e4\"/>\n",
          px, PLOT_TOP, px, PLOT_BOTTOM);
  fprintf(out,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
          "stroke=\"#333\"/>\n",
          px, PLOT_BOTTOM, px, PLOT_BOTTOM + 5);
  fprintf(out,
          "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
          "font-size=\"12\">",
          px, PLOT_BOTTOM + 19);
  xml_text(out, label);
  fputs("</text>\n", out);
}

/* Decades, and 2 and 5 times them when the axis spans few decades. */
static void log_ticks(FILE *out, const x_axis_t *a) {
  static const int mantissas[] = {1, 2, 5};
  int n = a->hi - a->lo <= 2.5 ? 3 : 1;
  for (int k = (int)floor(a->lo); k <= (int)ceil(a->hi); k++)
    for (int i = 0; i < n; i++) {
      double v = mantissas[i] * pow(10, k);
      if (log10(v) < a->lo || log10(v) > a->hi || v < 1)
        continue;
      char label[32];
      x_tick(out, x_pixel(a, log10(v)),
             size_text(v, a->bytes, label, sizeof label));
    }
}

/* Steps of 1, 2 or 5 times a power of ten, about 5 of them. */
static void linear_ticks(FILE *out, const x_axis_t *a) {
  double raw = a->hi / 5, step = pow(10, floor(log10(raw)));
  step *= raw / step > 5 ? 10 : raw / step > 2 ? 5 : raw / step > 1 ? 2 : 1;
  for (double v = 0; v <= a->hi; v += step) {
    char label[32];
    x_tick(out, x_pixel(a, v), size_text(v, a->bytes, label, sizeof label));
  }
}

static void x_axis(FILE *out, const x_axis_t *a, const sim_table_t *t) {
  if (a->categorical)
    for (size_t c = 0; c < t->n_columns; c++)
      x_tick(out, x_pixel(a, (double)c), t->columns[c].spec);
  else if (a->log)
    log_ticks(out, a);
  else
    linear_ticks(out, a);
  fprintf(out,
          "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
          "font-size=\"13\">cache size (%s%s)</text>\n",
          (PLOT_LEFT + PLOT_RIGHT) / 2, HEIGHT - 22,
          a->categorical ? "as given"
          : a->bytes     ? "bytes"
                         : "entries",
          a->log ? ", log scale" : "");
}

static void y_axis(FILE *out, const y_axis_t *a) {
  int steps = (int)lround(a->hi / a->step);
  for (int i = 0; i <= steps; i++) {
    double v = i * a->step, py = y_pixel(a, v);
    fprintf(out,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
            "stroke=\"#e4e4e4\"/>\n",
            PLOT_LEFT, py, PLOT_RIGHT, py);
    fprintf(out,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
            "stroke=\"#333\"/>\n",
            PLOT_LEFT - 5, py, PLOT_LEFT, py);
    fprintf(out,
            "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
            "font-size=\"12\">%.*f</text>\n",
            PLOT_LEFT - 8, py + 4,
            a->step < 0.01  ? 3
            : a->step < 0.1 ? 2
                            : 1,
            v);
  }
  int mid = (PLOT_TOP + PLOT_BOTTOM) / 2;
  fprintf(out,
          "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" "
          "transform=\"rotate(-90 20 %d)\">hit ratio</text>\n",
          mid, mid);
}

/* ---- lines, markers, legend -------------------------------------------- */

/* The element a marker of row p is drawn with, to close it. */
static const char *marker_tag(size_t p) {
  return p % N_SHAPES == 0 ? "circle" : p % N_SHAPES == 1 ? "rect" : "path";
}

/* Opens the marker of row p at (x, y): the caller may put a <title> in,
 * then closes it with marker_tag(p). */
static void marker(FILE *out, size_t p, double x, double y) {
  const char *color = colors[p % N_COLORS];
  switch (p % N_SHAPES) {
  case 0:
    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"", x, y);
    break;
  case 1:
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\"", x - 4,
            y - 4);
    break;
  case 2:
    fprintf(out, "<path d=\"M%.1f %.1fl5 9h-10z\"", x, y - 5.5);
    break;
  case 3:
    fprintf(out, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\"", x, y - 5);
    break;
  case 4:
    fprintf(out, "<path d=\"M%.1f %.1fl5 -9h-10z\"", x, y + 5.5);
    break;
  default:
    fprintf(out,
            "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke-width=\"2.5\" "
            "stroke=\"%s\"",
            x - 4, y - 4, color);
  }
  fprintf(out, " fill=\"%s\">", color);
}

/* Column order along the axis: the table may list sizes in any order. */
static void sort_columns(const x_axis_t *a, const sim_table_t *t,
                         size_t *order) {
  for (size_t c = 0; c < t->n_columns; c++) {
    size_t i = c;
    for (; i > 0 && x_value(a, t, order[i - 1]) > x_value(a, t, c); i--)
      order[i] = order[i - 1];
    order[i] = c;
  }
}

static void policy_line(FILE *out, const sim_table_t *t, size_t p,
                        const x_axis_t *xa, const y_axis_t *ya,
                        const size_t *order) {
  const char *name = sim_policy_text(t->policies[p]);
  fprintf(out,
          "<g><polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" "
          "points=\"",
          colors[p % N_COLORS]);
  for (size_t i = 0; i < t->n_columns; i++) {
    size_t c = order[i];
    fprintf(out, "%s%.1f,%.1f", i ? " " : "", x_pixel(xa, x_value(xa, t, c)),
            y_pixel(ya, hit_ratio(t, p, c)));
  }
  fputs("\"/>\n", out);
  for (size_t c = 0; c < t->n_columns; c++) {
    marker(out, p, x_pixel(xa, x_value(xa, t, c)),
           y_pixel(ya, hit_ratio(t, p, c)));
    fputs("<title>", out);
    xml_text(out, name);
    fputs(" at ", out);
    xml_text(out, t->columns[c].spec);
    fprintf(out, " (%llu %s): %.4f</title></%s>\n",
            (unsigned long long)t->columns[c].capacity,
            t->columns[c].bytes ? "bytes" : "entries", hit_ratio(t, p, c),
            marker_tag(p));
  }
  fputs("</g>\n", out);
}

static void legend(FILE *out, const sim_table_t *t) {
  int x = PLOT_RIGHT + 24;
  for (size_t p = 0; p < t->n_policies; p++) {
    int y = PLOT_TOP + 12 + (int)p * 24;
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
            "stroke-width=\"2\"/>\n",
            x, y, x + 28, y, colors[p % N_COLORS]);
    marker(out, p, x + 14, y);
    fprintf(out, "</%s>\n", marker_tag(p));
    fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"13\">", x + 36, y + 4);
    xml_text(out, sim_policy_text(t->policies[p]));
    fprintf(out, "%s</text>\n",
            t->policies[p] == t->default_policy ? " (default)" : "");
  }
}

static void heading(FILE *out, const sim_table_t *t) {
  fprintf(out,
          "<text x=\"%d\" y=\"26\" text-anchor=\"middle\" font-size=\"17\" "
          "font-weight=\"bold\">Hit ratio by cache size: ",
          WIDTH / 2);
  xml_text(out, t->label);
  fprintf(out,
          "</text>\n<text x=\"%d\" y=\"46\" text-anchor=\"middle\" "
          "font-size=\"12\" fill=\"#555\">",
          WIDTH / 2);
  xml_text(out, t->path);
  char requests[32], distinct[32];
  fprintf(out, ": %s requests, %s distinct ids; replayed with libcache %s",
          report_grouped(t->trace->length, requests),
          report_grouped(t->trace->distinct, distinct), cache_version());
  fputs("</text>\n", out);
}

static void chart(FILE *out, const sim_table_t *t, size_t *order) {
  x_axis_t xa = make_x_axis(t);
  y_axis_t ya = make_y_axis(t);
  sort_columns(&xa, t, order);
  fprintf(out,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
          "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          WIDTH, HEIGHT, WIDTH, HEIGHT);
  heading(out, t);
  x_axis(out, &xa, t);
  y_axis(out, &ya);
  fprintf(out,
          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
          "stroke=\"#333\"/>\n",
          PLOT_LEFT, PLOT_TOP, PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP);
  for (size_t p = 0; p < t->n_policies; p++)
    policy_line(out, t, p, &xa, &ya, order);
  legend(out, t);
  fputs("</svg>\n", out);
}

int report_svg(const char *path, const sim_table_t *t, sim_error_t *err) {
  size_t *order = malloc(t->n_columns * sizeof *order);
  FILE *out = order != NULL ? fopen(path, "w") : NULL;
  if (out == NULL) {
    sim_error_set(err, "%s: cannot write: %s", path,
                  order == NULL ? "out of memory" : strerror(errno));
    free(order);
    return -1;
  }
  chart(out, t, order);
  free(order);
  bool failed = ferror(out) != 0;
  if (fclose(out) != 0 || failed) {
    sim_error_set(err, "%s: write error", path);
    return -1;
  }
  return 0;
}
