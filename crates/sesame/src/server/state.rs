//! `Auth`: the configured auth system, shared by the REST routes, the credentials
//! server function and the pages (through the request's extensions).

use std::sync::Arc;

use crate::server::{
    app::authorize::DatabaseAuthorize,
    app::hooks::Hooks,
    config::{Config, ConfigError},
    defense::audit::{AccountNamer, AuditEvent},
    defense::callback_url::CallbackPolicy,
    defense::csrf::CsrfKeys,
    defense::hash_gate::HashGate,
    defense::keys::Secrets,
    defense::limits::SignInLimits,
    defense::lockout::Lockout,
    mail::Mailer,
    session::store::Sessions,
    stores::tokens::Tokens,
    stores::users::{Identifier, UserStore},
    stores::Backends,
};

/// The auth system. Cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

/// The parts of [`Auth`], reached through it.
#[doc(hidden)]
pub struct Inner {
    pub(crate) config: Config,
    /// Where a `callbackUrl` may send the user.
    pub(crate) policy: CallbackPolicy,
    /// The origins state-changing requests may come from: the site's, then
    /// `site.request_origins`.
    pub(crate) request_origins: Vec<String>,
    pub(crate) secrets: Arc<Secrets>,
    pub(crate) csrf: Arc<CsrfKeys>,
    pub(crate) users: Arc<dyn UserStore>,
    /// Whether `users` is Sesame's own store, in the database of the
    /// sessions (a change to an account and the end of its sessions are
    /// then one transaction).
    pub(crate) own_users: bool,
    /// The application's `authorize`, callbacks and events.
    pub(crate) hooks: Arc<dyn Hooks>,
    pub(crate) sessions: Sessions,
    pub(crate) limits: SignInLimits,
    /// Mail and account-action budgets.
    pub(crate) budgets: crate::server::defense::budgets::Budgets,
    pub(crate) lockout: Lockout,
    pub(crate) gate: Arc<HashGate>,
    pub(crate) accounts: AccountNamer,
    /// Account email.
    pub(crate) mailer: Mailer,
    /// Single-use tokens sent by email.
    pub(crate) tokens: Tokens,
    /// The database and Redis, for `/ready`.
    pub(crate) backends: Backends,
    /// The SQLite connection for the sign-in's read on the request's
    /// thread (shared with the session rows' `INSERT`).
    pub(crate) inline: Option<Arc<crate::server::stores::sqlite::inline::Inline>>,
    /// Which of them were down at the last look.
    pub(crate) health: crate::server::stores::health::Health,
    /// The OAuth and OpenID Connect providers.
    pub(crate) providers: crate::server::providers::Providers,
    /// Links from provider accounts to users.
    pub(crate) links: Arc<dyn crate::server::stores::links::LinkStore>,
    /// The email provider's links.
    pub(crate) sign_in_links: crate::server::stores::sign_in_links::SignInLinks,
    /// Seals the provider flow's cookie.
    pub(crate) flow_sealer: crate::server::defense::sealed::Sealer,
    /// Seals the provider tokens kept in the database.
    pub(crate) token_sealer: crate::server::defense::sealed::Sealer,
    /// The second factors.
    pub(crate) factors: crate::server::factors::Factors,
    /// Passkeys.
    pub(crate) passkeys: crate::server::factors::passkey::Passkeys,
}

impl std::ops::Deref for Auth {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Makes the application's parts once the default `authorize` exists.
pub(crate) type MakeHooks = Box<dyn FnOnce(DatabaseAuthorize) -> Arc<dyn Hooks> + Send>;

/// Assembles an [`Auth`]; every part but the configuration and the
/// application's parts has a default. The backends (users, sessions, tokens,
/// counters) come at [`build`](AuthBuilder::build).
pub(crate) struct AuthBuilder {
    config: Config,
    users: Option<Arc<dyn UserStore>>,
    /// Providers added from code, after the configuration's.
    providers: Vec<crate::server::config::providers::ProviderConfig>,
}

impl AuthBuilder {
    /// Keep users elsewhere (the default is the `users` table of the database).
    pub fn users(mut self, users: impl UserStore) -> Self {
        self.users = Some(Arc::new(users));
        self
    }

    /// A provider besides the configuration's `[[providers]]`.
    pub fn provider(mut self, provider: crate::server::config::providers::ProviderConfig) -> Self {
        self.providers.push(provider);
        self
    }

