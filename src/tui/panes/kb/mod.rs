//! The knowledge base: search as you type (characters, pinyin, near spellings, the server's
//! one matcher), the best articles with the match highlighted, the selected article's
//! symptoms, cause and steps beside them, and "this helped".
//!
//! Coming to it with a ticket in hand starts the search from the ticket's title, so the
//! articles that match the problem on the desk are the first thing seen.

mod offline;
mod view;
pub mod write;

pub use offline::SyncKb;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Command, Ctx, Handled, Input, Msg, Pane, PaneId};
use crate::api::{KbArticle, KbPage, KbSummary};
use crate::client::ClientError;
use crate::tui::action::{Action, Context};
use crate::tui::desk::Desk;
use crate::tui::effect::{Effect, Io, Job};

/// How many articles a search brings back: a screenful or two, best first.
const LIMIT: usize = 50;

const COMMANDS: &[Command] = &[
    Command::hint(Action::Filter),
    Command::hint(Action::Open),
    Command::hint(Action::Reply),
    Command::hint(Action::Helpful),
    Command::new(Action::EditArticle),
    Command::new(Action::NewArticle),
    Command::new(Action::ClearFilter),
    Command::new(Action::Down),
    Command::new(Action::Up),
    Command::new(Action::PageDown),
    Command::new(Action::PageUp),
    Command::new(Action::Top),
    Command::new(Action::Bottom),
];

#[derive(Debug, Default)]
pub struct KbPane {
    /// The search box.
    query: String,
    /// While typing: the query before it, for esc to put back.
    typing: Option<String>,
    /// The query the shown results answer, and the newest one sent.
    shown_for: Option<String>,
    sent: Option<String>,
    results: Vec<KbSummary>,
    total: usize,
    /// Nothing matched the whole query: these share the most with it.
    related: bool,
    /// The results came from the local copy: the server was out of reach.
    offline: bool,
    selected: usize,
    /// The selected article in full, once fetched.
    article: Option<KbArticle>,
    /// What went wrong with the last call, said in the pane.
    problem: Option<String>,
    /// Rows the list showed last time (paging moves by it).
    page: usize,
    /// Reading the selected article on the whole pane (`enter`), scrolled this many rows.
    reading: Option<u16>,
    /// The ticket the handler came with: where `r` sends the article's steps.
    in_hand: Option<crate::domain::ticket::TicketId>,
}

/// A search sent to the server.
#[derive(Debug, PartialEq, Eq)]
pub struct SearchKb(pub String);

/// What a search found: the articles best first and how many matched, or why not; `offline`
/// when it was the local copy that answered.
pub struct FoundKb {
    pub query: String,
    pub result: Result<KbPage, String>,
    pub offline: bool,
}

impl Job for SearchKb {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let query = self.0;
            let (result, offline) = match io.client.kb_search(&query, LIMIT).await {
                Ok(page) => (Ok(page), false),
                // The server is out of reach: the local copy answers, with the same matcher.
                Err(ClientError::Unreachable { .. }) if io.cache.is_some() => {
                    (offline::search(&io, &query, LIMIT).await, true)
                }
                Err(e) => (Err(crate::tui::calls::explain(&e)), false),
            };
            io.reply(FoundKb {
                query,
                result,
                offline,
            })
            .await;
        }
        .boxed()
    }
}

/// Fetch an article whole (reading it counts a view), or say it helped.
#[derive(Debug, PartialEq, Eq)]
pub struct FetchArticle {
    pub id: i64,
    pub helpful: bool,
}

/// The article fetched, or why not.
pub struct Fetched(pub Result<KbArticle, String>);

impl Job for FetchArticle {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            let result = if self.helpful {
                io.client.kb_helpful(self.id).await
            } else {
                io.client.kb_article(self.id).await
            };
            let result = match result {
                // Offline, an article is read from the local copy ("this helped" waits).
                Err(ClientError::Unreachable { .. }) if !self.helpful && io.cache.is_some() => {
                    offline::article(&io, self.id).await
                }
                other => other.map_err(|e| crate::tui::calls::explain(&e)),
            };
            io.reply(Fetched(result)).await;
        }
        .boxed()
    }
}

impl KbPane {
    fn search(&mut self) -> Vec<Effect> {
        if self.sent.as_deref() == Some(self.query.as_str()) {
            return Vec::new();
        }
        self.sent = Some(self.query.clone());
        vec![Effect::run(Some(PaneId::KB), SearchKb(self.query.clone()))]
    }

    fn selected(&self) -> Option<&KbSummary> {
        self.results.get(self.selected)
    }

    fn fetch_selected(&self, helpful: bool) -> Vec<Effect> {
        self.selected()
            .map(|a| Effect::run(Some(PaneId::KB), FetchArticle { id: a.id, helpful }))
            .into_iter()
            .collect()
    }

