//! Panes whose features arrive with later issues say so, and what will fill them: one small
//! component, one instance for each pane still to come.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::{Command, Ctx, Handled, Msg, Pane, PaneId};
use crate::tui::action::Context;
use crate::tui::desk::Desk;

/// A pane not built yet: its tab, its keymap section, and what will fill it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placeholder {
    id: PaneId,
    title: &'static str,
    context: Context,
    /// What fills it, in Chinese and in English.
    planned: (&'static str, &'static str),
}

impl Placeholder {
    pub const ALERTS: Placeholder = Placeholder {
        id: PaneId::ALERTS,
        title: "告警 Alerts",
        context: Context::Alerts,
        planned: (
            "主动监控：开户量、渠道分布、账户与交易系统状态一致性告警。",
            "Proactive monitors (account-opening volume, channel mix, account-vs-trading consistency) arrive with the monitors issue (`opsdesk monitor list`).",
        ),
    };
}

impl Pane for Placeholder {
    fn id(&self) -> PaneId {
        self.id
    }

    fn title(&self) -> &'static str {
        self.title
    }

    fn context(&self) -> Context {
        self.context
    }

    fn commands(&self) -> Vec<Command> {
        Vec::new()
    }

    fn update(&mut self, _msg: Msg<'_>, _desk: &mut Desk) -> Handled {
        None
    }

    fn render(&mut self, area: Rect, buf: &mut Buffer, ctx: &Ctx<'_>, focused: bool) {
        let theme = ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Span::styled(format!(" {} ", self.title), theme.title()));
        let (zh, en) = self.planned;
        let text = vec![
            Line::from(Span::styled(zh, theme.text())),
            Line::from(""),
            Line::from(Span::styled(en, theme.muted())),
        ];
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(block)
            .render(area, buf);
    }
}
