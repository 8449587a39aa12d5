//! Mounting Sesame into an axum + Leptos app: [`Sesame::builder`] opens the
//! database and assembles the auth system; [`Sesame::mount`] puts the app's
//! Leptos routes, Sesame's REST routes and server function, and the layers (in
//! their one right order) into a `Router`, with the session check's fast path
//! in front.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    marker::PhantomData,
    net::SocketAddr,
    sync::Arc,
};

use axum::{middleware, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::server::{
    app::app_user::{AuthUser, AuthorizedUser},
    app::authorize::{create_user, Authorize, AuthorizeError, DatabaseAuthorize},
    app::callbacks::{Callbacks, Defaults, Events},
    app::hooks::{Hooks, Typed},
    config::{Config, ConfigError},
    defense::password::{self, NewPassword},
    http::admin_route,
    http::availability,
    http::edge,
    http::headers,
    http::refusal_hold,
    http::rest,
    http::session_check,
    session::lifecycle,
    state::{Auth, AuthBuilder},
    stores::users::{Email, UserRecord, UserStore},
    stores::{BackendError, Backends},
};

/// The default log filter: Sesame's events at `info`, chatty dependencies at `warn`.
pub const LOG_FILTER: &str = "info,sqlx=warn,tower_sessions=warn";

/// Why Sesame could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid (the message names the key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// `callbacks` or `events` were set for another user type than the one
    /// `authorize` returns.
    #[error(
        "callbacks and events were set for another user type than `authorize` returns: \
         set `authorize` first"
    )]
    UserType,
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
}

/// Makes the application's `authorize` once the default one exists.
type MakeAuthorize<U> = Box<dyn FnOnce(DatabaseAuthorize) -> Arc<dyn Authorize<User = U>> + Send>;

/// Assembles [`Sesame`]: the configuration plus the application's own parts,
/// each with a default. `U` is the application's user type: the one its
/// `authorize` returns ([`AuthorizedUser`] by default).
pub struct SesameBuilder<U: AuthUser = AuthorizedUser> {
    auth: AuthBuilder,
    routes: Router,
    authorize: MakeAuthorize<U>,
    callbacks: Option<Arc<dyn Callbacks<U>>>,
    events: Option<Arc<dyn Events<U>>>,
    /// Set when `authorize` changed the user type under callbacks or events.
    user_type_changed: bool,
}

impl<U: AuthUser> SesameBuilder<U> {
    /// The application's credentials check (default: argon2id against the
    /// users), and with it the user type. Set it before the callbacks and
    /// events, which are written for that type.
    pub fn authorize<A: Authorize>(self, authorize: A) -> SesameBuilder<A::User> {
        self.authorize_with(move |_| authorize)
    }

    /// The application's credentials check made from Sesame's own (argon2id
    /// against the user store, ready once the database is open): wrap it to
    /// return your own user type.
    ///
    /// ```
    /// use sesame::server::{
    ///     async_trait, AuthUser, Authorize, AuthorizeError, Credentials, DatabaseAuthorize,
    /// };
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct Member { id: String, email: String, admin: bool }
    /// # impl AuthUser for Member {
    /// #     fn id(&self) -> String { self.id.clone() }
    /// #     fn email(&self) -> &str { &self.email }
    /// # }
    ///
    /// struct Members(DatabaseAuthorize);
    ///
    /// #[async_trait]
    /// impl Authorize for Members {
    ///     type User = Member;
    ///     async fn authorize(&self, c: &Credentials) -> Result<Option<Member>, AuthorizeError> {
    ///         Ok(self.0.authorize(c).await?.map(|user| Member {
    ///             admin: user.email.ends_with("@example.com"),
    ///             id: user.id,
    ///             email: user.email,
    ///         }))
    ///     }
    /// }
    /// # fn build(builder: sesame::server::SesameBuilder) -> sesame::server::SesameBuilder<Member> {
    /// builder.authorize_with(Members)
    /// # }
    /// ```
    pub fn authorize_with<A: Authorize>(
        self,
        make: impl FnOnce(DatabaseAuthorize) -> A + Send + 'static,
    ) -> SesameBuilder<A::User> {
        let (callbacks, kept_callbacks) = retype(self.callbacks);
        let (events, kept_events) = retype(self.events);
        SesameBuilder {
            auth: self.auth,
            routes: self.routes,
            authorize: Box::new(move |database| Arc::new(make(database))),
            callbacks,
            events,
            user_type_changed: self.user_type_changed || !kept_callbacks || !kept_events,
        }
    }

