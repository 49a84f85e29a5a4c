//! The help center as the MSS pages use it: suggestions while a problem is described, the
//! article itself, and what the submitter did next.

use super::{Desk, DeskError};
use crate::domain::help;
use crate::store::help::{self as articles, HelpArticle, Outcome};
use crate::store::users::User;

impl Desk {
    /// Up to three articles whose titles match `text`, best first.
    pub async fn help_suggestions(&self, text: &str) -> Result<Vec<HelpArticle>, DeskError> {
        let text = text.to_string();
        Ok(self
            .store
            .read(move |conn| {
                let titles = articles::titles(conn)?;
                let ids = help::suggest(&text, titles.iter().map(|(id, t)| (*id, t.as_str())));
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.extend(articles::get(conn, id)?);
                }
                Ok(out)
            })
            .await?)
    }

    pub async fn help_article(&self, id: i64) -> Result<HelpArticle, DeskError> {
        self.store
            .read(move |conn| articles::get(conn, id))
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("help article {id}")))
    }

    /// Records what `actor` did after article `id` was suggested; an unknown article is
    /// refused rather than counted.
    pub async fn record_help_outcome(
        &self,
        actor: &User,
        id: i64,
        outcome: Outcome,
    ) -> Result<(), DeskError> {
        let who = actor.username.clone();
        self.write(move |ctx| {
            if articles::get(ctx.conn, id)?.is_none() {
                return Err(DeskError::NotFound(format!("help article {id}")));
            }
            articles::record_outcome(ctx.conn, &who, id, outcome, ctx.now)?;
            Ok(())
        })
        .await
    }
}
