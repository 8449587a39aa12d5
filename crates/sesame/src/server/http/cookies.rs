//! What the server reads of a request's headers by name: a cookie's value
//! (tolerating several `Cookie` headers) and a query parameter, decoded.

/// The value of cookie `name` in a request's `Cookie` headers (the first, if
/// sent more than once).
pub(crate) fn cookie<'a>(headers: &'a http::HeaderMap, name: &'a str) -> Option<&'a str> {
    cookie_values(headers, name).next()
}

/// Every value of cookie `name` in a request's `Cookie` headers.
pub(crate) fn cookie_values<'a>(
    headers: &'a http::HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .filter(move |(n, _)| n.trim() == name)
        .map(|(_, value)| value.trim())
}

/// The value of parameter `name` in a URI's query string, decoded.
pub(crate) fn query_value(uri: &http::Uri, name: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
