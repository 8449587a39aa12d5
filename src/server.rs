//! Assembles the axum application: the database, the auth system, the REST
//! routes, the Leptos pages and server functions, and the layers around them.
//! `main.rs` and the black-box tests both start the app through [`build`].

use std::net::SocketAddr;

use axum::{middleware, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::{
    app::{shell, App},
    auth::server::{
        authorize::create_user,
        config::{Config, ConfigError},
        db::{self, DbError},
        edge, guard,
        password::NewPassword,
        routes, security, session, session_check,
        state::{Auth, AuthBuilder},
        users::Email,
    },
};

/// The default log filter: Sesame's events at `info`, chatty dependencies at `warn`.
pub const LOG_FILTER: &str = "info,sqlx=warn,tower_sessions=warn";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("demo user: {0}")]
    DemoUser(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Opens the database and builds the application around the default [`Auth`].
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<(Router, Auth), StartError> {
    build_with(config, leptos_options, |auth| auth).await
}

/// Like [`build`], with the application's own parts (`authorize`, callbacks,
/// events, user store) set on the [`AuthBuilder`].
pub async fn build_with(
    config: Config,
    leptos_options: LeptosOptions,
    customize: impl FnOnce(AuthBuilder) -> AuthBuilder,
) -> Result<(Router, Auth), StartError> {
    let pool = db::connect(&config.database.url).await?;
    let auth = customize(Auth::builder(config, pool)).build()?;
    ensure_demo_user(&auth).await?;
    // The dummy hash for unknown emails, computed once before the first sign-in.
    let _ = auth
        .gate
        .run(|| crate::auth::server::password::dummy_hash().len())
        .await;
    spawn_session_cleanup(&auth);
    Ok((router(&auth, leptos_options), auth))
}

/// The app's routes, generated once per process. Generating them runs the app
/// with resource loading suppressed by a process-wide flag: a resource that an
/// SSR render (of another app instance in the same process) first polls in that
/// window waits forever (leptos#4773). Done once, before any instance serves,
/// no render can overlap it; the black-box tests, which start many instances
/// in one process, hung now and then before.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The application for a configured [`Auth`]: the routes inside one stack of
/// layers, with the session check's fast path ([`session_check`]) in front.
pub fn router(auth: &Auth, leptos_options: LeptosOptions) -> Router {
    let routes = route_list();
    // A plain axum API route behind the auth layer (an example for apps).
    let api = Router::new()
        .route("/api/me", axum::routing::get(guard::me))
        .route_layer(middleware::from_fn(guard::require_auth));
    // The pages and server functions carry `LeptosOptions` as router state; axum
    // clones a router's state for every request it routes, so the REST routes
    // (which never read it) live outside that router.
    let pages = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, security::provide_leptos_nonce, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(middleware::from_fn(crate::auth::server::preload_session))
        .with_state(leptos_options);
    // One stack, outermost first. A `ServiceBuilder` nests the layers as plain
    // types; a `.layer()` call each would box every layer around every route.
    let layers = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(Extension(auth.clone()))
        .layer(middleware::from_fn(edge::edge))
        .layer(RequestBodyLimitLayer::new(auth.config.limits.body_bytes))
        .layer(session::layer(auth.sessions.clone(), &auth.config));
    let app = Router::new()
        .merge(routes::router())
        .merge(api)
        .merge(pages)
        .layer(layers);
    session_check::in_front_of(app, auth.clone())
}

/// Benchmark-only routes (`make bench`), outside every layer:
/// - `/bench/ceiling`: the ceiling of the session-check benchmark, a bare axum
///   handler answering the same JSON as `/api/auth/session` from a constant;
/// - `/bench/argon2`: one argon2id verification with the server's parameters,
///   alone on a blocking thread; answers its duration in microseconds, so the
///   bench can interleave it with sign-ins and compare like with like.
#[cfg(feature = "bench")]
pub fn with_bench_ceiling(app: Router) -> Router {
    use crate::auth::server::password;
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

/// Binds `addr` and serves `app` until the process ends.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

async fn ensure_demo_user(auth: &Auth) -> Result<(), StartError> {
    let Some(demo) = &auth.config.demo_user else {
        return Ok(());
    };
    let email = Email::parse(&demo.email).map_err(|e| StartError::DemoUser(e.to_string()))?;
    let existing = auth
        .users
        .find_by_email(&email)
        .await
        .map_err(|e| StartError::DemoUser(e.to_string()))?;
    if existing.is_none() {
        use secrecy::ExposeSecret;
        let context = [demo.email.as_str(), demo.name.as_deref().unwrap_or("")];
        let password = NewPassword::parse(demo.password.expose_secret(), &context)
            .map_err(|e| StartError::DemoUser(e.to_string()))?;
        create_user(
            auth.users.as_ref(),
            &auth.gate,
            email.as_str(),
            &password,
            demo.name.clone(),
        )
        .await
        .map_err(|e| StartError::DemoUser(e.to_string()))?;
    }
    Ok(())
}

/// Deletes expired sessions and forgets idle rate-limit and lockout keys every
/// ten minutes.
fn spawn_session_cleanup(auth: &Auth) {
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

/// Binds a listener, turning the error into a [`StartError`].
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}
