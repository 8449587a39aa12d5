// Sesame's passkey ceremonies in the browser (served at /api/auth/passkey.js,
// loaded only by the pages that offer passkeys). It reads the options from
// the server, asks the browser's WebAuthn API, and posts the credential back
// form-encoded with the page's CSRF token; the server keeps the challenge.
// Elements it drives:
//   [data-passkey-sign-in]       a button: sign in with a passkey
//   input[autocomplete~=webauthn] conditional mediation (autofill), if offered
//   [data-passkey-second-factor] a button: a passkey as the second factor
//   form[data-passkey-register]  a form with a `name` field: add a passkey
// Each reports into the nearest [data-passkey-status] (role=alert).
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
    if (box) { box.textContent = text; box.dataset.error = text ? "PasskeyRefused" : ""; }
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

  // A sign-in (button, or the browser's autofill), or a pending sign-in's step.
  let conditional = null;
  async function authenticate(el, purpose, mediation) {
    const opts = await post("/api/auth/passkey/authenticate/options", { purpose });
    if (!opts.ok) { status(el, opts.body.error || "PasskeyRefused"); return; }
    const publicKey = requestOptions(opts.body);
    if (mediation !== "conditional" && conditional) { conditional.abort(); conditional = null; }
    const signal = mediation === "conditional" ? (conditional = new AbortController()).signal : undefined;
    let c;
    try {
      c = await navigator.credentials.get({ publicKey, mediation, signal });
    } catch (e) {
      if (mediation !== "conditional") status(el, "PasskeyRefused");
      return;
    }
    const trust = document.querySelector('input[name="trustBrowser"]')?.checked ? "true" : "false";
    const done = await post("/api/auth/passkey/authenticate/verify", {
      credential: JSON.stringify(credential(c)), purpose, callbackUrl: callbackUrl(), trustBrowser: trust,
    });
    if (done.ok && done.body.url) location.assign(done.body.url);
    else if (done.body.error === "SecondFactorRequired") location.assign(done.body.url);
    else status(el, done.body.error || "PasskeyRefused");
  }

  async function register(form) {
    const opts = await post("/api/auth/passkey/register/options", {});
    if (!opts.ok) { status(form, opts.body.error || "PasskeyRefused"); return; }
    const pk = opts.body.publicKey;
    pk.challenge = bin(pk.challenge);
    pk.user.id = bin(pk.user.id);
    (pk.excludeCredentials || []).forEach((c) => (c.id = bin(c.id)));
    let c;
    try {
      c = await navigator.credentials.create({ publicKey: pk });
    } catch (e) {
      status(form, "PasskeyRefused");
      return;
    }
    const name = form.querySelector('input[name="name"]')?.value || "";
    const done = await post("/api/auth/passkey/register/verify", { credential: JSON.stringify(credential(c)), name });
    if (done.ok) {
      const back = new URL(location.href);
      back.searchParams.set("done", "passkey-added");
      back.searchParams.delete("error");
      location.assign(back.toString());
    } else status(form, done.body.error || "PasskeyRefused");
  }

  function wire() {
    document.querySelectorAll("[data-passkey-sign-in]").forEach((el) => {
      el.hidden = false;
      el.addEventListener("click", (e) => { e.preventDefault(); authenticate(el, "sign-in"); });
    });
    document.querySelectorAll("[data-passkey-second-factor]").forEach((el) => {
      el.hidden = false;
      el.addEventListener("click", (e) => { e.preventDefault(); authenticate(el, "second-factor"); });
    });
    document.querySelectorAll("form[data-passkey-register]").forEach((form) => {
      form.hidden = false;
      form.addEventListener("submit", (e) => { e.preventDefault(); register(form); });
    });
    document.querySelectorAll("[data-passkey-needs-js]").forEach((el) => (el.hidden = true));
    const field = document.querySelector('input[autocomplete~="webauthn"]');
    if (field && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((yes) => {
        if (yes) authenticate(field, "sign-in", "conditional");
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
