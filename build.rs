//! The server's link order. In a release build for x86_64 Linux, where rustc
//! links with lld, the functions listed in `link-order.txt` go first and
//! together: the ones the server runs to start and to answer its common
//! requests, as `make link-order` recorded them (`benches/link_order.py`).
//!
//! Why: the kernel maps up to 16 pages of code around each page fault, and
//! start-up's code lay scattered over the 18 MiB binary, one or two
//! functions in every 64 KiB. Laid out together, what start-up runs takes
//! about 4 MiB of resident code instead of 10. The list only orders the layout:
//! a function missing from it (renamed, new) is placed as before, so a
//! stale list costs memory, never correctness. `SESAME_LINK_ORDER=off`
//! turns it off; a linker other than lld would reject the option, so it is
//! only given where rustc uses lld by default (1.90 and later).

use std::{env, path::Path, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=SESAME_LINK_ORDER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let off = env::var("SESAME_LINK_ORDER").is_ok_and(|v| v == "off");
    let list =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("link-order.txt");
    if release && linux && !off && rustc_links_with_lld() && list.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=sesame=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo:rustc-link-arg-bin=sesame=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether this rustc links x86_64 Linux binaries with its own lld by
/// default (since 1.90).
fn rustc_links_with_lld() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("-V").output() else {
        return false;
    };
    let version = String::from_utf8_lossy(&out.stdout);
    let mut parts = version
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    matches!((parts.next(), parts.next()), (Some(1), Some(minor)) if minor >= 90)
}
