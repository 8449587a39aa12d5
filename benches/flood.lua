-- Wrong-password sign-ins for the "under attack" phase of `make bench`: a
-- credential-stuffing flood, one identifier per request, so that every
-- attempt reaches the hashing gate (one account would be locked out after its
-- free failures, and the flood answered cheaply).
-- The CSRF cookie and token come from the environment (set by bench.py).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
local token = os.getenv("BENCH_TOKEN")
local n = 0

request = function()
  n = n + 1
  local body = "email=user" .. n .. "%40example.com&password=not-the-password&json=true&csrfToken=" .. token
  return wrk.format(nil, nil, nil, body)
end
