"""Helpers shared by the crash, concurrency, full-disk and agent script tests."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def workdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def run(args, timeout=120, env=None, preexec_fn=None):
    """Runs hwnas (or anything) to completion; returns (code, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                       preexec_fn=preexec_fn)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def run_ok(args, timeout=120):
    code, out, err, secs = run(args, timeout)
    check(code == 0, "%s exited %d: %s" % (" ".join(args), code, err.strip()[-2000:]))
    return out, secs


def run_and_kill(args, delay):
    """Starts `args`, sends SIGKILL after `delay` seconds. Returns True if the kill landed
    (the process was still running), False if it had finished before."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def integrity(path):
    """PRAGMA integrity_check of an SQLite file, opened as a reader would (WAL replayed)."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def latency_rows(path, device):
    """{block_key: (median, p10, p90, mean, std, repeats)} of `device` in a latency table, with
    a check that no key appears twice."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        rows = con.execute(
            "SELECT l.block_key, l.median_ms, l.p10_ms, l.p90_ms, l.mean_ms, l.std_ms, "
            "l.repeats, l.measured_at FROM latencies l JOIN devices d ON d.id = l.device_id "
            "WHERE d.name = ?", (device,)).fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return {}
        raise
    finally:
        con.close()
    out = {}
    for r in rows:
        check(r[0] not in out, "%s: block %s stored twice" % (path, r[0]))
        check(r[7], "%s: block %s has no measured_at (half-written row)" % (path, r[0]))
        out[r[0]] = tuple(r[1:7])
    return out


def calibrations(path, device):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        rows = con.execute(
            "SELECT c.name, c.value FROM calibrations c JOIN devices d ON d.id = c.device_id "
            "WHERE d.name = ?", (device,)).fetchall()
    finally:
        con.close()
    return {name: json.loads(value) for name, value in rows}
