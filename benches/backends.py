"""The servers `make bench` starts besides the apps: PostgreSQL and Redis from
Debian's packages (scripts/setup.sh installs them) on fixed loopback ports
with a throw-away data folder under target/bench, and the Better Auth
reference app (benches/better-auth, pinned npm packages).

Each start returns a Popen the caller stops; the data folders are removed at
the next start."""

import glob
import os
import shutil
import socket
import subprocess
import time


def _port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(what, ready, proc, timeout=60.0):
    start = time.monotonic()
    while not ready():
        if proc.poll() is not None:
            raise SystemExit(f"{what}: exited with {proc.returncode}")
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{what}: not ready within {timeout}s")
        time.sleep(0.05)


def _as_postgres(cmd):
    """PostgreSQL refuses to run as root: as root, run it as `postgres`."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + cmd
    return cmd


def start_postgres(root, port):
    """A new cluster (user `sesame`, trusted on loopback) with database `bench`."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (scripts/setup.sh --e2e)")
    bin_dir = os.path.dirname(bins[-1])
    data = os.path.join(root, "pg")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(_as_postgres([os.path.join(bin_dir, "initdb"), "-D", os.path.join(data, "data"), "-U", "sesame",
                                 "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, stdout=subprocess.DEVNULL)
    # Durable enough for a benchmark: fsync off, as the tests run it.
    proc = subprocess.Popen(_as_postgres([os.path.join(bin_dir, "postgres"), "-D", os.path.join(data, "data"),
                                          "-p", str(port), "-k", data, "-c", "listen_addresses=127.0.0.1",
                                          "-c", "fsync=off", "-c", "synchronous_commit=off",
                                          "-c", "max_connections=200"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready():
        return _port_open(port) and subprocess.run(
            [os.path.join(bin_dir, "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"]).returncode == 0

    _wait("PostgreSQL", ready, proc)
    subprocess.run([os.path.join(bin_dir, "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "sesame", "bench"],
                   check=True)
    return proc, f"postgres://sesame@127.0.0.1:{port}/bench"


def start_redis(port):
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait("Redis", lambda: _port_open(port), proc)
    return proc, f"redis://127.0.0.1:{port}/"


def build_better_auth(app, run):
    """npm ci of the pinned packages (better-sqlite3 compiles against the
    machine's Node headers: no prebuilt binary is downloaded)."""
    lock = os.path.join(app, "package-lock.json")
    stamp = os.path.join(app, "node_modules", ".sesame-lock")
    if not os.path.exists(stamp) or open(lock).read() != open(stamp).read():
        env = {**os.environ, "npm_config_nodedir": "/usr"}
        run(["npm", "ci", "--no-audit", "--no-fund", "--omit=peer"], cwd=app, env=env)
        shutil.copy(lock, stamp)


def start_better_auth(app, root, port, cookie_cache=False):
    db = os.path.join(root, "better-auth-cache.db" if cookie_cache else "better-auth.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = {**os.environ, "BETTER_AUTH_URL": f"http://127.0.0.1:{port}",
           "BETTER_AUTH_SECRET": "bench-secret-bench-secret-bench-secret", "BENCH_DB": db, "PORT": str(port),
           "NODE_ENV": "production", "BETTER_AUTH_TELEMETRY": "0",
           "BENCH_COOKIE_CACHE": "1" if cookie_cache else "0"}
    proc = subprocess.Popen(["node", "server.mjs"], cwd=app, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc
