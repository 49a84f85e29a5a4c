//! Pictures for articles' steps: uploaded by handlers, re-encoded like screenshots, kept once
//! per content, and served to submitters only when an article meant for them shows one.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::tickets::require_handler;
use super::{Desk, DeskError};
use crate::api::KbImage;
use crate::domain::kb_images::PATH;
use crate::domain::validate::ValidationErrors;
use crate::store::kb_images::{self, KbImage as Kept};
use crate::store::users::User;
use crate::store::{StoreError, audit};

/// The longest name a picture is uploaded under (characters).
pub const MAX_FILENAME: usize = 255;

/// Refuses an article whose steps show a picture that is not kept (409); `whose` starts
/// the message (an imported file's name).
pub(crate) fn pictures_kept(
    conn: &rusqlite::Connection,
    article: &crate::domain::kb::Article,
    whose: &str,
) -> Result<(), DeskError> {
    let ids = crate::domain::kb_images::stored_ids(&article.steps);
    if let Some(id) = kb_images::missing(conn, &ids)?.first() {
        return Err(DeskError::Conflicting(ValidationErrors::one(
            "steps",
            format!("{whose}图片 {PATH}{id} 不存在，请先上传"),
            format!(
                "{whose}picture {PATH}{id} does not exist; upload it with POST /api/v1/kb/images"
            ),
        )));
    }
    Ok(())
}

impl KbImage {
    fn of(kept: &Kept) -> KbImage {
        let url = format!("{PATH}{}", kept.id);
        KbImage {
            id: kept.id,
            markdown: format!("![{}]({url})", kept.filename.replace(['[', ']'], "")),
            url,
            filename: kept.filename.clone(),
            content_type: kept.content_type.clone(),
            size: kept.size,
            width: kept.width,
            height: kept.height,
        }
    }
}

impl Desk {
    /// Keeps a picture for articles (handlers only): decoded within the upload limits and
    /// re-encoded (its EXIF dropped), as a screenshot is. The picture, and whether it is new:
    /// the same bytes are kept once.
    pub async fn kb_add_image(
        &self,
        user: &User,
        filename: &str,
        bytes: bytes::Bytes,
    ) -> Result<(KbImage, bool), DeskError> {
        require_handler(user)?;
        if !(1..=MAX_FILENAME).contains(&filename.chars().count()) {
            return Err(ValidationErrors::one(
                "filename",
                format!("文件名应为 1–{MAX_FILENAME} 个字符"),
                format!("filename must be 1 to {MAX_FILENAME} characters"),
            )
            .into());
        }
        self.kb_keep_image(&user.username, filename, bytes).await
    }

    /// [`Desk::kb_add_image`] for `uploaded_by` (a person, or `kb import`), unchecked.
    pub async fn kb_keep_image(
        &self,
        uploaded_by: &str,
        filename: &str,
        bytes: bytes::Bytes,
    ) -> Result<(KbImage, bool), DeskError> {
        // Bytes kept already (a picture exported and imported again) are not re-encoded: a
        // JPEG encoded again would be new bytes, and the article would name a new picture.
        let sha = hex::encode(Sha256::digest(&bytes));
        if let Some(kept) = self.store.read(move |c| kb_images::by_sha(c, &sha)).await? {
            return Ok((KbImage::of(&kept), false));
        }
        let (staged, width, height) = self.stage_picture(filename, bytes).await?;
        let image = Kept {
            id: 0,
            filename: staged.filename.clone(),
            content_type: staged.content_type.clone(),
            size: staged.stored.size,
            width,
            height,
            sha256: staged.stored.sha256.clone(),
            stored_name: staged.stored.stored_name.clone(),
            uploaded_by: uploaded_by.to_string(),
            created_at: chrono::Utc::now(),
        };
        let who = uploaded_by.to_string();
        let kept = self
            .write(move |ctx| {
                let (kept, new) = kb_images::insert(
                    ctx.conn,
                    &Kept {
                        created_at: ctx.now,
                        ..image
                    },
                )?;
                if new {
                    let detail = serde_json::json!({ "image": kept.id, "size": kept.size });
                    audit::record(ctx.conn, ctx.now, &who, "kb.image_added", None, &detail)?;
                }
                Ok((kept, new))
            })
            .await;
        match kept {
            Ok((kept, new)) => {
                if !new {
                    // The same picture re-encoded to bytes kept already: this file is spare.
                    self.discard_staged(vec![staged]).await;
                }
                Ok((KbImage::of(&kept), new))
            }
            Err(e) => {
                self.discard_staged(vec![staged]).await;
                Err(e)
            }
        }
    }

    /// Picture `id` and where its bytes are, if `user` may see it: a handler any picture, a
    /// submitter one that an article meant for submitters shows.
    pub async fn kb_image(&self, user: &User, id: i64) -> Result<(Kept, PathBuf), DeskError> {
        self.picture(id, !user.role.works_tickets()).await
    }

    /// Picture `id` and where its bytes are, for `kb export`.
    pub async fn kb_picture(&self, id: i64) -> Result<(Kept, PathBuf), DeskError> {
        self.picture(id, false).await
    }

    async fn picture(&self, id: i64, for_submitters: bool) -> Result<(Kept, PathBuf), DeskError> {
        let found = self
            .store
            .read(move |c| {
                let Some(kept) = kb_images::get(c, id)? else {
                    return Ok(None);
                };
                let may = !for_submitters || kb_images::shown_to_submitters(c, id)?;
                Ok::<_, StoreError>(may.then_some(kept))
            })
            .await?;
        let kept = found.ok_or_else(|| DeskError::NotFound(format!("picture {id}")))?;
        let path = self.store.attachments_dir().join(&kept.stored_name);
        Ok((kept, path))
    }
}
