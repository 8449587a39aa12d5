//! Request bodies of the auth endpoints: capped in size, of the right content
//! type, valid UTF-8 and well-formed, or refused with a typed error (`413
//! PayloadTooLarge`, `400 InvalidRequest`) before any handler or server function
//! sees them. Nothing malformed reaches a parser that could answer 500.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, Method},
    response::Response,
};

use super::{answer::refusal, state::Auth};
use crate::auth::AuthError;

/// Checks the body of a POST under `/api/auth`; hands back the request, its body
/// read, or the refusal to answer.
pub async fn check(auth: &Auth, req: Request) -> Result<Request, Response> {
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/auth/") {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, auth.config.limits.body_bytes).await else {
        return Err(refusal(auth, AuthError::PayloadTooLarge));
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Err(refusal(auth, AuthError::InvalidRequest));
    };
    let well_formed = match content_type.as_str() {
        "application/x-www-form-urlencoded" => form_is_well_formed(text),
        // next-auth/react sends the session update as JSON.
        "application/json" if parts.uri.path() == "/api/auth/session" => {
            serde_json::from_str::<serde_json::Value>(text).is_ok()
        }
        _ => false,
    };
    if !well_formed {
        return Err(refusal(auth, AuthError::InvalidRequest));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Every key and value percent-decodes to valid UTF-8 (a lenient decoder would
/// swap bad bytes for U+FFFD and let a later, strict parser fail with a 500).
fn form_is_well_formed(text: &str) -> bool {
    text.split('&').filter(|pair| !pair.is_empty()).all(|pair| {
        pair.split('=').all(|part| {
            percent_encoding::percent_decode_str(&part.replace('+', " "))
                .decode_utf8()
                .is_ok()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::form_is_well_formed;

    #[test]
    fn forms() {
        assert!(form_is_well_formed("email=a%40b.c&password=x+y&json=true"));
        assert!(form_is_well_formed(""));
        assert!(!form_is_well_formed("email=%FF"));
        assert!(!form_is_well_formed("%C3%28=x"));
    }
}
