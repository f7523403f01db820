#!/usr/bin/env python3
"""Answers unchanged across builds: one history page and one content list, read by two builds of
`palaver` from the same SQLite file.

    python3 crates/bench/snapshot_compare.py OLD_PALAVER NEW_PALAVER

The old build starts on an empty file, the script writes users, a channel and 60 messages (some
mentioning a user, two with replies) through the platform API and a bot with 30 flakes through the
content API, and reads the newest channel page (size 50), the application's page, one thread's
page, the flakes list (`status` filter, `created DESC`, limit 10) and two counts. The old build
stops, the new one starts on the same file (its migrations run) and the same reads are made again.
Every answer must be byte-for-byte the same once the server's own address is the same; the script
exits 1 and prints the first difference otherwise. Standard library only.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

CLIENT_ID = "snapshot-client"
CLIENT_SECRET = "snapshot-client-secret-0123456789"
EMAIL = "admin@palaver.local"
PASSWORD = "snapshot-password-0123"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, folder, port):
    env = dict(os.environ)
    env.update(
        {
            "PALAVER_DATABASE_URL": "sqlite://" + os.path.join(folder, "palaver.db"),
            "PALAVER_FILES_URL": os.path.join(folder, "files"),
            "PALAVER_LISTEN": f"127.0.0.1:{port}",
            "PALAVER_BOOTSTRAP_PASSWORD": PASSWORD,
            "PALAVER_BOOTSTRAP_CLIENT_ID": CLIENT_ID,
            "PALAVER_BOOTSTRAP_CLIENT_SECRET": CLIENT_SECRET,
            "PALAVER_LOG": "warn",
        }
    )
    proc = subprocess.Popen(
        [binary, "serve"], cwd=folder, env=env, stdout=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{binary} did not start")


def call(base, method, path, token=None, body=None, headers=None, form=None):
    data = None
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req) as res:
            return res.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read()[:300]!r}")


def platform_token(base):
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    raw = call(
        base,
        "POST",
        "/oauth/token",
        headers={"Authorization": f"Basic {basic}"},
        form={"grant_type": "client_credentials"},
    )
    return json.loads(raw)["access_token"]


def content_token(base):
    raw = call(
        base,
        "POST",
        "/api/users/login",
        body={"email": EMAIL, "password": PASSWORD},
    )
    return json.loads(raw)["id"]


def write(base):
    """Writes the data the reads see; answers what the reads need."""
    token = platform_token(base)
    for name in ["alice", "bob", "carol"]:
        call(base, "POST", "/users", token,
             {"name": name, "display_name": name.title(), "is_guest": False})
    channel = json.loads(call(
        base, "POST", "/channels", token,
        {"type": "PUBLIC", "name": "snapshot", "creator": {"username": "alice"},
         "members": [{"username": "bob"}, {"username": "carol"}]},
    ))["id"]
    first = None
    for i in range(60):
        sender = ["alice", "bob", "carol"][i % 3]
        body = f"message {i} for @carol" if i % 7 == 0 else f"message {i}"
        m = json.loads(call(
            base, "POST", f"/channels/{channel}/messages", token,
            {"type": "TEXT", "body": body, "user": {"username": sender}},
        ))
        if first is None:
            first = m
    thread_id = first["_links"]["reply_thread"]["href"].rsplit("/", 1)[1]
    for i in range(2):
        call(base, "POST", f"/threads/{thread_id}/messages", token,
             {"type": "TEXT", "body": f"reply {i}", "user": {"username": "bob"}})
    ktl = content_token(base)
    bot = json.loads(call(base, "POST", "/api/bots", None,
                          {"name": "Snapshot bot", "platform": "slack", "domain": "snap"},
                          {"KTL-Access-Token": ktl}))["id"]
    flakes = [{"title": f"flake {i}", "status": ["publish", "draft", "publish"][i % 3],
               "description": f"about {i}" if i % 2 else None} for i in range(30)]
    call(base, "POST", f"/api/bots/{bot}/flakes", None, flakes, {"KTL-Access-Token": ktl})
    return {"channel": channel, "thread": thread_id, "bot": bot}


def reads(base, ids):
    token = platform_token(base)
    ktl = {"KTL-Access-Token": content_token(base)}
    flt = urllib.parse.quote(json.dumps(
        {"where": {"status": "publish"}, "order": "created DESC", "limit": 10}))
    where = urllib.parse.quote(json.dumps({"status": "publish"}))
    bot = ids["bot"]
    return {
        "channel page": call(base, "GET", f"/channels/{ids['channel']}/messages?size=50", token),
        "application page": call(base, "GET", "/messages?size=50", token),
        "thread page": call(base, "GET", f"/threads/{ids['thread']}/messages?size=50", token),
        "flakes list": call(base, "GET", f"/api/bots/{bot}/flakes?filter={flt}", None, None, ktl),
        "flakes count": call(base, "GET", f"/api/bots/{bot}/flakes/count?where={where}",
                             None, None, ktl),
        "flakes count, all": call(base, "GET", f"/api/bots/{bot}/flakes/count", None, None, ktl),
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old, new = sys.argv[1], sys.argv[2]
    folder = tempfile.mkdtemp(prefix="palaver-snapshot-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(old, folder, port)
    try:
        ids = write(base)
        before = reads(base, ids)
    finally:
        proc.terminate()
        proc.wait()
    proc = start(new, folder, port)
    try:
        after = reads(base, ids)
    finally:
        proc.terminate()
        proc.wait()
    same = True
    for name, body in before.items():
        if body == after[name]:
            print(f"same: {name} ({len(body)} bytes)")
        else:
            same = False
            print(f"DIFFERENT: {name}\n  before: {body[:400]!r}\n  after:  {after[name][:400]!r}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