    /// Moves the selection; the article beside it follows.
    fn navigate(&mut self, action: Action) -> Option<Vec<Effect>> {
        let last = self.results.len().saturating_sub(1);
        let before = self.selected;
        self.selected = match action {
            Action::Down | Action::NextMatch => (self.selected + 1).min(last),
            Action::Up | Action::PrevMatch => self.selected.saturating_sub(1),
            Action::PageDown => (self.selected + self.page.max(1)).min(last),
            Action::PageUp => self.selected.saturating_sub(self.page.max(1)),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return None,
        };
        if self.selected == before {
            return Some(Vec::new());
        }
        self.article = None;
        Some(self.fetch_selected(false))
    }

    fn on_found(&mut self, found: FoundKb) -> Vec<Effect> {
        // An answer to a query since typed over is dropped: the newest one is on its way.
        if self.sent.as_deref() != Some(found.query.as_str()) {
            return Vec::new();
        }
        match found.result {
            Ok(page) => {
                self.results = page.articles;
                self.total = page.total;
                self.related = page.related;
                self.offline = found.offline;
                self.selected = 0;
                self.shown_for = Some(found.query);
                self.problem = None;
                self.article = None;
                self.fetch_selected(false)
            }
            Err(why) => {
                // Asked again on the next keystroke or visit.
                self.sent = None;
                self.problem = Some(why);
                Vec::new()
            }
        }
    }

    fn on_action(&mut self, action: Action, desk: &mut Desk) -> Handled {
        if let Some(before) = self.typing.take() {
            match action {
                Action::Back | Action::Cancel => {
                    self.query = before;
                    return Some(self.search());
                }
                Action::Open | Action::Submit => return Some(Vec::new()),
                // Moving while typing moves the selection, as in fzf.
                Action::Down | Action::Up | Action::PageDown | Action::PageUp => {
                    self.typing = Some(before);
                    return self.navigate(action);
                }
                _ => {
                    self.typing = Some(before);
                    return Some(Vec::new());
                }
            }
        }
        if let Some(scroll) = self.reading {
            let page = u16::try_from(self.page.max(1)).unwrap_or(u16::MAX);
            let to = match action {
                Action::Down => scroll.saturating_add(1),
                Action::Up => scroll.saturating_sub(1),
                Action::PageDown => scroll.saturating_add(page),
                Action::PageUp => scroll.saturating_sub(page),
                Action::Top => 0,
                // Held at the last row by the next render.
                Action::Bottom => u16::MAX,
                Action::Back | Action::Cancel | Action::Open => {
                    self.reading = None;
                    return Some(Vec::new());
                }
                // Searching again leaves the article; the rest (reply, helpful, edit) act on it.
                Action::Filter | Action::ClearFilter => {
                    self.reading = None;
                    scroll
                }
                _ => scroll,
            };
            if matches!(
                action,
                Action::Down
                    | Action::Up
                    | Action::PageDown
                    | Action::PageUp
                    | Action::Top
                    | Action::Bottom
            ) {
                self.reading = Some(to);
                return Some(Vec::new());
            }
        }
        match action {
            Action::Filter => {
                self.typing = Some(self.query.clone());
                Some(Vec::new())
            }
            Action::ClearFilter => {
                self.query.clear();
                Some(self.search())
            }
            // The selected article on the whole pane, to read a long one through.
            Action::Open if self.selected().is_some() => {
                self.reading = Some(0);
                Some(if self.article.is_some() {
                    Vec::new()
                } else {
                    self.fetch_selected(false)
                })
            }
            Action::Open => Some(Vec::new()),
            Action::Reply => {
                self.reply(desk);
                Some(Vec::new())
            }
            Action::NewArticle => {
                self.write_new(desk);
                Some(Vec::new())
            }
            Action::EditArticle => {
                match self.article.as_ref() {
                    Some(a) => write::open(
                        write::Writing::Edit {
                            id: a.id,
                            version: a.version,
                        },
                        &write::as_written(a),
                        desk,
                    ),
                    None if self.selected().is_none() => {
                        desk.toast("没有选中的文章 no article selected", true)
                    }
                    None => desk.toast("文章还在载入 the article is still loading", true),
                }
                Some(Vec::new())
            }
            Action::Helpful => {
                if self.selected().is_none() {
                    desk.toast("没有选中的文章 no article selected", true);
                    return Some(Vec::new());
                }
                Some(self.fetch_selected(true))
            }
            other => self.navigate(other),
        }
    }
}

impl KbPane {
    /// Opens the editor on a new article, on the system of the ticket in hand (else the
    /// first one configured).
    fn write_new(&self, desk: &mut Desk) {
        let system = self
            .in_hand
            .and_then(|id| desk.tickets.row(id))
            .map(|t| t.system.to_string())
            .or_else(|| desk.systems.first().map(|s| s.key.clone()))
            .unwrap_or_default();
        let me = desk.me.clone().unwrap_or_default();
        let article = write::blank(&system, &me, desk.now);
        write::open(write::Writing::New, &article, desk);
    }

