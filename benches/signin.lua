-- Right-password sign-ins for the scale-out phase of `make bench`: every
-- request is a full sign-in (argon2id, a new session row), as many as the
-- instances' hashing slots let through. The CSRF cookie and token come from
-- the environment (set by bench.py); the session cookies answered are dropped.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.body = "email=demo%40example.com&password=open%20sesame%2C%20demo&json=true&csrfToken="
  .. os.getenv("BENCH_TOKEN")