    /// The configuration it assembles from.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The auth system over `backends`, with the application's parts that `hooks` makes.
    pub fn build(self, backends: Backends, hooks: MakeHooks) -> Result<Auth, ConfigError> {
        let providers = crate::server::providers::Providers::new(&self.config, &self.providers)?;
        let mut secrets = vec![self.config.resolve_secret()?];
        secrets.extend(self.config.previous_secrets()?);
        let secrets = Arc::new(Secrets::new(secrets));
        let secure = self.config.secure_cookies();
        let csrf = Arc::new(CsrfKeys::new(secrets.clone(), secure));
        let limits_config = &self.config.limits;
        let gate = Arc::new(HashGate::new(
            limits_config.hash_concurrency,
            limits_config.hash_queue,
        ));
        let limits = SignInLimits::new(
            backends.rate_limiter(
                "limit:ip",
                limits_config.sign_in_per_ip,
                limits_config.tracked_keys,
            ),
            limits_config.ipv6_prefix,
        );
        let lockout = Lockout::new(
            &limits_config.lockout,
            backends.lockout_counters(&limits_config.lockout),
            secrets.clone(),
            secure,
        );
        let policy = CallbackPolicy::new(
            self.config.site.url.clone(),
            &self.config.site.redirect_origins,
        );
        let request_origins = std::iter::once(self.config.origin())
            .chain(
                self.config
                    .site
                    .request_origins
                    .iter()
                    .map(|u| u.origin().ascii_serialization()),
            )
            .collect();
        let accounts = AccountNamer::new(self.config.audit.account);
        let budgets = crate::server::defense::budgets::Budgets::new(&backends, limits_config);
        let inline = backends.inline();
        let sessions = Sessions::new(
            backends.session_rows_beside(inline.clone()),
            backends.session_cache(self.config.session_cache_ttl()),
        );
        let mailer = Mailer::new(&self.config)?;
        let passkeys =
            crate::server::factors::passkey::Passkeys::new(&self.config, backends.passkeys())?;
        let tokens = Tokens::new(backends.tokens());
        let own_users = self.users.is_none();
        let users = self.users.unwrap_or_else(|| backends.users());
        let hooks = hooks(
            DatabaseAuthorize::new(users.clone(), gate.clone())
                .allow_unverified(self.config.accounts.unverified_sign_in),
        );
        Ok(Auth(Arc::new(Inner {
            config: self.config,
            policy,
            request_origins,
            csrf,
            users,
            own_users,
            hooks,
            sessions,
            limits,
            budgets,
            lockout,
            gate,
            accounts,
            mailer,
            tokens,
            links: backends.links(),
            sign_in_links: crate::server::stores::sign_in_links::SignInLinks::new(
                backends.sign_in_links(),
            ),
            flow_sealer: crate::server::defense::sealed::Sealer::new(&secrets, "oauth-flow"),
            token_sealer: crate::server::defense::sealed::Sealer::new(&secrets, "provider-tokens"),
            passkeys,
            factors: crate::server::factors::Factors::new(
                backends.factors(),
                secrets.clone(),
                secure,
            ),
            secrets,
            inline,
            backends,
            health: Default::default(),
            providers,
        })))
    }
}

impl Auth {
    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The hashing gate: password verifications run so far, slots busy,
    /// jobs waiting (for metrics and tests).
    pub fn hash_gate(&self) -> &HashGate {
        &self.gate
    }

    /// Accounts and devices the lockout is counting failures for now.
    pub fn tracked_accounts(&self) -> u64 {
        self.lockout.tracked()
    }

    /// Sessions stored and not yet expired.
    pub async fn live_sessions(&self) -> Result<i64, sqlx::Error> {
        self.sessions.count_live().await
    }

    /// Starts assembling an auth system.
    pub(crate) fn builder(config: Config) -> AuthBuilder {
        AuthBuilder {
            config,
            users: None,
            providers: Vec::new(),
        }
    }

    /// `<site>/api/auth<path>` as an absolute URL.
    pub fn api_url(&self, path: &str) -> String {
        format!(
            "{}{}{path}",
            self.config.base_url(),
            crate::wire::routes::BASE
        )
    }

    /// The sign-in page: `pages.sign_in` or the built-in one.
    pub fn sign_in_page(&self) -> &str {
        self.config
            .pages
            .sign_in
            .as_deref()
            .unwrap_or(crate::wire::routes::SIGN_IN)
    }

    /// The page for the second factors: `pages.security` or the built-in one.
    pub fn security_page(&self) -> &str {
        self.config
            .pages
            .security
            .as_deref()
            .unwrap_or(crate::wire::routes::SECURITY_PAGE)
    }

    /// How the audit events name `account`.
    pub fn audit_account(&self, account: &Identifier) -> String {
        self.accounts.name(&self.secrets, account)
    }

    /// Logs an audit event and hands it to the application's [`Events`](super::Events).
    pub async fn audit(&self, event: AuditEvent) {
        event.log();
        self.hooks.audit(&event).await;
    }

    /// The `callbackUrl` policy through the `redirect` callback.
    pub fn resolve_callback(&self, raw: Option<&str>) -> Result<String, crate::wire::AuthError> {
        self.hooks.redirect(raw, &self.policy)
    }
}
