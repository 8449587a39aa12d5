//! The configuration's tests: defaults, errors naming their key, limits.

use super::*;

const MINIMAL: &str = r#"
    [site]
    url = "http://127.0.0.1:3000"
    [database]
    url = "sqlite::memory:"
"#;

#[test]
fn defaults_follow_nextauth() {
    let config = Config::from_toml_str(MINIMAL).unwrap();
    assert_eq!(config.session.max_age, Duration::from_secs(2_592_000));
    assert_eq!(config.environment, Environment::Production);
    assert!(!config.secure_cookies());
    assert_eq!(config.origin(), "http://127.0.0.1:3000");
}

#[test]
fn errors_name_the_key() {
    let err = Config::from_toml_str_with(MINIMAL, &[("pages.sign_in", "sign-in")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("pages.sign_in"), "{err}");

    let err = Config::from_toml_str_with(MINIMAL, &[("session.max_age", "forever")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_age"), "{err}");

    let err = Config::from_toml_str_with(MINIMAL, &[("theme.brand_color", "red; x: y")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("theme.brand_color"), "{err}");

    let err = Config::from_toml_str_with(MINIMAL, &[("pages.error", "https://evil")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("pages.error"), "{err}");

    let err = Config::from_toml_str("[site]\nurl = \"http://x\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("database"), "{err}");
}

#[test]
fn rates_parse() {
    assert_eq!(
        "10/5min".parse::<Rate>().unwrap(),
        Rate {
            count: 10,
            per: Duration::from_secs(300)
        }
    );
    assert!("0/1s".parse::<Rate>().is_err());
    assert!("ten/1s".parse::<Rate>().is_err());
    let err = Config::from_toml_str_with(MINIMAL, &[("limits.sign_in_per_ip", "lots")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("sign_in_per_ip"), "{err}");
}

#[test]
fn secret_from_a_file_and_previous_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "from-a-file-from-a-file-from-a-file-0123\nignored").unwrap();
    let config =
        Config::from_toml_str_with(MINIMAL, &[("secret_file", file.to_str().unwrap())]).unwrap();
    assert_eq!(
        config.resolve_secret().unwrap(),
        b"from-a-file-from-a-file-from-a-file-0123".to_vec()
    );
    let config = Config::from_toml_layers(&[
        MINIMAL,
        "previous_secrets = [\"old-secret-old-secret-old-secret-old-1\", \"short\"]",
    ])
    .unwrap();
    let err = config.previous_secrets().unwrap_err().to_string();
    assert!(err.contains("previous_secrets"), "{err}");
}

#[test]
fn short_sessions_never_outlive_max_age() {
    let config = Config::from_toml_str_with(MINIMAL, &[("session.max_age", "3m")]).unwrap();
    assert_eq!(config.session.short_max_age(), Duration::from_secs(180));
    assert_eq!(config.session.lifetime(false), Duration::from_secs(180));
    assert_eq!(config.session.lifetime(true), Duration::from_secs(180));
    let config = Config::from_toml_str(MINIMAL).unwrap();
    assert_eq!(
        config.session.lifetime(false),
        Duration::from_secs(12 * 3600)
    );
    let err = Config::from_toml_layers(&[
        MINIMAL,
        "[session]\nmax_age = \"1h\"\nshort_max_age = \"2h\"",
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("session.short_max_age"), "{err}");
}

#[test]
fn lockout_and_ip_settings_are_checked() {
    for (layer, key) in [
        ("[limits.lockout]\nmax_failures = 101", "max_failures"),
        ("[limits.lockout]\nmax_failures = 0", "max_failures"),
        ("[limits.lockout]\nfree_failures = 100", "free_failures"),
        ("[limits.lockout]\nfirst_wait = \"1h\"", "first_wait"),
        ("[limits.lockout]\ntracked = 0", "tracked"),
        ("[limits]\nipv6_prefix = 0", "ipv6_prefix"),
        ("[limits]\nipv6_prefix = 129", "ipv6_prefix"),
        (
            "[limits]\nsign_in_per_account = \"10/5min\"",
            "sign_in_per_account",
        ),
        ("[site]\ntrusted_origins = []", "trusted_origins"),
    ] {
        let err = Config::from_toml_layers(&[MINIMAL, layer])
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{layer}: {err}");
    }
    let config = Config::from_toml_str(MINIMAL).unwrap();
    let lockout = &config.limits.lockout;
    assert_eq!(
        (
            lockout.free_failures,
            lockout.max_failures,
            lockout.max_wait
        ),
        (5, 100, Duration::from_secs(900))
    );
    assert_eq!(config.limits.ipv6_prefix, 64);
}

#[test]
fn top_level_keys_are_sesames_or_the_apps() {
    let app = "[demo_user]\nemail = \"d@example.com\"";
    let err = Config::from_toml_layers(&[MINIMAL, app])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`demo_user`: unknown key"), "{err}");
    assert!(Config::from_figment(Config::layers(&[MINIMAL, app]), &["demo_user"]).is_ok());
    let err = Config::from_figment(Config::layers(&[MINIMAL, "sesion = 1"]), &["demo_user"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`sesion`"), "{err}");
}

#[test]
fn production_requires_a_secret() {
    let config = Config::from_toml_str(MINIMAL).unwrap();
    let err = config.resolve_secret().unwrap_err().to_string();
    assert!(err.contains("`secret`"), "{err}");
    let short = Config::from_toml_str_with(MINIMAL, &[("secret", "short")]).unwrap();
    assert!(short.resolve_secret().is_err());
}

#[test]
fn development_creates_a_missing_secret_file_once_and_production_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/dev-secret");
    let path = file.to_str().unwrap();
    let dev = Config::from_toml_layers(&[
        "environment = \"development\"",
        MINIMAL,
        &format!("secret_file = {path:?}"),
    ])
    .unwrap();
    let first = dev.resolve_secret().unwrap();
    assert_eq!(first.len(), 64);
    assert_eq!(std::fs::read(&file).unwrap(), first, "kept in the file");
    assert_eq!(
        dev.resolve_secret().unwrap(),
        first,
        "read back, not replaced"
    );

    let missing = dir.path().join("missing");
    let prod =
        Config::from_toml_str_with(MINIMAL, &[("secret_file", missing.to_str().unwrap())]).unwrap();
    let err = prod.resolve_secret().unwrap_err().to_string();
    assert!(err.contains("secret_file"), "{err}");
    assert!(!missing.exists(), "production never makes up a secret");
}

#[test]
fn development_without_a_secret_has_one_for_the_process_only() {
    let dev = Config::from_toml_layers(&["environment = \"development\"", MINIMAL]).unwrap();
    let a = dev.resolve_secret().unwrap();
    let b = dev.resolve_secret().unwrap();
    assert_eq!(a.len(), 64);
    assert_ne!(a, b, "random each time: nothing is written anywhere");
}

#[test]
fn the_database_is_sqlite_or_postgres_and_redis_is_optional() {
    let pg =
        "[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"postgres://u:pw@db/app\"";
    let config = Config::from_toml_str(pg).unwrap();
    assert_eq!(config.database.max_connections, 10);
    assert_eq!(config.database.acquire_timeout, Duration::from_secs(3));
    assert!(config.database.migrate);
    assert!(config.redis.is_none());

    let err = Config::from_toml_str_with(MINIMAL, &[("database.url", "mysql://u:secret@db/x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.url"), "{err}");
    assert!(!err.contains("secret"), "the password stays out: {err}");

    let err = Config::from_toml_str(&format!("{MINIMAL}\n[redis]\nurl = \"http://cache\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("redis.url"), "{err}");
    let err = Config::from_toml_str(&format!("{MINIMAL}\n[redis]\nurl = \"rediss://cache\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("redis.url") && err.contains("TLS"), "{err}");
    let err = Config::from_toml_str(&format!(
        "{MINIMAL}\n[redis]\nurl = \"redis://cache\"\ntimeout = \"0s\""
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("redis.timeout"), "{err}");
    let redis = Config::from_toml_str(&format!("{MINIMAL}\n[redis]\nurl = \"redis://cache\""))
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(redis.prefix, "sesame:");
    assert_eq!(redis.timeout, Duration::from_secs(2));
}

/// Several instances on PostgreSQL without Redis would each serve their own
/// cached copy of an ended session: the cache is off there unless set.
#[test]
fn the_session_cache_is_off_on_postgres_without_redis_unless_set() {
    let cache = |toml: &str| Config::from_toml_str(toml).unwrap().session_cache_ttl();
    let pg = "[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"postgres://db/app\"";
    assert_eq!(cache(MINIMAL), Duration::from_secs(30), "sqlite");
    assert_eq!(cache(pg), Duration::ZERO, "postgres alone");
    assert_eq!(
        cache(&format!("{pg}\n[redis]\nurl = \"redis://cache\"")),
        Duration::from_secs(30),
        "postgres with the cache in redis"
    );
    assert_eq!(
        cache(&format!("{pg}\n[session]\ncache_ttl = \"5s\"")),
        Duration::from_secs(5),
        "the lag, accepted"
    );
    assert_eq!(
        cache(&format!("{MINIMAL}\n[session]\ncache_ttl = \"0s\"")),
        Duration::ZERO
    );
}

/// `MINIMAL` in `environment` (production with a secret), plus `providers`
/// (TOML of `[[providers]]`).
fn with_providers(environment: &str, providers: &str) -> Result<Config, ConfigError> {
    let secret = "x".repeat(32);
    Config::from_toml_str(&format!(
        "environment = \"{environment}\"\nsecret = \"{secret}\"\n{MINIMAL}\n{providers}"
    ))
}

const OIDC: &str = r#"
    [[providers]]
    id = "acme"
    kind = "oidc"
    issuer = "https://id.acme.example"
    client_id = "app"
"#;

#[test]
fn a_provider_entry_that_cannot_work_stops_start_up_naming_its_key() {
    let err = |env: &str, toml: &str| with_providers(env, toml).unwrap_err().to_string();
    // No secret at all; an inline one outside development.
    assert!(err("development", OIDC).contains("providers[0].client_secret"));
    let inline = format!("{OIDC}client_secret = \"s\"");
    assert!(with_providers("development", &inline).is_ok());
    let e = err("production", &inline);
    assert!(
        e.contains("providers[0].client_secret") && e.contains("development"),
        "{e}"
    );
    // Two sources at once.
    let e = err(
        "development",
        &format!("{inline}\nclient_secret_env = \"SESAME_TEST_NOT_SET\""),
    );
    assert!(e.contains("providers[0].client_secret"), "{e}");
    // A variable that is not set; a file that is not there.
    let e = err(
        "development",
        &format!("{OIDC}client_secret_env = \"SESAME_TEST_SURELY_NOT_SET\""),
    );
    assert!(e.contains("providers[0].client_secret_env"), "{e}");
    let e = err(
        "development",
        &format!("{OIDC}client_secret_file = \"/nonexistent/secret\""),
    );
    assert!(e.contains("providers[0].client_secret_file"), "{e}");
    // What each kind needs.
    let e = err(
        "development",
        "[[providers]]\nid = \"x\"\nkind = \"oidc\"\nclient_id = \"a\"\nclient_secret = \"s\"",
    );
    assert!(e.contains("providers[0].issuer"), "{e}");
    let e = err(
        "development",
        "[[providers]]\nid = \"x\"\nkind = \"oauth\"\nclient_id = \"a\"\nclient_secret = \"s\"\n\
         authorization_url = \"https://a.example/auth\"",
    );
    assert!(e.contains("providers[0].token_url"), "{e}");
    let e = err(
        "development",
        &format!("{inline}\n[[providers]]\nid = \"acme\"\nkind = \"github\"\nclient_id = \"b\"\nclient_secret = \"s\""),
    );
    assert!(e.contains("providers[1].id"), "{e}");
    for id in ["credentials", "email", "a b", ""] {
        let e = err(
            "development",
            &format!("[[providers]]\nid = \"{id}\"\nkind = \"github\"\nclient_id = \"a\"\nclient_secret = \"s\""),
        );
        assert!(e.contains("providers[0].id"), "{id}: {e}");
    }
    let e = err(
        "development",
        &format!("{OIDC}client_secret = \"s\"\nissuer_typo = \"x\""),
    );
    assert!(e.contains("issuer_typo"), "{e}");
}

#[test]
fn a_client_secret_comes_from_a_file_or_the_environment() {
    use secrecy::ExposeSecret;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "from-the-file\nignored\n").unwrap();
    let config = with_providers(
        "development",
        &format!("{OIDC}client_secret_file = \"{}\"", file.display()),
    )
    .unwrap();
    let secret = config.providers[0].resolve_secret("p", false).unwrap();
    assert_eq!(secret.expose_secret(), "from-the-file");
    // PATH is set wherever the tests run.
    let config =
        with_providers("production", &format!("{OIDC}client_secret_env = \"PATH\"")).unwrap();
    assert!(!config.providers[0]
        .resolve_secret("p", false)
        .unwrap()
        .expose_secret()
        .is_empty());
}

#[test]
fn presets_know_their_urls_and_scopes() {
    use providers::{ProviderConfig, ProviderKind};
    let google = ProviderConfig::google("id");
    assert_eq!(
        google.issuer_url().as_deref(),
        Some("https://accounts.google.com")
    );
    assert!(google.is_oidc());
    assert_eq!(google.display_name(), "Google");
    let microsoft = ProviderConfig::microsoft("id", "contoso.onmicrosoft.com");
    assert_eq!(
        microsoft.issuer_url().as_deref(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
    );
    let e = with_providers(
        "development",
        "[[providers]]\nid = \"ms\"\nkind = \"microsoft\"\nclient_id = \"a\"\nclient_secret = \"s\"\ntenant = \"common\"",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("providers[0].tenant"), "{e}");
    let github = ProviderConfig::github("id");
    assert!(!github.is_oidc());
    assert_eq!(github.issuer_url(), None);
    assert_eq!(github.scope_list(), ["read:user", "user:email"]);
    let acme = ProviderConfig::oidc("acme", "https://id.acme.example", "app");
    assert_eq!(acme.kind, ProviderKind::Oidc);
    assert_eq!(acme.scope_list(), ["openid", "email", "profile"]);
    assert_eq!(acme.display_name(), "acme");
}
