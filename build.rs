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
//!
//! The same build packs the binary's relocations (`-z pack-relative-relocs`,
//! glibc 2.36 and later): its 29,000 relative relocations took 690 KiB as
//! `RELA` entries, all read at start and resident; packed as `RELR` they take
//! a few KiB. The binary then needs glibc 2.36 where it runs, so the option
//! is only given when the glibc it is built against is that recent.
//! `SESAME_LINK_ORDER=off` turns this off too.

use std::{env, path::Path, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=SESAME_LINK_ORDER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let off = env::var("SESAME_LINK_ORDER").is_ok_and(|v| v == "off");
    let list =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("link-order.txt");
    if !(release && linux && !off && rustc_links_with_lld()) {
        return;
    }
    if list.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=sesame=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo:rustc-link-arg-bin=sesame=-Wl,--no-warn-symbol-ordering");
    }
    if glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bin=sesame=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the glibc of this machine (the one the binary links against) is
/// at least `major.minor`.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    version_of("getconf", "GNU_LIBC_VERSION") // "glibc 2.36"
        .is_some_and(|version| version >= (major, minor))
}

/// Whether this rustc links x86_64 Linux binaries with its own lld by
/// default (since 1.90).
fn rustc_links_with_lld() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    version_of(&rustc, "-V") // "rustc 1.95.0 (...)"
        .is_some_and(|version| version >= (1, 90))
}

/// The `major.minor` version that is the second word of `program arg`'s output.
fn version_of(program: &str, arg: &str) -> Option<(u32, u32)> {
    let out = Command::new(program).arg(arg).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().nth(1)?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}
