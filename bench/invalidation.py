"""Invalidation latency between two replicas: revoke a token on A, then poll B with it until
it is refused; prints p50 / p99 / max of "revoke answered on A -> first 401 on B".

    python3 bench/invalidation.py A_BASE B_BASE SESSION_JWT [ROUNDS]
"""
import json
import statistics
import sys
import time
import urllib.error
import urllib.request


def call(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def main():
    a, b, session = sys.argv[1], sys.argv[2], sys.argv[3]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    waits = []
    for n in range(rounds):
        status, body = call("POST", f"{a}/auth/tokens", session, {"name": f"probe-{n}"})
        assert status == 201, (status, body)
        created = json.loads(body)
        pat, token_id = created["token"], created["id"]
        status, _ = call("GET", f"{b}/api/me", pat)
        assert status == 200, status  # B has it cached now
        status, _ = call("DELETE", f"{a}/auth/tokens/{token_id}", session)
        assert status in (200, 204), status
        revoked = time.perf_counter()
        while True:
            status, _ = call("GET", f"{b}/api/me", pat)
            if status == 401:
                waits.append((time.perf_counter() - revoked) * 1000)
                break
            assert status == 200, status
            if time.perf_counter() - revoked > 5:
                raise SystemExit("B still accepts a token revoked on A 5 s ago")
    waits.sort()
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    print(
        f"revoke on A -> first 401 on B ({rounds} rounds): p50 {statistics.median(waits):.1f} ms, "
        f"p99 {p99:.1f} ms, max {waits[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
