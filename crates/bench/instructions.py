#!/usr/bin/env python3
"""Instructions per content-list request, counted by callgrind.

A count of instructions does not move with the machine's load or clock speed, so two builds
compare to the thousand instructions on a busy machine where their throughputs are a few per
cent apart. Seeds a SQLite file with `palaver-bench` (100,000 flakes), serves it with
`palaver` under `valgrind --tool=callgrind` (read cache off, rate limits as served but with room for every request),
sends 50 warm-up requests, then counts N more of the list the content suite measures (`status`
filter, `created DESC`, limit 10) on one kept-alive connection.

    python3 crates/bench/instructions.py target/release [N] [--annotate]

prints the instructions per request (the server's background tasks over the same time
included: a few hundred per request) and, with --annotate, callgrind's inclusive table.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

PORT = 18091


def request(conn, method, path, body=None, headers=None):
    h = dict(headers or {})
    if body is not None:
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    return r.status, r.read()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    annotate = "--annotate" in sys.argv
    if not args:
        sys.exit(__doc__)
    bins = os.path.abspath(args[0])
    n = int(args[1]) if len(args) > 1 else 1000
    work = tempfile.mkdtemp(prefix="palaver-instructions-")
    db = os.path.join(work, "palaver.db")
    subprocess.run(
        [os.path.join(bins, "palaver-bench"), "--suite", "content",
         "--database-url", f"sqlite://{db}", "--only", "no scenario: load only"],
        cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ,
               PALAVER_DATABASE_URL=f"sqlite://{db}",
               PALAVER_LISTEN=f"127.0.0.1:{PORT}",
               PALAVER_READ_CACHE="false",
               # The limiters run as served, with room for every request.
               PALAVER_RATE_LIMIT_CONTENT_TOKEN_PER_SECOND="1000000",
               PALAVER_RATE_LIMIT_CONTENT_TOKEN_BURST="1000000",
               PALAVER_RATE_LIMIT_IP_PER_SECOND="1000000",
               PALAVER_RATE_LIMIT_IP_BURST="1000000")
    out = os.path.join(work, "callgrind.out")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no",
         f"--callgrind-out-file={out}", os.path.join(bins, "palaver"), "serve"],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                if request(c, "GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            sys.exit("the server did not start")
        s, d = request(c, "POST", "/api/users/login",
                       {"email": "bench@example.com", "password": "bench-password"})
        assert s == 200, (s, d)
        headers = {"KTL-Access-Token": json.loads(d)["id"]}
        s, d = request(c, "GET", "/api/bots", headers=headers)
        assert s == 200, (s, d)
        bot = json.loads(d)[0]["id"]
        f = {"where": {"status": "publish"}, "order": "created DESC", "limit": 10}
        path = f"/api/bots/{bot}/flakes?filter=" + urllib.parse.quote(json.dumps(f))
        for _ in range(50):
            s, d = request(c, "GET", path, headers=headers)
            assert s == 200, (s, d)
        pid = str(server.pid)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, **quiet)
        for _ in range(n):
            s, d = request(c, "GET", path, headers=headers)
            assert s == 200 and len(json.loads(d)) == 10, (s, d)
        subprocess.run(["callgrind_control", "-d", pid], check=True, **quiet)
    finally:
        server.terminate()
        server.wait()
    dumps = sorted(p for p in os.listdir(work) if p.startswith("callgrind.out."))
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                             os.path.join(work, dumps[-1])],
                            check=True, capture_output=True, text=True).stdout
    total = next(int(line.split()[0].replace(",", ""))
                 for line in report.splitlines() if "PROGRAM TOTALS" in line)
    if annotate:
        print(report)
    print(f"{total / n:,.0f} instructions per content-list request ({n} requests, {len(d)} bytes each)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
