//! The overlays every pane shares: help, the command palette, a screenshot preview, and the
//! editor, prompt and picker a pane opens to ask the handler something. They take the keys
//! first; an answer goes back to the pane that asked (its `owner`), with the pane's own
//! [`Purpose`] so the pane knows what it was for.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Clear, List, ListItem, ListState, Paragraph, StatefulWidget, Widget, Wrap,
};

use super::action::{Action, Context};
use super::editor::TextEditor;
use super::keymap::Keymap;
use super::panes::{Command, Edit, PaneId, Purpose};
use super::preview::Preview;
use super::theme::Theme;

#[derive(Debug)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// The command palette: the focused pane's commands and the global ones, by name.
    Palette {
        input: String,
        selected: usize,
    },
    /// Text to read and copy (an outbox entry that could not be sent, the outbox list).
    Text {
        title: String,
        text: String,
        scroll: u16,
    },
    /// A screenshot drawn in the terminal.
    Preview {
        title: String,
        image: Box<Preview>,
    },
    /// Multi-line text for a reply, a note, a resolution or a hand-off.
    Editor {
        owner: PaneId,
        purpose: Purpose,
        title: String,
        editor: Box<TextEditor>,
        /// The canned replies `canned_reply` offers, filled in for this ticket (title, text).
        canned: Vec<(String, String)>,
        /// Where the draft is kept when the editor is left unsent (`12/reply`).
        draft: Option<String>,
    },
    /// A question before something that cannot be undone; no (enter, esc, `n`) goes back to
    /// `resume`, yes is `y` only.
    Confirm {
        question: String,
        yes: Box<Outcome>,
        resume: Option<Box<Overlay>>,
    },
    /// One line of text (a ticket number, a subcategory), typed on the status line.
    Prompt {
        owner: PaneId,
        purpose: Purpose,
        title: String,
        input: String,
    },
    /// One choice among a few (`options` are (label, value) pairs); typed text narrows them
    /// (the letters in order, anywhere in the label), `selected` counts among those shown.
    Picker {
        owner: PaneId,
        purpose: Purpose,
        title: String,
        options: Vec<(String, String)>,
        selected: usize,
        filter: String,
    },
}

/// What an overlay's key led to.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing more (the overlay moved, or closed).
    None,
    /// The palette chose an action: run it as if its key was pressed.
    Run(Action),
    Picked {
        owner: PaneId,
        purpose: Purpose,
        index: usize,
        value: String,
    },
    Prompted {
        owner: PaneId,
        purpose: Purpose,
        input: String,
    },
    Written {
        owner: PaneId,
        purpose: Purpose,
        text: String,
        draft: Option<String>,
    },
    /// An editor was sent with nothing in it; it stays open.
    Blank,
    /// An editor was left unsent: its text is kept as the draft.
    Kept { draft: String, text: String },
    /// A draft was thrown away, when the handler said so.
    Discarded { draft: Option<String> },
    /// A pane's question was answered yes.
    Confirmed { owner: PaneId, purpose: Purpose },
    /// The editor asks for a canned reply among several: it waits (`editor`) while the
    /// handler picks one (title, text).
    ChooseCanned {
        editor: Box<Overlay>,
        options: Vec<(String, String)>,
    },
}

