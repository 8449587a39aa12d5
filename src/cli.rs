//! The server binary's command line: `serve` (the default) and the admin
//! commands over Sesame's user store (`user ...`, `sessions ...`). Passwords
//! are read from `SESAME_NEW_PASSWORD` or standard input, never from an
//! argument (which other users of the machine could see). `--json` prints one
//! JSON document for scripts. Exit codes: 0 done, 1 failure, 2 usage,
//! 3 no such user, 4 input refused (password policy, an existing email).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde::Serialize;
use sesame::server::{AccountError, AuthorizeError, InviteError, NewPassword, Sesame, UserRecord};

use crate::server::{AppConfig, AppError};

#[derive(Parser)]
#[command(version, about = "NextAuth-style credentials sign-in for Leptos")]
pub struct Cli {
    /// The configuration file (environment variables SESAME_* override it).
    #[arg(
        long,
        env = "SESAME_CONFIG",
        default_value = "Leptos.toml",
        global = true
    )]
    pub config: PathBuf,
    /// Print JSON (for scripts) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the app (the default).
    Serve,
    /// Apply the database migrations and exit: run it once before starting
    /// several instances with `database.migrate = false`.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// List or end a user's sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user (verified); the password is read from SESAME_NEW_PASSWORD or stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Invite a user: creates the account and emails a link that sets its
    /// password (and confirms the address).
    Invite {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List every user.
    List,
    /// Disable a user: they cannot sign in, and their sessions end at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Set a user's password (from SESAME_NEW_PASSWORD or stdin); ends their sessions.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Mark a user's email as verified.
    VerifyEmail {
        #[arg(long)]
        email: String,
    },
    /// Clear a user's sign-in lockout (its failures and a hard lock).
    Unlock {
        #[arg(long)]
        email: String,
    },
    /// List a user's second factors (authenticator app, recovery codes left,
    /// passkeys, trusted browsers).
    Factors {
        #[arg(long)]
        email: String,
    },
    /// Remove a user's authenticator app, recovery codes, passkeys and
    /// trusted browsers (they lost their device); the user is told by email.
    ResetFactors {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
pub enum SessionsCommand {
    /// List a user's live sessions.
    List {
        /// The user's email.
        #[arg(long)]
        user: String,
    },
    /// End every session of a user.
    Revoke {
        /// The user's email.
        #[arg(long)]
        user: String,
    },
}

/// Why a command failed, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("no user has the email {0}")]
    NoSuchUser(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::NoSuchUser(_) => 3,
            CliError::Refused(_) => 4,
            CliError::App(_) | CliError::Failed(_) => 1,
        }
    }

    fn account(email: &str, error: AccountError) -> CliError {
        match error {
            AccountError::NoSuchUser => CliError::NoSuchUser(email.to_string()),
            AccountError::Email(e) => CliError::Refused(format!("{email}: {e}")),
            other => CliError::Failed(other.to_string()),
        }
    }
}

/// A user as the CLI prints it.
#[derive(Serialize)]
struct UserOut {
    id: i64,
    email: String,
    name: Option<String>,
    created_at: String,
    disabled: bool,
    email_verified: bool,
}

impl From<&UserRecord> for UserOut {
    fn from(u: &UserRecord) -> Self {
        UserOut {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            created_at: rfc3339(u.created_at),
            disabled: u.is_disabled(),
            email_verified: u.email_verified_at.is_some(),
        }
    }
}

/// A session as the CLI prints it.
#[derive(Serialize)]
struct SessionOut {
    id: String,
    signed_in_at: String,
    last_seen: String,
    ip: Option<String>,
    browser: String,
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Prints `value` as JSON, or `text` for people.
fn print(json: bool, value: &impl Serialize, text: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
        );
    } else {
        println!("{}", text());
    }
}

/// A new password from `SESAME_NEW_PASSWORD`, else typed at the terminal
/// (without echo), else the first line of stdin; through the password policy.
fn read_new_password(context: &[&str]) -> Result<NewPassword, CliError> {
    use std::io::IsTerminal;
    let failed = |e: std::io::Error| CliError::Failed(format!("reading the password: {e}"));
    let raw = match std::env::var("SESAME_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("New password: ").map_err(failed)?
        }
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(failed)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    NewPassword::parse(raw, context).map_err(|e| CliError::Refused(e.to_string()))
}

