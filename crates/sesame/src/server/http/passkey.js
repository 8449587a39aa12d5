// Sesame's passkey ceremonies in the browser (served at /api/auth/passkey.js,
// loaded only by the pages that offer passkeys). It reads the options from
// the server, asks the browser's WebAuthn API, and posts the credential back
// form-encoded with the page's CSRF token; the server keeps the challenge.
// Elements it drives:
//   [data-passkey-sign-in]       a button: sign in with a passkey
//   input[autocomplete~=webauthn] conditional mediation (autofill), if offered
//   [data-passkey-second-factor] a button: a passkey as the second factor
//   form[data-passkey-register]  a form with a `name` field: add a passkey
// Each reports into the nearest [data-passkey-status] (role=alert). The WASM
// client calls window.sesamePasskeys (register, signIn, secondFactor).
(() => {
  "use strict";
  if (!window.PublicKeyCredential) return;
  const b64 = (buf) =>
    btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const bin = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const token = () =>
    document.querySelector('meta[name="sesame-csrf-token"]')?.content ||
    document.querySelector('input[name="csrfToken"]')?.value || "";
  const post = async (path, fields) => {
    const res = await fetch(path, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken: token(), ...fields }),
      credentials: "same-origin",
    });
    const body = await res.json().catch(() => ({}));
    if (body.csrfToken) document.querySelectorAll('input[name="csrfToken"]').forEach((i) => (i.value = body.csrfToken));
    return { ok: res.ok, body };
  };
  const status = (el, text) => {
    const box = el.closest("form, section, div")?.querySelector("[data-passkey-status]") ||
      document.querySelector("[data-passkey-status]");
    // The server-rendered message of the page's language; the code beside it.
    if (box) { box.textContent = box.dataset.message || text; box.dataset.error = text; }
  };
  const credential = (c) => ({
    id: c.id,
    rawId: b64(c.rawId),
    type: c.type,
    extensions: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
    response: c.response.attestationObject
      ? { attestationObject: b64(c.response.attestationObject), clientDataJSON: b64(c.response.clientDataJSON),
          transports: c.response.getTransports ? c.response.getTransports() : undefined }
      : { authenticatorData: b64(c.response.authenticatorData), clientDataJSON: b64(c.response.clientDataJSON),
          signature: b64(c.response.signature),
          userHandle: c.response.userHandle ? b64(c.response.userHandle) : null },
  });
  const requestOptions = (o) => {
    const pk = o.publicKey;
    pk.challenge = bin(pk.challenge);
    (pk.allowCredentials || []).forEach((c) => (c.id = bin(c.id)));
    return pk;
  };
  const callbackUrl = () =>
    new URLSearchParams(location.search).get("callbackUrl") ||
    document.querySelector('input[name="callbackUrl"]')?.value || "/";

  // The ceremonies, each answering {ok, url, error}.
  let conditional = null;
  async function authenticate(purpose, mediation, trustBrowser, callback) {
    const opts = await post("/api/auth/passkey/authenticate/options", { purpose });
    if (!opts.ok) return { ok: false, error: opts.body.error || "PasskeyRefused" };
    const publicKey = requestOptions(opts.body);
    if (mediation !== "conditional" && conditional) { conditional.abort(); conditional = null; }
    const signal = mediation === "conditional" ? (conditional = new AbortController()).signal : undefined;
    let c;
    try {
      c = await navigator.credentials.get({ publicKey, mediation, signal });
    } catch (e) {
      return { ok: false, error: "PasskeyRefused", aborted: true };
    }
    const done = await post("/api/auth/passkey/authenticate/verify", {
      credential: JSON.stringify(credential(c)), purpose,
      callbackUrl: callback || callbackUrl(), trustBrowser: trustBrowser ? "true" : "false",
    });
    return { ok: done.ok, url: done.body.url, error: done.body.error };
  }

  async function register(name) {
    const opts = await post("/api/auth/passkey/register/options", {});
    if (!opts.ok) return { ok: false, error: opts.body.error || "PasskeyRefused" };
    const pk = opts.body.publicKey;
    pk.challenge = bin(pk.challenge);
    pk.user.id = bin(pk.user.id);
    (pk.excludeCredentials || []).forEach((c) => (c.id = bin(c.id)));
    let c;
    try {
      c = await navigator.credentials.create({ publicKey: pk });
    } catch (e) {
      return { ok: false, error: "PasskeyRefused" };
    }
    const done = await post("/api/auth/passkey/register/verify", { credential: JSON.stringify(credential(c)), name });
    return { ok: done.ok, error: done.body.error };
  }

  // For the WASM client (`sesame::account::register_passkey` and friends).
  window.sesamePasskeys = {
    register: (name) => register(name || ""),
    signIn: (callback) => authenticate("sign-in", undefined, false, callback),
    secondFactor: (trustBrowser) => authenticate("second-factor", undefined, !!trustBrowser),
  };

  // The pages' elements: go where the answer says, or say why not.
  const follow = (el, r) => {
    if (r.url && (r.ok || r.error === "SecondFactorRequired")) location.assign(r.url);
    else if (!r.aborted || el.tagName !== "INPUT") status(el, r.error || "PasskeyRefused");
  };
  const trusted = () => !!document.querySelector('input[name="trustBrowser"]')?.checked;

  function wire() {
    document.querySelectorAll("[data-passkey-sign-in]").forEach((el) => {
      el.hidden = false;
      el.addEventListener("click", async (e) => {
        e.preventDefault();
        follow(el, await authenticate("sign-in"));
      });
    });
    document.querySelectorAll("[data-passkey-second-factor]").forEach((el) => {
      el.hidden = false;
      el.addEventListener("click", async (e) => {
        e.preventDefault();
        follow(el, await authenticate("second-factor", undefined, trusted()));
      });
    });
    document.querySelectorAll("form[data-passkey-register]").forEach((form) => {
      form.hidden = false;
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const r = await register(form.querySelector('input[name="name"]')?.value || "");
        if (r.ok) {
          const back = new URL(location.href);
          back.searchParams.set("done", "passkey-added");
          back.searchParams.delete("error");
          location.assign(back.toString());
        } else status(form, r.error || "PasskeyRefused");
      });
    });
    document.querySelectorAll("[data-passkey-needs-js]").forEach((el) => (el.hidden = true));
    const field = document.querySelector('input[autocomplete~="webauthn"]');
    if (field && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(async (yes) => {
        if (yes) follow(field, await authenticate("sign-in", "conditional"));
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
