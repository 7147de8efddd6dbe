//! The emails an export sends when it ends. Written inside the job's final transaction.

use crate::error::AppResult;
use crate::state::AppState;
use crate::store::Tx;
use crate::store::exports::JobRow;

/// "Export performed successfully. {count} users were exported." with a download link.
pub async fn finished(_state: &AppState, _tx: &mut Tx, _job: &JobRow, _rows: i64) -> AppResult<()> {
    // TODO(outbox): enqueue the email once the mail outbox lands.
    Ok(())
}

pub async fn failed(
    _state: &AppState,
    _tx: &mut Tx,
    _job: &JobRow,
    _reason: &str,
) -> AppResult<()> {
    // TODO(outbox): enqueue the email once the mail outbox lands.
    Ok(())
}
