-- Wrong-password sign-ins for the "under attack" phase of `make bench`.
-- The CSRF cookie and token come from the environment (set by bench.py).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.body = "email=demo%40example.com&password=not-the-password&json=true&csrfToken=" .. os.getenv("BENCH_TOKEN")
