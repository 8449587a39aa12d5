//! Passkeys, black-box: what the server refuses without a browser's
//! authenticator (the whole ceremony with Chromium's virtual authenticator
//! is `end2end/tests/passkeys.spec.ts`): a ceremony it did not start, a
//! made-up assertion, registration for a signed-out browser; the relying
//! party from `site.url`, refused at start-up for an IP address.

mod common;

use common::{action, action_ok, spawn, spawn_at_localhost, TestApp};

/// An app whose site is named `localhost` (passkeys on).
async fn app() -> TestApp {
    spawn_at_localhost("[passkeys]\nenabled = true").await
}

/// A made-up assertion in the browser's JSON shape.
fn made_up_assertion() -> String {
    serde_json::json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "extensions": {},
        "response": {
            "authenticatorData": "AAAA",
            "clientDataJSON": "AAAA",
            "signature": "AAAA",
            "userHandle": "AAAAAAAAAAAAAAAAAAAAAA"
        }
    })
    .to_string()
}

#[tokio::test]
async fn sign_in_options_are_a_discoverable_challenge_kept_by_the_server() {
    let mut browser = app().await;
    let (status, options) = action(
        &mut browser,
        "/api/auth/passkey/authenticate/options",
        &[("purpose", "sign-in")],
    )
    .await;
    assert_eq!(status, 200, "{options}");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(options["publicKey"]["challenge"].as_str().unwrap().len() >= 43);
    assert!(browser.cookies.contains_key("sesame.webauthn"));
    let (kept, expires): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), MAX(expires_at) FROM webauthn_ceremonies")
            .fetch_one(&browser.db().await)
            .await
            .unwrap();
    assert_eq!(kept, 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (290..=310).contains(&(expires - now)),
        "five minutes: {}",
        expires - now
    );
    // The site's providers name it, as Auth.js names its WebAuthn provider.
    let providers: serde_json::Value = browser
        .get("/api/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(providers["passkey"]["type"], "webauthn");
}

#[tokio::test]
async fn a_ceremony_is_taken_only_by_its_own_kind() {
    let mut browser = app().await;
    browser.sign_in_demo(false).await;
    // A sign-in ceremony, then a registration's answer with its cookie.
    let (status, _) = action(&mut browser, "/api/auth/passkey/authenticate/options", &[]).await;
    assert_eq!(status, 200);
    let registration = serde_json::json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "extensions": {},
        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" }
    })
    .to_string();
    let (status, body) = action(
        &mut browser,
        "/api/auth/passkey/register/verify",
        &[("credential", &registration), ("name", "x")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("PasskeyRefused"))
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webauthn_ceremonies")
        .fetch_one(&browser.db().await)
        .await
        .unwrap();
    assert_eq!(left, 1, "the sign-in ceremony is not a registration's");
}