    /// Keep users elsewhere (default: the `users` table of the database).
    pub fn users(mut self, users: impl UserStore) -> Self {
        self.auth = self.auth.users(users);
        self
    }

    /// NextAuth's callbacks (`signIn`, `redirect`, `session`).
    pub fn callbacks(mut self, callbacks: impl Callbacks<U>) -> Self {
        self.callbacks = Some(Arc::new(callbacks));
        self
    }

    /// NextAuth's events (`signIn`, `signOut`) and the audit events.
    pub fn events(mut self, events: impl Events<U>) -> Self {
        self.events = Some(Arc::new(events));
        self
    }

    /// An OAuth 2.0 or OpenID Connect provider besides the configuration's
    /// `[[providers]]`:
    ///
    /// ```
    /// use sesame::server::config::providers::ProviderConfig;
    /// # fn install(builder: sesame::server::SesameBuilder) -> sesame::server::SesameBuilder {
    /// builder
    ///     .provider(ProviderConfig::github("Iv1.0123456789abcdef").secret_from_env("GITHUB_SECRET"))
    ///     .provider(
    ///         ProviderConfig::oidc("acme", "https://id.acme.example", "sesame-app")
    ///             .secret_from_file("/run/secrets/acme"),
    ///     )
    /// # }
    /// ```
    pub fn provider(mut self, provider: crate::server::config::providers::ProviderConfig) -> Self {
        self.auth = self.auth.provider(provider);
        self
    }

    /// The application's own axum routes (an API, say), served inside Sesame's
    /// layers: their handlers see the session, and may sit behind
    /// [`require_auth`](crate::server::http::guard::require_auth).
    pub fn routes(mut self, routes: Router) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    /// Opens (and migrates) the database, assembles the auth system and
    /// makes the dummy hash for unknown emails. Needs a Tokio runtime.
    pub async fn build(self) -> Result<Sesame, StartError> {
        if self.user_type_changed {
            return Err(StartError::UserType);
        }
        let backends = Backends::connect(self.auth.config()).await?;
        let (make, callbacks, events) = (self.authorize, self.callbacks, self.events);
        let hooks = Box::new(move |database| -> Arc<dyn Hooks> {
            Arc::new(Typed {
                authorize: make(database),
                callbacks: callbacks.unwrap_or_else(|| Arc::new(Defaults)),
                events: events.unwrap_or_else(|| Arc::new(Defaults)),
                user: PhantomData,
            })
        });
        let auth = self.auth.build(backends, hooks)?;
        // Made once before the first sign-in (no hashing: see dummy_hash).
        let _ = password::dummy_hash();
        Ok(Sesame {
            auth,
            routes: self.routes,
        })
    }
}

/// A callbacks or events object set for user type `T`, for user type `V`:
/// kept when the two are the same type; `false` when one was set and is lost.
fn retype<T: ?Sized + 'static, V: ?Sized + 'static>(
    part: Option<Arc<T>>,
) -> (Option<Arc<V>>, bool) {
    let Some(part) = part else {
        return (None, true);
    };
    let boxed: Box<dyn Any> = Box::new(part);
    match boxed.downcast::<Arc<V>>() {
        Ok(same) => (Some(*same), true),
        Err(_) => (None, false),
    }
}

/// Sesame, configured and started: mount it with [`Sesame::mount`].
#[derive(Clone)]
pub struct Sesame {
    auth: Auth,
    routes: Router,
}

impl Sesame {
    /// Starts from the auth configuration ([`Config::load`] reads `Leptos.toml`).
    pub fn builder(config: Config) -> SesameBuilder {
        SesameBuilder {
            auth: Auth::builder(config),
            routes: Router::new(),
            authorize: Box::new(|database| Arc::new(database)),
            callbacks: None,
            events: None,
            user_type_changed: false,
        }
    }

    /// The auth system (its configuration, stores and limits).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Adds a user to the configured user store, hashing the password with the
    /// server's parameters. An existing email is an error.
    pub async fn create_user(
        &self,
        email: &str,
        password: &NewPassword,
        name: Option<String>,
    ) -> Result<UserRecord, AuthorizeError> {
        create_user(
            self.auth.users.as_ref(),
            &self.auth.gate,
            email,
            password,
            name,
        )
        .await
    }

    /// The user with this email, if any (the email is parsed as at sign-in).
    pub async fn find_user(&self, email: &str) -> Result<Option<UserRecord>, AuthorizeError> {
        let email = Email::parse(email).map_err(|e| AuthorizeError::Other(e.to_string()))?;
        Ok(self.auth.users.find_by_email(&email).await?)
    }

