#!/usr/bin/env python3
"""Seeds N users through the public API (POST /api/users, no password, so no Argon2 cost).

usage: seed_users.py BASE_URL TOKEN COUNT [THREADS]
Emails are user<i>@bench.example; roles cycle viewer/analyst/km_admin. Prints users/s.
"""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse

base, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 8
url = urlparse(base)
roles = ["viewer", "analyst", "km_admin"]
failures = []


def work(start: int) -> None:
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i in range(start, count, threads):
        body = json.dumps({"email": f"user{i}@bench.example", "name": f"Bench User {i}",
                           "role": roles[i % 3]})
        conn.request("POST", "/api/users", body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            failures.append(response.status)


began = time.time()
pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
elapsed = time.time() - began
print(f"seeded {count - len(failures)} users in {elapsed:.1f} s ({count / elapsed:.0f} users/s)"
      + (f", {len(failures)} failed: {sorted(set(failures))}" if failures else ""))
sys.exit(1 if failures else 0)
