//! The multi-line editor of replies, notes, resolutions and hand-offs: cursor motions by
//! character, word, line and text, kill and yank, undo and redo, pasted text kept as it was
//! copied (newlines and tabs included), Chinese text at its true width, soft-wrapped, with the
//! terminal's own cursor where the text goes.
//!
//! The text area is `ratatui-textarea`'s; its keys are not: every motion is an [`Action`] from
//! the keymap's `[editor]` section, so both keymaps (and a handler's own) drive it.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Widget};
use ratatui_textarea::{CursorMove, Scrolling, TextArea, WrapMode};

use super::action::Action;

#[derive(Clone, Debug)]
pub struct TextEditor {
    area: TextArea<'static>,
    /// The text it was opened with (a template, a kept draft): unchanged, it is not a draft.
    initial: String,
}

impl TextEditor {
    /// An editor holding `text`. A hand-off template's cursor waits at the end of its first
    /// line (`复现步骤：|`), to be filled in place; a kept draft's at its end.
    pub fn new(text: &str, at_end: bool) -> TextEditor {
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let mut area = TextArea::new(lines);
        area.set_wrap_mode(WrapMode::WordOrGlyph);
        area.set_cursor_line_style(Style::default());
        area.set_max_histories(200);
        if at_end {
            area.move_cursor(CursorMove::Bottom);
        }
        area.move_cursor(CursorMove::End);
        TextEditor {
            area,
            initial: text.to_string(),
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// Nothing but blanks: nothing to send, nothing to keep.
    pub fn is_blank(&self) -> bool {
        self.area.lines().iter().all(|l| l.trim().is_empty())
    }

    /// Written in since it was opened.
    pub fn changed(&self) -> bool {
        self.text() != self.initial
    }

    pub fn insert(&mut self, c: char) {
        if c == '\n' {
            self.area.insert_newline();
        } else {
            self.area.insert_char(c);
        }
    }

    /// Pasted or inserted text, verbatim: line breaks stay line breaks, tabs stay tabs.
    pub fn insert_str(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        self.area.insert_str(text);
    }

    pub fn backspace(&mut self) {
        self.area.delete_char();
    }

    /// An editing action; false when it is not one.
    pub fn act(&mut self, action: Action) -> bool {
        let area = &mut self.area;
        match action {
            Action::Left => area.move_cursor(CursorMove::Back),
            Action::Right => area.move_cursor(CursorMove::Forward),
            Action::Up => area.move_cursor(CursorMove::Up),
            Action::Down => area.move_cursor(CursorMove::Down),
            Action::WordLeft => area.move_cursor(CursorMove::WordBack),
            Action::WordRight => area.move_cursor(CursorMove::WordForward),
            Action::LineStart => area.move_cursor(CursorMove::Head),
            Action::LineEnd => area.move_cursor(CursorMove::End),
            Action::Top => area.move_cursor(CursorMove::Top),
            Action::Bottom => {
                area.move_cursor(CursorMove::Bottom);
                area.move_cursor(CursorMove::End);
            }
            Action::PageUp => area.scroll(Scrolling::PageUp),
            Action::PageDown => area.scroll(Scrolling::PageDown),
            Action::DeleteForward => {
                area.delete_next_char();
            }
            Action::DeleteWordBack => {
                area.delete_word();
            }
            Action::DeleteWordForward => {
                area.delete_next_word();
            }
            Action::KillLine => {
                area.delete_line_by_end();
            }
            Action::KillToLineStart => {
                area.delete_line_by_head();
            }
            Action::Yank => {
                area.paste();
            }
            Action::Undo => {
                area.undo();
            }
            Action::Redo => {
                area.redo();
            }
            _ => return false,
        }
        true
    }

    /// Draws the text inside `block`; returns where the terminal cursor belongs.
    pub fn render(
        &mut self,
        rect: Rect,
        buf: &mut Buffer,
        block: Block<'static>,
        style: Style,
    ) -> Option<Position> {
        let inner = block.inner(rect);
        block.render(rect, buf);
        self.area.set_style(style);
        // The real cursor is shown: no painted block cursor on top of it.
        self.area.set_cursor_style(style);
        (&self.area).render(inner, buf);
        let at = self.area.screen_cursor();
        let (x, y) = (inner.x as usize + at.col, inner.y as usize + at.row);
        let inside = x < inner.right() as usize && y < inner.bottom() as usize;
        inside.then(|| Position::new(x as u16, y as u16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_filled_in_place_and_a_paste_keeps_its_lines_and_tabs() {
        let mut e = TextEditor::new("数据修复脚本（待审核）：\n影响范围：\n回滚方式：\n", false);
        e.insert_str("UPDATE acct SET state = 'N'\n\tWHERE acct = '310012345678';");
        assert!(e.act(Action::Down));
        assert!(e.act(Action::LineEnd));
        for c in "两个账户".chars() {
            e.insert(c);
        }
        assert_eq!(
            e.text(),
            "数据修复脚本（待审核）：UPDATE acct SET state = 'N'\n\tWHERE acct = '310012345678';\n影响范围：两个账户\n回滚方式：\n"
        );
        assert!(e.changed());
    }

    #[test]
    fn kill_yank_and_undo() {
        let mut e = TextEditor::new("", false);
        for c in "客户 A 已解决".chars() {
            e.insert(c);
        }
        e.act(Action::LineStart);
        e.act(Action::KillLine);
        assert!(e.is_blank());
        e.act(Action::Yank);
        e.act(Action::Yank);
        assert_eq!(e.text(), "客户 A 已解决客户 A 已解决");
        e.act(Action::Undo);
        assert_eq!(e.text(), "客户 A 已解决");
        e.act(Action::Redo);
        assert_eq!(e.text(), "客户 A 已解决客户 A 已解决");
        assert!(!e.act(Action::Quit), "not an editing action");
    }

    #[test]
    fn the_cursor_stands_after_wide_characters_where_the_text_goes() {
        let mut e = TextEditor::new("", false);
        for c in "账户ab".chars() {
            e.insert(c);
        }
        e.act(Action::Left);
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 5));
        let at = e.render(
            Rect::new(0, 0, 20, 5),
            &mut buf,
            Block::bordered(),
            Style::default(),
        );
        // Inside the border: 账户 take four columns, then "a": the cursor is on "b".
        assert_eq!(at, Some(Position::new(1 + 5, 1)));
    }
}
