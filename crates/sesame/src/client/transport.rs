//! The browser transport of the client API, on the browser's own `fetch`,
//! `URLSearchParams` and `JSON`: the WASM then carries no HTTP client, no form
//! encoder and no JSON parser of its own, which keeps the sign-in page's
//! download small. After a change of session it tells the tabs ([`crate::client::tabs`]).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{js_sys, RequestInit, Response};

use super::*;
use crate::{
    client::js,
    page::dom::{current_url, navigate, page_token, set_page_token, window},
    wire::routes,
    wire::UrlResponse,
};

fn net(e: JsValue) -> ClientError {
    ClientError::Network(
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "fetch failed".into()),
    )
}

/// One request: `(status, body text)`.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> Result<(u16, String), ClientError> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(net)?;
    headers.set("Accept", "application/json").map_err(net)?;
    if let Some((content_type, body)) = body {
        headers.set("Content-Type", content_type).map_err(net)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let res: Response = JsFuture::from(window().fetch_with_str_and_init(path, &init))
        .await
        .map_err(net)?
        .unchecked_into();
    let text = JsFuture::from(res.text().map_err(net)?)
        .await
        .map_err(net)?;
    Ok((res.status(), text.as_string().unwrap_or_default()))
}

/// One request whose answer must be a success: its body text.
async fn fetch_ok(
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> Result<String, ClientError> {
    let (status, text) = fetch(method, path, body).await?;
    if !(200..300).contains(&status) {
        return Err(ClientError::BadResponse(status.to_string()));
    }
    Ok(text)
}

/// GET `path` as a JS value (JSON-parsed by the browser).
async fn get_js(path: &str) -> Result<JsValue, ClientError> {
    let text = fetch_ok("GET", path, None).await?;
    js::parse(&text).ok_or_else(|| ClientError::BadResponse("not JSON".into()))
}

pub async fn csrf_token(fresh: bool) -> Result<String, ClientError> {
    if !fresh {
        if let Some(token) = page_token() {
            return Ok(token);
        }
    }
    let body = get_js(&[routes::BASE, "/csrf"].concat()).await?;
    let token = js::string(&body, "csrfToken")
        .ok_or_else(|| ClientError::BadResponse("no csrfToken".into()))?;
    set_page_token(&token);
    Ok(token)
}

/// POSTs `fields` and the CSRF token form-encoded and reads the `{url,
/// error, session, csrfToken}` answer (the session as the JS object the
/// server sent, see [`js::url_response`]). A token taken from the page may have
/// gone stale (the cookie expired, or another tab signed in or out, which
/// rotates it): on `MissingCSRF` a fresh one is fetched and the post sent
/// once more. A token in the answer replaces the page's.
async fn post_with_token(path: &str, fields: &[(&str, &str)]) -> Result<Posted, ClientError> {
    let from_page = page_token().is_some();
    let mut token = csrf_token(false).await?;
    let mut retried = false;
    loop {
        let mut all = fields.to_vec();
        all.push(("csrfToken", token.as_str()));
        let (status, body, session) = post_form(path, &all).await?;
        if status == 403
            && from_page
            && !retried
            && error_of(status, &body) == Some(AuthError::MissingCSRF)
        {
            retried = true;
            token = csrf_token(true).await?;
            continue;
        }
        if let Some(rotated) = &body.csrf_token {
            set_page_token(rotated);
        }
        return Ok((status, body, session));
    }
}

/// A post's status, its `{url, error, csrfToken}` and its session (a JS
/// object, or `undefined`).
type Posted = (u16, UrlResponse, JsValue);

/// POSTs `fields` form-encoded and reads the `{url, error, session}` answer.
async fn post_form(path: &str, fields: &[(&str, &str)]) -> Result<Posted, ClientError> {
    let body = routes::form_encode(fields);
    let (status, text) = fetch(
        "POST",
        path,
        Some(("application/x-www-form-urlencoded", &body)),
    )
    .await?;
    let (answer, session) = js::parse(&text)
        .and_then(|v| js::url_response(&v))
        .ok_or_else(|| ClientError::BadResponse(status.to_string()))?;
    Ok((status, answer, session))
}

pub async fn sign_in(
    provider: Option<Provider>,
    options: SignInOptions,
) -> Result<SignInResponse, ClientError> {
    let callback_url = options.callback_url.clone().unwrap_or_else(current_url);
    if let Some(other @ (Provider::OAuth(_) | Provider::Email)) = &provider {
        return sign_in_elsewhere(other, &options, &callback_url).await;
    }
    let Some(Provider::Credentials) = provider else {
        navigate(&crate::wire::routes::sign_in_page_url(
            routes::SIGN_IN,
            None,
            Some(&callback_url),
        ));
        return Ok(SignInResponse {
            error: None,
            status: 200,
            ok: true,
            url: None,
        });
    };
    let (status, body, session) = post_with_token(
        routes::CALLBACK,
        &[
            ("email", options.email.as_str()),
            ("password", options.password.as_str()),
            ("callbackUrl", callback_url.as_str()),
            ("remember", if options.remember { "true" } else { "false" }),
            ("json", "true"),
        ],
    )
    .await?;
    let error = error_of(status, &body);
    let ok = error.is_none();
    if error == Some(AuthError::SecondFactorRequired) {
        // The first factor passed: the step's page, or the caller asks
        // for the code in place (`verify_second_factor`).
        if options.redirect {
            navigate(&body.url);
        }
        return Ok(SignInResponse {
            error,
            status,
            ok,
            url: Some(body.url),
        });
    }
    if ok && options.redirect {
        // Leaving the page: only the other tabs need to know.
        crate::client::tabs::publish(JsValue::NULL, false);
    } else if ok {
        // The session state is up to date (here and in other tabs) before
        // the caller sees the answer; Sesame's answer carries the session.
        crate::client::tabs::publish(answered_session(session).await, true);
    }
    if options.redirect {
        navigate(&body.url);
    }
    Ok(SignInResponse {
        error,
        status,
        ok,
        url: ok.then_some(body.url),
    })
}

/// A provider's sign-in (the answer is the provider's page) or the email
/// provider's (the answer is the "check your email" page): posted, then
/// followed unless `redirect` is false.
async fn sign_in_elsewhere(
    provider: &Provider,
    options: &SignInOptions,
    callback_url: &str,
) -> Result<SignInResponse, ClientError> {
    let path = routes::SIGN_IN_PROVIDER.replace("{provider}", provider.id());
    let mut fields = vec![("callbackUrl", callback_url), ("json", "true")];
    if *provider == Provider::Email {
        fields.push(("email", options.email.as_str()));
    }
    let (status, body, _) = post_with_token(&path, &fields).await?;
    let error = error_of(status, &body);
    let ok = error.is_none();
    if ok && options.redirect {
        navigate(&body.url);
    }
    Ok(SignInResponse {
        error,
        status,
        ok,
        url: ok.then_some(body.url),
    })
}

/// POST `/api/auth/second-factor`: a pending sign-in finished with a code
/// (six digits) or a recovery code; answered like a credentials sign-in.
pub async fn verify_second_factor(
    code: &str,
    trust_browser: bool,
) -> Result<SignInResponse, ClientError> {
    let digits = code.chars().filter(|c| !c.is_whitespace()).count() == 6
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace());
    let field = if digits { "code" } else { "recoveryCode" };
    let (status, body, session) = post_with_token(
        routes::SECOND_FACTOR,
        &[
            (field, code),
            ("trustBrowser", if trust_browser { "true" } else { "false" }),
            ("json", "true"),
        ],
    )
    .await?;
    let error = error_of(status, &body);
    let ok = error.is_none();
    if ok {
        crate::client::tabs::publish(answered_session(session).await, true);
    }
    Ok(SignInResponse {
        error,
        status,
        ok,
        url: ok.then_some(body.url),
    })
}

