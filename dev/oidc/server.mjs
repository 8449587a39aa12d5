// The OpenID Certified provider (npm `oidc-provider`, pinned in
// package.json) that Sesame's tests and `make run` sign in with, on a
// loopback port. It is the real protocol implementation; this file only
// configures it:
//
// - clients: `sesame-dev` (confidential, PKCE, answers by redirect),
//   `sesame-form-post` (the same, answering with `response_mode=form_post`),
//   both `application_type: native` so that a loopback redirect URI matches
//   on any port (RFC 8252 7.3), as the tests run the app on free ports;
// - users (password `secret`): alice (verified address), bob (unverified),
//   demo (the app's demo user's address), nomail (no address), carol, dave,
//   erin, frank, grace, heidi and ivan (verified; one per browser test), and
//   `tamper-<mode>` users whose ID token is rewritten on its way out, so that
//   the client's checks can be tried against a bad token (see TAMPER below);
// - a login page of its own and consent given at once (no consent screen);
// - GitHub-shaped `/github/user` and `/github/user/emails` for the plain
//   OAuth 2.0 flow (the access token is looked up in the provider);
// - POST `/test/rotate-keys`: a new signing key (the old one retired);
// - `/test/moved/<key>/<path>`: a 307 to `/test/landed/<key>/<path>`, which
//   counts the visit and answers as `/<path>` would (GitHub's API, the token
//   endpoint, discovery), and GET `/test/landed/<key>`: `{"hits": n}`. A
//   client that follows a provider's redirect is seen following it (SSRF).
//
// Usage: node server.mjs [port]   (prints `listening <issuer>` when ready)

import * as http from 'node:http';
import * as crypto from 'node:crypto';

import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2] || process.env.PORT || 0);

const USERS = {
  alice: { id: 1001, email: 'alice@example.test', email_verified: true, name: 'Alice Example' },
  bob: { id: 1002, email: 'bob@example.test', email_verified: false, name: 'Bob Unverified' },
  demo: { id: 1003, email: 'demo@example.com', email_verified: true, name: 'Demo At Provider' },
  nomail: { id: 1004, name: 'No Mail' },
  carol: { id: 1005, email: 'carol@example.test', email_verified: true, name: 'Carol Example' },
  dave: { id: 1006, email: 'dave@example.test', email_verified: true, name: 'Dave Example' },
  erin: { id: 1007, email: 'erin@example.test', email_verified: true, name: 'Erin Example' },
  frank: { id: 1008, email: 'frank@example.test', email_verified: true, name: 'Frank Example' },
  grace: { id: 1009, email: 'grace@example.test', email_verified: true, name: 'Grace Example' },
  heidi: { id: 1010, email: 'heidi@example.test', email_verified: true, name: 'Heidi Example' },
  ivan: { id: 1011, email: 'ivan@example.test', email_verified: true, name: 'Ivan Example' },
};
const PASSWORD = 'secret';

// The ways an ID token is spoiled for `tamper-<mode>` users.
const TAMPER = ['nonce', 'expired', 'aud', 'none', 'hs256', 'iss', 'future', 'kid'];

function userFor(login) {
  if (USERS[login]) return USERS[login];
  const mode = login.startsWith('tamper-') && login.slice('tamper-'.length);
  if (mode && TAMPER.includes(mode)) {
    return { id: 2000 + TAMPER.indexOf(mode), email: `${login}@example.test`, email_verified: true, name: login };
  }
  return undefined;
}

let signingKey = await newKey();
const cookieKeys = [crypto.randomBytes(32).toString('hex')];
let issuer;
let provider;
let handler;

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

