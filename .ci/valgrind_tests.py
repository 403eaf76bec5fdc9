#!/usr/bin/env python3
"""Runs every CTest test of a build tree under valgrind's memcheck.

usage: valgrind_tests.py BUILD_DIR

The list of tests, their commands, working directories and environments come
from `ctest --show-only=json-v1`, so nothing here knows the test names. Each
test executable runs as
    valgrind --leak-check=full --error-exitcode=1 <command>
with CK_FORK=no, so that Check runs the test cases in the process valgrind
watches. A test fails if it fails on its own, if valgrind finds a memory error,
or if it finds a definite or possible leak. tests/valgrind-helpers.supp
(a false report about a thread of the tests' own helpers) applies to all.

Skipped: disabled tests, tests labelled `novalgrind`, and commands that are not
ELF executables (scripts are run by the other builds).

Environment: LIBCACHE_VALGRIND_JOBS (default 2) tests at a time,
LIBCACHE_VALGRIND_TIMEOUT (default 900) seconds per test.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

HELPERS_SUPP = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests",
    "valgrind-helpers.supp")

VALGRIND = [
    "valgrind",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,possible",
    "--error-exitcode=1",
    "--num-callers=30",
    "--suppressions=" + os.path.normpath(HELPERS_SUPP),
]


def props(test):
    out = {}
    for prop in test.get("properties", []):
        out[prop["name"]] = prop["value"]
    return out


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def run_one(build_dir, log_dir, test, timeout):
    name = test["name"]
    p = props(test)
    command = test["command"]
    cwd = p.get("WORKING_DIRECTORY", build_dir)
    env = dict(os.environ)
    for item in p.get("ENVIRONMENT", []):
        key, _, value = item.partition("=")
        env[key] = value
    env["CK_FORK"] = "no"

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    vg_log = os.path.join(log_dir, safe + ".valgrind.log")
    out_log = os.path.join(log_dir, safe + ".out.log")
    argv = VALGRIND + ["--log-file=" + vg_log] + command

    start = time.monotonic()
    with open(out_log, "wb") as out:
        try:
            rc = subprocess.run(argv, cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    elapsed = time.monotonic() - start

    try:
        with open(vg_log, encoding="utf-8", errors="replace") as f:
            vg_text = f.read()
    except OSError:
        vg_text = ""
    m = re.search(r"ERROR SUMMARY: (\d+) errors", vg_text)
    vg_errors = int(m.group(1)) if m else None
    return name, rc, vg_errors, elapsed, vg_log, out_log


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir = os.path.abspath(sys.argv[1])
    jobs = int(os.environ.get("LIBCACHE_VALGRIND_JOBS", "2"))
    timeout = int(os.environ.get("LIBCACHE_VALGRIND_TIMEOUT", "900"))

    listing = subprocess.run(["ctest", "--test-dir", build_dir,
                              "--show-only=json-v1"],
                             check=True, capture_output=True, text=True)
    tests = json.loads(listing.stdout).get("tests", [])

    log_dir = os.path.join(build_dir, "valgrind")
    os.makedirs(log_dir, exist_ok=True)

    runnable = []
    for test in tests:
        p = props(test)
        command = test.get("command") or []
        why = None
        if p.get("DISABLED"):
            why = "disabled"
        elif "novalgrind" in p.get("LABELS", []):
            why = "label novalgrind"
        elif not command or not is_elf(command[0]):
            why = "not an ELF executable"
        elif p.get("WILL_FAIL"):
            why = "WILL_FAIL"
        if why:
            print(f"[valgrind] skip {test['name']}: {why}")
        else:
            runnable.append(test)

    if not runnable:
        print("[valgrind] no test to run", file=sys.stderr)
        return 1

    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, build_dir, log_dir, t, timeout)
                   for t in runnable]
        for future in concurrent.futures.as_completed(futures):
            name, rc, vg_errors, elapsed, vg_log, out_log = future.result()
            ok = rc == 0 and vg_errors == 0
            if ok:
                verdict = "ok"
            elif rc == "timeout":
                verdict = "TIMEOUT"
            elif vg_errors:
                verdict = f"VALGRIND: {vg_errors} error(s) or leak(s)"
            else:
                verdict = f"FAILED (exit {rc})"
            print(f"[valgrind] {name:<32} {elapsed:7.1f}s  {verdict}",
                  flush=True)
            if not ok:
                failures.append((name, vg_log, out_log))

    for name, vg_log, out_log in failures:
        for label, path in (("output", out_log), ("valgrind", vg_log)):
            print(f"\n----- {name}: {label} ({path}) -----")
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:
                text = "(missing)\n"
            print(text[-20000:], end="")

    print(f"\n[valgrind] {len(runnable) - len(failures)}/{len(runnable)} "
          f"test(s) clean")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
