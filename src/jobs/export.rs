//! The export worker: claims a job, streams the users into a CSV file under
//! `export.dir`, and records the result.

use std::io::Write;
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
/// Rows between heartbeats (and flushes).
const HEARTBEAT_ROWS: i64 = 20_000;

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
    let q = match &job.query {
        Some(query) => grid::parse_query_string(query)?,
        None => grid::GridQuery::default(),
    };
    let dir = state.settings.export.dir.clone();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let name = format!("export-{}-{}.csv", job.id, hex::encode(suffix));
    let part = dir.join(format!("{name}.part"));
    let file = std::fs::File::create(&part)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write {}: {e}", part.display())))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(256 * 1024, file));
    let io = |e: csv::Error| AppError::Internal(e.into());
    out.write_record(&fields).map_err(io)?;

    let (mut sql, mut binds) = (String::new(), Vec::new());
    let mut rows = exports::stream(
        &state.db, &q.filter, q.sort, q.desc, &fields, &mut sql, &mut binds,
    );
    let mut written: i64 = 0;
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
        if written % HEARTBEAT_ROWS == 0 {
            exports::heartbeat(&state.db, job.id, state.clock.now() + LEASE).await?;
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
