//! The hydration marker: an island that tells tests and benchmarks the page's
//! islands are live.

use leptos::prelude::*;

/// Place it last in `<body>`: the islands are hydrated in document order, so
/// when this one runs all the others are live. It marks
/// `<body data-hydrated="true">` for tests, and `data-hydrated-ms` with the
/// time since navigation start for `make bench`.
#[island]
pub fn Hydrated() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        if let Some(body) = window.document().and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
            if let Some(performance) = window.performance() {
                // Whole milliseconds: formatting an f64 would add to the WASM.
                let ms = performance.now() as u64;
                let _ = body.set_attribute("data-hydrated-ms", &ms.to_string());
            }
        }
    }
}