impl Overlay {
    pub fn picker(
        owner: PaneId,
        purpose: impl std::any::Any + Send,
        title: impl Into<String>,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Overlay {
        Overlay::Picker {
            owner,
            purpose: Purpose::new(purpose),
            title: title.into(),
            options: options.into_iter().collect(),
            selected: 0,
            filter: String::new(),
        }
    }

    pub fn prompt(
        owner: PaneId,
        purpose: impl std::any::Any + Send,
        title: impl Into<String>,
        input: impl Into<String>,
    ) -> Overlay {
        Overlay::Prompt {
            owner,
            purpose: Purpose::new(purpose),
            title: title.into(),
            input: input.into(),
        }
    }

    /// A yes-or-no question from a pane; yes comes back to it as `Msg::Confirmed`.
    pub fn confirm(
        owner: PaneId,
        purpose: impl std::any::Any + Send,
        question: impl Into<String>,
    ) -> Overlay {
        Overlay::Confirm {
            question: format!("{} (y/n)", question.into()),
            yes: Box::new(Outcome::Confirmed {
                owner,
                purpose: Purpose::new(purpose),
            }),
            resume: None,
        }
    }

    /// An editor holding `text`, the draft kept under `draft` when there is one (its cursor
    /// then waits at the end), else `template`.
    pub fn editor(
        owner: PaneId,
        purpose: impl std::any::Any + Send,
        title: impl Into<String>,
        template: &str,
        kept: Option<&str>,
        canned: Vec<(String, String)>,
        draft: Option<String>,
    ) -> Overlay {
        let editor = match kept {
            Some(text) => TextEditor::new(text, true),
            None => TextEditor::new(template, false),
        };
        let mut title = title.into();
        if kept.is_some() {
            title.push_str(" · 草稿 draft");
        }
        Overlay::Editor {
            owner,
            purpose: Purpose::new(purpose),
            title,
            editor: Box::new(editor),
            canned,
            draft,
        }
    }

    fn is_blank(&self) -> bool {
        matches!(self, Overlay::Editor { editor, .. } if editor.is_blank())
    }

    /// The keymap section that applies while this overlay is up.
    pub fn context(&self) -> Context {
        match self {
            Overlay::Help { .. } | Overlay::Preview { .. } | Overlay::Text { .. } => Context::Help,
            Overlay::Palette { .. } | Overlay::Prompt { .. } => Context::Palette,
            Overlay::Editor { .. } => Context::Editor,
            Overlay::Picker { .. } | Overlay::Confirm { .. } => Context::Picker,
        }
    }

    /// Whether the overlay takes typed text, and if so whether Enter is a new line.
    pub fn takes_text(&self) -> Option<bool> {
        match self {
            Overlay::Palette { .. } | Overlay::Prompt { .. } | Overlay::Picker { .. } => {
                Some(false)
            }
            Overlay::Editor { .. } => Some(true),
            _ => None,
        }
    }

    /// Applies typed text; a palette starts its choice over.
    pub fn edit(&mut self, edit: Edit) {
        match self {
            Overlay::Palette { input, selected } => {
                edit_line(input, edit);
                *selected = 0;
            }
            Overlay::Prompt { input, .. } => edit_line(input, edit),
            Overlay::Picker {
                filter, selected, ..
            } => {
                edit_line(filter, edit);
                *selected = 0;
            }
            Overlay::Editor { editor, .. } => match edit {
                Edit::Insert(c) => editor.insert(c),
                Edit::Backspace => editor.backspace(),
                Edit::DeleteWordBack => {
                    editor.act(crate::tui::action::Action::DeleteWordBack);
                }
                Edit::KillToLineStart => {
                    editor.act(crate::tui::action::Action::KillToLineStart);
                }
            },
            _ => {}
        }
    }

    /// Pasted text: verbatim into an editor; on one line, line breaks become spaces.
    pub fn paste(&mut self, text: &str) {
        match self {
            Overlay::Editor { editor, .. } => editor.insert_str(text),
            Overlay::Palette { .. } | Overlay::Prompt { .. } | Overlay::Picker { .. } => {
                for c in text.chars() {
                    self.edit(Edit::Insert(one_line(c)));
                }
            }
            _ => {}
        }
    }

    /// Handles an action; returns the overlay if it stays up, and what the action led to.
    /// `palette` is what the palette offers for its current input.
    pub fn act(self, action: Action, palette: &[Action]) -> (Option<Overlay>, Outcome) {
        use Action::*;
        let close = |outcome| (None, outcome);
        match (self, action) {
            (Overlay::Help { .. }, Back | Help | Quit) => close(Outcome::None),
            // Scrolling; the drawing stops it at the last line.
            (Overlay::Help { scroll }, Down | Up | PageDown | PageUp | Top | Bottom) => {
                let scroll = match action {
                    Down => scroll.saturating_add(1),
                    Up => scroll.saturating_sub(1),
                    PageDown => scroll.saturating_add(10),
                    PageUp => scroll.saturating_sub(10),
                    Top => 0,
                    _ => u16::MAX,
                };
                (Some(Overlay::Help { scroll }), Outcome::None)
            }
            (Overlay::Preview { .. } | Overlay::Text { .. }, Back | Cancel | Open | Quit) => {
                close(Outcome::None)
            }
            (
                Overlay::Text {
                    title,
                    text,
                    scroll,
                },
                Down | Up | PageDown | PageUp | Top,
            ) => {
                let scroll = match action {
                    Down => scroll.saturating_add(1),
                    Up => scroll.saturating_sub(1),
                    PageDown => scroll.saturating_add(10),
                    PageUp => scroll.saturating_sub(10),
                    _ => 0,
                };
                (
                    Some(Overlay::Text {
                        title,
                        text,
                        scroll,
                    }),
                    Outcome::None,
                )
            }
            (Overlay::Palette { .. } | Overlay::Prompt { .. }, Back | Cancel) => {
                close(Outcome::None)
            }
            (Overlay::Palette { input, selected }, Down) => (
                Some(Overlay::Palette {
                    selected: (selected + 1).min(palette.len().saturating_sub(1)),
                    input,
                }),
                Outcome::None,
            ),
            (Overlay::Palette { input, selected }, Up) => (
                Some(Overlay::Palette {
                    selected: selected.saturating_sub(1),
                    input,
                }),
                Outcome::None,
            ),
            (Overlay::Palette { selected, .. }, Open | Submit) => close(
                palette
                    .get(selected)
                    .map_or(Outcome::None, |a| Outcome::Run(*a)),
            ),
            (
                Overlay::Prompt {
                    owner,
                    purpose,
                    input,
                    ..
                },
                Open | Submit,
            ) => close(Outcome::Prompted {
                owner,
                purpose,
                input,
            }),
            (editor @ Overlay::Editor { .. }, Submit) if editor.is_blank() => {
                (Some(editor), Outcome::Blank)
            }
            (
                Overlay::Editor {
                    owner,
                    purpose,
                    editor,
                    draft,
                    ..
                },
                Submit,
            ) => close(Outcome::Written {
                owner,
                purpose,
                text: editor.text(),
                draft,
            }),
            // Leaving keeps what was written; only an explicit discard (after asking) loses it.
            (Overlay::Editor { editor, draft, .. }, Back) => close(
                match draft.filter(|_| editor.changed() && !editor.is_blank()) {
                    Some(draft) => Outcome::Kept {
                        draft,
                        text: editor.text(),
                    },
                    None => Outcome::None,
                },
            ),
            (
                Overlay::Editor {
                    owner,
                    purpose,
                    title,
                    editor,
                    canned,
                    draft,
                },
                Cancel,
            ) => {
                if editor.is_blank() || !editor.changed() {
                    return close(Outcome::Discarded { draft });
                }
                let yes = Outcome::Discarded {
                    draft: draft.clone(),
                };
                let resume = Overlay::Editor {
                    owner,
                    purpose,
                    title,
                    editor,
                    canned,
                    draft,
                };
                let confirm = Overlay::Confirm {
                    question: "放弃这份草稿？y 放弃 · n 或 esc 继续编辑 · discard this draft? y discards, n or esc goes back".into(),
                    yes: Box::new(yes),
                    resume: Some(Box::new(resume)),
                };
                (Some(confirm), Outcome::None)
            }
            (
                Overlay::Editor {
                    owner,
                    purpose,
                    title,
                    mut editor,
                    canned,
                    draft,
                },
                action,
            ) => {
                let one = (action == CannedReply && canned.len() == 1).then(|| canned[0].1.clone());
                match one {
                    Some(text) => editor.insert_str(&text),
                    None if action == CannedReply => {}
                    None => {
                        editor.act(action);
                    }
                }
                let options = canned.clone();
                let editor = Overlay::Editor {
                    owner,
                    purpose,
                    title,
                    editor,
                    canned,
                    draft,
                };
                if action == CannedReply && options.len() > 1 {
                    let choose = Outcome::ChooseCanned {
                        editor: Box::new(editor),
                        options,
                    };
                    return (None, choose);
                }
                (Some(editor), Outcome::None)
            }
            (Overlay::Confirm { yes, .. }, Submit) => close(*yes),
            (Overlay::Confirm { resume, .. }, Back | Cancel | Open | Quit) => {
                (resume.map(|r| *r), Outcome::None)
            }
            (Overlay::Picker { .. }, Back | Cancel) => close(Outcome::None),
            (
                Overlay::Picker {
                    owner,
                    purpose,
                    title,
                    options,
                    selected,
                    filter,
                },
                Down | Up | PageDown | PageUp | Top | Bottom,
            ) => {
                let last = shown(&options, &filter).len().saturating_sub(1);
                let selected = match action {
                    Down => (selected + 1).min(last),
                    Up => selected.saturating_sub(1),
                    PageDown => (selected + 10).min(last),
                    PageUp => selected.saturating_sub(10),
                    Top => 0,
                    _ => last,
                };
                let picker = Overlay::Picker {
                    owner,
                    purpose,
                    title,
                    options,
                    selected,
                    filter,
                };
                (Some(picker), Outcome::None)
            }
            (
                Overlay::Picker {
                    owner,
                    purpose,
                    options,
                    selected,
                    filter,
                    ..
                },
                Open | Submit,
            ) => {
                let chosen = shown(&options, &filter).get(selected).copied();
                close(
                    match chosen.and_then(|i| options.into_iter().nth(i).map(|o| (i, o))) {
                        Some((index, (_, value))) => Outcome::Picked {
                            owner,
                            purpose,
                            index,
                            value,
                        },
                        None => Outcome::None,
                    },
                )
            }
            (overlay, _) => (Some(overlay), Outcome::None),
        }
    }
}

/// What the overlays need from the app to draw themselves.
pub struct Look<'a> {
    pub keymap: &'a Keymap,
    pub theme: &'a Theme,
    /// The focused pane's keymap section and commands (for help).
    pub pane_context: Context,
    pub pane_commands: &'a [Command],
    pub global_commands: &'a [Command],
    /// What the palette offers for its input.
    pub palette: &'a [Action],
    pub colour: bool,
}

