//! An authenticator app's one-time codes (RFC 6238 through the `totp-rs`
//! crate): SHA-1, 6 digits, 30-second steps, one step either side. A code is
//! matched to its time step so the flow can accept each step once; the
//! enrolment shows the `otpauth://` URI as a QR code drawn here as SVG (the
//! `qrcode` crate; no outside service sees the secret) and as text.

use qrcode::{render::svg, QrCode};
use rand::{rngs::OsRng, RngCore};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per step.
pub const STEP: u64 = 30;
/// Digits per code.
pub const DIGITS: u8 = 6;

/// A new secret: 20 random bytes (160 bits, RFC 4226's recommendation).
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

fn totp(secret: &[u8], account: &str, issuer: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(issuer.replace(':', "")))
        .build()
        .ok()
}

/// The time step of `code` at `now` (unix seconds) for `secret`: the current
/// step or one either side; `None` for a wrong or malformed code. Spaces in
/// the code are ignored.
pub fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = totp(secret, "a", "a")?.check(&code, now)?;
    i64::try_from(step).ok()
}

/// What an enrolment shows: the secret in groups of four for typing, the
/// `otpauth://` URI, and the URI as an inline SVG QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// The enrolment of `secret` for `account` at `issuer`.
pub fn enrolment(secret: &[u8], account: &str, issuer: &str) -> Option<Enrolment> {
    let totp = totp(secret, account, issuer)?;
    let uri = totp.to_url().ok()?;
    let base32 = totp.secret().to_base32();
    let grouped = base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let svg = QrCode::new(uri.as_bytes())
        .ok()?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .build();
    // Inline in HTML: without the XML declaration.
    let qr_svg = svg
        .find("<svg")
        .map(|at| svg[at..].to_string())
        .unwrap_or(svg);
    Some(Enrolment {
        secret: grouped,
        uri,
        qr_svg,
    })
}

/// The code of `secret` at `now` (for the tests).
#[cfg(test)]
pub fn code_at(secret: &[u8], now: u64) -> Option<String> {
    Some(totp(secret, "a", "a")?.generate(now).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn a_new_secret_is_160_random_bits() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a.iter().any(|&x| x > 1), "not a constant");
    }

    #[test]
    fn codes_follow_rfc_6238_appendix_b() {
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time).unwrap(), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let now = 1_111_111_111;
        let step = (now / STEP) as i64;
        for (offset, expected) in [
            (-2i64, None),
            (-1, Some(step - 1)),
            (0, Some(step)),
            (1, Some(step + 1)),
            (2, None),
        ] {
            let at = (now as i64 + offset * STEP as i64) as u64;
            let code = code_at(RFC_SECRET, at).unwrap();
            assert_eq!(
                matching_step(RFC_SECRET, &code, now),
                expected,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn malformed_codes_never_match() {
        let now = 59;
        assert_eq!(matching_step(RFC_SECRET, "287082", now), Some(1));
        assert_eq!(matching_step(RFC_SECRET, "287 082", now), Some(1));
        for bad in ["", "28708", "2870822", "28708a", "+87082", "-87082"] {
            assert_eq!(matching_step(RFC_SECRET, bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn the_enrolment_shows_the_secret_uri_and_an_svg() {
        let e = enrolment(RFC_SECRET, "ada@example.com", "Sesame").unwrap();
        assert_eq!(e.secret, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert!(
            e.uri
                .starts_with("otpauth://totp/Sesame:ada%40example.com?"),
            "{}",
            e.uri
        );
        assert!(
            e.uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{}",
            e.uri
        );
        assert!(e.qr_svg.starts_with("<svg"), "{}", &e.qr_svg[..40]);
    }
}
