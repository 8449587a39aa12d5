"""The memory phases of `make bench` alone, in about a minute: idle, the
session-check and page loads, the sign-ins, then the 256-connection flood of
wrong passwords. Prints idle / after loads / after sign-ins / peak (VmHWM)
MiB and, at the highest sampled moment and at idle, RSS by mapping (the
binary's code and read-only data, each library, each anonymous mapping).

Runs the release build already in target/release (build it first with
`scripts/release.sh --precompress --bin-features bench`, as the bench does).
MEM_BIN names another binary (to compare two builds in turn); MEM_WRAP a
command to run it under, e.g. `MEM_WRAP="heaptrack -o /tmp/ht"` (the server
is then its child; stop it with Ctrl-C if heaptrack keeps it).
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b

BIN = os.environ.get("MEM_BIN", os.path.join(b.ROOT, "target", "release", "sesame"))
WRAP = os.environ.get("MEM_WRAP", "").split()

def smaps(pid):
    kinds = {}
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = parts[5] if len(parts) > 5 else "[anon]"
                if name == "[anon]":
                    a, z = (int(x, 16) for x in parts[0].split("-"))
                    name = f"anon@{parts[0][:6]}({(z - a) // 1024}K)"
                perms = parts[1]
                if name.endswith("/sesame"):
                    name = "bin " + ("code" if "x" in perms else "ro" if "w" not in perms else "rw")
                elif ".so" in name:
                    name = "lib " + os.path.basename(name).split(".so")[0]
                cur = name
            elif parts[0] == "Rss:":
                kinds[cur] = kinds.get(cur, 0) + int(parts[1])
    return kinds

def main():
    shutil.rmtree(os.path.join(b.OUT, "data"), ignore_errors=True)
    os.makedirs(b.OUT, exist_ok=True)
    first, _ = b.start_sesame(binary=BIN, timeout=60)
    b.stop(first)
    proc, _ = b.start_sesame(binary=BIN, wrap=WRAP, timeout=120)
    pid = proc.pid
    if WRAP:
        # heaptrack: the server is its child
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        pid = int(out[-1]) if out else proc.pid
    time.sleep(0.5)
    idle = b.rss_mib(pid)[0]
    idle_k = smaps(pid)
    status, _, jar = b.sign_in(b.SESAME)
    cookie = {"Cookie": f"sesame.session-token={jar['sesame.session-token']}"}
    for _ in range(3):
        b.wrk(b.SESAME + "/api/auth/session", cookie); b.wrk(b.SESAME + "/bench/ceiling")
    b.wrk(b.SESAME + "/api/auth/session", cookie, threads=1)
    b.wrk(b.SESAME + "/sign-in", connections=8)
    after = b.rss_mib(pid)[0]
    b.wrk(b.SESAME + "/api/auth/callback/credentials", script=b.SIGNIN_LUA, env=b.signin_env(b.SESAME))
    after_signins = b.rss_mib(pid)[0]
    flood_jar, flood_token = b.csrf(b.SESAME)
    fenv = {"BENCH_ORIGIN": b.SESAME, "BENCH_TOKEN": flood_token,
            "BENCH_COOKIE": "; ".join(f"{k}={v}" for k, v in flood_jar.items())}
    secs = 2 * b.PHASE_SECONDS + 4
    best = {"rss": 0}
    stop = threading.Event()
    def sample():
        while not stop.is_set():
            k = smaps(pid)
            tot = sum(k.values())
            if tot > best["rss"]:
                best["rss"], best["k"] = tot, k
            time.sleep(0.2)
    t = threading.Thread(target=sample); t.start()
    flood = subprocess.Popen(["wrk", "-t1", "-c256", f"-d{secs}s", "--timeout", "10s", "-s",
                              os.path.join(b.ROOT, "benches", "flood.lua"), b.SESAME + "/api/auth/callback/credentials"],
                             env={**os.environ, **fenv}, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    b.wrk(b.SESAME + "/api/auth/session", cookie); b.wrk(b.SESAME + "/sign-in", connections=8)
    flood.communicate(timeout=secs + 30)
    stop.set(); t.join()
    peak = b.rss_mib(pid)[1]
    print(f"idle {idle:.1f}  after loads {after:.1f}  after sign-ins {after_signins:.1f}  peak(HWM) {peak:.1f} MiB  sampled max {best['rss']/1024:.1f}")
    k = best["k"]
    anon = sum(v for n, v in k.items() if n.startswith("anon@") or n == "[heap]")
    print(f"  anon+heap at sampled peak: {anon} KiB; bin code {k.get('bin code',0)}, bin ro {k.get('bin ro',0)}, libs {sum(v for n, v in k.items() if n.startswith('lib '))}")
    top = sorted(best["k"].items(), key=lambda kv: -kv[1])
    print("  at sampled peak (KiB):", ", ".join(f"{n} {v}" for n, v in top[:16]))
    top = sorted(idle_k.items(), key=lambda kv: -kv[1])
    print("  at idle (KiB):", ", ".join(f"{n} {v}" for n, v in top[:16]))
    proc.send_signal(2); proc.wait(timeout=60)

try:
    main()
finally:
    for c in b.children:
        if c.poll() is None: c.kill()
