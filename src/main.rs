//! The Sesame server: `sesame` serves the app; `sesame create-user` adds a user.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use leptos::prelude::get_configuration;
use secrecy::ExposeSecret;
use sesame::{
    auth::server::{
        authorize::create_user,
        config::{Config, Environment},
        db,
        password::NewPassword,
        state::Auth,
    },
    server,
};

#[derive(Parser)]
#[command(version, about = "NextAuth-style credentials sign-in for Leptos")]
struct Cli {
    /// The auth configuration file (environment variables SESAME_* override it).
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
                .unwrap_or_else(|_| server::LOG_FILTER.into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sesame: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(&cli.config).map_err(|e| e.to_string())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::CreateUser { email, name } => {
            let raw = match std::env::var("SESAME_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| e.to_string())?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let context = [email.as_str(), name.as_deref().unwrap_or("")];
            let password = NewPassword::parse(raw, &context).map_err(|e| e.to_string())?;
            let pool = db::connect(&config.database.url)
                .await
                .map_err(|e| e.to_string())?;
            let auth = Auth::new(config, pool).map_err(|e| e.to_string())?;
            let user = create_user(auth.users.as_ref(), &auth.gate, &email, &password, name)
                .await
                .map_err(|e| e.to_string())?;
            println!("created user {} ({})", user.email, user.id);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let leptos_options = get_configuration(None)
        .map_err(|e| e.to_string())?
        .leptos_options;
    let addr = leptos_options.site_addr;
    // Configured only in development (a production start with one is refused).
    let demo = config
        .demo_user
        .as_ref()
        .filter(|_| config.environment == Environment::Development)
        .map(|d| (d.email.clone(), d.password.expose_secret().to_string()));
    let site = config.base_url();
    let (app, _auth) = server::build(config, leptos_options)
        .await
        .map_err(|e| e.to_string())?;
    #[cfg(feature = "bench")]
    let app = server::with_bench_ceiling(app);
    let listener = server::bind(addr).await.map_err(|e| e.to_string())?;
    println!("Sesame is listening on http://{addr} (site url {site})");
    if let Some((email, password)) = demo {
        println!("Demo user: {email} / {password}");
    }
    server::serve(listener, app)
        .await
        .map_err(|e| e.to_string())
}