/// Draws the overlay over the main area (`status` is the status line, where prompts go);
/// returns where the terminal cursor belongs, when text is being edited.
pub fn render(
    overlay: &mut Overlay,
    main: Rect,
    status: Rect,
    buf: &mut Buffer,
    look: &Look<'_>,
) -> Option<Position> {
    let theme = look.theme;
    match overlay {
        Overlay::Help { scroll } => render_help(main, buf, look, scroll),
        Overlay::Palette { input, selected } => render_palette(main, buf, look, input, *selected),
        Overlay::Editor { title, editor, .. } => {
            return render_editor(main, buf, look, title, editor);
        }
        Overlay::Confirm { question, .. } => {
            let width = (unicode_width::UnicodeWidthStr::width(question.as_str()) as u16 + 4)
                .min(main.width);
            let rect = centered(main, width, 4);
            Clear.render(rect, buf);
            clear_wide_edges(rect, buf);
            Paragraph::new(Span::styled(question.clone(), theme.text()))
                .wrap(Wrap { trim: false })
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.alert("warn"))
                        .title(Span::styled(" 确认 confirm ", theme.title())),
                )
                .render(rect, buf);
        }
        Overlay::Picker {
            title,
            options,
            selected,
            filter,
            ..
        } => {
            let shown = shown(options, filter);
            let rect = centered(main, 56, options.len() as u16 + 2);
            Clear.render(rect, buf);
            clear_wide_edges(rect, buf);
            let heading = if filter.is_empty() {
                format!(" {title} ")
            } else {
                format!(" {title} /{filter}▏ ")
            };
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(
                    crate::display::fit(&heading, usize::from(rect.width.saturating_sub(2)))
                        .trim_end()
                        .to_string(),
                    theme.title(),
                ));
            let items: Vec<ListItem<'_>> = shown
                .iter()
                .map(|&i| ListItem::new(Span::styled(options[i].0.clone(), theme.text())))
                .collect();
            render_list(items, block, *selected, rect, buf, theme);
        }
        Overlay::Preview { title, image } => {
            let rect = centered(
                main,
                main.width.saturating_sub(4),
                main.height.saturating_sub(2),
            );
            Clear.render(rect, buf);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(format!(" {title} (esc) "), theme.title()));
            let inner = block.inner(rect);
            block.render(rect, buf);
            image.render(inner, buf, look.colour);
        }
        Overlay::Prompt { title, input, .. } => prompt_line(title, input, status, buf, theme),
        Overlay::Text {
            title,
            text,
            scroll,
        } => {
            let rect = centered(main, 76, main.height.saturating_sub(2));
            Clear.render(rect, buf);
            clear_wide_edges(rect, buf);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(format!(" {title} (esc) "), theme.title()));
            let lines: Vec<Line<'_>> = text
                .split('\n')
                .map(|l| Line::from(Span::styled(l.to_string(), theme.text())))
                .collect();
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((*scroll, 0))
                .block(block)
                .render(rect, buf);
        }
    }
    None
}