/// Tells the running server (see [`tell_running_server`]) that user `id`'s
/// sessions ended.
async fn forget_on_running_server(auth: &sesame::server::Auth, id: i64) -> Result<(), CliError> {
    tell_running_server(auth, serde_json::json!({ "forget_user": id.to_string() })).await
}

/// Tells the server running on this machine, if one is, what this command
/// did: `{"forget_user": id}` when a user's sessions ended (its in-process
/// cache would serve them for up to `session.cache_ttl`), `{"unlock":
/// email}` to clear a lockout (counted in its memory without Redis); waits
/// for its answer. The server is found at
/// `site.url` when that is a loopback address, else at Leptos's
/// `site_addr` on loopback. No server there: nothing to tell.
async fn tell_running_server(
    auth: &sesame::server::Auth,
    call: serde_json::Value,
) -> Result<(), CliError> {
    use sesame::wire::routes::{ADMIN as ADMIN_PATH, ADMIN_HEADER};
    let site = &auth.config().site.url;
    let loopback = site
        .host_str()
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
    let base = if loopback {
        auth.config().origin()
    } else {
        let addr = leptos::prelude::get_configuration(None)
            .map(|c| c.leptos_options.site_addr)
            .map_err(|e| CliError::Failed(format!("finding the running server: {e}")))?;
        format!("http://127.0.0.1:{}", addr.port())
    };
    let body = call.to_string();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let answer = client
        .post(format!("{base}{ADMIN_PATH}"))
        .header(ADMIN_HEADER, auth.admin_signature(body.as_bytes()))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    match answer {
        Ok(res) if res.status().is_success() => Ok(()),
        Err(e) if e.is_connect() => Ok(()),
        Ok(res) => Err(CliError::Failed(format!(
            "the change is made, but the server running at {base} answered {}: \
             it may serve the user's sessions until session.cache_ttl ends",
            res.status()
        ))),
        Err(e) => Err(CliError::Failed(format!(
            "the change is made, but the server running at {base} did not answer ({e}): \
             it may serve the user's sessions until session.cache_ttl ends"
        ))),
    }
}