function makeProvider() {
  const redirect = (id) => [`http://127.0.0.1/api/auth/callback/${id}`];
  const p = new Provider(issuer, {
    clients: [
      {
        client_id: 'sesame-dev',
        client_secret: 'sesame-dev-secret',
        application_type: 'native',
        redirect_uris: [
          ...redirect('oidc-test'),
          ...redirect('github-test'),
          ...redirect('oauth-test'),
          ...redirect('oidc-other'),
          ...redirect('sesame-dev'),
          // `make run`'s site is http://localhost:3000 (passkeys need a host name).
          'http://localhost:3000/api/auth/callback/sesame-dev',
        ],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'sesame-form-post',
        client_secret: 'sesame-form-post-secret',
        application_type: 'native',
        redirect_uris: redirect('oidc-form-post'),
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'read:user', 'user:email'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'picture'],
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const user = userFor(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          const claims = { sub, name: user.name };
          if (user.email) {
            claims.email = user.email;
            claims.email_verified = user.email_verified;
          }
          return claims;
        },
      };
    },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  p.proxy = false;
  return p;
}

function html(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Sesame dev provider</title></head><body>${body}</body></html>`);
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return html(res, 400, 'another interaction');
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    if (!userFor(login) || form.get('password') !== PASSWORD) {
      return html(res, 200, loginPage(uid, 'Wrong login or password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'login') {
    return html(res, 200, loginPage(uid, ''));
  }
  // Consent, given at once for what was asked.
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

function loginPage(uid, error) {
  return `<h1>Sesame dev provider</h1>
<p>Test users: alice, bob, demo, nomail. Password: <code>secret</code>.</p>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Login <input name="login" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`;
}

// The GitHub-shaped API: the access token as GitHub's would answer it.
async function github(req, res, path) {
  const token = (req.headers.authorization || '').replace(/^Bearer /i, '');
  const found = token && (await provider.AccessToken.find(token));
  const user = found && userFor(found.accountId);
  if (!user) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ message: 'Bad credentials' }));
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  if (path === '/github/user') {
    return res.end(JSON.stringify({
      login: found.accountId,
      id: user.id,
      name: user.name,
      avatar_url: `${issuer}/avatars/${found.accountId}.png`,
      email: user.email || null,
    }));
  }
  const emails = user.email
    ? [{ email: user.email, primary: true, verified: user.email_verified, visibility: 'public' }]
    : [];
  return res.end(JSON.stringify(emails));
}

// The token answer of a `tamper-<mode>` user, its ID token spoiled.
async function tamper(body) {
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    return body;
  }
  if (!json.id_token) return body;
  const claims = jose.decodeJwt(json.id_token);
  const mode = typeof claims.sub === 'string' && claims.sub.startsWith('tamper-') && claims.sub.slice(7);
  if (!mode) return body;
  const key = await jose.importJWK(signingKey, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const sign = (payload, header = { alg: 'RS256', kid: signingKey.kid }) =>
    new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
  let token;
  switch (mode) {
    case 'nonce': token = await sign({ ...claims, nonce: 'another-nonce' }); break;
    case 'expired': token = await sign({ ...claims, iat: now - 7200, exp: now - 3600 }); break;
    case 'future': token = await sign({ ...claims, iat: now + 3600, exp: now + 7200 }); break;
    case 'aud': token = await sign({ ...claims, aud: 'another-client', azp: undefined }); break;
    case 'iss': token = await sign({ ...claims, iss: 'http://127.0.0.1:9/another-issuer' }); break;
    case 'kid': token = await sign(claims, { alg: 'RS256', kid: 'unknown-key' }); break;
    case 'none': {
      const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
      break;
    }
    case 'hs256': {
      // The classic confusion: HMAC keyed with the provider's public key.
      const { d, p, q, dp, dq, qi, ...publicJwk } = signingKey;
      const pem = await jose.exportSPKI(await jose.importJWK({ ...publicJwk, alg: 'RS256' }, 'RS256', { extractable: true }));
      token = await new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: signingKey.kid })
        .sign(new TextEncoder().encode(pem));
      break;
    }
    default: return body;
  }
  return JSON.stringify({ ...json, id_token: token });
}

// Visits that followed a `/test/moved/` redirect, by key.
const landed = new Map();

async function handle(req, res) {
  let url = new URL(req.url, issuer);
  const moved = url.pathname.match(/^\/test\/moved\/([\w-]+)(\/.*)$/);
  if (moved) {
    res.writeHead(307, { location: `${issuer}/test/landed/${moved[1]}${moved[2]}${url.search}` });
    return res.end();
  }
  const land = url.pathname.match(/^\/test\/landed\/([\w-]+)(\/.*)?$/);
  if (land && !land[2]) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ hits: landed.get(land[1]) || 0 }));
  }
  if (land) {
    landed.set(land[1], (landed.get(land[1]) || 0) + 1);
    req.url = `${land[2]}${url.search}`;
    url = new URL(req.url, issuer);
  }
  const m = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
  try {
    if (m) return await interaction(req, res, m[1], m[2]);
    if (url.pathname === '/github/user' || url.pathname === '/github/user/emails') {
      return await github(req, res, url.pathname);
    }
    if (url.pathname === '/test/rotate-keys' && req.method === 'POST') {
      signingKey = await newKey();
      provider = makeProvider();
      handler = provider.callback();
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ kid: signingKey.kid }));
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      // Hold the provider's answer to rewrite a tamper user's ID token.
      const chunks = [];
      const { write, end, writeHead } = res;
      let head;
      res.writeHead = (...args) => { head = args; return res; };
      res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
      res.end = (chunk) => {
        if (chunk) chunks.push(Buffer.from(chunk));
        tamper(Buffer.concat(chunks).toString()).then((body) => {
          res.write = write;
          res.end = end;
          res.writeHead = writeHead;
          if (head) {
            res.writeHead(...head);
          }
          res.removeHeader?.('content-length');
          res.end(body);
        });
        return res;
      };
    }
    return handler(req, res);
  } catch (e) {
    html(res, 500, escape(e.message));
  }
}

const server = http.createServer((req, res) => { handle(req, res); });
// Started by a test binary: end with it (its pipe to our stdin closes when
// it exits, however it exits), so no provider outlives its tests.
if (process.env.SESAME_OIDC_EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = makeProvider();
  handler = provider.callback();
  console.log(`listening ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
