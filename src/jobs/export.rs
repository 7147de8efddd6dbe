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
fn neutralise(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn cell(row: &ExportRow, field: &str) -> String {
    let u = &row.user;
    let ts = |t: Option<i64>| {
        t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match field {
        "id" => u.id.to_string(),
        "username" => u.username.clone(),
        "email" => u.email.clone(),
        "name_prefix" => opt(&u.name_prefix),
        "first_name" => opt(&u.first_name),
        "middle_name" => opt(&u.middle_name),
        "last_name" => opt(&u.last_name),
        "name_suffix" => opt(&u.name_suffix),
        "birthday" => opt(&u.birthday),
        "phone" => opt(&u.phone),
        "enabled" => if u.enabled { "1" } else { "0" }.into(),
        "auth_status" => u.auth_status.clone(),
        "organizations" => opt(&row.organizations),
        "roles" => opt(&row.roles),
        "last_login_at" => ts(u.last_login_at),
        "login_count" => u.login_count.to_string(),
        "created_at" => ts(Some(u.created_at)),
        "updated_at" => ts(Some(u.updated_at)),
        // The seed: "Passwords are stored and exported in the hashed form."
        "password_hash" => u.password_hash.clone(),
        _ => String::new(),
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

    let with_names = fields.iter().any(|f| f == "organizations" || f == "roles");
    let (mut sql, mut binds) = (String::new(), Vec::new());
    let mut rows = exports::stream(
        &state.db, &q.filter, q.sort, q.desc, with_names, &mut sql, &mut binds,
    );
    let mut written: i64 = 0;
    let mut record: Vec<String> = Vec::with_capacity(fields.len());
    while let Some(row) = rows.next().await {
        let row = row?;
        record.clear();
        record.extend(fields.iter().map(|f| neutralise(cell(&row, f))));
        out.write_record(&record).map_err(io)?;
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
        ] {
            assert_eq!(super::neutralise(raw.to_owned()), out);
        }
    }
}
