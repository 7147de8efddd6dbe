//! The export worker: claims a job, streams the users into a CSV file under
//! `export.dir`, and records the result.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use rand::RngCore;

use super::{Stop, Worker};
use crate::error::{AppError, AppResult};
use crate::grid;
use crate::state::AppState;
use crate::store::exports::{self, ExportRow, JobRow};

/// Seconds a claimed job stays ours without a heartbeat.
const LEASE: i64 = 60;
/// Rows between heartbeats, at most; and at least one heartbeat per `HEARTBEAT` when rows
/// come slowly.
const HEARTBEAT_ROWS: i64 = 20_000;
const HEARTBEAT: Duration = Duration::from_secs(15);

pub fn spawn(state: AppState) -> Worker {
    Worker::spawn("export", move |stop| worker(state, stop))
}

/// Claim, run, repeat; sleep when there is nothing to do, until asked to stop.
async fn worker(state: AppState, mut stop: Stop) {
    while !stop.requested() {
        match run_one(&state).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e.describe(), "export worker"),
        }
        if let Err(e) = remove_expired(&state).await {
            tracing::warn!(error = %e.describe(), "removing expired exports");
        }
        tokio::select! {
            () = stop.wait() => return,
            () = state.wakers.exports.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// Claims and runs one job; false when there was none.
pub async fn run_one(state: &AppState) -> AppResult<bool> {
    let Some(job) = exports::claim(&state.db, state.clock.now(), LEASE).await? else {
        return Ok(false);
    };
    let result = write_csv(state, &job).await;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match &result {
        Ok((rows, file, size)) => {
            let expires = now + i64::from(state.settings.export.retention_days) * 86_400;
            exports::finish(&mut tx, job.id, *rows, file, *size, now, expires).await?;
            crate::accounts::exports_notify::finished(state, &mut tx, &job, *rows, expires).await?;
        }
        Err(e) => {
            let reason = e.describe();
            tracing::error!(job = job.id, error = %reason, "export failed");
            exports::fail(&mut tx, job.id, &reason, now).await?;
            crate::accounts::exports_notify::failed(state, &mut tx, &job, &reason).await?;
        }
    }
    tx.commit().await?;
    state.outbox.wake();
    Ok(true)
}

/// Spreadsheets run cells that start with these as formulas; a leading apostrophe makes
/// them text (OWASP's advice for CSV injection).
fn neutralise(cell: &mut Vec<u8>) {
    if matches!(
        cell.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) {
        cell.insert(0, b'\'');
    }
}

/// Writes one cell into `out` (emptied first): one buffer for every cell of the export, as
/// a String per cell made allocation a large part of the job's time.
fn cell(row: &ExportRow, field: &str, out: &mut Vec<u8>) {
    out.clear();
    let u = &row.user;
    let bytes: &[u8] = match field {
        "id" => return number(u.id, out),
        "username" => u.username.as_bytes(),
        "email" => u.email.as_bytes(),
        "name_prefix" => text(&u.name_prefix),
        "first_name" => text(&u.first_name),
        "middle_name" => text(&u.middle_name),
        "last_name" => text(&u.last_name),
        "name_suffix" => text(&u.name_suffix),
        "birthday" => text(&u.birthday),
        "phone" => text(&u.phone),
        "enabled" => {
            if u.enabled {
                b"1"
            } else {
                b"0"
            }
        }
        "auth_status" => u.auth_status.as_bytes(),
        "organizations" => text(&row.organizations),
        "roles" => text(&row.roles),
        "last_login_at" => return timestamp(u.last_login_at, out),
        "login_count" => return number(u.login_count, out),
        "created_at" => return timestamp(Some(u.created_at), out),
        "updated_at" => return timestamp(Some(u.updated_at), out),
        // The seed: "Passwords are stored and exported in the hashed form."
        "password_hash" => u.password_hash.as_bytes(),
        _ => b"",
    };
    out.extend_from_slice(bytes);
}

fn text(v: &Option<String>) -> &[u8] {
    v.as_deref().unwrap_or_default().as_bytes()
}

fn number(n: i64, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{n}");
}

/// RFC 3339 in UTC; empty when there is no time (or it is out of range).
fn timestamp(t: Option<i64>, out: &mut Vec<u8>) {
    let Some(d) = t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()) else {
        return;
    };
    if d.format_into(out, &time::format_description::well_known::Rfc3339)
        .is_err()
    {
        out.clear();
    }
}