#[tokio::test]
async fn an_assertion_without_its_ceremony_or_made_up_signs_nobody_in() {
    let mut browser = app().await;
    // No ceremony at all.
    let (status, body) = action(
        &mut browser,
        "/api/auth/passkey/authenticate/verify",
        &[("credential", &made_up_assertion()), ("purpose", "sign-in")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("PasskeyRefused"))
    );
    // A ceremony, and a made-up assertion: refused, and the ceremony is spent.
    action_ok(&mut browser, "/api/auth/passkey/authenticate/options", &[]).await;
    let (status, body) = action(
        &mut browser,
        "/api/auth/passkey/authenticate/verify",
        &[("credential", &made_up_assertion())],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("PasskeyRefused"))
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webauthn_ceremonies")
        .fetch_one(&browser.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0, "taken once, whatever came with it");
    assert!(browser.session().await.as_object().unwrap().is_empty());
    // Not a credential at all: a typed 400.
    let (status, body) = action(
        &mut browser,
        "/api/auth/passkey/authenticate/verify",
        &[("credential", "{not json")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidRequest"))
    );
}

#[tokio::test]
async fn registration_options_are_the_signed_in_account_s_and_ask_for_a_verified_passkey() {
    let mut owner = app().await;
    owner.sign_in_demo(false).await;
    let (status, options) = action(&mut owner, "/api/auth/passkey/register/options", &[]).await;
    assert_eq!(status, 200, "{options}");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    // The user handle is random, not the row id.
    let handle = options["publicKey"]["user"]["id"].as_str().unwrap();
    assert_ne!(handle, "1");
    // Another browser, signed out: no registration options.
    let mut stranger = owner.new_browser();
    let (status, _) = action(&mut stranger, "/api/auth/passkey/register/options", &[]).await;
    assert_eq!(status, 401);
    // A made-up registration is not a credential: a typed 400, nothing kept.
    let (status, body) = action(
        &mut owner,
        "/api/auth/passkey/register/verify",
        &[("credential", &made_up_assertion()), ("name", "x")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys")
        .fetch_one(&owner.db().await)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn the_second_factor_options_need_a_pending_sign_in() {
    let mut browser = app().await;
    let (status, body) = action(
        &mut browser,
        "/api/auth/passkey/authenticate/options",
        &[("purpose", "second-factor")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SessionRequired"))
    );
}

#[tokio::test]
async fn passkeys_are_off_for_a_site_named_by_an_ip_address() {
    // The default test site is http://127.0.0.1:<port>.
    let mut browser = spawn("").await;
    let (status, body) = action(&mut browser, "/api/auth/passkey/authenticate/options", &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidRequest"))
    );
    let page = browser.get("/api/auth/signin").await.text().await.unwrap();
    assert!(!page.contains("data-passkey-sign-in"));
    let providers: serde_json::Value = browser
        .get("/api/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert!(providers.get("passkey").is_none());
}

#[test]
fn turning_passkeys_on_for_an_ip_address_stops_start_up() {
    let config = sesame_app::server::AppConfig::from_toml_layers(&[
        "environment = \"development\"\n[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"sqlite::memory:\"",
        "[passkeys]\nenabled = true",
    ]);
    // The configuration reads; the relying party is refused when the auth
    // system is assembled.
    let config = config.expect("the file reads");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let built = runtime.block_on(async {
        let options = leptos::prelude::LeptosOptions::builder()
            .output_name("sesame")
            .build();
        sesame_app::server::build_with(config, options, |s| s)
            .await
            .map(|_| ())
    });
    let error = built.expect_err("start-up refuses it").to_string();
    assert!(error.contains("passkeys.enabled"), "{error}");
}

#[tokio::test]
async fn an_account_with_a_passkey_is_asked_for_a_second_factor_after_its_password() {
    let mut browser = app().await;
    let res = browser
        .sign_in_json(common::EMAIL, common::PASSWORD, "/")
        .await;
    assert_eq!(res.status(), 200, "no factor yet: the password is enough");
    // A passkey on the account (its row, as a registration leaves it).
    sqlx::query(
        "INSERT INTO passkeys (user_id, credential_id, passkey, name, created_at) \
         SELECT id, x'0102', '{}', 'Laptop', 0 FROM users WHERE email = ?",
    )
    .bind(common::EMAIL)
    .execute(&browser.db().await)
    .await
    .unwrap();
    let mut later = browser.new_browser();
    let res = later
        .sign_in_json(common::EMAIL, common::PASSWORD, "/")
        .await;
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "SecondFactorRequired");
    assert!(later.session().await.as_object().unwrap().is_empty());
}

/// A passkey as a registration with Chromium's virtual authenticator left its
/// row (`end2end/tests/passkeys.spec.ts`): webauthn-rs's serialised
/// `Passkey`, a public key only. Its credential id, hex.
const PASSKEY: &str = r#"{"cred":{"cred_id":"F853AhZrusJYccJRs4qrPPQ6r5Kz1b4pJDsQ-X3S0r8","cred":{"type_":"ES256","key":{"EC_EC2":{"curve":"SECP256R1","x":"nZosdPXC0H5Sdi-XMtmBbbTyAk_tRkCZuFpvmsLQCR8","y":"vigPWyAy4QOTnqljzq1mHj7bsD4xfaybhe1UL7RliI8"}}},"counter":2,"transports":null,"user_verified":true,"backup_eligible":false,"backup_state":false,"registration_policy":"required","extensions":{"cred_protect":"Ignored","hmac_create_secret":"NotRequested","appid":"NotRequested","cred_props":{"Unsigned":{"rk":true}}},"attestation":{"data":"None","metadata":"None"},"attestation_format":"none"}}"#;
const PASSKEY_ID_HEX: &str = "17ce7702166bbac25871c251b38aab3cf43aaf92b3d5be29243b10f97dd2d2bf";
const PASSKEY_ID: &str = "F853AhZrusJYccJRs4qrPPQ6r5Kz1b4pJDsQ-X3S0r8";

#[tokio::test]
async fn the_second_factor_options_offer_the_account_s_passkeys_while_its_sign_in_waits() {
    let (browser, mut later) = waiting_for_a_passkey().await;
    let second_factor = [("purpose", "second-factor")];
    let (status, options) = action(
        &mut later,
        "/api/auth/passkey/authenticate/options",
        &second_factor,
    )
    .await;
    assert_eq!(status, 200, "{options}");
    let allowed: Vec<&str> = options["publicKey"]["allowCredentials"]
        .as_array()
        .expect("the account's credentials are named")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, [PASSKEY_ID]);
    assert_eq!(options["publicKey"]["userVerification"], "required");
    // The pending sign-in past its five minutes: no options.
    sqlx::query("UPDATE pending_sign_ins SET expires_at = expires_at - 301")
        .execute(&browser.db().await)
        .await
        .unwrap();
    let (status, body) = action(
        &mut later,
        "/api/auth/passkey/authenticate/options",
        &second_factor,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SessionRequired"))
    );
}

/// An app whose demo account has the passkey of [`PASSKEY`], and a browser
/// whose password sign-in waits for the second factor.
async fn waiting_for_a_passkey() -> (TestApp, TestApp) {
    let browser = app().await;
    with_passkey(&browser).await;
    let mut later = browser.new_browser();
    let res = later
        .sign_in_json(common::EMAIL, common::PASSWORD, "/")
        .await;
    assert_eq!(res.status(), 401);
    (browser, later)
}

/// The demo account with the passkey of [`PASSKEY`]: its row id.
async fn with_passkey(browser: &TestApp) -> i64 {
    sqlx::query(&format!(
        "INSERT INTO passkeys (user_id, credential_id, passkey, name, created_at) \
         SELECT id, x'{PASSKEY_ID_HEX}', ?, 'Laptop', 0 FROM users WHERE email = ?"
    ))
    .bind(PASSKEY)
    .bind(common::EMAIL)
    .execute(&browser.db().await)
    .await
    .unwrap();
    sqlx::query_scalar("SELECT id FROM passkeys")
        .fetch_one(&browser.db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_made_up_assertion_is_no_second_factor() {
    // The app lives as long as its handle.
    let (_app, mut later) = waiting_for_a_passkey().await;
    let second_factor = ("purpose", "second-factor");
    let (status, body) = action(
        &mut later,
        "/api/auth/passkey/authenticate/options",
        &[second_factor],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let assertion = made_up_assertion();
    let (status, body) = action(
        &mut later,
        "/api/auth/passkey/authenticate/verify",
        &[second_factor, ("credential", &assertion)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("PasskeyRefused")),
        "{body}"
    );
    assert!(later.session().await.as_object().unwrap().is_empty());
}

#[tokio::test]
async fn a_passkey_is_renamed_and_removed_by_its_owner_after_a_recent_second_factor() {
    let mut browser = app().await;
    browser.sign_in_demo(false).await;
    let id = with_passkey(&browser).await.to_string();
    let db = browser.db().await;
    let name = || async {
        sqlx::query_scalar::<_, String>("SELECT name FROM passkeys")
            .fetch_optional(&db)
            .await
            .unwrap()
    };
    let script = browser.get("/api/auth/passkey.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("sesamePasskeys"));

    let rename = "/api/auth/account/passkeys/rename";
    let (status, body) = action(
        &mut browser,
        rename,
        &[("id", &id), ("name", "  Work laptop ")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with("done=passkey-renamed"),
        "{body}"
    );
    assert_eq!(name().await.as_deref(), Some("Work laptop"));
    // Another id (not the account's): refused, nothing renamed.
    let (status, body) = action(&mut browser, rename, &[("id", "9999"), ("name", "x")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidRequest"))
    );
    // A plain form goes back to the page.
    let token = browser.csrf_token().await;
    let res = browser
        .post_form(
            rename,
            &[
                ("id", &id),
                ("name", "Phone"),
                ("csrfToken", &token),
                ("callbackUrl", "/account/security"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/account/security"));
    assert_eq!(name().await.as_deref(), Some("Phone"));

    // Removing needs a second factor in this session (a password sign-in has none).
    let remove = "/api/auth/account/passkeys/remove";
    let (status, body) = action(&mut browser, remove, &[("id", &id)]).await;
    assert_eq!(body["error"], "ReauthRequired", "{status} {body}");
    assert!(name().await.is_some());
    // Turning an authenticator app on is one.
    common::factors::enrol(&mut browser).await;
    let (status, body) = action(
        &mut browser,
        "/api/auth/account/passkeys/remove",
        &[("id", &id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with("done=passkey-removed"),
        "{body}"
    );
    assert_eq!(name().await, None);
}

/// A passkey registration answered as an authenticator would, built here
/// byte by byte (CBOR and the authenticator data by hand, after the WebAuthn
/// specification): "none" attestation of a new credential whose public key
/// is [`PASSKEY`]'s, user present and verified. Posts it for `browser`'s
/// account: the status and the answer.
async fn register_passkey(browser: &mut TestApp) -> (u16, serde_json::Value) {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
    use sha2::{Digest, Sha256};
    let (status, options) = action(browser, "/api/auth/passkey/register/options", &[]).await;
    assert_eq!(status, 200, "{options}");
    let challenge = options["publicKey"]["challenge"].as_str().unwrap();
    let client_data = serde_json::json!({
        "type": "webauthn.create",
        "challenge": challenge,
        "origin": browser.base,
        "crossOrigin": false,
    })
    .to_string();
    let key: serde_json::Value = serde_json::from_str(PASSKEY).unwrap();
    let point = &key["cred"]["cred"]["key"]["EC_EC2"];
    let coordinate = |c: &str| B64.decode(point[c].as_str().unwrap()).unwrap();
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&[0x58, b.len() as u8]);
        out.extend_from_slice(b);
    };
    let text = |out: &mut Vec<u8>, t: &str| {
        out.push(0x60 + t.len() as u8);
        out.extend_from_slice(t.as_bytes());
    };
    // COSE_Key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
    let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    bytes(&mut cose, &coordinate("x"));
    cose.push(0x22);
    bytes(&mut cose, &coordinate("y"));
    let credential_id: [u8; 32] = rand::random();
    let mut auth_data = Sha256::digest(b"localhost").to_vec();
    auth_data.push(0x45); // user present, user verified, attested credential data
    auth_data.extend_from_slice(&0u32.to_be_bytes()); // sign count
    auth_data.extend_from_slice(&[0; 16]); // AAGUID
    auth_data.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
    auth_data.extend_from_slice(&credential_id);
    auth_data.extend_from_slice(&cose);
    // {"fmt": "none", "attStmt": {}, "authData": auth_data}
    let mut attestation = vec![0xa3];
    text(&mut attestation, "fmt");
    text(&mut attestation, "none");
    text(&mut attestation, "attStmt");
    attestation.push(0xa0);
    text(&mut attestation, "authData");
    bytes(&mut attestation, &auth_data);
    let credential = serde_json::json!({
        "id": B64.encode(credential_id),
        "rawId": B64.encode(credential_id),
        "type": "public-key",
        "extensions": {},
        "response": {
            "attestationObject": B64.encode(&attestation),
            "clientDataJSON": B64.encode(client_data.as_bytes()),
        },
    })
    .to_string();
    action(
        browser,
        "/api/auth/passkey/register/verify",
        &[("credential", &credential), ("name", "Made here")],
    )
    .await
}

#[tokio::test]
async fn a_password_sign_in_that_found_no_factor_stores_no_session_once_a_passkey_is_added() {
    let held = common::held::Held::new();
    let hooks = held.clone();
    let mut owner =
        common::spawn_at_localhost_with("[passkeys]\nenabled = true", move |b| b.callbacks(hooks))
            .await;
    owner.sign_in_demo(false).await;
    // Three password sign-ins pass the gate while the account has no
    // factor, and wait in the callback; a passkey is added meanwhile.
    held.arm();
    let signing_in = common::held::sign_ins(&owner, common::EMAIL, 3);
    held.reached(3).await;
    let (status, body) = register_passkey(&mut owner).await;
    assert_eq!(status, 200, "{body}");
    held.release(3);
    common::held::ended_without_a_session(signing_in, common::EMAIL, "passkey").await;
    // The passkey is the account's, and the owner's session stays.
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys")
        .fetch_one(&owner.db().await)
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert_eq!(owner.session().await["user"]["email"], common::EMAIL);
}