    /// A save came back: a saved article is shown and the results are asked again.
    fn on_saved(&mut self, saved: write::Saved, desk: &mut Desk) -> Vec<Effect> {
        let (article, mut effects) = write::on_saved(saved, desk);
        if let Some(article) = article {
            if self.selected().map(|r| r.id) == Some(article.id) {
                self.article = Some(article);
            }
            self.sent = None;
            effects.extend(self.search());
            effects.push(Effect::run(Some(PaneId::KB), SyncKb));
        }
        effects
    }

    /// Opens the reply to the ticket in hand with the selected article's steps in it, to be
    /// read over and sent as the handler's own words.
    fn reply(&self, desk: &mut Desk) {
        let Some(id) = self.in_hand else {
            desk.toast(
                "先在队列中选中或打开一个工单 select or open a ticket first",
                true,
            );
            return;
        };
        let Some(article) = self.article.as_ref() else {
            desk.toast("文章还在载入 the article is still loading", true);
            return;
        };
        let steps: Vec<String> = article
            .steps
            .lines()
            .map(|l| view::plain(l).0)
            .filter(|l| !l.trim().is_empty())
            .collect();
        let text = format!(
            "您好，关于“{}”，请按以下步骤处理：\n{}",
            article.title,
            steps.join("\n")
        );
        crate::tui::work::reply_with(PaneId::KB, id, &text, desk);
    }
}

impl Pane for KbPane {
    fn id(&self) -> PaneId {
        PaneId::KB
    }

    fn title(&self) -> &'static str {
        "知识库 KB"
    }

    fn context(&self) -> Context {
        Context::Kb
    }

    fn commands(&self) -> Vec<Command> {
        COMMANDS.to_vec()
    }

    fn input(&self) -> Option<Input<'_>> {
        self.typing.as_ref().map(|_| Input {
            prompt: "搜索 search ",
            text: &self.query,
        })
    }

    fn update(&mut self, msg: Msg<'_>, desk: &mut Desk) -> Handled {
        match msg {
            Msg::Action(action) => self.on_action(action, desk),
            Msg::Edit(edit) => {
                crate::tui::overlay::edit_line(&mut self.query, edit);
                Some(self.search())
            }
            Msg::Pasted(text) => {
                self.query.push_str(text);
                Some(self.search())
            }
            Msg::Written { purpose, text } => match purpose.take::<write::ArticleText>() {
                Ok(write::ArticleText(writing)) => Some(write::written(writing, text, desk)),
                Err(purpose) => {
                    Some(crate::tui::work::written(purpose, text, desk).unwrap_or_default())
                }
            },
            Msg::Shown { in_hand } => {
                self.in_hand = in_hand;
                // First visit with a ticket in hand: its title is the question.
                if self.sent.is_none()
                    && self.query.is_empty()
                    && let Some(view) = in_hand.and_then(|id| desk.tickets.view(id))
                {
                    self.query = view.title.clone();
                }
                // Each visit brings the local copy up to date (one call when nothing changed).
                let mut effects = vec![Effect::run(Some(PaneId::KB), SyncKb)];
                effects.extend(self.search());
                Some(effects)
            }
            Msg::Loaded(loaded) => {
                let loaded = match loaded.downcast::<FoundKb>() {
                    Ok(found) => return Some(self.on_found(*found)),
                    Err(other) => other,
                };
                let loaded = match loaded.downcast::<write::Saved>() {
                    Ok(saved) => return Some(self.on_saved(*saved, desk)),
                    Err(other) => other,
                };
                if let Ok(fetched) = loaded.downcast::<Fetched>() {
                    match fetched.0 {
                        Ok(article) => {
                            if let Some(row) = self.results.iter_mut().find(|r| r.id == article.id)
                            {
                                row.helpful = article.helpful;
                                row.views = article.views;
                            }
                            if self.selected().map(|r| r.id) == Some(article.id) {
                                self.article = Some(article);
                            }
                        }
                        Err(why) => desk.toast(why, true),
                    }
                }
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn render(
        &mut self,
        area: ratatui::layout::Rect,
        buf: &mut ratatui::buffer::Buffer,
        ctx: &Ctx<'_>,
        focused: bool,
    ) {
        let (rows, last_row) = view::render(self, area, buf, ctx, focused);
        self.page = rows;
        // Scrolled past the end (`G`): held at the last screenful, so `k` moves at once.
        if let (Some(scroll), Some(last)) = (self.reading, last_row) {
            self.reading = Some(scroll.min(last));
        }
    }
}
