/*
 * cache-sim's command line: what to replay, how, and where to write it.
 */
#ifndef CACHE_SIM_OPTIONS_H
#define CACHE_SIM_OPTIONS_H

#include "sim.h"
#include "trace.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses. */
#define SIM_EXIT_OK 0
#define SIM_EXIT_INPUT 1 /* a trace or an output file */
#define SIM_EXIT_USAGE 2 /* the command line */

typedef enum size_kind {
  SIZE_ENTRIES, /* "1000" */
  SIZE_PERCENT, /* "5%": of the distinct ids, or of their bytes */
  SIZE_BYTES    /* "64MiB", or a plain number with --bytes */
} size_kind_t;

/* One element of --size. */
typedef struct size_spec {
  const char *text; /* as given, without surrounding spaces */
  size_kind_t kind;
  bool bytes;     /* the cache is byte-bounded */
  uint64_t value; /* entries, bytes, or millionths of a percent */
} size_spec_t;

typedef struct options {
  const char *const *traces; /* paths, from argv */
  size_t n_traces;
  int *policies; /* distinct policy ids, in the order given */
  size_t n_policies;
  size_spec_t *sizes;
  size_t n_sizes;
  char *sizes_text; /* owns what sizes[].text point into */
  bool bytes;       /* --bytes */
  sim_read_options_t read;
  const char *csv, *json, *svg; /* output files, or NULL */
  int progress;                 /* 1 on, 0 off, -1 when stderr is a terminal */
  bool help, version;
} options_t;

/* Fills *o from the command line. SIM_EXIT_OK, or SIM_EXIT_USAGE with a
 * message in *err. options_free() in both cases. */
int options_parse(int argc, char **argv, options_t *o, sim_error_t *err);
void options_free(options_t *o);
void options_usage(FILE *out);

/* The capacity a size means for a trace: entries or bytes, at least 1.
 * Percent is of the distinct ids (of their bytes when byte-bounded),
 * rounded down. */
uint64_t size_capacity(const size_spec_t *s, const sim_trace_t *trace);

#endif /* CACHE_SIM_OPTIONS_H */
