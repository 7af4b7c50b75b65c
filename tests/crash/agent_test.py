#!/usr/bin/env python3
"""`hwnas agent` against abusive clients, on 127.0.0.1 only (issue 14, section 5):
  - missing or wrong bearer token: 401; malformed JSON: 400; a body over --max-body-bytes: 400;
  - blocks whose tensors would need absurd memory, alone or together: 400, answered at once and
    without the agent's memory growing (refused before anything is allocated);
  - slow clients (headers, then nothing; or half a request line) are cut off after the read
    timeout while other clients are served at once;
  - concurrent measurements never overlap on the device: the replies' measure_start_ns and
    measure_end_ns (the agent's steady clock) are disjoint although the requests were in flight
    together;
  - requests/s and p99 latency of GET /v1/device under concurrent load (bench/agent_load.py).
Every client is bounded in number and time.

Usage: agent_test.py HWNAS [--load-clients 16] [--load-requests 3000]
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "..", "bench", "agent_load.py")
TOKEN = "s3cret"
READ_TIMEOUT_MS = 2000
MAX_BODY = 65536


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Agent:
    def __init__(self, hwnas, backend):
        for _ in range(5):  # another process may take the port between probe and bind
            self.port = free_port()
            self.proc = subprocess.Popen(
                [hwnas, "agent", "--backend", backend, "--threads", "1", "--listen",
                 "127.0.0.1:%d" % self.port, "--token", TOKEN, "--read-timeout-ms",
                 str(READ_TIMEOUT_MS), "--max-body-bytes", str(MAX_BODY), "--max-clients", "8"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.request("GET", "/v1/device", timeout=2)[0] == 200:
                        return
                except OSError:
                    time.sleep(0.05)
            self.stop()
        raise SystemExit("FAIL: the agent did not start")

    def request(self, method, path, body=None, token=TOKEN, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"}
            if token is not None:
                headers["Authorization"] = "Bearer " + token
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def timing(min_time_ms=0.0):
    return {"warmup": 1, "min_repeats": 3, "min_time_ms": min_time_ms, "max_repeats": 1000}


SMALL = ["flatten:c=448,h=7,w=7", "meta4d:c=48,h=56,w=56,pool=3,mlp=4"]
# About 220 MB each (under the 1 GiB per-block limit); 24 of them exceed 4 GiB per request.
BIG = "meta4d:c=512,h=128,w=128,pool=3,mlp=4"
ABSURD = "meta3d:c=16384,h=16384,w=16384,heads=8,kd=32,ar=4,mlp=4"


def test_refusals(agent, figures):
    s, body = agent.request("GET", "/v1/device", token=None)
    check(s == 401, "no token: status %d %s" % (s, body))
    s, body = agent.request("GET", "/v1/device", token="wrong")
    check(s == 401, "wrong token: status %d %s" % (s, body))
    s, body = agent.request("POST", "/v1/measure", body="{not json", token="wrong")
    check(s == 401, "wrong token on measure: status %d" % s)
    s, body = agent.request("POST", "/v1/measure", body="{not json")
    check(s == 400 and "malformed JSON" in body, "malformed JSON: %d %s" % (s, body))
    s, body = agent.request("POST", "/v1/measure", body="x" * (4 * MAX_BODY))
    check(s == 400 and "limit" in body, "oversize body: %d %s" % (s, body))
    rss0 = agent.rss_kib()
    t0 = time.monotonic()
    s, body = agent.request("POST", "/v1/measure",
                            json.dumps({"blocks": [ABSURD], "timing": timing()}))
    check(s == 400 and "over the agent's limit" in body, "absurd block: %d %s" % (s, body))
    s, body = agent.request("POST", "/v1/measure_network",
                            json.dumps({"blocks": [BIG] * 24, "timing": timing()}))
    check(s == 400 and "together" in body, "absurd request total: %d %s" % (s, body))
    s, body = agent.request("POST", "/v1/measure",
                            json.dumps({"blocks": [BIG] * 24, "timing": timing()}))
    check(s == 400 and "together" in body, "absurd request total: %d %s" % (s, body))
    secs = time.monotonic() - t0
    grew = agent.rss_kib() - rss0
    check(secs < 2.0, "absurd requests took %.2f s to refuse" % secs)
    check(grew < 50 * 1024, "the agent's memory grew by %d KiB on refused requests" % grew)
    s, body = agent.request("POST", "/v1/measure", json.dumps({"blocks": SMALL,
                                                               "timing": timing()}))
    check(s == 200 and "measure_start_ns" in body, "a good request after all that: %d %s"
          % (s, body))
    figures["refusals"] = {"401": 3, "400": 5, "absurd_refused_in_s": round(secs, 3),
                           "rss_growth_kib": grew}


def test_port_taken(hwnas, agent):
    """A second agent on a port in use fails instead of sharing it (no SO_REUSEPORT)."""
    p = subprocess.run([hwnas, "agent", "--backend", "fake", "--listen",
                        "127.0.0.1:%d" % agent.port], capture_output=True, text=True, timeout=20)
    check(p.returncode != 0 and "cannot bind" in p.stderr,
          "a second agent on port %d: exit %d, %s" % (agent.port, p.returncode, p.stderr))


def test_slow_clients(agent, figures):
    """Stalled clients are cut off after the read timeout and do not delay others."""
    stalled = []
    for partial in (b"POST /v1/measure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"blocks\"",
                    b"GET /v1/dev", b""):
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", agent.port), timeout=10)
            if partial:
                s.sendall(partial)
            stalled.append(s)
    t_open = time.monotonic()
    # Others are served while six clients stall (eight workers).
    t0 = time.monotonic()
    s, _ = agent.request("GET", "/v1/device", timeout=5)
    served = time.monotonic() - t0
    check(s == 200 and served < 1.0, "a client waited %.2f s behind stalled ones" % served)
    cut = []
    for sock in stalled:
        sock.settimeout(READ_TIMEOUT_MS / 1000 * 5)
        try:
            while sock.recv(4096):
                pass
        except socket.timeout:
            check(False, "a stalled client was not cut off within %d ms" % (5 * READ_TIMEOUT_MS))
        except ConnectionResetError:
            pass
        cut.append(time.monotonic() - t_open)
        sock.close()
    check(max(cut) < READ_TIMEOUT_MS / 1000 * 3, "stalled clients held for up to %.2f s"
          % max(cut))
    figures["slow_clients"] = {"stalled": len(stalled), "others_served_in_ms":
                               round(served * 1000, 1), "cut_off_after_s":
                               [round(c, 2) for c in (min(cut), max(cut))],
                               "read_timeout_ms": READ_TIMEOUT_MS}


def test_no_overlap(agent, figures, n=8):
    """n measure requests in flight together; their device intervals must be disjoint."""
    replies, client = [None] * n, [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        path = "/v1/measure_network" if i % 3 == 2 else "/v1/measure"
        body = json.dumps({"blocks": SMALL[:1] if path.endswith("network") else SMALL,
                           "timing": timing(20.0)})
        barrier.wait()
        t0 = time.monotonic()
        replies[i] = agent.request("POST", path, body, timeout=60)
        client[i] = (t0, time.monotonic())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = []
    for s, body in replies:
        check(s == 200, "measure under concurrency: %d %s" % (s, body))
        j = json.loads(body)
        spans.append((j["measure_start_ns"], j["measure_end_ns"]))
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        check(a[1] <= b[0], "measurements overlapped on the device: %r and %r" % (a, b))
    # The clients were in flight together, so the agent had to queue them.
    in_flight = max(sum(1 for s, e in client if s <= t < e) for t, _ in client)
    check(in_flight >= 2, "the requests were not concurrent (max %d in flight)" % in_flight)
    gaps = [(b[0] - a[1]) / 1e6 for a, b in zip(spans, spans[1:])]
    figures["no_overlap"] = {"requests": n, "max_in_flight": in_flight, "overlaps": 0,
                             "device_busy_ms": round((spans[-1][1] - spans[0][0]) / 1e6, 1),
                             "min_gap_ms": round(min(gaps), 3)}


def test_load(agent, figures, clients, requests):
    out = subprocess.run([sys.executable, LOAD, str(agent.port), "--token", TOKEN, "--clients",
                          str(clients), "--requests", str(requests), "--seconds", "20"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "agent_load.py failed: %s" % out.stderr)
    j = json.loads(out.stdout.strip().splitlines()[-1])
    check(j["errors"] == 0, "errors under load: %r" % j)
    check(j["requests"] > 0, "no request completed under load")
    figures["load"] = j


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hwnas")
    ap.add_argument("--load-clients", type=int, default=16)
    ap.add_argument("--load-requests", type=int, default=6000)
    a = ap.parse_args()
    t0 = time.monotonic()
    figures = {}
    fake = Agent(a.hwnas, "fake")
    try:
        test_refusals(fake, figures)
        test_port_taken(a.hwnas, fake)
        test_slow_clients(fake, figures)
        test_load(fake, figures, a.load_clients, a.load_requests)
        if fake.proc.poll() is not None:
            check(False, "the agent died: %s" % fake.proc.stderr.read())
    finally:
        fake.stop()
    # Real timing (the engine, one thread): measurements take tens of ms, so overlap would show.
    local = Agent(a.hwnas, "local")
    try:
        test_no_overlap(local, figures)
        rss0 = local.rss_kib()
        s, body = local.request("POST", "/v1/measure",
                                json.dumps({"blocks": [BIG] * 24, "timing": timing()}))
        check(s == 400, "local agent, absurd request total: %d %s" % (s, body))
        figures["refusals"]["local_rss_growth_kib"] = local.rss_kib() - rss0
        check(figures["refusals"]["local_rss_growth_kib"] < 50 * 1024,
              "the local agent allocated for a refused request")
    finally:
        local.stop()
    for k, v in figures.items():
        print("agent %s: %s" % (k, json.dumps(v)), flush=True)
    load = figures["load"]
    print("agent summary: GET /v1/device %.0f requests/s, p99 %.2f ms (%d clients, %d requests, "
          "0 errors); %d concurrent measurements, 0 overlaps; refusals ok; %.1f s"
          % (load["requests_per_s"], load["p99_ms"], load["clients"], load["requests"],
             figures["no_overlap"]["requests"], time.monotonic() - t0))


if __name__ == "__main__":
    main()
