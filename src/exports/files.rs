//! Export files on disk: private (the files hold password hashes), and removed when they
//! expire or when nothing will ever finish or serve them.

use std::path::Path;

use crate::domain::{ExportId, JobStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::exports;

/// The export directory, created private (0700): the files hold password hashes. One
/// found open to others is closed.
pub(super) fn private_dir(dir: &Path) -> AppResult<()> {
    let fail = |e: std::io::Error| {
        AppError::Internal(anyhow::anyhow!("cannot create {}: {e}", dir.display()))
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir).map_err(fail)?;
        let mode = std::fs::metadata(dir).map_err(fail)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(dir = %dir.display(), "the export directory was open to other users; made it private (0700)");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
        }
    }
    #[cfg(not(unix))]
    builder.create(dir).map_err(fail)?;
    Ok(())
}

/// A new file only its owner may read (0600).
pub(super) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// An export file's job id and attempt, from `export-<id>-a<attempt>-<random>.csv[.part]`.
fn parse_name(name: &str) -> Option<(ExportId, Option<i32>, bool)> {
    let (stem, part) = match name.strip_suffix(".csv.part") {
        Some(s) => (s, true),
        None => (name.strip_suffix(".csv")?, false),
    };
    let mut bits = stem.strip_prefix("export-")?.split('-');
    let id = bits.next()?.parse().ok()?;
    let attempt = bits.next().and_then(|a| a.strip_prefix('a')?.parse().ok());
    Some((id, attempt, part))
}

/// Removes export files no job will finish or serve: a partial file whose attempt is not
/// running under a live lease (its process died), and a finished file its job does not
/// name (a run that crashed between writing and recording it). Run at start and by the
/// cleanup job; a live export's files are never touched, whichever instance writes them.
pub async fn remove_orphans(state: &AppState) -> AppResult<usize> {
    let dir = &state.settings.export.dir;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let now = state.clock.now();
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((id, attempt, part)) = parse_name(&name) else {
            continue;
        };
        let job = exports::find(&state.db, id).await?;
        let orphan = match &job {
            None => true,
            Some(j) if part => {
                let live =
                    j.status == JobStatus::Running && j.claimed_until.is_some_and(|c| c >= now);
                !live || attempt != Some(j.attempts)
            }
            Some(j) => {
                j.status != JobStatus::Running && j.file_name.as_deref() != Some(name.as_str())
            }
        };
        if orphan {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    removed += 1;
                    tracing::info!(file = %name, "removed an orphaned export file");
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(AppError::Internal(e.into())),
            }
        }
    }
    Ok(removed)
}

pub async fn remove_expired(state: &AppState) -> AppResult<()> {
    for (id, file) in exports::expired_files(&state.db, state.clock.now()).await? {
        let path = state.settings.export.dir.join(&file);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AppError::Internal(e.into())),
        }
        exports::forget_file(&state.db, id).await?;
    }
    Ok(())
}
