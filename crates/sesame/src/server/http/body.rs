//! Request bodies of the auth endpoints and of every server function (every
//! POST under `/api/`): capped in size, of the right content type, valid UTF-8
//! and well-formed, each form key at most once, or refused with a typed error
//! (`413 PayloadTooLarge`, `400 InvalidRequest`) before any handler or server
//! function sees them. Nothing malformed reaches a parser that could answer
//! 500 with the framework's own text, and what a server function's argument
//! parser still refuses (a missing or mistyped field: Leptos answers those
//! with a 500 of its own) is turned into the same typed 400 on the way out. A
//! `fetch` caller (`json=true`, or no `text/html` in `Accept`) gets the
//! `AuthError` JSON; a plain form post is sent to the error page. An empty
//! body has nothing malformed in it and goes through as it is.

use crate::wire::routes;
use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, HeaderMap, Method},
    response::{IntoResponse, Response},
};

use crate::server::{
    http::answer::{refusal, Answer},
    state::Auth,
};
use crate::wire::AuthError;

/// How a checked POST wants a refusal answered.
#[derive(Debug, Clone, Copy)]
pub struct Checked {
    json: bool,
    from_a_page: bool,
}

impl Checked {
    fn refuse(self, auth: &Auth, error: AuthError) -> Response {
        if self.json || !self.from_a_page {
            refusal(auth, error)
        } else {
            Answer::failure(auth, error, false, None, None).into_response()
        }
    }
}

/// Checks the body of a POST under `/api/`; hands back the request, its body
/// read (and how to answer a refusal of it later), or the refusal to answer.
pub async fn check(auth: &Auth, req: Request) -> Result<(Request, Option<Checked>), Response> {
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/") {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let mut checked = Checked {
        json: false,
        from_a_page: accepts_html(&parts.headers),
    };
    let Ok(bytes) = to_bytes(body, auth.config.limits.body_bytes).await else {
        return Err(checked.refuse(auth, AuthError::PayloadTooLarge));
    };
    if bytes.is_empty() {
        return Ok((Request::from_parts(parts, Body::empty()), Some(checked)));
    }
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
        return Err(checked.refuse(auth, AuthError::InvalidRequest));
    };
    let verdict = match content_type.as_str() {
        "application/x-www-form-urlencoded" => read_form(text),
        // next-auth/react sends the session update as JSON.
        "application/json" if parts.uri.path() == routes::SESSION => Form::of(
            serde_json::from_str::<serde_json::Value>(text).is_ok(),
            true,
        ),
        _ => Form::of(false, false),
    };
    checked.json = verdict.json;
    if !verdict.well_formed {
        return Err(checked.refuse(auth, AuthError::InvalidRequest));
    }
    Ok((Request::from_parts(parts, Body::from(bytes)), Some(checked)))
}

/// Leptos's own answer to arguments it could not read (`Args|…`,
/// `MissingArg|…`, `Deserialization|…`, a 500 in the framework's words)
/// becomes the typed 400.
pub async fn typed_argument_errors(auth: &Auth, checked: Checked, res: Response) -> Response {
    if res.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return checked.refuse(auth, AuthError::InvalidRequest);
    };
    let framework = ["Args|", "MissingArg|", "Deserialization|"]
        .iter()
        .any(|p| bytes.starts_with(p.as_bytes()));
    if framework {
        return checked.refuse(auth, AuthError::InvalidRequest);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether the request comes from a page (a plain form post) rather than `fetch`.
/// A form flag (`json`, `remember`): `true`, `on` (an HTML checkbox) or `1`.
pub fn form_flag(raw: Option<&str>) -> bool {
    matches!(raw, Some("true") | Some("on") | Some("1"))
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// What the check found in a body.
#[derive(Debug, PartialEq, Eq)]
struct Form {
    well_formed: bool,
    /// It asks for a JSON answer (`json=true`).
    json: bool,
}

impl Form {
    fn of(well_formed: bool, json: bool) -> Form {
        Form { well_formed, json }
    }
}

/// A form whose every key and value percent-decodes to valid UTF-8 (a lenient
/// decoder would swap bad bytes for U+FFFD and let a later, strict parser fail
/// with a 500) and whose keys each appear once (the server function's parser
/// answers a repeated key with a 500).
fn read_form(text: &str) -> Form {
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .ok()
    };
    let pairs: Option<Vec<(String, String)>> = text
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(key)?, decode(value)?))
        })
        .collect();
    let Some(pairs) = pairs else {
        return Form::of(false, false);
    };
    let json = pairs.iter().any(|(k, v)| k == "json" && form_flag(Some(v)));
    let mut keys = std::collections::HashSet::new();
    let unique = pairs.iter().all(|(k, _)| keys.insert(k.as_str()));
    Form::of(unique, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            read_form("email=a%40b.c&password=x+y&json=true"),
            Form::of(true, true)
        );
        assert_eq!(read_form(""), Form::of(true, false));
        assert!(!read_form("email=%FF").well_formed);
        assert!(!read_form("%C3%28=x").well_formed);
        assert!(read_form("a=b=c").well_formed);
    }

    #[test]
    fn a_repeated_key_is_malformed() {
        assert_eq!(
            read_form("email=a@x&email=b@x&password=p&json=true"),
            Form::of(false, true)
        );
        assert!(!read_form("json=true&json=true").well_formed);
        // The same key spelt two ways is the same key once decoded.
        assert!(!read_form("email=a&%65mail=b").well_formed);
        assert!(!read_form("x+y=1&x%20y=2").well_formed);
    }
}
