//! Writing articles from the workstation: a new one (`c`), the selected one (`e`), or a ticket
//! written up (`W` on a ticket). The editor holds the article as `kb export` writes it (TOML
//! front matter, then the steps in markdown), so what a handler edits here and what is kept in
//! git are the same text. Nothing typed is lost: a refusal reopens the editor with the reasons
//! as comments at the top, and an article the server cannot take now is kept as a draft.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::super::PaneId;
use crate::api::{KbArticle, KbArticleBody};
use crate::client::ClientError;
use crate::domain::kb::{self, Article};
use crate::domain::ticket::TicketId;
use crate::tui::desk::Desk;
use crate::tui::effect::{Effect, Io, Job};
use crate::tui::overlay::Overlay;

/// What an article editor is writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writing {
    New,
    Edit { id: i64, version: i64 },
    WriteUp { ticket: TicketId },
}

impl Writing {
    fn draft_key(self) -> String {
        match self {
            Writing::New => "kb-new".into(),
            Writing::Edit { id, .. } => format!("kb-{id}"),
            Writing::WriteUp { ticket } => format!("kb-ticket-{ticket}"),
        }
    }

    fn title(self) -> String {
        match self {
            Writing::New => "新文章 new article".into(),
            Writing::Edit { id, .. } => format!("编辑文章 #{id} edit article"),
            Writing::WriteUp { ticket } => format!("#{ticket} 写成文章 write it up"),
        }
    }
}

/// The editor's purpose: the article being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArticleText(pub Writing);

/// Comment lines the editor puts at the top of the front matter to say why a save was
/// refused; taken out again before the text is read.
const REFUSAL: &str = "# 未保存 not saved: ";

/// Opens the article editor: the draft kept for `writing` when there is one, else `article`.
pub fn open(writing: Writing, article: &Article, desk: &mut Desk) {
    let kept = desk.drafts.get(&writing.draft_key()).cloned();
    let title = writing.title();
    desk.overlay(editor(
        writing,
        title,
        &kb::render_file(article),
        kept.as_deref(),
    ));
}

/// The article editor for `writing`: `kept` (a draft, the cursor at its end) when there is
/// one, else `template`; what it holds is kept under the writing's draft key.
fn editor(writing: Writing, title: String, template: &str, kept: Option<&str>) -> Overlay {
    Overlay::editor(
        PaneId::KB,
        ArticleText(writing),
        title,
        template,
        kept,
        Vec::new(),
        Some(writing.draft_key()),
    )
}

/// Keeps `text` as the draft of `writing`, here and in the local cache.
fn keep(writing: Writing, text: String, desk: &mut Desk) -> Effect {
    crate::tui::drafts::keep(writing.draft_key(), text, desk)
}

/// A blank article for the writer to fill in, on `system`.
pub fn blank(system: &str, author: &str, at: chrono::DateTime<chrono::Utc>) -> Article {
    Article {
        steps: "1. ".into(),
        ..Article::draft(system, author, at)
    }
}

/// The article as an edit starts from it (the counters are the server's, not the text's).
pub fn as_written(a: &KbArticle) -> Article {
    Article {
        views: 0,
        helpful: 0,
        ..a.article()
    }
}

/// `text` without the refusal comments an earlier save put in it.
fn without_refusals(text: &str) -> String {
    let mut out: String = text
        .lines()
        .filter(|l| !l.starts_with(REFUSAL))
        .collect::<Vec<_>>()
        .join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// `text` with `reasons` as comments under its opening fence (or above it, when it has none).
fn with_refusals(text: &str, reasons: &[String]) -> String {
    let text = without_refusals(text);
    let comments: String = reasons.iter().map(|r| format!("{REFUSAL}{r}\n")).collect();
    match text.split_once('\n') {
        Some((fence, rest)) if fence.trim_end() == "+++" || fence.trim_end() == "---" => {
            format!("{fence}\n{comments}{rest}")
        }
        // No front matter to hold comments: they go on top, and the file says what is missing.
        _ => format!("{comments}{text}"),
    }
}

/// Reopens the editor on `text` with `reasons` for the refusal at the top, where the cursor
/// is, and says so; the text is kept as the draft meanwhile (here and in the local cache), so
/// leaving the editor loses nothing.
fn reopen(writing: Writing, text: &str, reasons: &[String], desk: &mut Desk) -> Vec<Effect> {
    let text = with_refusals(text, reasons);
    desk.toast(
        format!("文章未保存 · not saved: {}", reasons.join("; ")),
        true,
    );
    let title = format!("{} · 未保存 not saved", writing.title());
    desk.overlay(editor(writing, title, &text, None));
    vec![keep(writing, text, desk)]
}

/// The editor was closed with `text` for `writing`: the article is read from it and sent, or
/// the editor comes back with what is wrong.
pub fn written(writing: Writing, text: String, desk: &mut Desk) -> Vec<Effect> {
    let clean = without_refusals(&text);
    let article = match kb::parse_file(&clean) {
        Ok(a) => a,
        Err(e) => return reopen(writing, &text, &[e.0], desk),
    };
    let version = match writing {
        Writing::Edit { version, .. } => Some(version),
        Writing::New | Writing::WriteUp { .. } => None,
    };
    let body = KbArticleBody::of(&article, version);
    vec![Effect::run(
        Some(PaneId::KB),
        SaveArticle {
            writing,
            body,
            text: clean,
        },
    )]
}

/// Sends an article to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveArticle {
    pub writing: Writing,
    pub body: KbArticleBody,
    /// The editor's text, to reopen it with if the server refuses.
    pub text: String,
}