/// A line being typed on the status line: what is asked, the text, a cursor.
pub fn prompt_line(prompt: &str, text: &str, status: Rect, buf: &mut Buffer, theme: &Theme) {
    let room =
        usize::from(status.width).saturating_sub(unicode_width::UnicodeWidthStr::width(prompt) + 1);
    let line = Line::from(vec![
        Span::styled(prompt.to_string(), theme.key_hint()),
        // The end being typed stays in sight as the text outgrows the line.
        Span::styled(crate::display::tail(text, room), theme.text()),
        Span::styled("▏", theme.muted()),
    ]);
    Clear.render(status, buf);
    line.render(status, buf);
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The keys of the focused pane's commands (its own work first, as it lists them), then the
/// global ones, read from the keymap. The scroll stops at the last line.
fn render_help(area: Rect, buf: &mut Buffer, look: &Look<'_>, scroll: &mut u16) {
    let theme = look.theme;
    let rect = centered(area, 72, area.height.saturating_sub(2));
    Clear.render(rect, buf);
    clear_wide_edges(rect, buf);
    let mut lines = Vec::new();
    // One row a binding: what does not fit is cut with `…`, never wrapped under the keys.
    let about_width = usize::from(rect.width.saturating_sub(2 + 14 + 16));
    for (ctx, commands) in [
        (look.pane_context, look.pane_commands),
        (Context::Global, look.global_commands),
    ] {
        lines.push(Line::from(Span::styled(
            format!("[{}]", ctx.name()),
            theme.header(),
        )));
        let mut seen: Vec<Action> = Vec::new();
        for action in commands.iter().map(|c| c.action) {
            if seen.contains(&action) {
                continue;
            }
            seen.push(action);
            for keys in look.keymap.keys_for(ctx, action) {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("  {}", crate::display::fit(&keys, 12)),
                        theme.key_hint(),
                    ),
                    Span::styled(format!("{:<16}", action.name()), theme.text()),
                    Span::styled(
                        crate::display::fit(
                            &format!("{} {}", action.zh(), action.about()),
                            about_width,
                        ),
                        theme.muted(),
                    ),
                ]));
            }
        }
        lines.push(Line::from(""));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(
            " 按键 Keys (j/k, pgdn/pgup, g g/G; esc closes) ",
            theme.title(),
        ));
    let inner = block.inner(rect);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = paragraph.line_count(inner.width) as u16;
    *scroll = (*scroll).min(total.saturating_sub(inner.height));
    paragraph
        .scroll((*scroll, 0))
        .block(block)
        .render(rect, buf);
}

