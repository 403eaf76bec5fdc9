/*
 * A trace file as a stream of bytes, plain or gzip'ed: which one is told
 * by the first bytes, never by the name. Readers take it a line or a
 * record at a time from one buffer.
 */
#ifndef CACHE_SIM_INPUT_H
#define CACHE_SIM_INPUT_H

#include "sim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest line a reader accepts. A trace line is a few dozen bytes; one
 * that is longer than this is not a trace. */
#define SIM_LINE_MAX (1u << 20)

typedef struct sim_input sim_input_t;

/* Opens path. NULL with a message in *err for a missing or unreadable
 * file, a directory, a compression this build cannot read (zstd, or gzip
 * without zlib). */
sim_input_t *sim_input_open(const char *path, sim_error_t *err);
void sim_input_close(sim_input_t *in);

/* Whether the data is gzip'ed. */
bool sim_input_gzip(const sim_input_t *in);
/* Whether this build reads gzip (it was built with zlib). */
bool sim_input_have_gzip(void);
/* The version of the zlib in use, or NULL without one. */
const char *sim_input_zlib_version(void);

/* Makes at least `want` bytes readable unless the data ends first, and
 * returns what is readable in *avail (up to the buffer's size). 0, or -1
 * with a message (a read error, corrupt or truncated gzip data). */
int sim_input_fill(sim_input_t *in, size_t want, const unsigned char **data,
                   size_t *avail, sim_error_t *err);
/* Marks n of the readable bytes as read. */
void sim_input_consume(sim_input_t *in, size_t n);

/* The next line, without its "\n" (nor "\r\n"), NUL-terminated, valid
 * until the next call. 1 for a line, 0 at the end, -1 with a message (a
 * line longer than SIM_LINE_MAX, a read error). */
int sim_input_line(sim_input_t *in, char **line, size_t *len, sim_error_t *err);
/* The number of the line sim_input_line() returned last (1-based). */
uint64_t sim_input_line_number(const sim_input_t *in);

/* Bytes of the file read so far and its size (0 when not known), for a
 * progress report. */
uint64_t sim_input_position(const sim_input_t *in);
uint64_t sim_input_size(const sim_input_t *in);

/* The path as given to sim_input_open(). */
const char *sim_input_path(const sim_input_t *in);

#endif /* CACHE_SIM_INPUT_H */
