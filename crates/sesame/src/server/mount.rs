//! Mounting Sesame into an axum + Leptos app: [`Sesame::builder`] opens the
//! database and assembles the auth system; [`Sesame::mount`] puts the app's
//! Leptos routes, Sesame's REST routes and server function, and the layers (in
//! their one right order) into a `Router`, with the session check's fast path
//! in front.

use std::{any::TypeId, collections::HashMap, net::SocketAddr};

use axum::{middleware, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use super::{
    authorize::{create_user, Authorize, AuthorizeError},
    callbacks::{Callbacks, Events},
    config::{Config, ConfigError},
    db::{self, DbError},
    edge,
    password::{self, NewPassword},
    routes, security, session, session_check,
    state::{Auth, AuthBuilder},
    users::{Email, UserRecord, UserStore},
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
    Db(#[from] DbError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
}

/// Assembles [`Sesame`]: the configuration plus the application's own parts,
/// each with a default.
pub struct SesameBuilder {
    auth: AuthBuilder,
    routes: Router,
}

impl SesameBuilder {
    /// The application's credentials check (default: argon2id against the users).
    pub fn authorize(mut self, authorize: impl Authorize) -> Self {
        self.auth = self.auth.authorize(authorize);
        self
    }

    /// Keep users elsewhere (default: the `users` table of the database).
    pub fn users(mut self, users: impl UserStore) -> Self {
        self.auth = self.auth.users(users);
        self
    }

    /// NextAuth's callbacks (`signIn`, `redirect`, `session`).
    pub fn callbacks(mut self, callbacks: impl Callbacks) -> Self {
        self.auth = self.auth.callbacks(callbacks);
        self
    }

    /// NextAuth's events (`signIn`, `signOut`) and the audit events.
    pub fn events(mut self, events: impl Events) -> Self {
        self.auth = self.auth.events(events);
        self
    }

    /// The application's own axum routes (an API, say), served inside Sesame's
    /// layers: their handlers see the session, and may sit behind
    /// [`require_auth`](super::guard::require_auth).
    pub fn routes(mut self, routes: Router) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    /// Opens (and migrates) the database, assembles the auth system and
    /// computes the dummy hash for unknown emails. Needs a Tokio runtime.
    pub async fn build(self) -> Result<Sesame, StartError> {
        let pool = db::connect(&self.auth.config().database.url).await?;
        let auth = self.auth.build(pool)?;
        // Computed once before the first sign-in, off the request path.
        let _ = auth.gate.run(|| password::dummy_hash().len()).await;
        Ok(Sesame {
            auth,
            routes: self.routes,
        })
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
            .leptos_routes_with_context(
                &options,
                route_list(app),
                security::provide_leptos_nonce,
                {
                    let options = options.clone();
                    move || shell(options.clone())
                },
            )
            .fallback(leptos_axum::file_and_error_handler(shell))
            .layer(middleware::from_fn(super::preload_session))
            .with_state(options);
        // One stack, outermost first. A `ServiceBuilder` nests the layers as
        // plain types; a `.layer()` call each would box every layer around
        // every route.
        let layers = ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(Extension(auth.clone()))
            .layer(middleware::from_fn(edge::edge))
            .layer(RequestBodyLimitLayer::new(auth.config.limits.body_bytes))
            .layer(session::layer(auth.sessions.clone(), &auth.config));
        let app = Router::new()
            .merge(routes::router())
            .merge(self.routes.clone())
            .merge(pages)
            .layer(layers);
        session_check::in_front_of(app, auth.clone())
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

/// Deletes expired sessions and forgets idle rate-limit and lockout keys every
/// ten minutes.
fn spawn_cleanup(auth: &Auth) {
    let auth = auth.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            auth.limits.per_ip.shrink();
            auth.lockout.shrink();
            match auth.sessions.delete_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "expired sessions removed"),
                Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
            }
        }
    });
}

/// Benchmark-only routes (`make bench`), outside every layer:
/// - `/bench/ceiling`: the ceiling of the session-check benchmark, a bare axum
///   handler answering the same JSON as `/api/auth/session` from a constant;
/// - `/bench/argon2`: one argon2id verification with the server's parameters,
///   alone on a blocking thread; answers its duration in microseconds, so the
///   bench can interleave it with sign-ins and compare like with like.
#[cfg(feature = "bench")]
pub fn with_bench_routes(app: Router) -> Router {
    const SESSION: &str = r#"{"user":{"name":"Demo User","email":"demo@example.com","image":null},"expires":"2026-12-25T00:00:00Z"}"#;
    let argon2 = || async {
        let timed = tokio::task::spawn_blocking(|| {
            let password = password::Password::parse("bench password, not a secret").ok()?;
            let start = std::time::Instant::now();
            password::verify_here(&password, password::dummy_hash()).ok()?;
            Some(start.elapsed().as_micros().to_string())
        })
        .await;
        match timed {
            Ok(Some(micros)) => Ok(micros),
            _ => Err(http::StatusCode::INTERNAL_SERVER_ERROR),
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
