"""Target 1 of `make bench` alone, in about a minute: the valid-cookie session
check against the bare ceiling in alternating pairs (wrk, two threads, 32
connections), then both with one generator thread for the p99. Prints each
pair's ratio and the median pair, as the bench reports it.

Runs the release build already in target/release (build it first with
`scripts/release.sh --precompress --bin-features bench`, as the bench does).
PAIRS_BIN names another binary (to compare two builds in turn); PAIRS sets
how many pairs (3, as the bench; at most 15).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b

BIN = os.environ.get("PAIRS_BIN", os.path.join(b.ROOT, "target", "release", "sesame"))
PAIRS = max(1, min(15, int(os.environ.get("PAIRS", "3"))))


def main():
    b.ensure_tools()
    if not os.path.exists(BIN):
        sys.exit(f"no release build at {BIN}: scripts/release.sh --precompress --bin-features bench")
    os.makedirs(b.OUT, exist_ok=True)
    sesame, _ = b.start_sesame(binary=BIN, timeout=60)
    try:
        status, _, jar = b.sign_in(b.SESAME)
        assert status == 200, status
        cookie = {"Cookie": f"sesame.session-token={jar['sesame.session-token']}"}
        pairs = []
        for _ in range(PAIRS):
            valid, ceiling = b.wrk(b.SESAME + "/api/auth/session", cookie), b.wrk(b.SESAME + "/bench/ceiling")
            pairs.append((valid["rps"] / ceiling["rps"], valid, ceiling))
            print(f"pair: {valid['rps']:.0f} / {ceiling['rps']:.0f} req/s = {pairs[-1][0] * 100:.1f}%"
                  f" (p99 {valid['p99_ms']:.2f} / {ceiling['p99_ms']:.2f} ms)", flush=True)
        ratio, _, _ = sorted(pairs, key=lambda p: p[0])[len(pairs) // 2]
        one_valid = b.wrk(b.SESAME + "/api/auth/session", cookie, threads=1)
        one_ceiling = b.wrk(b.SESAME + "/bench/ceiling", threads=1)
        print(f"median pair: {ratio * 100:.1f}% of the ceiling (goal >= 80%)")
        print(f"one generator thread: p99 {one_valid['p99_ms']:.2f} / {one_ceiling['p99_ms']:.2f} ms"
              f" = {one_valid['p99_ms'] / one_ceiling['p99_ms']:.2f}x (goal <= 1.2x)")
    finally:
        b.stop(sesame)


if __name__ == "__main__":
    main()
