//! Builds the application from settings: database, migrations, sessions, router; binds
//! the listener. Used by `main` and by the tests, which bind port 0.

use crate::api_keys::nonces::NonceRecorder;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Settings;
use crate::security::cipher::ApiKeyCipher;
use crate::security::hashing::Hashing;
use crate::security::oauth_keys::OauthKeys;
use crate::state::AppState;
use crate::store::Db;
use crate::store::sessions::Sessions;
use crate::users::bootstrap::{self, BootstrapAdmin, Created};
use crate::web;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    sessions: Sessions,
    /// What the bootstrap did, for `main` to announce.
    pub bootstrap: Option<Created>,
}

/// Connects and migrates; shared by `serve`, `migrate` and `user create`.
pub async fn open_state(settings: Settings) -> anyhow::Result<AppState> {
    let api_key_cipher = ApiKeyCipher::load_or_create(&settings.security.api_key_encryption_key)?;
    let db = Db::connect(&settings.database.url, settings.database.max_connections).await?;
    db.migrate().await?;
    Ok(AppState {
        nonces: NonceRecorder::start(db.clone()),
        key_sample: Default::default(),
        db,
        oauth_keys: OauthKeys::new(&settings.oauth),
        settings: Arc::new(settings),
        clock: Clock::default(),
        hashing: Hashing::new()?,
        jobs: Default::default(),
        api_key_cipher,
    })
}

impl Application {
    pub async fn build(settings: Settings, admin: &BootstrapAdmin) -> anyhow::Result<Self> {
        let listen = settings.server.listen;
        let state = open_state(settings).await?;
        let sessions = Sessions::new(&state.db).await?;
        let bootstrap = bootstrap::ensure_admin(&state, admin).await.map_err(|e| {
            anyhow::anyhow!("could not create the first administrator: {}", e.describe())
        })?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (`server.listen`): {e}"))?;
        Ok(Self {
            listener,
            state,
            sessions,
            bootstrap,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves, with the background workers alongside, until `shutdown` resolves; then
    /// finishes in-flight requests and stops the workers.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mail_worker = crate::jobs::mail::spawn(self.state.clone())?;
        // Files a crash left behind go at start, whichever instance the cleanup job
        // later runs on.
        if let Err(e) = crate::exports::files::remove_orphans(&self.state).await {
            tracing::warn!(error = %e.describe(), "could not remove orphaned export files");
        }
        let cleanup = crate::jobs::cleanup::spawn(self.state.clone());
        let export_worker = crate::jobs::export::spawn(self.state.clone());
        let app = web::router(self.state.clone(), self.sessions);
        let result = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        cleanup.stop(Duration::from_secs(10)).await;
        // Workers finish the item in hand; one that does not within the grace period is
        // aborted, and its lease lets another process take the work over.
        export_worker.stop(Duration::from_secs(10)).await;
        // Lets the mail worker finish the email in hand, so it is not sent twice.
        mail_worker.stop(Duration::from_secs(10)).await;
        self.state.db.close().await;
        Ok(result?)
    }
}
