//! The command line: `gatehouse [--config PATH] <command>`; with no command it serves.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::access::Actor;
use crate::config::Settings;
use crate::domain::{PlainPassword, Profile, ProfileInput};
use crate::error::AppError;
use crate::security::oauth_keys;
use crate::startup::{self, Application};
use crate::users::bootstrap::BootstrapAdmin;
use crate::users::{self, NewUserInput};

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: user management back-office"
)]
pub struct Cli {
    /// Configuration file (default: config.yml; also GATEHOUSE_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP and run the background workers.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// OAuth key management.
    #[command(subcommand)]
    Oauth(OauthCommand),
}

#[derive(Debug, Subcommand)]
pub enum OauthCommand {
    /// Write a new RSA key pair to `oauth.private_key` (mode 0600) and `oauth.public_key`.
    GenerateKeys {
        /// Replace existing key files (tokens signed with the old key stop working).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print its id.
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    /// The password (visible in the process list: prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    /// Give the user the Administrator role.
    #[arg(long)]
    pub admin: bool,
    /// Organization name (default: the default organization).
    #[arg(long)]
    pub organization: Option<String>,
}

pub async fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::User(UserCommand::Create(args)) => user_create(settings, args).await,
        Command::Oauth(OauthCommand::GenerateKeys { force }) => generate_keys(&settings, force),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let admin = BootstrapAdmin {
        username: std::env::var("GATEHOUSE_BOOTSTRAP_ADMIN_USERNAME")
            .unwrap_or_else(|_| "admin".into()),
        email: std::env::var("GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL")
            .unwrap_or_else(|_| "admin@example.com".into()),
        password: std::env::var("GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD").ok(),
    };
    let login_url = settings.public_link("/admin/user/login");
    let app = Application::build(settings, &admin).await?;
    if let Some(created) = &app.bootstrap {
        println!("================================================================");
        println!(" Gatehouse created the first administrator.");
        println!("   Username: {}", created.username);
        match &created.generated_password {
            Some(pw) => {
                println!("   Password: {}", pw.expose());
                println!(" This password is shown only now: save it, then change it.");
            }
            None => println!("   Password: the value of GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD"),
        }
        println!("================================================================");
    }
    println!("Gatehouse is listening on http://{}", app.local_addr());
    println!("Log in at {login_url}");
    app.run(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let state = startup::open_state(settings).await?;
    state.db.close().await;
    println!("Migrations applied.");
    Ok(())
}

/// `oauth generate-keys`: needs no database; a running server picks the new keys up by
/// itself within a few seconds.
fn generate_keys(settings: &Settings, force: bool) -> anyhow::Result<()> {
    let (private, public) = (&settings.oauth.private_key, &settings.oauth.public_key);
    oauth_keys::generate_files(private, public, force)?;
    println!(
        "Wrote an RSA-{} private key to {} (mode 0600) and its public key to {}.",
        oauth_keys::KEY_BITS,
        private.display(),
        public.display()
    );
    Ok(())
}

/// `user create`: parses every argument into domain types first, so every problem is
/// reported before anything is written.
pub async fn user_create(settings: Settings, args: UserCreate) -> anyhow::Result<()> {
    let password = match (args.password, args.password_stdin) {
        (Some(p), _) => p,
        (None, true) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s.trim_end_matches(['\r', '\n']).to_owned()
        }
        (None, false) => {
            anyhow::bail!("a password is required: use --password or --password-stdin")
        }
    };
    let input = ProfileInput {
        username: args.username,
        email: args.email,
        first_name: args.first_name.unwrap_or_default(),
        last_name: args.last_name.unwrap_or_default(),
        ..ProfileInput::default()
    };
    let today = time::OffsetDateTime::now_utc().date();
    let profile = Profile::parse(&input, today)
        .map_err(|errs| anyhow::anyhow!(AppError::Validation(errs).describe()))?;
    let state = startup::open_state(settings).await?;
    let organizations = match &args.organization {
        Some(name) => match users::organization_id_by_name(&state, name)
            .await
            .map_err(|e| anyhow::anyhow!(e.describe()))?
        {
            Some(id) => vec![id],
            None => anyhow::bail!("organization {name:?} does not exist"),
        },
        None => Vec::new(),
    };
    let roles = if args.admin {
        vec![users::ADMIN_ROLE_ID, users::USER_ROLE_ID]
    } else {
        vec![users::USER_ROLE_ID]
    };
    let input = NewUserInput {
        profile,
        password: PlainPassword::new(password),
        enabled: true,
        roles,
        organizations,
    };
    let result = users::create(&state, &Actor::system("cli"), input).await;
    state.db.close().await;
    let id = result.map_err(|e| anyhow::anyhow!(e.describe()))?;
    println!("{id}");
    Ok(())
}
