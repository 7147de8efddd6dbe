//! The email an export sends to its requester when it ends, queued inside the job's final
//! transaction (so the email exists exactly when the result does).

use crate::error::AppResult;
use crate::mail::{self, templates};
use crate::state::AppState;
use crate::store::Tx;
use crate::store::exports::JobRow;

async fn send(
    state: &AppState,
    tx: &mut Tx,
    job: &JobRow,
    outcome: Result<(i64, i64), &str>,
) -> AppResult<()> {
    // The requester may have been deleted meanwhile (their jobs go with them).
    let Some(user) = crate::store::users::find(&state.db, job.requested_by).await? else {
        return Ok(());
    };
    let email = templates::export_result(
        &state.settings,
        &user.email,
        &user.username,
        job.id,
        outcome,
    )?;
    mail::enqueue(tx, &email, state.clock.now()).await?;
    Ok(())
}

/// "Export performed successfully. {count} users were exported." with a download link.
pub async fn finished(
    state: &AppState,
    tx: &mut Tx,
    job: &JobRow,
    rows: i64,
    expires: i64,
) -> AppResult<()> {
    send(state, tx, job, Ok((rows, expires))).await
}

/// The reason, instead of a link.
pub async fn failed(state: &AppState, tx: &mut Tx, job: &JobRow, reason: &str) -> AppResult<()> {
    send(state, tx, job, Err(reason)).await
}
