#!/usr/bin/env python3
"""A tiny backend for the demo, in another language than the worker: it serves the teacher session
lists that Tagwave warms.

  GET /api/v1/sessions?teacher=t1
      reads teacher t1's sessions from the database (a JSON-lines file, one session per line),
      caches the list under `sessions:teacher:t1` with tags `teacher:t1` and `sessions` through the
      documented cache protocol (docs/cache-protocol.md; the writer of Tests/protocol/protocol_peer.py),
      and answers it as JSON. The worker's HTTP warmer calls it after an event invalidated the list
      (examples/worker.yaml, rule `warm:`), and `tagwave cache get` then hits again.

Usage: backend.py PORT DATABASE      Redis from REDIS_URL (default redis://127.0.0.1:6379/0)
Needs redis-py (scripts/bootstrap installs it).
"""
import json
import os
import pathlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import redis

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "Tests" / "protocol"))
from protocol_peer import versions, write  # noqa: E402  (the protocol's Python implementation)

SESSION_LIST_TTL = 300  # seconds: the seed's `session-list` class


def sessions_of(database, teacher):
    path = pathlib.Path(database)
    if not path.exists():
        return []
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return [{"id": row["id"], "title": row["title"]} for row in rows if row.get("teacherId") == teacher]


def cache_sessions(r, database, teacher):
    """Computes and caches one teacher's list without a stale set (docs/cache-protocol.md, Writing).

    The protocol wants the tag versions read *before* the database. `write` reads them when it is
    called, after the query; so the versions are read first here too, and if an invalidation came
    in between (they differ afterwards), the entry just written may hold old rows and is deleted.
    """
    key, tags = f"sessions:teacher:{teacher}", [f"teacher:{teacher}", "sessions"]
    before = versions(r, tags)
    sessions = sessions_of(database, teacher)
    write(r, key, json.dumps(sessions, separators=(",", ":")), SESSION_LIST_TTL, tags)
    if versions(r, tags) != before:
        r.delete(f"tw:e:{key}")
    return key, sessions


def main():
    port, database = int(sys.argv[1]), sys.argv[2]
    url = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    r = redis.Redis(host=url.hostname or "127.0.0.1", port=url.port or 6379, db=int((url.path or "/0").lstrip("/") or 0),
                    username=url.username, password=url.password)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            request = urlparse(self.path)
            teacher = parse_qs(request.query).get("teacher", [""])[0]
            if request.path != "/api/v1/sessions" or not teacher:
                self.send_error(404, "try /api/v1/sessions?teacher=t1")
                return
            key, sessions = cache_sessions(r, database, teacher)
            body = json.dumps(sessions).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            who = "the warmer" if self.headers.get("X-Tagwave-Warm") else "a client"
            print(f"backend: GET {self.path} from {who}: {len(sessions)} sessions cached under {key}", flush=True)

        def log_message(self, format, *args):  # one line per request is printed above
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"backend: listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
