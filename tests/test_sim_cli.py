#!/usr/bin/env python3
"""The cache-sim program, run as a user runs it.

usage: test_sim_cli.py PATH/TO/cache-sim

Checks its exit statuses and one-line messages for bad input and bad
options, that the three input formats (and gzip) replay the same requests
to the same hits, and that the CSV, JSON and SVG files it writes are well
formed and agree with each other. The replay itself is checked hit for hit
in test_sim.c.

SIM_CLI_WRAPPER, if set, is put before every command, e.g.
  SIM_CLI_WRAPPER="valgrind -q --leak-check=full --error-exitcode=99"
"""

import csv
import gzip
import json
import os
import random
import shlex
import struct
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

SIM = None
HAVE_GZIP = True  # cache-sim was built with zlib (its --version says)
WRAPPER = shlex.split(os.environ.get("SIM_CLI_WRAPPER", ""))

# Few enough entries for one shard (under 256): LRU and FIFO are exact, so
# the same requests in any format give the same hits.
SIZES = "10,50,200"


def trace_ids(n=3000, ids=400, seed=5):
    """A loop, then ids skewed towards small ones, from a fixed seed."""
    rng = random.Random(seed)
    out = [i % 150 for i in range(n // 3)]
    out += [int(ids * rng.random() * rng.random()) for _ in range(n - len(out))]
    return out


def run(*args, cwd=None):
    p = subprocess.run(WRAPPER + [SIM] + [str(a) for a in args], cwd=cwd,
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


class Files(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="test_sim_cli.")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data, gz=False):
        path = self.path(name)
        if isinstance(data, str):
            data = data.encode()
        with (gzip.open if gz else open)(path, "wb") as f:
            f.write(data)
        return path

    def write_ids(self, name, ids, gz=False):
        return self.write(name, "".join(f"{i}\n" for i in ids), gz)

    def write_oracle(self, name, ids, size=100, gz=False):
        records = b"".join(struct.pack("<IQIq", t, i, size + i % 7, -1)
                           for t, i in enumerate(ids))
        return self.write(name, records, gz)

    def write_csv(self, name, ids):
        lines = ["time,key,size"] + [f"{t},{i},{100 + i % 7}"
                                      for t, i in enumerate(ids)]
        return self.write(name, "\n".join(lines) + "\n")

    def csv_rows(self, path):
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    def assert_fails(self, status, want, *args):
        """Exit status, one line on stderr that says want, nothing on
        stdout."""
        rc, out, err = run(*args)
        self.assertEqual(rc, status, f"{args}: stderr {err!r}")
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, f"{args}: stderr {err!r}")
        self.assertTrue(lines[0].startswith("cache-sim: "), lines[0])
        self.assertIn(want, lines[0])
        self.assertEqual(out, "")


class Errors(Files):
    def test_missing_file(self):
        self.assert_fails(1, "no-such.txt: No such file or directory",
                          self.path("no-such.txt"))

    def test_missing_file_is_found_before_any_replay(self):
        good = self.write_ids("good.txt", [1, 2, 1])
        rc, out, err = run(good, self.path("missing.txt"))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")

    def test_malformed_line_is_named_by_file_and_line(self):
        path = self.write("bad.txt", "1\n2\n\n# note\nx7\n")
        self.assert_fails(1, "bad.txt:5: not a decimal id: 'x7'", path)

    def test_empty_trace(self):
        self.assert_fails(1, "empty trace", self.write("empty.txt", ""))

    def test_truncated_oracle_record(self):
        with open(self.write_oracle("x.bin", trace_ids(10)), "rb") as f:
            path = self.write("cut.oracleGeneral.bin", f.read()[:-3])
        self.assert_fails(1, "record 10 is truncated", path)

    def test_gzip_without_zlib(self):
        if HAVE_GZIP:
            self.skipTest("cache-sim was built with zlib")
        path = self.write_ids("t.txt", [1, 2], gz=True)
        self.assert_fails(1, "built without zlib", path)

    def test_zstd(self):
        path = self.write("t.oracleGeneral.zst", b"\x28\xb5\x2f\xfd\0\0")
        self.assert_fails(1, "zstd not supported: decompress first", path)

    def test_unknown_policy(self):
        path = self.write_ids("t.txt", [1])
        self.assert_fails(2, "unknown policy 'nope'", "--policy", "lru,nope",
                          path)

    def test_bad_sizes(self):
        path = self.write_ids("t.txt", [1])
        for size in ["12x", "0", "0%", "101%", "1.5", "5 XB", "-3", "1k"]:
            with self.subTest(size=size):
                self.assert_fails(2, f"bad size '{size}'", "--size", size,
                                  path)
        self.assert_fails(2, "an empty element", "--size", "1%,,5%", path)

    def test_bad_options(self):
        path = self.write_ids("t.txt", [1])
        self.assert_fails(2, "unknown option '--nope'", "--nope", path)
        self.assert_fails(2, "--size needs a value", path, "--size")
        self.assert_fails(2, "unknown format 'xml'", "--format", "xml", path)
        self.assert_fails(2, "--key-col needs a column number", "--key-col",
                          "0", path)
        self.assert_fails(2, "no trace given")

    def test_byte_sizes_need_object_sizes(self):
        path = self.write_ids("t.txt", [1, 2])
        self.assert_fails(2, "has no object sizes", "--size", "1MiB", path)

    def test_unwritable_output(self):
        path = self.write_ids("t.txt", [1, 2])
        self.assert_fails(1, "cannot write", "--csv",
                          self.path("no/such/dir.csv"), path)

    def test_failure_leaves_no_half_written_files(self):
        good = self.write_ids("good.txt", [1, 2, 1])
        bad = self.write("bad.txt", "1\nnope\n")
        out_csv, out_json = self.path("r.csv"), self.path("r.json")
        rc, out, err = run("--csv", out_csv, "--json", out_json, good, bad)
        self.assertEqual(rc, 1, err)
        self.assertIn("bad.txt:2:", err)
        self.assertFalse(os.path.exists(out_csv))
        self.assertFalse(os.path.exists(out_json))


class Usage(Files):
    def test_help(self):
        rc, out, err = run("--help")
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("usage: cache-sim", out)
        for word in ("--policy", "--size", "--csv", "--json", "--svg",
                     "oracle"):
            self.assertIn(word, out)

    def test_version(self):
        rc, out, err = run("--version")
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("libcache ", out)


class Formats(Files):
    def replay(self, *args):
        out_csv = self.path("out.csv")
        rc, out, err = run("--policy", "lru,fifo", "--size", SIZES, "--quiet",
                           "--csv", out_csv, *args)
        self.assertEqual((rc, err), (0, ""), args)
        return out, {(r["policy"], r["size_spec"]): int(r["hits"])
                     for r in self.csv_rows(out_csv)}

    def test_every_format_replays_the_same_requests(self):
        ids = trace_ids()
        runs = {
            "ids": (self.write_ids("t.txt", ids),),
            "oracle": (self.write_oracle("t.oracleGeneral.bin", ids),),
            "csv": (self.write_csv("t.csv", ids), "--key-col", "2",
                    "--size-col", "3"),
        }
        if HAVE_GZIP:
            runs["ids, gzip named .txt"] = (self.write_ids("z.txt", ids,
                                                           gz=True),)
            runs["oracle, gzip, no name"] = (self.write_oracle("t", ids,
                                                               gz=True),)
        results = {}
        for name, args in runs.items():
            with self.subTest(format=name):
                out, results[name] = self.replay(*args)
                self.assertIn(f"{len(ids):,} requests", out)
                self.assertIn(f"{len(set(ids)):,} distinct ids", out)
                if "gzip" in name:
                    self.assertIn("gzip", out.splitlines()[0])
        first = results["ids"]
        self.assertEqual(len(first), 6)
        self.assertTrue(all(h > 0 for h in first.values()), first)
        for name, hits in results.items():
            self.assertEqual(hits, first, name)

    def test_format_can_be_forced(self):
        ids = trace_ids(500)
        path = self.write_oracle("records.dat", ids)
        out, hits = self.replay("--format", "oracle", path)
        self.assertIn("oracle", out.splitlines()[0])

    def test_byte_bounded_replay(self):
        path = self.write_oracle("t.oracleGeneral.bin", trace_ids())
        out_csv = self.path("b.csv")
        rc, out, err = run("--bytes", "--size", "5%,20KiB,1MB", "--csv",
                           out_csv, "--policy", "lru", path)
        self.assertEqual((rc, err), (0, ""))
        rows = self.csv_rows(out_csv)
        self.assertEqual([r["bound"] for r in rows], ["bytes"] * 3)
        self.assertEqual([int(r["capacity"]) for r in rows][1:],
                         [20480, 1000000])
        ratios = [float(r["hit_ratio"]) for r in rows]
        self.assertLess(ratios[1], ratios[2])


class Outputs(Files):
    def test_table(self):
        path = self.write_ids("t.txt", [1, 2, 1, 3, 1, 2])
        rc, out, err = run("--policy", "default,lru", "--size", "1,2,50%",
                           path)
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertIn("t.txt: 6 requests, 3 distinct ids", lines[0])
        self.assertEqual(lines[1].split(), ["policy", "1", "2", "50%"])
        self.assertEqual(lines[2].split(), ["entries", "1", "2", "1"])
        self.assertIn("(default)", lines[3])
        self.assertEqual(lines[4].split()[0], "lru")
        # lru at 2 entries: 1 2 [1] 3 [1] 2 -> 2 hits of 6.
        self.assertEqual(lines[4].split()[2], "0.3333")
        self.assertEqual(len(lines), 5)

    def test_csv_json_and_svg_agree(self):
        a = self.write_ids("a.txt", trace_ids(2000, seed=1))
        b = self.write_ids("b.txt.gz", trace_ids(1500, seed=2),
                           gz=HAVE_GZIP)
        out_csv, out_json = self.path("r.csv"), self.path("r.json")
        rc, out, err = run("--policy", "all", "--csv", out_csv, "--json",
                           out_json, "--svg", self.path("chart.svg"), a, b)
        self.assertEqual((rc, err), (0, ""))
        rows = self.csv_rows(out_csv)
        with open(out_json) as f:
            objects = json.load(f)
        self.assertIsInstance(objects, list)
        fields = ["trace", "policy", "size_spec", "capacity", "requests",
                  "hits", "hit_ratio", "bound"]
        self.assertEqual(list(rows[0].keys()), fields)
        self.assertEqual(len(rows), len(objects))
        for row, obj in zip(rows, objects):
            self.assertEqual(list(obj.keys()), fields)
            for k in fields:
                if k == "hit_ratio":
                    self.assertAlmostEqual(obj[k], float(row[k]), places=6)
                else:
                    self.assertEqual(str(obj[k]), row[k], k)
            self.assertAlmostEqual(obj["hit_ratio"],
                                   obj["hits"] / obj["requests"], places=6)
        self.assertEqual({r["trace"] for r in rows}, {a, b})
        self.assertEqual({r["size_spec"] for r in rows},
                         {"1%", "5%", "10%", "20%"})
        # One chart per trace, named after it.
        for name in ("chart-a.svg", "chart-b.svg"):
            self.check_svg(self.path(name), len({r["policy"] for r in rows}))

    def check_svg(self, path, policies):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("<?xml") or text.startswith("<svg"))
        root = ET.fromstring(text)  # well formed, or this raises
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual(root.tag, ns + "svg")
        self.assertEqual(len(root.findall(f".//{ns}polyline")), policies)
        texts = " ".join(t.text or "" for t in root.iter(ns + "text"))
        self.assertIn("hit ratio", texts)
        self.assertIn("cache size", texts)

    def test_one_trace_one_svg_at_the_path_given(self):
        path = self.write_ids("t.txt", trace_ids(800))
        svg = self.path("only.svg")
        rc, out, err = run("--policy", "lru", "--svg", svg, path)
        self.assertEqual((rc, err), (0, ""))
        self.check_svg(svg, 1)

    def test_progress_when_asked(self):
        path = self.write_ids("t.txt", [1, 2])
        rc, out, err = run("--progress", path)
        self.assertEqual(rc, 0)  # too short to report anything
        self.assertEqual(err, "")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    SIM = os.path.abspath(sys.argv.pop(1))
    HAVE_GZIP = "zlib " in run("--version")[1]
    unittest.main(verbosity=1)
