// The Better Auth 1.7 reference app of `make bench`: email-and-password
// sign-in with database sessions on SQLite, and the demo user of Sesame's
// `make run`. Passwords are argon2id with Sesame's parameters (m = 19456 KiB,
// t = 2, p = 1) through Better Auth's password hooks, so a sign-in's hash
// costs the same on both. Rate limiting is off, as the bench's own loads are
// the point (Sesame's limits are raised for the bench too). With
// BENCH_COOKIE_CACHE=1 it runs in its fastest mode: `session.cookieCache`
// (five minutes, its default), where a session check reads a signed cookie
// and no database.
import http from "node:http";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { hash, verify } from "@node-rs/argon2";

const ARGON2ID = 2; // @node-rs/argon2's Algorithm.Argon2id (a const enum)
const port = Number(process.env.PORT || 3302);
const demo = { email: "demo@example.com", password: "open sesame, demo", name: "Demo User" };

const auth = betterAuth({
  baseURL: process.env.BETTER_AUTH_URL,
  secret: process.env.BETTER_AUTH_SECRET,
  database: new Database(process.env.BENCH_DB || "better-auth.db"),
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password) =>
        hash(password, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 }),
      verify: ({ hash: stored, password }) => verify(stored, password),
    },
  },
  rateLimit: { enabled: false },
  session:
    process.env.BENCH_COOKIE_CACHE === "1"
      ? { cookieCache: { enabled: true, maxAge: 5 * 60 } }
      : undefined,
  telemetry: { enabled: false },
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();
try {
  await auth.api.signUpEmail({ body: demo });
} catch (error) {
  if (error?.body?.code !== "USER_ALREADY_EXISTS") throw error;
}

http.createServer(toNodeHandler(auth)).listen(port, "127.0.0.1", () => {
  console.log(`Better Auth on http://127.0.0.1:${port}`);
});