    /// The whole application: `app`'s Leptos routes rendered in `shell`,
    /// Sesame's REST routes and credentials server function, the app's own
    /// [`routes`](SesameBuilder::routes), all inside one stack of layers
    /// (tracing, the auth system, the edge checks, the body limit, sessions),
    /// with the session check's fast path in front. Also starts the cleanup
    /// task of the served app (expired sessions, idle rate-limit and lockout
    /// keys): mount once, inside a Tokio runtime.
    pub fn mount<F, IV, SV>(
        &self,
        options: LeptosOptions,
        app: F,
        shell: fn(LeptosOptions) -> SV,
    ) -> Router
    where
        F: Fn() -> IV + Clone + Send + Sync + 'static,
        IV: IntoView + 'static,
        SV: IntoView + 'static,
    {
        let auth = &self.auth;
        spawn_cleanup(auth);
        // The pages and server functions carry `LeptosOptions` as router state;
        // axum clones a router's state for every request it routes, so the REST
        // routes (which never read it) live outside that router.
        let pages = Router::new()
            .leptos_routes_with_context(&options, route_list(app), headers::provide_leptos_nonce, {
                let options = options.clone();
                move || shell(options.clone())
            })
            .fallback(leptos_axum::file_and_error_handler(shell))
            .layer(middleware::from_fn(
                crate::server::http::page_session::preload_session,
            ))
            .with_state(options);
        // One stack, outermost first. A `ServiceBuilder` nests the layers as
        // plain types; a `.layer()` call each would box every layer around
        // every route.
        let layers = ServiceBuilder::new()
            // The span names the path, never the query: link pages carry
            // their token there (`?token=`).
            .layer(
                TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                    tracing::debug_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        version = ?req.version(),
                    )
                }),
            )
            .layer(Extension(auth.clone()))
            .layer(middleware::from_fn(edge::edge))
            .layer(RequestBodyLimitLayer::new(auth.config.limits.body_bytes))
            .layer(lifecycle::layer(auth.sessions.clone(), &auth.config));
        let app = Router::new()
            .merge(rest::router())
            .merge(crate::server::http::provider_routes::router())
            .merge(crate::server::http::second_factor_route::router())
            .merge(crate::server::http::passkey_routes::router())
            .merge(self.routes.clone())
            .merge(pages)
            .layer(layers);
        availability::watch(auth);
        let guarded = Router::new()
            .route(
                availability::HEALTH_PATH,
                axum::routing::get(availability::health),
            )
            .route(
                availability::READY_PATH,
                axum::routing::get(availability::ready),
            )
            .route(
                admin_route::ADMIN_PATH,
                axum::routing::post(admin_route::admin),
            )
            .merge(app)
            .layer(
                ServiceBuilder::new()
                    .layer(middleware::from_fn_with_state(
                        auth.clone(),
                        refusal_hold::hold_refusals,
                    ))
                    .layer(Extension(auth.clone()))
                    .layer(middleware::from_fn(availability::availability)),
            );
        // The session check's fast path is in front of everything, the
        // availability middleware included: it answers only while every
        // backend is up and its read succeeded, and hands anything else to
        // the guarded stack, which answers as before.
        session_check::in_front_of(guarded, auth.clone())
    }
}

/// The routes of an app, generated once per app per process. Generating them
/// runs the app with resource loading suppressed by a process-wide flag: a
/// resource that an SSR render (of another instance in the same process) first
/// polls in that window waits forever (leptos#4773). Done once, before any
/// instance serves, no render can overlap it.
fn route_list<F, IV>(app: F) -> Vec<AxumRouteListing>
where
    F: Fn() -> IV + Clone + Send + 'static,
    IV: IntoView + 'static,
{
    type Lists = std::sync::Mutex<HashMap<TypeId, Vec<AxumRouteListing>>>;
    static ROUTES: std::sync::OnceLock<Lists> = std::sync::OnceLock::new();
    let mut lists = ROUTES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    lists
        .entry(TypeId::of::<F>())
        .or_insert_with(|| generate_route_list(app))
        .clone()
}

/// Binds `addr` for [`serve`].
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}

