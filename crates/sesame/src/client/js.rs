//! Wire types from and to JavaScript values (browser only). The browser's own
//! `JSON.parse`/`JSON.stringify` do the text work, so the WASM carries no JSON
//! parser or printer: serde_json's would be a good part of the sign-in page's
//! download. Hand-written because the shapes are few and small.

use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::js_sys::{Array, Object, Reflect, JSON};

use crate::{wire::Session, wire::SessionInfo, wire::SessionUser, wire::UrlResponse};

/// `JSON.parse(text)`, if `text` is JSON.
pub fn parse(text: &str) -> Option<JsValue> {
    JSON::parse(text).ok()
}

/// The field `key` of `obj` (`undefined` if it has none).
pub fn field(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The string field `key` of `obj`, if it is one.
pub fn string(obj: &JsValue, key: &str) -> Option<String> {
    field(obj, key).as_string()
}

/// A [`Session`] from the object `/api/auth/session` answers; `None` for `{}`.
pub fn session(obj: &JsValue) -> Option<Session> {
    let user = field(obj, "user");
    let email = string(&user, "email")?;
    let expires = string(obj, "expires")?;
    let extra = object(obj, &["user", "expires"]);
    Some(Session {
        user: SessionUser {
            name: string(&user, "name"),
            email,
            image: string(&user, "image"),
        },
        expires,
        extra,
    })
}

/// The sessions list of `/api/auth/account/sessions`, if `list` is an array;
/// entries without an `id` are left out.
pub fn session_infos(list: &JsValue) -> Option<Vec<SessionInfo>> {
    let list = list.dyn_ref::<Array>()?;
    let infos = list.iter().filter_map(|s| {
        Some(SessionInfo {
            id: string(&s, "id")?,
            current: field(&s, "current").as_bool().unwrap_or(false),
            signed_in_at: string(&s, "signed_in_at").unwrap_or_default(),
            last_seen: string(&s, "last_seen").unwrap_or_default(),
            ip: string(&s, "ip"),
            browser: string(&s, "browser").unwrap_or_default(),
        })
    });
    Some(infos.collect())
}

/// The `{url, error, session, csrfToken}` answer of the callback and action
/// routes, its session left the JS object the server sent: only a page's
/// session state reads it ([`crate::client::tabs`]), so the sign-in page's
/// main module carries no [`Session`] parser (its `extra` is JSON values).
pub fn url_response(obj: &JsValue) -> Option<(UrlResponse, JsValue)> {
    let answer = UrlResponse {
        url: string(obj, "url")?,
        error: string(obj, "error"),
        session: None,
        csrf_token: string(obj, "csrfToken"),
    };
    Some((answer, field(obj, "session")))
}

/// A JSON value from a JS value (what `JSON.parse` can return).
pub fn to_value(v: &JsValue) -> Value {
    if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    } else if let Some(s) = v.as_string() {
        Value::String(s)
    } else if let Some(array) = v.dyn_ref::<Array>() {
        Value::Array(array.iter().map(|item| to_value(&item)).collect())
    } else if v.is_object() {
        Value::Object(object(v, &[]))
    } else {
        Value::Null
    }
}

/// The fields of the JS object `v` but those in `skip`, as JSON.
fn object(v: &JsValue, skip: &[&str]) -> Map<String, Value> {
    let mut map = Map::new();
    if v.is_object() {
        for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
            if let Some(key) = key.as_string().filter(|k| !skip.contains(&k.as_str())) {
                let item = field(v, &key);
                map.insert(key, to_value(&item));
            }
        }
    }
    map
}

/// A JS value from a JSON value (for `JSON.stringify`).
pub fn from_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => n.as_f64().map_or(JsValue::NULL, JsValue::from_f64),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(from_value).collect::<Array>().into(),
        Value::Object(map) => {
            let obj = Object::new();
            for (key, item) in map {
                let _ = Reflect::set(&obj, &JsValue::from_str(key), &from_value(item));
            }
            obj.into()
        }
    }
}
