/*
 * Reading a trace file into a sim_trace_t. Three formats:
 *
 *   ids     one decimal id (0 to 2^64 - 1) per line; blank lines and
 *           lines starting with '#' are skipped.
 *   oracle  libCacheSim's oracleGeneral: packed little-endian records of
 *           24 bytes {uint32 clock_time; uint64 obj_id; uint32 obj_size;
 *           int64 next_access_vtime}. Only the id and the size are kept.
 *   csv     one request per line; the key is a column (a string, taken as
 *           its bytes), the object size optionally another. A header line
 *           is recognised or can be declared.
 *
 * Any of them may be gzip'ed (input.h). The whole trace is read into
 * memory: 8 bytes per request, 12 with sizes.
 */
#ifndef CACHE_SIM_TRACE_H
#define CACHE_SIM_TRACE_H

#include "sim.h"

typedef enum sim_format {
  SIM_FORMAT_AUTO,
  SIM_FORMAT_IDS,
  SIM_FORMAT_ORACLE,
  SIM_FORMAT_CSV
} sim_format_t;

/* "auto", "ids", "oracle", "csv". */
const char *sim_format_name(sim_format_t format);
/* 0 and *out set, or -1 for an unknown name. */
int sim_format_parse(const char *name, sim_format_t *out);

typedef struct sim_read_options {
  sim_format_t format; /* SIM_FORMAT_AUTO: by the name, then the content */
  unsigned key_col;    /* csv: 1-based column of the key */
  unsigned size_col;   /* csv: 1-based column of the size; 0 = none */
  char delim;          /* csv: the field separator */
  int header;          /* csv: 1 = a header line, 0 = none, -1 = guess */
  /* Called now and then with the bytes of the file read so far and its
   * size (0 when not known). May be NULL. */
  void (*progress)(void *ctx, uint64_t done, uint64_t total);
  void *progress_ctx;
} sim_read_options_t;

/* ids format, key column 1, no size column, ',' and a guessed header. */
void sim_read_options_init(sim_read_options_t *options);

/* What sim_trace_read() found out about the file. */
typedef struct sim_trace_info {
  sim_format_t format; /* the one read, never SIM_FORMAT_AUTO */
  bool gzip;
  bool header; /* csv: the first line was a header */
} sim_trace_info_t;

/* Reads the file at path into *trace (which it first zeroes) and counts
 * its distinct ids. 0, or -1 with a one-line message that names the file
 * (and the line or record) and says what is wrong; then *trace holds
 * nothing. An empty trace is an error. */
int sim_trace_read(const char *path, const sim_read_options_t *options,
                   sim_trace_t *trace, sim_trace_info_t *info,
                   sim_error_t *err);

#endif /* CACHE_SIM_TRACE_H */
