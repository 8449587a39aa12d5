//! The Sesame demo app's server: `sesame` serves the app; `sesame user ...`
//! and `sesame sessions ...` administer accounts (see `cli.rs`).

use clap::Parser;
use leptos::prelude::get_configuration;
use sesame::server::{bind, serve, LOG_FILTER};
use sesame_app::{
    cli::{run_admin, Cli, CliError, Command},
    server::{self, AppConfig, AppError},
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| LOG_FILTER.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sesame: {error}");
            std::process::ExitCode::from(error.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let config = AppConfig::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Ok(run_server(config).await?),
        admin => run_admin(config, cli.json, admin).await,
    }
}

async fn run_server(config: AppConfig) -> Result<(), AppError> {
    let options = get_configuration(None)
        .map_err(|e| AppError::Leptos(e.to_string()))?
        .leptos_options;
    let addr = options.site_addr;
    // Configured only in development (a production start with one is refused).
    let demo = config.demo_credentials();
    let site = config.auth.base_url();
    let (app, _sesame) = server::build(config, options).await?;
    #[cfg(feature = "bench")]
    let app = sesame::server::with_bench_routes(app, _sesame.auth());
    let listener = bind(addr).await?;
    println!("Sesame is listening on http://{addr} (site url {site})");
    if let Some((email, password)) = demo {
        println!("Demo user: {email} / {password}");
    }
    serve(listener, app)
        .await
        .map_err(|e| AppError::Cli(format!("serving: {e}")))
}