/// Serves `app` (with each request's peer address, for the per-IP limits)
/// until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Deletes expired sessions, second-factor steps and trusted browsers, and forgets idle rate-limit and lockout keys every
/// ten minutes.
fn spawn_cleanup(auth: &Auth) {
    let auth = auth.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            auth.limits.per_ip.shrink();
            auth.budgets.shrink();
            auth.lockout.shrink();
            match auth.sessions.delete_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "expired sessions removed"),
                Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
            }
            if let Err(e) = auth
                .factors
                .store
                .purge(crate::server::factors::now())
                .await
            {
                tracing::warn!(error = %e, "second-factor cleanup failed");
            }
            if let Err(e) = auth
                .passkeys
                .store
                .purge(crate::server::factors::now())
                .await
            {
                tracing::warn!(error = %e, "passkey ceremony cleanup failed");
            }
        }
    });
}

/// Benchmark-only routes (`make bench`), outside every layer:
/// - `/bench/ceiling`: the ceiling of the session-check benchmark, a bare axum
///   handler answering the same JSON as `/api/auth/session` from a constant;
/// - `/bench/argon2`: one argon2id verification with the server's parameters,
///   run as a job of `auth`'s hashing gate (the thread, the priority and the
///   working memory a sign-in's verification gets, and no other thread's
///   19 MiB kept); answers its duration on that thread in microseconds, so the
///   bench can interleave it with sign-ins and compare like with like.
#[cfg(feature = "bench")]
pub fn with_bench_routes(app: Router, auth: &Auth) -> Router {
    const SESSION: &str = r#"{"user":{"name":"Demo User","email":"demo@example.com","image":null},"expires":"2026-12-25T00:00:00Z"}"#;
    let gate = auth.gate.clone();
    let argon2 = move || {
        let gate = gate.clone();
        async move {
            let timed = gate
                .run(|| {
                    let password =
                        password::Password::parse("bench password, not a secret").ok()?;
                    let start = std::time::Instant::now();
                    password::verify_here(&password, password::dummy_hash()).ok()?;
                    Some(start.elapsed().as_micros().to_string())
                })
                .await;
            match timed {
                Ok(Some(micros)) => Ok(micros),
                _ => Err(http::StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
    };
    app.merge(
        Router::new()
            .route(
                "/bench/ceiling",
                axum::routing::get(|| async {
                    ([(http::header::CONTENT_TYPE, "application/json")], SESSION)
                }),
            )
            .route("/bench/argon2", axum::routing::get(argon2)),
    )
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::server::app::authorize::Credentials;

    #[derive(Clone, Serialize, Deserialize)]
    struct Member {
        id: String,
        email: String,
    }

    impl AuthUser for Member {
        fn id(&self) -> String {
            self.id.clone()
        }
        fn email(&self) -> &str {
            &self.email
        }
    }

    struct Members;

    #[async_trait::async_trait]
    impl Authorize for Members {
        type User = Member;
        async fn authorize(&self, _: &Credentials) -> Result<Option<Member>, AuthorizeError> {
            Ok(None)
        }
    }

    struct Noted;
    impl Callbacks for Noted {}
    impl Callbacks<Member> for Noted {}
    impl Events for Noted {}

    fn config() -> Config {
        Config::from_toml_str(
            "secret = \"a test secret, thirty-two bytes long\"\n\
             [site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"sqlite::memory:\"",
        )
        .unwrap()
    }

    #[test]
    fn parts_are_kept_across_authorize_when_the_user_type_stays() {
        let (kept, ok) = retype::<dyn Callbacks, dyn Callbacks>(Some(Arc::new(Noted)));
        assert!(kept.is_some() && ok);
        let (none, ok) = retype::<dyn Callbacks, dyn Callbacks<Member>>(None);
        assert!(none.is_none() && ok, "nothing set, nothing lost");
        let (lost, ok) = retype::<dyn Callbacks, dyn Callbacks<Member>>(Some(Arc::new(Noted)));
        assert!(lost.is_none() && !ok);
    }

    #[tokio::test]
    async fn callbacks_or_events_for_another_user_type_stop_the_start() {
        let built = Sesame::builder(config())
            .callbacks(Noted)
            .authorize(Members)
            .build()
            .await;
        assert!(matches!(built, Err(StartError::UserType)));
        let built = Sesame::builder(config())
            .events(Noted)
            .authorize(Members)
            .build()
            .await;
        assert!(matches!(built, Err(StartError::UserType)));
        // In the right order, the same parts start.
        let built = Sesame::builder(config())
            .authorize(Members)
            .callbacks(Noted)
            .build()
            .await;
        if let Err(e) = built {
            panic!("{e}");
        }
    }
}
