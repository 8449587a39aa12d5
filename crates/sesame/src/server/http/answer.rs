//! `Answer`: how an auth action responds, in the two modes of the contract: JSON
//! `{url, error?}` with a real status for `fetch` callers (`json=true`), or a 302 for
//! plain form posts.

use axum::{
    body::Bytes,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use crate::server::{
    flows::sign_in::{Refused, SignedIn},
    state::Auth,
};
use crate::{wire::routes::sign_in_page_url, wire::AuthError, wire::UrlResponse};

/// The outcome of an auth action, ready to be sent either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: UrlResponse,
    /// Set for form posts: where the 302 goes.
    pub location: Option<String>,
    /// Seconds for `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
    /// `Set-Cookie` values to send with it (the device cookie of a sign-in).
    pub cookies: Vec<HeaderValue>,
}

impl Answer {
    /// Success: JSON `{url}` with 200, or a 302 to `url`.
    pub fn success(url: String, json: bool) -> Answer {
        Answer {
            status: if json {
                StatusCode::OK
            } else {
                StatusCode::FOUND
            },
            location: (!json).then(|| url.clone()),
            retry_after: None,
            cookies: Vec::new(),
            body: UrlResponse {
                url,
                error: None,
                session: None,
                csrf_token: None,
            },
        }
    }

    /// Failure: JSON `{url: <error url>, error}` with the error's status, or a 302
    /// back to the sign-in page (`?error=&callbackUrl=`) or to the error page.
    pub fn failure(
        auth: &Auth,
        error: AuthError,
        json: bool,
        back_to: Option<&str>,
        callback_url: Option<&str>,
    ) -> Answer {
        let mut error_url = auth.api_url(&format!("/error?error={}", error.code()));
        if error == AuthError::CredentialsSignin {
            error_url.push_str("&provider=credentials");
        }
        // Not an error page: the second factor's step.
        let step = error == AuthError::SecondFactorRequired;
        if step {
            error_url = crate::server::flows::second_factor::step_url(auth);
        }
        let body = UrlResponse {
            url: error_url.clone(),
            error: Some(error.code().to_string()),
            session: None,
            csrf_token: None,
        };
        if json {
            return Answer {
                status: StatusCode::from_u16(error.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                body,
                location: None,
                retry_after: None,
                cookies: Vec::new(),
            };
        }
        let location = if step {
            error_url.clone()
        } else if error.belongs_on_sign_in_page() {
            sign_in_page_url(
                back_to.unwrap_or(auth.sign_in_page()),
                Some(error),
                callback_url,
            )
        } else {
            error_url
        };
        Answer {
            status: StatusCode::FOUND,
            body,
            location: Some(location),
            retry_after: None,
            cookies: Vec::new(),
        }
    }

    /// The answer of a sign-in: on success the session and the rotated CSRF
    /// token in the JSON (a form post is redirected), and the device cookie
    /// either way; a refusal goes back to `back_to` (the form's own page) or
    /// the sign-in page, with `Retry-After` when there is a wait.
    pub fn sign_in(
        auth: &Auth,
        outcome: Result<SignedIn, Refused>,
        json: bool,
        back_to: Option<&str>,
    ) -> Answer {
        match outcome {
            Ok(signed_in) => {
                let mut answer = Answer::success(signed_in.url, json);
                answer.cookies.extend(signed_in.cookies);
                if let Some(new) = signed_in.session {
                    answer.cookies.push(new.device_cookie);
                    if json {
                        answer.body.session = Some(new.session);
                        answer.body.csrf_token = Some(new.csrf_token);
                    }
                }
                answer
            }
            Err(refused) => {
                let mut answer = Answer::failure(
                    auth,
                    refused.error,
                    json,
                    back_to,
                    refused.callback_url.as_deref(),
                );
                answer.retry_after = refused.retry_after;
                answer.cookies.extend(refused.cookies);
                answer
            }
        }
    }

    /// The answer of an account action: back to the page it came from (`back`,
    /// already through the `callbackUrl` policy) with `done=<what>` or
    /// `error=<code>` added to its query; as JSON `{url, error?}` with the
    /// error's status, or a 302 for a plain form post.
    pub fn account(back: &str, outcome: Result<&str, AuthError>, json: bool) -> Answer {
        let sep = if back.contains('?') { '&' } else { '?' };
        match outcome {
            Ok(done) => Answer::success(format!("{back}{sep}done={done}"), json),
            Err(error) => {
                let url = format!("{back}{sep}error={}", error.code());
                Answer {
                    status: if json {
                        StatusCode::from_u16(error.status())
                            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                    } else {
                        StatusCode::FOUND
                    },
                    location: (!json).then(|| url.clone()),
                    retry_after: None,
                    cookies: Vec::new(),
                    body: UrlResponse {
                        url,
                        error: Some(error.code().to_string()),
                        session: None,
                        csrf_token: None,
                    },
                }
            }
        }
    }

    /// Headers beside the body: `Cache-Control`, and `Location` / `Retry-After`
    /// / `Set-Cookie` (append them: there may be several `Set-Cookie`).
    pub fn headers(&self) -> Vec<(header::HeaderName, HeaderValue)> {
        let mut headers: Vec<_> = no_store().into_iter().collect();
        if let Some(location) = self
            .location
            .as_deref()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            headers.push((header::LOCATION, location));
        }
        if let Some(seconds) = self.retry_after {
            headers.push((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        headers.extend(self.cookies.iter().map(|c| (header::SET_COOKIE, c.clone())));
        headers
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let headers = self.headers();
        let mut res = (self.status, Json(self.body)).into_response();
        // A JSON response carries none of these yet: appending is setting,
        // and keeps every `Set-Cookie`.
        for (name, value) in headers {
            res.headers_mut().append(name, value);
        }
        res
    }
}

/// `Cache-Control` of every auth answer that depends on the visitor.
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store"),
        ),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// A refusal by a guard that never read the body (origin check): JSON, as the
/// request may come from anywhere.
pub fn refusal(auth: &Auth, error: AuthError) -> Response {
    Answer::failure(auth, error, true, None, None).into_response()
}

/// The answer of `/api/auth/session`: the session, or `{}` when signed out.
pub fn session_json(session: Option<crate::wire::Session>) -> Response {
    let mut res = Response::new(session_bytes(session).into());
    // Room for these and the security headers the edge adds.
    let headers = res.headers_mut();
    headers.reserve(8);
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.extend(no_store());
    res
}

/// The body of [`session_json`]'s answer: the session's JSON, or `{}` for none.
pub fn session_bytes(session: Option<crate::wire::Session>) -> Bytes {
    let mut body = Vec::with_capacity(256);
    match session.map(|s| serde_json::to_writer(&mut body, &s)) {
        Some(Ok(())) => body.into(),
        _ => Bytes::from_static(b"{}"),
    }
}
