//! Reading the pages' multipart forms: text fields, and screenshots processed one at a time
//! as they arrive (decoded under limits, re-encoded, written under the data dir), so no more
//! than one image is ever held in memory, and never more than the per-image limit of it.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::Field;

use super::error::PageError;
use super::session::Submitter;
use crate::service::messages::StagedFile;
use crate::service::{Desk, DeskError};

/// Text fields longer than this are refused outright (the description's own limit is lower).
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Fields a form may carry; more is not a form of ours.
const MAX_FIELDS: usize = 64;

/// A posted form: its text fields, the screenshots stored so far, and what was refused.
#[derive(Debug, Default)]
pub struct Posted {
    pub fields: HashMap<String, String>,
    /// Every value of repeated fields (`staged`).
    pub repeated: HashMap<String, Vec<String>>,
    pub screenshots: Vec<StagedFile>,
    /// Why files were refused, in Chinese; the form is shown again with these.
    pub problems: Vec<String>,
}

impl Posted {
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

fn malformed() -> PageError {
    PageError::Refused(
        axum::http::StatusCode::BAD_REQUEST,
        "表单内容不完整或格式不正确，请返回重试".into(),
    )
}

/// Reads a field's bytes, stopping as soon as they pass `limit` (None = too big).
async fn read_capped(field: &mut Field<'_>, limit: usize) -> Result<Option<Vec<u8>>, PageError> {
    let mut buf = Vec::new();
    let mut over = false;
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            PageError::Refused(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "上传的内容太大：每张截图不超过 10 MB，一次最多 5 张".into(),
            )
        } else {
            malformed()
        }
    })? {
        if over {
            continue; // drain, so the client gets our answer rather than a reset
        }
        if buf.len() + chunk.len() > limit {
            over = true;
            buf = Vec::new();
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((!over).then_some(buf))
}

/// Reads a form, checking its CSRF token before any file is processed (the token field comes
/// first in our forms, and a file before it is refused).
pub async fn read(
    desk: &Desk,
    who: &Submitter,
    mut mp: Multipart,
    max_screenshots: usize,
) -> Result<Posted, PageError> {
    let mut posted = Posted::default();
    // A phone that goes away mid-form drops this future between two screenshots: the ones
    // already stored must not wait a day for the sweep.
    let mut unfinished = Unfinished {
        dir: desk.store.attachments_dir(),
        stored: Vec::new(),
    };
    let mut csrf_ok = false;
    let image_limit = desk.settings.server.max_upload_bytes;
    let mut count = 0;
    let result = async {
        while let Some(mut field) = mp.next_field().await.map_err(|_| malformed())? {
            count += 1;
            if count > MAX_FIELDS {
                return Err(malformed());
            }
            let name = field.name().unwrap_or_default().to_string();
            if name == "screenshots" {
                if !csrf_ok {
                    return Err(PageError::Csrf);
                }
                let filename = field.file_name().unwrap_or_default().to_string();
                let Some(bytes) = read_capped(&mut field, image_limit).await? else {
                    posted.problems.push(format!(
                        "截图「{filename}」超过 {} MB，请压缩后再传",
                        image_limit / (1024 * 1024)
                    ));
                    continue;
                };
                // A file input left empty still sends an empty part.
                if bytes.is_empty() && filename.is_empty() {
                    continue;
                }
                if posted.screenshots.len() >= max_screenshots {
                    posted.problems.push(format!(
                        "最多上传 {max_screenshots} 张截图，多出的「{filename}」未保存"
                    ));
                    continue;
                }
                match desk.stage_image(&filename, bytes.into()).await {
                    Ok(staged) => {
                        unfinished.stored.push(staged.stored.stored_name.clone());
                        posted.screenshots.push(staged);
                    }
                    Err(DeskError::Validation(v)) => {
                        let why =
                            v.0.iter()
                                .map(|e| e.zh.as_str())
                                .collect::<Vec<_>>()
                                .join("；");
                        posted.problems.push(format!("「{filename}」未保存：{why}"));
                    }
                    Err(other) => return Err(other.into()),
                }
                continue;
            }
            let Some(bytes) = read_capped(&mut field, MAX_TEXT_BYTES).await? else {
                return Err(PageError::Refused(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "填写的内容过长".into(),
                ));
            };
            let value = String::from_utf8(bytes).map_err(|_| malformed())?;
            if name == "csrf_token" {
                who.check_csrf(&value)?;
                csrf_ok = true;
            }
            if name == "staged" {
                posted.repeated.entry(name).or_default().push(value);
            } else {
                posted.fields.insert(name, value);
            }
        }
        if !csrf_ok {
            return Err(PageError::Csrf);
        }
        Ok(())
    }
    .await;
    // Read to the end: from here the caller keeps or discards what was stored.
    unfinished.stored.clear();
    match result {
        Ok(()) => Ok(posted),
        Err(e) => {
            desk.discard_staged(std::mem::take(&mut posted.screenshots))
                .await;
            Err(e)
        }
    }
}

/// Screenshots stored while a form is still being read; removed if the reading is abandoned.
struct Unfinished {
    dir: std::path::PathBuf,
    stored: Vec<String>,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        for name in &self.stored {
            let _ = std::fs::remove_file(self.dir.join(name));
            let _ = std::fs::remove_file(
                self.dir
                    .join(crate::service::messages::thumbnail_name(name)),
            );
        }
    }
}

/// The screenshots a form carries: those kept from its refused post (`staged`: the stored
/// name and file name of a picture already received and processed, shown again as a ticked
/// box), then those just sent; at most `max`. A kept picture that is gone (swept, or attached
/// meanwhile) becomes a problem, as does one too many.
pub async fn screenshots(desk: &Desk, posted: &mut Posted, max: usize) -> Vec<StagedFile> {
    let mut out = Vec::new();
    for kept in posted.repeated.get("staged").into_iter().flatten() {
        let (stored, name) = kept.split_once(':').unwrap_or((kept.as_str(), ""));
        match desk.restage(stored, name).await {
            Ok(f) => out.push(f),
            Err(_) => posted
                .problems
                .push(format!("之前上传的「{name}」已失效，请重新选择")),
        }
    }
    out.append(&mut posted.screenshots);
    if out.len() > max {
        posted
            .problems
            .push(format!("最多上传 {max} 张截图，请取消勾选多余的"));
    }
    out
}

/// Pictures as a form shows them again: (stored name, file name).
pub fn staged_names(files: &[StagedFile]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| (f.stored.stored_name.clone(), f.filename.clone()))
        .collect()
}
