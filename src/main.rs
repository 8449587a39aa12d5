//! The Sesame demo app's server: `sesame` serves the app; `sesame create-user`
//! adds a user.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use leptos::prelude::get_configuration;
use sesame::server::{bind, serve, NewPassword, Sesame, LOG_FILTER};
use sesame_app::server::{self, AppConfig, AppError};

#[derive(Parser)]
#[command(version, about = "NextAuth-style credentials sign-in for Leptos")]
struct Cli {
    /// The configuration file (environment variables SESAME_* override it).
    #[arg(long, env = "SESAME_CONFIG", default_value = "Leptos.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Create a user; the password is read from SESAME_NEW_PASSWORD or stdin.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| LOG_FILTER.into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sesame: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), AppError> {
    let config = AppConfig::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => run_server(config).await,
        Command::CreateUser { email, name } => create_user(config, email, name).await,
    }
}

async fn create_user(
    config: AppConfig,
    email: String,
    name: Option<String>,
) -> Result<(), AppError> {
    let raw = match std::env::var("SESAME_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| AppError::Cli(format!("reading the password: {e}")))?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let context = [email.as_str(), name.as_deref().unwrap_or("")];
    let password = NewPassword::parse(raw, &context).map_err(|e| AppError::Cli(e.to_string()))?;
    let sesame = Sesame::builder(config.auth).build().await?;
    let user = sesame
        .create_user(&email, &password, name)
        .await
        .map_err(|e| AppError::Cli(e.to_string()))?;
    println!("created user {} ({})", user.email, user.id);
    Ok(())
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
    let app = sesame::server::mount::with_bench_routes(app);
    let listener = bind(addr).await?;
    println!("Sesame is listening on http://{addr} (site url {site})");
    if let Some((email, password)) = demo {
        println!("Demo user: {email} / {password}");
    }
    serve(listener, app)
        .await
        .map_err(|e| AppError::Cli(format!("serving: {e}")))
}
