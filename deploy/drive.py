#!/usr/bin/env python3
"""Drives a cluster started by deploy/cluster.sh and checks that it behaves
as one service: tokens work on every instance, refresh rotation, the login
lock and the per-IP limit hold across instances, and killing an instance
in the middle of 200 concurrent creates loses nothing that was answered,
and each email answered for is one message (sent again with the same
Message-ID if the kill cut it after the transport took it).

    python3 deploy/drive.py N ADMIN_EMAIL ADMIN_PASSWORD [IP_LIMIT] [MAIL_DIR]

Standard library only. Exits non-zero on the first broken promise.
"""
import concurrent.futures
import glob
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

NGINX = 18200
PRIMARY = "postgres://postgres@127.0.0.1:54381/meridian"


def call(port, method, path, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            raw = res.read()
            return res.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw else None
        except ValueError:
            return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def sql(query):
    out = subprocess.run(["psql", "-X", "-q", "-t", "-A", PRIMARY, "-c", query],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        sys.exit(1)


def main():
    n, email, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    instances = [NGINX + i for i in range(1, n + 1)]

    status, pair = call(NGINX, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    check(status == 200, "log in through nginx")
    token = pair["access_token"]
    check(all(call(p, "GET", "/api/v1/me", token=token)[0] == 200 for p in instances),
          f"the access token works on each of the {n} instances")

    # Refresh rotation: rotated on one instance, the old token is reuse on
    # another, and the login dies everywhere.
    _, second = call(NGINX, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    status, third = call(instances[0], "POST", "/api/v1/auth/refresh",
                         {"refresh_token": second["refresh_token"]})
    check(status == 200, "refresh on instance 1")
    status, _ = call(instances[-1], "POST", "/api/v1/auth/refresh",
                     {"refresh_token": second["refresh_token"]})
    check(status == 401, f"the rotated-out token is refused on instance {n}")
    status, _ = call(instances[0], "POST", "/api/v1/auth/refresh",
                     {"refresh_token": third["refresh_token"]})
    check(status == 401, "and the whole login is revoked, on every instance")
    check(call(instances[-1], "GET", "/api/v1/me", token=third["access_token"])[0] == 401,
          "with its access tokens")

    # The login lock counts across instances.
    ghost = "ghost-of-the-cluster@example.org"
    for i in range(5):
        status, _ = call(instances[i % n], "POST", "/api/v1/auth/login",
                         {"email": ghost, "password": "wrong password of the cluster"})
        check(status == 401, f"wrong password {i + 1} on instance {i % n + 1}")
    status, _ = call(instances[-1], "POST", "/api/v1/auth/login",
                     {"email": ghost, "password": "wrong password of the cluster"})
    check(status == 429, "the sixth, on any instance, is locked out")

    # The per-IP limit counts the client nginx forwards, across instances.
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 120
    # The limiter counts per calendar minute: start early in one, so that
    # the burst is not split between two windows.
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)
    statuses = [call(NGINX, "POST", "/api/v1/auth/password-reset", {"email": "nobody@example.org"},
                     headers={"x-forwarded-for": "41.0.0.9"})[0] for _ in range(limit + 5)]
    check(statuses.count(202) <= limit and 429 in statuses,
          f"one client gets {statuses.count(202)} resets a minute through nginx, then 429")
    status, _ = call(NGINX, "POST", "/api/v1/auth/password-reset", {"email": "nobody@example.org"},
                     headers={"x-forwarded-for": "41.0.0.10"})
    check(status == 202, "another client is not limited")

    # 200 concurrent creates; instance 2 (or 1) is killed in the middle.
    victim = 2 if n > 1 else 1

    def create(i):
        if i % 2:
            return call(NGINX, "POST", "/api/v1/invitations",
                        {"email": f"invitee-{i}@cluster.example", "role": "viewer"}, token=token)
        return call(NGINX, "POST", "/api/v1/institutions",
                    {"name": f"Cluster University {i}", "kind": "university", "country_code": "KE"},
                    token=token)

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        futures = [pool.submit(create, i) for i in range(200)]
        time.sleep(0.3)
        subprocess.run(["bash", "deploy/cluster.sh", "kill", str(victim)], check=True)
        results = [f.result() for f in futures]
    subprocess.run(["bash", "deploy/cluster.sh", "revive", str(victim)], check=True)
    created = [body["id"] for i, (status, body) in enumerate(results) if status == 201 and i % 2 == 0]
    invited = [f"invitee-{i}@cluster.example" for i, (status, _) in enumerate(results)
               if status == 201 and i % 2]
    refused = sum(1 for i, (status, _) in enumerate(results) if status != 201 and i % 2 == 0)
    rows = sql("SELECT count(*), count(DISTINCT name) FROM institutions WHERE name LIKE 'Cluster University %'")
    total, distinct = (int(x) for x in rows.split("|"))
    ids = ",".join(f"'{i}'" for i in created) or "NULL"
    found = int(sql(f"SELECT count(*) FROM institutions WHERE id IN ({ids})"))
    check(found == len(created) and total == distinct,
          f"{len(created)} creates answered 201 all exist once ({refused} cut off by the kill, "
          f"{total - len(created)} of them written)")
    check(call(NGINX, "GET", "/api/v1/me", token=token)[0] == 200, "the cluster serves again")

    # Every invitation answered 201 is one message, by whichever instance's
    # worker claimed it. Delivery is at least once: a message whose sending
    # was cut by the kill after the transport took it, before the outbox
    # marked it, goes again, with the same Message-ID (made from the
    # outbox row), so that it is still one message to its reader.
    mail_dir = sys.argv[5] if len(sys.argv) > 5 else "/var/tmp/meridian-cluster/mail"
    deadline = time.time() + 60
    while True:
        messages = {}
        copies = 0
        for path in glob.glob(f"{mail_dir}/*"):
            with open(path, errors="replace") as f:
                head = f.read(4096)
            to = next((a for a in invited if f"To: {a}\n" in head or f"To: {a}\r" in head), None)
            if to is None:
                continue
            message_id = next((line for line in head.splitlines() if line.startswith("Message-ID:")), "")
            if message_id in messages.get(to, set()):
                copies += 1
            messages.setdefault(to, set()).add(message_id)
        if len(messages) >= len(invited) or time.time() > deadline:
            break
        time.sleep(0.5)
    two = [a for a, ids in messages.items() if len(ids) > 1]
    check(set(messages) == set(invited) and not two,
          f"{len(invited)} invitations answered 201 are each one message "
          f"({copies} sent again after the kill with their Message-ID, {len(two)} different messages twice)")


if __name__ == "__main__":
    main()
