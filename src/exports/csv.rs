//! The export file: the users an export job covers, streamed into a CSV file under
//! `export.dir` (written whole from the start on every attempt, then renamed into place), in
//! the columns the job was asked for.

use std::io::Write;

use futures_util::StreamExt;
use rand::RngCore;

use crate::domain::fields::UserField;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::exports::{self, ExportRow, JobRow};
use crate::users::grid;

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
fn cell(row: &ExportRow, field: UserField, out: &mut Vec<u8>) {
    out.clear();
    let u = &row.user;
    let bytes: &[u8] = match field {
        UserField::Id => return number(u.id.get(), out),
        UserField::Username => u.username.as_bytes(),
        UserField::Email => u.email.as_bytes(),
        UserField::NamePrefix => text(&u.name_prefix),
        UserField::FirstName => text(&u.first_name),
        UserField::MiddleName => text(&u.middle_name),
        UserField::LastName => text(&u.last_name),
        UserField::NameSuffix => text(&u.name_suffix),
        UserField::Birthday => text(&u.birthday),
        UserField::Phone => text(&u.phone),
        UserField::Enabled => {
            if u.enabled {
                b"1"
            } else {
                b"0"
            }
        }
        UserField::AuthStatus => u.auth_status.as_str().as_bytes(),
        UserField::Organizations => text(&row.organizations),
        UserField::Roles => text(&row.roles),
        UserField::LastLoginAt => return timestamp(u.last_login_at, out),
        UserField::LoginCount => return number(u.login_count, out),
        UserField::CreatedAt => return timestamp(Some(u.created_at), out),
        UserField::UpdatedAt => return timestamp(Some(u.updated_at), out),
        UserField::PasswordHash => u.password_hash.as_bytes(),
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
pub async fn write(state: &AppState, job: &JobRow) -> AppResult<(i64, String, i64)> {
    let fields = UserField::list(job.fields.split(','));
    let names: Vec<&str> = fields.iter().map(|f| f.key()).collect();
    let mut q = match &job.query {
        Some(query) => grid::parse_query_string(query)?,
        None => grid::GridQuery::default(),
    };
    q.filter = super::job_filter(state, job.requested_by, q.filter).await?;
    let dir = state.settings.export.dir.clone();
    super::files::private_dir(&dir)?;
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
    let file = super::files::private_file(&part)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write {}: {e}", part.display())))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(256 * 1024, file));
    let io = |e: csv::Error| AppError::Internal(e.into());
    out.write_record(&names).map_err(io)?;

    let (mut sql, mut binds) = (String::new(), Vec::new());
    let mut rows = exports::stream(
        &state.db, &q.filter, q.sort, q.desc, &fields, &mut sql, &mut binds,
    );
    let mut written: i64 = 0;
    let mut buf = Vec::with_capacity(256);
    while let Some(row) = rows.next().await {
        let row = row?;
        for f in &fields {
            cell(&row, *f, &mut buf);
            neutralise(&mut buf);
            out.write_field(&buf).map_err(io)?;
        }
        out.write_record(None::<&[u8]>).map_err(io)?;
        written += 1;
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
