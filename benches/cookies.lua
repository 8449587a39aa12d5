-- Session checks cycling through many sessions' cookies, for the scale-out
-- phase of `make bench` where sign-outs on one instance race these checks
-- on the other. $BENCH_COOKIES names a file with one `Cookie` value a line.
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do
  cookies[#cookies + 1] = line
end
local i = 0
request = function()
  i = i % #cookies + 1
  return wrk.format("GET", nil, { Cookie = cookies[i] })
end
