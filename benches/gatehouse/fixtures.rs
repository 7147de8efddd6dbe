//! What a scenario needs besides seeded users, made through the app's own rules (as the
//! CLI does), never by writing rows by hand: an API key, an OAuth application, and the
//! files the server reads (API key encryption key, OAuth key pair, export folder), kept in
//! a temp directory so a benchmark never writes into `var/`.

use anyhow::anyhow;
use gatehouse::access::Actor;
use gatehouse::config::Settings;
use gatehouse::domain::{OrganizationId, UserId};
use gatehouse::state::AppState;

use crate::db;
use crate::seed::ADMIN_USERNAME;

/// The server's settings for `url`, with every file it reads or writes under `dir`.
pub fn settings(url: &str, dir: &tempfile::TempDir) -> Settings {
    let mut s = db::settings(url);
    s.security.api_key_encryption_key = dir.path().join("api_key_encryption.key");
    s.oauth.private_key = dir.path().join("oauth_private.key");
    s.oauth.public_key = dir.path().join("oauth_public.key");
    s.export.dir = dir.path().join("exports");
    s
}

pub fn temp_dir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("gatehouse-bench-files-")
        .tempdir()?)
}

/// The app's state on the benchmark's side (one connection), for calling its rules.
async fn open(settings: &Settings) -> anyhow::Result<AppState> {
    let mut s = settings.clone();
    s.database.max_connections = 1;
    gatehouse::startup::open_state(s).await
}

/// (id, organization id) of the administrator the benchmarks sign in as.
async fn admin(state: &AppState) -> anyhow::Result<(UserId, OrganizationId)> {
    let user = gatehouse::store::users::find_by_login(&state.db, ADMIN_USERNAME)
        .await?
        .ok_or_else(|| anyhow!("{ADMIN_USERNAME} does not exist"))?;
    let orgs = gatehouse::store::organizations::of_user(&state.db, user.id).await?;
    let org = orgs
        .first()
        .ok_or_else(|| anyhow!("{ADMIN_USERNAME} belongs to no organization"))?;
    Ok((user.id, org.id))
}

/// Generates the administrator's API key as "Generate Key" does; returns it in clear, as
/// the user page shows it.
pub async fn admin_api_key(settings: &Settings) -> anyhow::Result<String> {
    let state = open(settings).await?;
    let (id, org) = admin(&state).await?;
    let key = gatehouse::api_keys::generate(&state, &Actor::system("bench"), id, org)
        .await
        .map_err(|e| anyhow!("generating the API key: {}", e.describe()))?;
    state.db.close().await;
    Ok(key.expose().to_owned())
}

/// Writes a fresh OAuth key pair (as `gatehouse oauth generate-keys` does) and adds an
/// active application owned by the administrator; returns (client id, client secret).
pub async fn oauth_client(settings: &Settings) -> anyhow::Result<(String, String)> {
    let (private, public) = (&settings.oauth.private_key, &settings.oauth.public_key);
    gatehouse::security::oauth_keys::generate_files(private, public, false)?;
    let state = open(settings).await?;
    let (id, _) = admin(&state).await?;
    let actor = Actor::system("bench");
    let input = gatehouse::oauth::apps::AppInput {
        name: "bench".into(),
        active: true,
        organization: None,
    };
    let creds = gatehouse::oauth::apps::create(&state, &actor, id, &input)
        .await
        .map_err(|e| anyhow!("creating the OAuth application: {}", e.describe()))?;
    state.db.close().await;
    Ok((
        creds.app.client_id.clone(),
        creds.secret.expose().to_owned(),
    ))
}
