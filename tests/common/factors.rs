//! The second factor's set-up, as a signed-in browser does it through the
//! account actions: the security overview, an authenticator app's
//! enrolment started, and confirmed with a code.

use super::{action, code_at, now, TestApp};

/// GET `/api/auth/account/security`: the overview and the codes shown once.
pub async fn security(browser: &mut TestApp) -> (serde_json::Value, serde_json::Value) {
    let res = browser
        .get_with(
            "/api/auth/account/security",
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.headers().get("location"));
    let body: serde_json::Value = res.json().await.unwrap();
    (body[0].clone(), body[1].clone())
}

/// Starts enrolling an authenticator app for the signed-in `browser`: its
/// base32 secret, not confirmed yet.
pub async fn start_enrolment(browser: &mut TestApp) -> String {
    let (status, body) = action(browser, "/api/auth/account/totp/enrol", &[]).await;
    assert_eq!(status, 200, "{body}");
    let (overview, _) = security(browser).await;
    assert_eq!(overview["authenticator"], false);
    let secret = overview["enrolment"]["secret"]
        .as_str()
        .unwrap()
        .replace(' ', "");
    assert!(overview["enrolment"]["uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    assert!(overview["enrolment"]["qr_svg"]
        .as_str()
        .unwrap()
        .starts_with("<svg"));
    secret
}

/// Enrols an authenticator app for the signed-in `browser`: its base32
/// secret and the ten recovery codes. The confirming code is the current
/// step's, so a sign-in afterwards uses the next step's.
pub async fn enrol(browser: &mut TestApp) -> (String, Vec<String>) {
    let secret = start_enrolment(browser).await;
    let codes = confirm_enrolment(browser, &code_at(&secret, now())).await;
    (secret, codes)
}

/// Confirms the enrolment [`start_enrolment`] began with `code`: the ten
/// recovery codes, shown this once.
pub async fn confirm_enrolment(browser: &mut TestApp, code: &str) -> Vec<String> {
    let (status, body) = action(browser, "/api/auth/account/totp/confirm", &[("code", code)]).await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    codes
}
