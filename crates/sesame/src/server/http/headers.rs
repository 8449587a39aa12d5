//! Security headers on every response, and the per-request CSP nonce that lets
//! the hydration scripts run without `unsafe-inline`.
//!
//! HTML gets a Content-Security-Policy (scripts and styles only from this
//! origin or with the request's nonce, no `unsafe-inline` for either;
//! `wasm-unsafe-eval` for the WASM module; no framing, no plugins, forms only
//! to this site or an allowed redirect origin) and `no-store`, as every page
//! carries a CSRF token and possibly the user's session. Every response gets
//! `Cross-Origin-Opener-Policy` and `Cross-Origin-Resource-Policy:
//! same-origin` (no other site opens a window onto ours or embeds our
//! answers) and a `Permissions-Policy` that turns off the powerful features
//! an auth page never uses.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use crate::server::state::Auth;

/// The nonce of one request's CSP, in the request's extensions.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// Provides the request's nonce to Leptos, so `<HydrationScripts>` and the
/// resource scripts carry it. Call in the `leptos_routes_with_context` closure.
pub fn provide_leptos_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(parts) = use_context::<http::request::Parts>() {
        if let Some(nonce) = parts.extensions.get::<CspNonce>() {
            provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
        }
    }
}

fn policy(nonce: &str, form_targets: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data: https:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action {form_targets}; \
         frame-ancestors 'none'"
    )
}

/// Features no auth page uses, turned off for the page and anything it embeds.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), \
     gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), \
     browsing-topics=(), interest-cohort=()";

/// What the response headers depend on, read from the request before it runs.
#[derive(Debug)]
pub struct PageHeaders {
    is_auth_path: bool,
    nonce: Option<String>,
}

impl PageHeaders {
    /// Mints the CSP nonce for a request that may render a page (API answers
    /// and assets skip the random draw) and puts it in the request's extensions.
    pub fn prepare(req: &mut Request) -> Self {
        let path = req.uri().path();
        let is_auth_path = path.starts_with(crate::wire::routes::BASE);
        let may_be_page = req.method() == http::Method::GET
            && (is_auth_path || !path.starts_with("/api/"))
            && !path.starts_with("/pkg/")
            && !matches!(
                path,
                crate::wire::routes::SESSION
                    | crate::wire::routes::CSRF
                    | crate::wire::routes::PROVIDERS
            );
        let nonce = may_be_page.then(|| URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()));
        if let Some(nonce) = &nonce {
            req.extensions_mut().insert(CspNonce(nonce.clone()));
        }
        PageHeaders {
            is_auth_path,
            nonce,
        }
    }

    /// The headers of an `/api/auth` answer that is not a page.
    pub fn for_auth_api() -> Self {
        PageHeaders {
            is_auth_path: true,
            nonce: None,
        }
    }

    /// Sets the security headers on the response.
    pub fn finish(self, auth: &Auth, res: &mut Response) {
        let is_html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let headers = res.headers_mut();
        headers.reserve(9);
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Not `no-referrer`: it turns `Origin` into `null`, which the CSRF check refuses.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            http::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(
            http::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(
            http::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        );
        if auth.config.site.url.scheme() == "https" {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            );
        }
        if is_html {
            // HTML that was not expected to be a page still gets a policy, whose
            // fresh nonce nothing carries: no inline script runs.
            let nonce = self
                .nonce
                .unwrap_or_else(|| URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()));
            // Forms post to this site, an allowed redirect origin, or (a
            // provider's button, answered by a redirect) a provider's page.
            let origins = auth.policy.origins()[1..]
                .iter()
                .chain(auth.providers.origins())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            let targets = format!("'self' {origins}");
            if let Ok(csp) = HeaderValue::from_str(&policy(&nonce, targets.trim())) {
                headers.insert(header::CONTENT_SECURITY_POLICY, csp);
            }
        }
        if (is_html || self.is_auth_path) && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache, no-store"),
            );
        }
    }
}