/// Runs an admin command.
pub async fn run_admin(config: AppConfig, json: bool, command: Command) -> Result<(), CliError> {
    if let Command::Migrate = command {
        let mut database = config.auth.database.clone();
        database.migrate = true;
        let db = sesame::server::stores::connect(&database)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let kind = db.kind();
        if json {
            println!("{}", serde_json::json!({ "migrated": kind }));
        } else {
            println!("{kind} database migrated");
        }
        return Ok(());
    }
    let sesame = Sesame::builder(config.auth)
        .build()
        .await
        .map_err(AppError::from)?;
    let auth = sesame.auth();
    match command {
        Command::Serve | Command::Migrate => unreachable!("not an admin command on users"),
        Command::User(UserCommand::Add { email, name }) => {
            let password = read_new_password(&[email.as_str(), name.as_deref().unwrap_or("")])?;
            let user = sesame
                .create_user(&email, &password, name)
                .await
                .map_err(|e| match e {
                    AuthorizeError::Store(sesame::server::stores::StoreError::Duplicate)
                    | AuthorizeError::Other(_) => CliError::Refused(format!("{email}: {e}")),
                    other => CliError::Failed(other.to_string()),
                })?;
            print(json, &UserOut::from(&user), || {
                format!("created user {} ({})", user.email, user.id)
            });
        }
        Command::User(UserCommand::Invite { email, name }) => {
            let user = auth
                .invite(&email, name, sesame::i18n::Locale::En)
                .await
                .map_err(|e| match e {
                    InviteError::Exists => CliError::Refused(format!("{email}: {e}")),
                    InviteError::Account(e) => CliError::account(&email, e),
                    InviteError::Mail(_) => CliError::Failed(e.to_string()),
                })?;
            print(json, &UserOut::from(&user), || {
                format!(
                    "invited {} ({}): the link is on its way",
                    user.email, user.id
                )
            });
        }
        Command::User(UserCommand::List) => {
            let users = auth
                .list_users()
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            let out: Vec<UserOut> = users.iter().map(UserOut::from).collect();
            print(json, &out, || {
                let mut text = format!(
                    "{:>5}  {:<32} {:<9} {:<8} name",
                    "id", "email", "state", "email"
                );
                for u in &out {
                    text.push_str(&format!(
                        "\n{:>5}  {:<32} {:<9} {:<8} {}",
                        u.id,
                        u.email,
                        if u.disabled { "disabled" } else { "active" },
                        if u.email_verified {
                            "verified"
                        } else {
                            "pending"
                        },
                        u.name.as_deref().unwrap_or("")
                    ));
                }
                text
            });
        }
        Command::User(UserCommand::Disable { email }) => {
            let ended = auth
                .set_disabled(&email, true)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            let user = auth
                .user_by_email(&email)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            forget_on_running_server(auth, user.id).await?;
            let out =
                serde_json::json!({ "email": email, "disabled": true, "sessions_ended": ended });
            print(json, &out, || {
                format!("disabled {email}; {ended} session(s) ended")
            });
        }
        Command::User(UserCommand::Enable { email }) => {
            auth.set_disabled(&email, false)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            let out = serde_json::json!({ "email": email, "disabled": false });
            print(json, &out, || format!("enabled {email}"));
        }
        Command::User(UserCommand::SetPassword { email }) => {
            let user = auth
                .user_by_email(&email)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            let password =
                read_new_password(&[user.email.as_str(), user.name.as_deref().unwrap_or("")])?;
            let ended = auth
                .set_password(&email, &password, None)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            forget_on_running_server(auth, user.id).await?;
            let out = serde_json::json!({ "email": email, "sessions_ended": ended });
            print(json, &out, || {
                format!("set the password of {email}; {ended} session(s) ended")
            });
        }
        Command::User(UserCommand::VerifyEmail { email }) => {
            auth.verify_email(&email)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            let out = serde_json::json!({ "email": email, "email_verified": true });
            print(json, &out, || format!("verified the email of {email}"));
        }
        Command::User(UserCommand::Unlock { email }) => {
            auth.unlock(&email)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            tell_running_server(auth, serde_json::json!({ "unlock": email })).await?;
            let out = serde_json::json!({ "email": email, "unlocked": true });
            print(json, &out, || format!("cleared the lockout of {email}"));
        }
        Command::User(UserCommand::Factors { email }) => {
            let factors = auth
                .factors_of(&email)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            print(json, &factors, || {
                format!(
                    "{email}: authenticator app {}{}, {} recovery code(s) left, {} passkey(s), {} trusted browser(s)",
                    if factors.authenticator { "on" } else { "off" },
                    if factors.enrolling { " (being set up)" } else { "" },
                    factors.recovery_codes_left,
                    factors.passkeys,
                    factors.trusted_browsers
                )
            });
        }
        Command::User(UserCommand::ResetFactors { email }) => {
            let had = auth
                .reset_factors(&email)
                .await
                .map_err(|e| CliError::account(&email, e))?;
            let out = serde_json::json!({ "email": email, "factors_removed": had });
            print(json, &out, || {
                format!("removed the second factors of {email} (the owner was told)")
            });
        }
        Command::Sessions(SessionsCommand::List { user }) => {
            let record = auth
                .user_by_email(&user)
                .await
                .map_err(|e| CliError::account(&user, e))?;
            let sessions = auth
                .sessions_of(&record.id.to_string())
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            let out: Vec<SessionOut> = sessions
                .iter()
                .map(|s| SessionOut {
                    id: s.handle.to_string(),
                    signed_in_at: rfc3339(s.data.signed_in_at),
                    last_seen: rfc3339(s.data.last_seen),
                    ip: s.data.ip.clone(),
                    browser: sesame::server::describe_user_agent(s.data.user_agent.as_deref()),
                })
                .collect();
            print(json, &out, || {
                let mut text = format!("{} session(s) of {user}", out.len());
                for s in &out {
                    text.push_str(&format!(
                        "\n{}  signed in {}  last seen {}  {}  {}",
                        &s.id[..12],
                        s.signed_in_at,
                        s.last_seen,
                        s.ip.as_deref().unwrap_or("-"),
                        s.browser
                    ));
                }
                text
            });
        }
        Command::Sessions(SessionsCommand::Revoke { user }) => {
            let record = auth
                .user_by_email(&user)
                .await
                .map_err(|e| CliError::account(&user, e))?;
            let ended = auth
                .end_sessions(&record.id.to_string(), None)
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            forget_on_running_server(auth, record.id).await?;
            let out = serde_json::json!({ "email": user, "sessions_ended": ended });
            print(json, &out, || format!("{ended} session(s) of {user} ended"));
        }
    }
    Ok(())
}