/// Posts an action that answers recovery codes: the codes, or its typed
/// refusal.
pub async fn codes_action(path: &str, fields: &[(&str, &str)]) -> Result<Vec<String>, ClientError> {
    let token = csrf_token(false).await?;
    let mut all = fields.to_vec();
    all.push(("json", "true"));
    all.push(("csrfToken", token.as_str()));
    let body = routes::form_encode(&all);
    let (status, text) = fetch(
        "POST",
        path,
        Some(("application/x-www-form-urlencoded", &body)),
    )
    .await?;
    let answer: crate::wire::RecoveryCodes =
        serde_json::from_str(&text).map_err(|_| ClientError::BadResponse(status.to_string()))?;
    match answer.error {
        Some(code) => Err(ClientError::Refused(AuthError::from_code(&code))),
        None => Ok(answer.codes),
    }
}

/// GET `/api/auth/account/security`.
pub async fn security() -> Result<crate::wire::Security, ClientError> {
    let (status, text) = fetch("GET", routes::SECURITY, None).await?;
    if status == 401 {
        return Err(ClientError::Refused(AuthError::SessionRequired));
    }
    if !(200..300).contains(&status) {
        return Err(ClientError::BadResponse(status.to_string()));
    }
    serde_json::from_str::<(crate::wire::Security, Vec<String>)>(&text)
        .map(|(security, _)| security)
        .map_err(|e| ClientError::BadResponse(e.to_string()))
}

pub async fn sign_out(options: SignOutOptions) -> Result<String, ClientError> {
    let callback_url = options.callback_url.clone().unwrap_or_else(current_url);
    let (status, body, _) = post_with_token(
        &[routes::BASE, "/signout"].concat(),
        &[("callbackUrl", callback_url.as_str()), ("json", "true")],
    )
    .await?;
    if let Some(error) = error_of(status, &body) {
        return Err(ClientError::BadResponse(error.code().to_string()));
    }
    crate::client::tabs::publish(JsValue::NULL, !options.redirect);
    if options.redirect {
        navigate(&body.url);
    }
    Ok(body.url)
}