/// The multi-line editor over the lower two thirds, with how to send, leave or discard.
fn render_editor(
    area: Rect,
    buf: &mut Buffer,
    look: &Look<'_>,
    title: &str,
    editor: &mut TextEditor,
) -> Option<Position> {
    let theme = look.theme;
    let height = (area.height * 2 / 3).max(8);
    let rect = Rect {
        x: area.x + 1,
        y: area.bottom().saturating_sub(height),
        width: area.width.saturating_sub(2),
        height: height.min(area.height),
    };
    Clear.render(rect, buf);
    clear_wide_edges(rect, buf);
    let keys = |a: Action| {
        look.keymap
            .keys_for(Context::Editor, a)
            .first()
            .cloned()
            .unwrap_or_else(|| "-".into())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(format!(" {title} "), theme.title()))
        .title_bottom(Line::from(Span::styled(
            format!(
                " {} 发送 send · {} 留作草稿 keep · {} 放弃 discard · {} 常用回复 canned ",
                keys(Action::Submit),
                keys(Action::Back),
                keys(Action::Cancel),
                keys(Action::CannedReply)
            ),
            theme.key_hint(),
        )));
    editor.render(rect, buf, block, theme.text())
}

fn render_palette(area: Rect, buf: &mut Buffer, look: &Look<'_>, input: &str, selected: usize) {
    let theme = look.theme;
    let rect = centered(area, 76, 14);
    Clear.render(rect, buf);
    clear_wide_edges(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(
            format!(" : {input}▏  (名称、中文或说明 name, 中文 or words) "),
            theme.title(),
        ));
    let items: Vec<ListItem<'_>> = look
        .palette
        .iter()
        .map(|a| {
            let keys = look
                .keymap
                .keys_for(look.pane_context, *a)
                .into_iter()
                .chain(look.keymap.keys_for(Context::Global, *a))
                .next()
                .unwrap_or_default();
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:<18}", a.name()), theme.text()),
                Span::styled(crate::display::fit(&keys, 8), theme.key_hint()),
                Span::styled(format!(" {} {}", a.zh(), a.about()), theme.muted()),
            ]))
        })
        .collect();
    render_list(items, block, selected, rect, buf, theme);
}

