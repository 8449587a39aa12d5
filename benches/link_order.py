#!/usr/bin/env python3
"""Writes `link-order.txt`: the functions of the release server that it runs to
start and to answer its common requests, in the order they first ran. The
release build lays them out first and together (see `build.rs`).

`make link-order` runs it: a release build as a user makes it, then the
server under valgrind's callgrind on 127.0.0.1 through its start and a
short, bounded walk: the CSRF token, a demo sign-in, session
checks signed in and out, the sign-in pages, a wrong password, a sign-out.
Callgrind records every function that ran, however short (a sampling
profiler misses most of them), so the list is complete for that walk. The
walk ends with a few seconds of each of the bench's loads, few connections. The
same again for the bench's build, whose `bench` feature renames the
library's symbols; the list holds both.

Run it again when the server's code moved a lot: the bench prints how many
of the listed functions its binary still has."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import (ROOT, SESAME, cookies_of, defined, request, run, sesame_env, sign_in,  # noqa: E402
                   signin_env, wait_ready, wrk_command)

OUT = os.path.join(ROOT, "link-order.txt")
BINARY = os.path.join(ROOT, "target", "release", "sesame")
TRACE = os.path.join(bench.OUT, "link-order.callgrind")
MAX_NAME = 20_000


def executed(trace):
    """Every function callgrind saw run, in the order it first named them."""
    names, seen = [], set()
    with open(trace, errors="replace") as f:
        for line in f:
            m = re.match(r"c?fn=\(\d+\) (.+)$", line.rstrip("\n"))
            if m and m.group(1) not in seen:
                seen.add(m.group(1))
                names.append(m.group(1))
    return names


def walk():
    """The requests the list is made from (each bounded by the bench's timeouts)."""
    status, _, jar = sign_in(SESAME)
    assert status == 200, status
    session = {"Cookie": f"sesame.session-token={jar['sesame.session-token']}"}
    for _ in range(3):
        assert b"demo@example.com" in request("GET", SESAME + "/api/auth/session", session)[2]
    request("GET", SESAME + "/api/auth/session")
    for page in ("/sign-in", "/", "/api/auth/signin"):
        assert request("GET", SESAME + page)[0] == 200, page
    status, _, _ = sign_in(SESAME, password="not the password")
    assert status != 200, status
    every = lambda: {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}  # noqa: E731
    _, headers, body = request("GET", SESAME + "/api/auth/csrf", every())
    jar.update(cookies_of(headers))
    form = urllib.parse.urlencode({"csrfToken": json.loads(body)["csrfToken"], "json": "true"})
    status = request("POST", SESAME + "/api/auth/signout",
                     {**every(), "Origin": SESAME, "Content-Type": "application/x-www-form-urlencoded"}, form)[0]
    assert status == 200, status
    # The bench's loads, briefly and with few connections, so that what
    # answers under concurrency runs too: the scheduler's stealing, the
    # caches' housekeeping, sign-ins refused for want of a hashing slot and
    # held (`flood.lua`), new sessions (`signin.lua`), the ceiling route of
    # the bench's build (404 in a user's).
    status, _, jar = sign_in(SESAME)
    assert status == 200, status
    session = {"Cookie": f"sesame.session-token={jar['sesame.session-token']}"}
    load(SESAME + "/api/auth/session", 3, 8, headers=session)
    load(SESAME + "/sign-in", 2, 4)
    load(SESAME + "/bench/ceiling", 2, 4)
    load(SESAME + "/api/auth/callback/credentials", 3, 4, script="signin.lua", env=signin_env(SESAME))
    load(SESAME + "/api/auth/callback/credentials", 4, 32, script="flood.lua", env=signin_env(SESAME))


def load(url, seconds, connections, headers=None, script=None, env=None):
    """`wrk` on `url` for `seconds` (one thread), its figures unread."""
    script = script and os.path.join(ROOT, "benches", script)
    subprocess.run(wrk_command(url, headers, connections, seconds, script, threads=1),
                   env={**os.environ, **(env or {})}, capture_output=True, check=True, timeout=seconds + 60)


def profile(features):
    """The list of the release server built with `features` (a walk under callgrind)."""
    run([bench.RELEASE, *features],
        env={**os.environ, "SESAME_LINK_ORDER": "off"})
    shutil.rmtree(os.path.join(bench.OUT, "data"), ignore_errors=True)
    for old in glob.glob(TRACE + "*"):
        os.remove(old)
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={TRACE}", BINARY],
                            cwd=ROOT, env=sesame_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(SESAME + "/api/auth/csrf", proc, timeout=300)
        # What start-up ran, in a dump of its own: it goes first, so that an
        # idle server's code is one run of pages. (Callgrind names functions
        # in no order of time, so the split is what orders them.)
        run(["callgrind_control", "--dump=start", str(proc.pid)])
        walk()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
    own = defined(BINARY)
    dumps = sorted(glob.glob(TRACE + ".*"), key=lambda f: int(f.rsplit(".", 1)[1])) + [TRACE]
    names, seen = [], set()
    for dump in dumps:
        for name in executed(dump):
            # One of Leptos's page types makes a name of 350 KB: names over
            # MAX_NAME are left out (their functions are placed as before).
            if name in own and len(name) <= MAX_NAME and name not in seen:
                seen.add(name)
                names.append(name)
    return names


def merge(first, second):
    """Both lists in one, each in its own order: a name of `second` that
    `first` lacks goes right after the name `second` ran before it, so each
    binary finds what it runs to start at the front, together."""
    merged, have, at = list(first), set(first), 0
    for name in second:
        if name in have:
            at = merged.index(name) + 1
        else:
            merged.insert(at, name)
            have.add(name)
            at += 1
    return merged


def main():
    bench.ensure_tools()  # scripts/setup.sh (wasm-opt, cargo-leptos), wrk
    if not shutil.which("valgrind"):
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "valgrind"])
    os.makedirs(bench.OUT, exist_ok=True)
    # The build a user makes, then the bench's (its `bench` feature changes
    # the library's symbol names): each binary finds its own names in the list.
    names = merge(profile([]), profile(["--bin-features", "bench"]))
    with open(OUT, "w") as f:
        f.write("\n".join(names) + "\n")
    print(f"link-order.txt: {len(names)} functions")


if __name__ == "__main__":
    main()
