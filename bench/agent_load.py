#!/usr/bin/env python3
"""A small, bounded load generator for `hwnas agent` on loopback: CLIENTS threads, each on its
own keep-alive connection, send GET /v1/device until REQUESTS requests are done in total or
SECONDS have passed. Prints one JSON line: requests, errors, seconds, requests/s, p50/p99/max
latency in ms. Python's threads share one interpreter lock, so the figure is a lower bound of
what the agent serves (the client, not the agent, saturates first on a 2-core machine).

Usage: agent_load.py PORT [--token T] [--clients 16] [--requests 4000] [--seconds 10]
"""
import argparse
import http.client
import json
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token", default="")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("agent_load.py runs on loopback only")
    headers = {"Authorization": "Bearer " + a.token} if a.token else {}
    lock = threading.Lock()
    latencies, errors = [], [0]
    left = [a.requests]
    deadline = time.monotonic() + a.seconds

    def client():
        conn = http.client.HTTPConnection(a.host, a.port, timeout=10)
        while True:
            with lock:
                if left[0] <= 0 or time.monotonic() > deadline:
                    break
                left[0] -= 1
            t = time.monotonic()
            try:
                conn.request("GET", "/v1/device", headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()  # the agent caps requests per connection; reconnect
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(a.host, a.port, timeout=10)
            dt = time.monotonic() - t
            with lock:
                if ok:
                    latencies.append(dt)
                else:
                    errors[0] += 1
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    lat = sorted(latencies)

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None

    print(json.dumps({"clients": a.clients, "requests": len(lat), "errors": errors[0],
                      "seconds": round(secs, 3), "requests_per_s": round(len(lat) / secs, 1),
                      "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                      "max_ms": round(1000 * lat[-1], 3) if lat else None}))


if __name__ == "__main__":
    main()
