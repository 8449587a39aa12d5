//! A browser's description for the sessions list ("Firefox 128 on Linux"),
//! from its `User-Agent` through `woothee` (pure Rust, no data file to load,
//! microseconds a string).

/// "Browser version on OS", as far as the `User-Agent` tells; "Unknown
/// browser" when it tells nothing.
pub fn describe_user_agent(user_agent: Option<&str>) -> String {
    const UNKNOWN: &str = "UNKNOWN";
    let Some(parsed) = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua)) else {
        return "Unknown browser".into();
    };
    let name = if parsed.name == UNKNOWN {
        "Unknown browser"
    } else {
        parsed.name
    };
    // The major version is enough to tell two sessions apart.
    let version = parsed.version.split('.').next().unwrap_or("");
    let mut text = name.to_string();
    if !version.is_empty() && version != UNKNOWN {
        text.push(' ');
        text.push_str(version);
    }
    if parsed.os != UNKNOWN {
        text.push_str(" on ");
        text.push_str(parsed.os);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_with_their_major_version_and_os() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_user_agent(Some(firefox)), "Firefox 128 on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(
            describe_user_agent(Some(chrome)),
            "Chrome 120 on Windows 10"
        );
        assert_eq!(describe_user_agent(None), "Unknown browser");
        assert_eq!(
            describe_user_agent(Some("nothing to see")),
            "Unknown browser"
        );
        assert!(describe_user_agent(Some("curl/8.5.0")).starts_with("HTTP Library"));
    }
}
