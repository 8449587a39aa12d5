use sesame::server::{config::Config, NewPassword, Sesame, LOG_FILTER};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let logs = tracing_subscriber::EnvFilter::try_from_default_env();
    tracing_subscriber::fmt()
        .with_env_filter(logs.unwrap_or_else(|_| LOG_FILTER.into()))
        .init();
    let options = leptos::prelude::get_configuration(None)?.leptos_options;
    let sesame = Sesame::builder(Config::load("Leptos.toml".as_ref())?)
        .build()
        .await?;
    // A user to sign in with (a real app adds users its own way).
    if sesame.find_user("demo@example.com").await?.is_none() {
        let password = NewPassword::parse("open sesame, demo", &[])?;
        sesame
            .create_user("demo@example.com", &password, None)
            .await?;
    }
    let app = sesame.mount(options.clone(), sesame_minimal::App, sesame_minimal::shell);
    let listener = sesame::server::bind(options.site_addr).await?;
    Ok(sesame::server::serve(listener, app).await?)
}
