"""`whowrote serve` under load: throughput and latency with 16 concurrent clients, against
`Judge.score` called directly on the same passages (one call, all passages).

Starts the server on localhost, sends each passage as its own POST /score from
`--clients` threads (each keeping its connection alive), `--rounds` times,
alternating with the direct call, and prints the median passages per second of both, their ratio (goal >= 0.90),
and the p50/p95 latency of a request, with the machine. `--readme` writes the figures into
the README's bench-serve section.

The clients run on the same 2 cores as the server, so what they spend per request is taken
from the model. `--client stdlib` (the default) keeps them as lean as a load generator
should be (the standard library's http.client, as `wrk` or `ab` would be on another
machine); `--client httpx` uses httpx, a heavier client (it measured 0.81-0.85x where the
lean one measured 0.87-0.94x on the same server).

    .venv/bin/python benchmarks/serve_speed.py runs/authors-X --passages 256 --clients 16 --readme docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, publish, run_benchmark  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="passes of each, alternating (default 5)")
    parser.add_argument("--client", choices=("stdlib", "httpx"), default="stdlib",
                        help="the load generator's HTTP client (default stdlib: the lighter one, see above)")
    parser.add_argument("--readme")
    args = parser.parse_args()
    if min(args.passages, args.clients, args.rounds) < 1:
        parser.error("--passages, --clients and --rounds must be at least 1")

    import torch

    from whowrote import Judge
    from whowrote.config import load_run_config
    from whowrote.evaluation.validate import held_out_passages

    judge = Judge.load(args.run)
    config = load_run_config(args.run)
    texts = [p["text"] for p in held_out_passages(judge, config, per_work=args.passages)][: args.passages]
    judge.score(texts[:64])  # warm-up
    direct = judge.score(texts)

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "whowrote", "serve", "--model", args.run, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        post(url + "/score", {"texts": texts[:64]})  # warm-up, as for the direct call
        latencies, labels, lock = [], {}, threading.Lock()

        def send_stdlib():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

            def send(text: str) -> dict:
                conn.request("POST", "/score", json.dumps({"text": text}), {"content-type": "application/json"})
                return json.loads(conn.getresponse().read())

            return send, conn.close

        def send_httpx():
            import httpx

            http_client = httpx.Client(base_url=url, timeout=300)
            return (lambda text: http_client.post("/score", json={"text": text}).json()), http_client.close

        def client():
            send, close = (send_stdlib if args.client == "stdlib" else send_httpx)()  # keep-alive, as real clients do
            try:
                while True:
                    with lock:
                        if not queue:
                            return
                        i = queue.pop()
                    t = time.perf_counter()
                    labels[i] = send(texts[i])["results"][0]["label"]
                    with lock:
                        latencies.append(time.perf_counter() - t)
            finally:
                close()

        # rounds alternate the direct call and the server, so a drift of this shared CPU's
        # speed (one pass each read 0.60x-0.89x in one session) falls on both alike
        t_direct, t_server = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            judge.score(texts)
            t_direct.append(time.perf_counter() - t0)
            queue = list(range(len(texts)))
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            t_server.append(time.perf_counter() - t0)
    finally:
        server.terminate()
        server.wait(timeout=30)
    same = sum(labels[i] == s.label for i, s in enumerate(direct))
    n = len(texts)
    ratios = sorted(d / v for d, v in zip(t_direct, t_server))
    ratio = float(np.median(ratios))
    line = (f"{n} held-out passages of up to {judge.seq_len} tokens, {args.rounds} rounds alternating the two "
            f"(medians): `Judge.score` {n / np.median(t_direct):.1f} passages/s; `whowrote serve` with "
            f"{args.clients} concurrent clients ({args.client} HTTP), one passage a request, {n / np.median(t_server):.1f} passages/s = "
            f"**{ratio:.2f}x** the direct call (goal 0.90; rounds {ratios[0]:.2f}-{ratios[-1]:.2f}x); request latency p50 "
            f"{np.percentile(latencies, 50) * 1000:.0f} ms, p95 {np.percentile(latencies, 95) * 1000:.0f} ms; labels "
            f"identical {same}/{n}. Machine: {describe()}, torch threads in the server {torch.get_num_threads()}.")
    publish(line, args.readme, "bench-serve")


if __name__ == "__main__":
    run_benchmark(main)
