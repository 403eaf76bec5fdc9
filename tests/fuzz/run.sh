#!/usr/bin/env bash
# Builds the fuzz_api target and fuzzes for a while.
#
#   tests/fuzz/run.sh [SECONDS] [-- LIBFUZZER_FLAGS...]
#
# SECONDS defaults to 60. The build goes to $FUZZ_BUILD_DIR (default
# build-fuzz/ in the repository). New inputs the fuzzer finds are kept in
# the build directory's corpus/, a copy of tests/fuzz/corpus/ made on the
# first run; the committed corpus is only read. A crash leaves its input as
# crash-* in the build directory: copy it to tests/fuzz/corpus/regress-NAME
# to keep it. Exits with the fuzzer's status.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-60}
[[ $# -gt 0 ]] && shift
[[ ${1:-} == -- ]] && shift
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}

log() { printf '[fuzz] %s\n' "$*"; }

if ! [[ $secs =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [SECONDS] [-- LIBFUZZER_FLAGS...]" >&2
  exit 2
fi

if ! command -v clang >/dev/null 2>&1; then
  log "clang not found: installing it"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang
fi

log "configuring in $build"
CC=clang cmake -S "$repo" -B "$build" \
  -DLIBCACHE_ALLOCATOR=libc -DLIBCACHE_FUZZ=ON \
  -DLIBCACHE_TESTING=OFF -DLIBCACHE_EXAMPLES=OFF -DLIBCACHE_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzz_api -j"$(nproc)"

bin=$(find "$build" -name fuzz_api -type f -perm -u+x | head -n1)
[[ -n $bin ]] || { log "fuzz_api was not built"; exit 1; }

corpus=$build/corpus
mkdir -p "$corpus"
cp -n "$here"/corpus/* "$corpus"/ 2>/dev/null || true

log "fuzzing for ${secs}s"
cd "$build"
status=0
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "$@" \
  "$corpus" "$here/corpus" || status=$?
log "fuzz_api exited with status $status"
exit "$status"