pub async fn list_sessions() -> Result<Vec<SessionInfo>, ClientError> {
    let (status, text) = fetch("GET", crate::wire::routes::SESSIONS, None).await?;
    if status == 401 {
        return Err(ClientError::Refused(AuthError::SessionRequired));
    }
    if !(200..300).contains(&status) {
        return Err(ClientError::BadResponse(status.to_string()));
    }
    js::parse(&text)
        .and_then(|list| js::session_infos(&list))
        .ok_or_else(|| ClientError::BadResponse("not a list of sessions".into()))
}

/// Posts an action; where its answer says to go, or its typed refusal.
pub async fn action_url(path: &str, fields: &[(&str, &str)]) -> Result<String, ClientError> {
    let mut all = fields.to_vec();
    all.push(("json", "true"));
    let (status, body, _) = post_with_token(path, &all).await?;
    match error_of(status, &body) {
        Some(error) => Err(ClientError::Refused(error)),
        None => Ok(body.url),
    }
}

/// Posts an account action; its typed refusal, if any.
pub async fn account_action(path: &str, fields: &[(&str, &str)]) -> Result<(), ClientError> {
    action_url(path, fields).await.map(drop)
}

pub async fn delete_account(password: &str) -> Result<(), ClientError> {
    account_action(
        crate::wire::routes::DELETE_ACCOUNT,
        &[("password", password)],
    )
    .await?;
    crate::client::tabs::publish(JsValue::NULL, false);
    Ok(())
}

pub async fn get_json(path: &str) -> Result<serde_json::Value, ClientError> {
    Ok(js::to_value(&get_js(path).await?))
}

pub async fn get_session() -> Result<Option<Session>, ClientError> {
    Ok(js::session(&session_object().await?))
}

/// `/api/auth/session`'s answer as a JS object (`{}` when signed out).
async fn session_object() -> Result<JsValue, ClientError> {
    get_js(&[routes::BASE, "/session"].concat()).await
}

/// The session a sign-in's answer carried, else the server's now (null
/// when it cannot be read): what the tabs are told.
async fn answered_session(session: JsValue) -> JsValue {
    if session.is_object() {
        return session;
    }
    session_object().await.unwrap_or(JsValue::NULL)
}

pub async fn update_session(data: serde_json::Value) -> Result<Option<Session>, ClientError> {
    let from_page = page_token().is_some();
    let mut token = csrf_token(false).await?;
    let mut retried = false;
    let text = loop {
        let body = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&body, &"csrfToken".into(), &token.as_str().into());
        let _ = js_sys::Reflect::set(&body, &"data".into(), &js::from_value(&data));
        let body: String = js_sys::JSON::stringify(&body).map_err(net)?.into();
        let (status, text) = fetch(
            "POST",
            &[routes::BASE, "/session"].concat(),
            Some(("application/json", &body)),
        )
        .await?;
        // A stale page token (see `post_with_token`): once more, fresh.
        if status == 403 && from_page && !retried {
            retried = true;
            token = csrf_token(true).await?;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(ClientError::BadResponse(status.to_string()));
        }
        break text;
    };
    let answer = js::parse(&text).unwrap_or(JsValue::NULL);
    let session = js::session(&answer);
    crate::client::tabs::publish(answer, true);
    Ok(session)
}

/// Calls `window.sesamePasskeys[method](arg)` (the page's
/// `/api/auth/passkey.js`) and reads its `{ok, url, error}`.
pub async fn passkeys(
    method: &str,
    arg: JsValue,
) -> Result<(bool, Option<String>, Option<AuthError>), ClientError> {
    use web_sys::js_sys::{Function, Promise, Reflect};
    let missing = || ClientError::BadResponse("load /api/auth/passkey.js on this page".into());
    let api = Reflect::get(&window(), &"sesamePasskeys".into()).map_err(net)?;
    if api.is_undefined() {
        return Err(missing());
    }
    let f: Function = Reflect::get(&api, &method.into())
        .map_err(net)?
        .dyn_into()
        .map_err(|_| missing())?;
    let promise: Promise = f
        .call1(&api, &arg)
        .map_err(net)?
        .dyn_into()
        .map_err(|_| missing())?;
    let answer = JsFuture::from(promise).await.map_err(net)?;
    let ok = Reflect::get(&answer, &"ok".into())
        .map_err(net)?
        .as_bool()
        .unwrap_or(false);
    let url = js::string(&answer, "url").filter(|u| !u.is_empty());
    let error = js::string(&answer, "error").map(|code| AuthError::from_code(&code));
    if ok && url.is_some() {
        crate::client::tabs::publish(answered_session(JsValue::UNDEFINED).await, true);
    }
    Ok((ok, url, error))
}