/// What came of a save.
#[derive(Debug)]
pub struct Saved {
    pub writing: Writing,
    pub text: String,
    pub result: Result<KbArticle, Refusal>,
}

/// Why a save did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The text breaks the rules: the reasons, field by field.
    Invalid(Vec<String>),
    /// Someone saved the article since it was opened; `current` is their version.
    Changed { current: i64 },
    /// The server cannot be reached or cannot take it now: kept as a draft.
    Later(String),
}

impl Job for SaveArticle {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let SaveArticle {
                writing,
                body,
                text,
            } = *self;
            let sent = match writing {
                Writing::Edit { id, .. } => io.client.kb_update(id, &body).await,
                Writing::New | Writing::WriteUp { .. } => io.client.kb_create(&body).await,
            };
            let result = match sent {
                Ok(a) => Ok(a),
                Err(ClientError::Api {
                    status: 409, code, ..
                }) if code == "version_conflict" => {
                    let Writing::Edit { id, .. } = writing else {
                        unreachable!("only an edit names a version")
                    };
                    match io.client.kb_article(id).await {
                        Ok(now) => Err(Refusal::Changed {
                            current: now.version,
                        }),
                        Err(e) => Err(Refusal::Later(crate::tui::calls::explain(&e))),
                    }
                }
                Err(
                    e @ ClientError::Api {
                        status: 409 | 422 | 400,
                        ..
                    },
                ) => {
                    let ClientError::Api {
                        ref fields,
                        ref message,
                        ..
                    } = e
                    else {
                        unreachable!()
                    };
                    let reasons = if fields.is_empty() {
                        vec![message.clone()]
                    } else {
                        fields.clone()
                    };
                    Err(Refusal::Invalid(reasons))
                }
                Err(e) => Err(Refusal::Later(crate::tui::calls::explain(&e))),
            };
            io.reply(Saved {
                writing,
                text,
                result,
            })
            .await;
        }
        .boxed()
    }
}

/// The server answered a save; the saved article, for the pane to show.
pub fn on_saved(saved: Saved, desk: &mut Desk) -> (Option<KbArticle>, Vec<Effect>) {
    let Saved {
        writing,
        text,
        result,
    } = saved;
    match result {
        Ok(article) => {
            desk.toast(
                format!(
                    "文章已保存 · article saved: #{} {}",
                    article.id, article.title
                ),
                false,
            );
            // The ticket written up names its article from now on.
            let reload = match writing {
                Writing::WriteUp { ticket } => vec![Effect::run(
                    Some(PaneId::TICKET),
                    crate::tui::panes::ticket::TicketJob::Load(ticket),
                )],
                Writing::New | Writing::Edit { .. } => Vec::new(),
            };
            (Some(article), reload)
        }
        Err(Refusal::Invalid(reasons)) => (None, reopen(writing, &text, &reasons, desk)),
        Err(Refusal::Changed { current }) => {
            let Writing::Edit { id, .. } = writing else {
                return (None, Vec::new());
            };
            // The other version is kept as a revision whatever happens; saving again on
            // purpose writes over it.
            let again = Writing::Edit {
                id,
                version: current,
            };
            let reason = format!(
                "#{id} 已被他人改为第 {current} 版；再次保存将覆盖（其版本留在修订记录中）· changed by someone else (now version {current}); saving again writes over it, their text stays in the revisions"
            );
            (None, reopen(again, &text, &[reason], desk))
        }
        Err(Refusal::Later(why)) => {
            desk.toast(
                format!("文章未发出，已存为草稿 · not sent, kept as a draft: {why}"),
                true,
            );
            (None, vec![keep(writing, text, desk)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_comments_that_come_and_go() {
        let file = "+++\ntitle = \"x\"\n+++\n\n1. 步骤\n";
        let once = with_refusals(file, &["title: 标题需 4–80 个字".into()]);
        assert_eq!(
            once,
            "+++\n# 未保存 not saved: title: 标题需 4–80 个字\ntitle = \"x\"\n+++\n\n1. 步骤\n"
        );
        // A second refusal replaces the first rather than piling up.
        let twice = with_refusals(&once, &["steps".into()]);
        assert_eq!(twice.matches(REFUSAL).count(), 1);
        assert_eq!(without_refusals(&twice), file);
        // Without front matter the reasons go on top.
        assert!(with_refusals("just text", &["no fence".into()]).starts_with(REFUSAL));
    }
}
