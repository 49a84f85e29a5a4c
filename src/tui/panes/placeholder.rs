//! Panes whose features arrive with later issues say so, and what will fill them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::super::theme::Theme;
use super::PaneId;

/// What fills each pane that is not built yet, in the product's words.
pub fn planned(pane: PaneId) -> Option<(&'static str, &'static str)> {
    match pane {
        PaneId::Logs => Some((
            "ELK 日志、APP 埋点与数据库查询将在这里进行。",
            "Log lookups in Elasticsearch, app tracking events and read-only data queries arrive with the log-lookup issue (`opsdesk logs search`).",
        )),
        PaneId::Kb => Some((
            "知识库：由已解决工单沉淀的问题描述与解决步骤，支持模糊与拼音搜索。",
            "The knowledge base, written from resolved tickets with fuzzy and pinyin search, arrives with the KB issue (`opsdesk kb search`).",
        )),
        PaneId::Construct => Some((
            "UAT 数据构造：约 35 个业务接口分阶段构造测试账户，含成功/失败统计。",
            "UAT account construction (account, depository and trading stages) arrives with the construction issue (`opsdesk construct run`).",
        )),
        PaneId::Stats => Some((
            "服务中心：按数据类、程序类、咨询类的周报，解决率与及时解决率。",
            "Service-center weekly reports with resolution and timely-resolution rates arrive with the reports issue (`opsdesk report weekly`).",
        )),
        PaneId::Alerts => Some((
            "主动监控：开户量、渠道分布、账户与交易系统状态一致性告警。",
            "Proactive monitors (account-opening volume, channel mix, account-vs-trading consistency) arrive with the monitors issue (`opsdesk monitor list`).",
        )),
        PaneId::Queue | PaneId::Ticket => None,
    }
}

pub fn render(pane: PaneId, area: Rect, buf: &mut Buffer, theme: &Theme, focused: bool) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(format!(" {} ", pane.title()), theme.title()));
    let (zh, en) = planned(pane).unwrap_or(("", ""));
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