/// A list in a box with its selected row highlighted (pickers and the palette).
fn render_list(
    items: Vec<ListItem<'_>>,
    block: Block<'_>,
    selected: usize,
    rect: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let mut state = ListState::default().with_selected(Some(selected));
    StatefulWidget::render(
        List::new(items)
            .block(block)
            .highlight_style(theme.selection()),
        rect,
        buf,
        &mut state,
    );
}

/// A pasted character on a one-line input: a line break or a tab becomes a space.
pub fn one_line(c: char) -> char {
    if matches!(c, '\n' | '\t' | '\r') {
        ' '
    } else {
        c
    }
}

/// Typed text on a one-line input (the overlays', and a pane's own search box).
pub fn edit_line(input: &mut String, edit: Edit) {
    match edit {
        Edit::Insert(c) => input.push(c),
        Edit::Backspace => {
            input.pop();
        }
        Edit::DeleteWordBack => {
            let word = input
                .trim_end()
                .trim_end_matches(|c: char| !c.is_whitespace());
            input.truncate(word.len());
        }
        // The cursor of a line of typed text is at its end.
        Edit::KillToLineStart => input.clear(),
    }
}

/// A wide (CJK) character just left of a pop-up spills over its first column and hides its
/// border (or a toast's first character): the cell is blanked on every row of `rect`.
pub fn clear_wide_edges(rect: Rect, buf: &mut Buffer) {
    let Some(x) = rect.x.checked_sub(1) else {
        return;
    };
    for y in rect.top()..rect.bottom() {
        if let Some(cell) = buf.cell_mut((x, y))
            && unicode_width::UnicodeWidthStr::width(cell.symbol()) > 1
        {
            cell.set_symbol(" ");
        }
    }
}

/// The options a picker shows for `filter`: those whose label holds its letters in order
/// (case aside), in their own order.
fn shown(options: &[(String, String)], filter: &str) -> Vec<usize> {
    let needle: Vec<char> = filter
        .to_lowercase()
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    options
        .iter()
        .enumerate()
        .filter(|(_, (label, _))| {
            let mut wanted = needle.iter().peekable();
            for c in label.to_lowercase().chars() {
                if wanted.peek() == Some(&&c) {
                    wanted.next();
                }
            }
            wanted.peek().is_none()
        })
        .map(|(i, _)| i)
        .collect()
}