/// Writes the file from the start (a re-run after a crash overwrites the partial file, so
/// no row appears twice), then renames it into place. Returns (rows, file name, bytes).
async fn write_csv(state: &AppState, job: &JobRow) -> AppResult<(i64, String, i64)> {
    let fields: Vec<String> = job.fields.split(',').map(str::to_owned).collect();
    let mut q = match &job.query {
        Some(query) => grid::parse_query_string(query)?,
        None => grid::GridQuery::default(),
    };
    q.filter = crate::accounts::exports::job_filter(state, job.requested_by, q.filter).await?;
    let dir = state.settings.export.dir.clone();
    private_dir(&dir)?;
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    // The attempt is in the name: a file an earlier (dead) attempt left is told apart
    // from this one's and removed as an orphan.
    let name = format!(
        "export-{}-a{}-{}.csv",
        job.id,
        job.attempts,
        hex::encode(suffix)
    );
    let part = dir.join(format!("{name}.part"));
    let file = private_file(&part)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write {}: {e}", part.display())))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(256 * 1024, file));
    let io = |e: csv::Error| AppError::Internal(e.into());
    out.write_record(&fields).map_err(io)?;

    let (mut sql, mut binds) = (String::new(), Vec::new());
    let mut rows = exports::stream(
        &state.db, &q.filter, q.sort, q.desc, &fields, &mut sql, &mut binds,
    );
    let mut written: i64 = 0;
    let mut last_beat = std::time::Instant::now();
    let mut buf = Vec::with_capacity(256);
    while let Some(row) = rows.next().await {
        let row = row?;
        for f in &fields {
            cell(&row, f, &mut buf);
            neutralise(&mut buf);
            out.write_field(&buf).map_err(io)?;
        }
        out.write_record(None::<&[u8]>).map_err(io)?;
        written += 1;
        if written % HEARTBEAT_ROWS == 0 || last_beat.elapsed() >= HEARTBEAT {
            exports::heartbeat(&state.db, job.id, state.clock.now() + LEASE).await?;
            last_beat = std::time::Instant::now();
        }
    }
    drop(rows);
    let mut inner = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the export: {e}")))?;
    inner.flush().map_err(|e| AppError::Internal(e.into()))?;
    let file = inner
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    file.sync_all().map_err(|e| AppError::Internal(e.into()))?;
    let size = i64::try_from(
        file.metadata()
            .map_err(|e| AppError::Internal(e.into()))?
            .len(),
    )
    .unwrap_or(i64::MAX);
    std::fs::rename(&part, dir.join(&name)).map_err(|e| AppError::Internal(e.into()))?;
    Ok((written, name, size))
}

/// The export directory, created private (0700): the files hold password hashes. One
/// found open to others is closed.
fn private_dir(dir: &Path) -> AppResult<()> {
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
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
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
fn parse_name(name: &str) -> Option<(i64, Option<i32>, bool)> {
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
                let live = j.status == "running" && j.claimed_until.is_some_and(|c| c >= now);
                !live || attempt != Some(j.attempts)
            }
            Some(j) => j.status != "running" && j.file_name.as_deref() != Some(name.as_str()),
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

async fn remove_expired(state: &AppState) -> AppResult<()> {
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

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_become_text() {
        for (raw, out) in [
            ("=1+1", "'=1+1"),
            ("+49 30", "'+49 30"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("ann", "ann"),
            ("", ""),
        ] {
            let mut cell = raw.as_bytes().to_vec();
            super::neutralise(&mut cell);
            assert_eq!(cell, out.as_bytes());
        }
    }
}
