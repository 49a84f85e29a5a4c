//! The service center's reports: the facts they count are kept with every ticket write
//! ([`super::tickets::publish`]); a data dir from before the reports gets them here.

use super::{Desk, DeskError};

impl Desk {
    /// Keeps the reports' facts of every ticket that has none yet (a data dir from before the
    /// reports), a thousand a transaction so the writer is never held long. How many.
    pub async fn adopt_reports(&self) -> Result<usize, DeskError> {
        if self.store.read(crate::store::reports::all_kept).await? {
            return Ok(0);
        }
        let mut done = 0;
        loop {
            let settings = self.settings.clone();
            let n = self
                .write(move |ctx| {
                    let ids = crate::store::reports::missing(ctx.conn, 1000)?;
                    for id in &ids {
                        if let Some(t) = crate::store::tickets::get(ctx.conn, *id)? {
                            super::tickets::record_facts(ctx.conn, &settings, &t)?;
                        }
                    }
                    Ok(ids.len())
                })
                .await?;
            done += n;
            if n < 1000 {
                return Ok(done);
            }
        }
    }
}
