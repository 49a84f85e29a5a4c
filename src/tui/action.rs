//! What a key can do. The snake_case names are what `keymaps/*.toml` bind; the descriptions
//! are the actions reference of the help overlay and the README.

use std::fmt;
use std::str::FromStr;

/// Declares the actions with their keymap names and descriptions in one place, so the enum,
/// the parser and the help text cannot drift apart.
macro_rules! actions {
    ($($variant:ident = $name:literal / $zh:literal : $about:literal,)+) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            /// The name keymap files use.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),+ }
            }

            /// One line for the help overlay.
            pub fn about(self) -> &'static str {
                match self { $(Action::$variant => $about),+ }
            }

            /// Its name in Chinese, for the palette (typing 回复 finds reply).
            pub fn zh(self) -> &'static str {
                match self { $(Action::$variant => $zh),+ }
            }
        }

        impl FromStr for Action {
            type Err = UnknownAction;
            fn from_str(s: &str) -> Result<Self, UnknownAction> {
                match s { $($name => Ok(Action::$variant),)+ _ => Err(UnknownAction(s.chars().take(60).collect())) }
            }
        }
    };
}

actions! {
    // Everywhere.
    Quit = "quit" / "退出": "quit opsdesk",
    Help = "help" / "按键帮助": "show the keys of this pane",
    Palette = "palette" / "命令面板": "open the command palette",
    Refresh = "refresh" / "立即同步": "sync with the server now",
    NextPane = "next_pane" / "下一个面板": "go to the next pane",
    PrevPane = "prev_pane" / "上一个面板": "go to the previous pane",
    PaneQueue = "pane_queue" / "队列": "go to the queue",
    PaneTicket = "pane_ticket" / "当前工单": "go to the open ticket",
    PaneLogs = "pane_logs" / "日志查询": "go to log lookups",
    PaneKb = "pane_kb" / "知识库": "go to the knowledge base",
    PaneConstruct = "pane_construct" / "数据构造": "go to account construction",
    PaneStats = "pane_stats" / "统计": "go to the service-center stats",
    PaneAlerts = "pane_alerts" / "告警": "go to monitor alerts",
    Back = "back" / "返回": "close the overlay, or go back",
    Outbox = "outbox" / "离线待发": "show the writes waiting to be sent, and any set aside",
    Goto = "goto" / "按工单号打开": "open a ticket by its number, closed ones too",
    Messages = "messages" / "消息记录": "show every message of this session",
    Noop = "noop" / "无操作": "do nothing (unbinds a key)",
    // Moving in lists and text.
    Up = "up" / "上移": "move up",
    Down = "down" / "下移": "move down",
    PageUp = "page_up" / "上翻页": "move up a page",
    PageDown = "page_down" / "下翻页": "move down a page",
    Top = "top" / "到顶部": "go to the top",
    Bottom = "bottom" / "到底部": "go to the bottom",
    Open = "open" / "打开": "open the selected item",
    // The queue.
    Filter = "filter" / "筛选": "type a filter",
    NextMatch = "next_match" / "下一个匹配": "next ticket matching the filter",
    PrevMatch = "prev_match" / "上一个匹配": "previous ticket matching the filter",
    ClearFilter = "clear_filter" / "清除筛选": "clear every filter",
    SortNext = "sort_next" / "切换排序": "sort by SLA due, priority, then age",
    ToggleMine = "toggle_mine" / "只看我的": "show only my tickets, or all",
    FilterStatus = "filter_status" / "按状态筛选": "filter by status",
    FilterSystem = "filter_system" / "按系统筛选": "filter by system",
    FilterCategory = "filter_category" / "按分类筛选": "filter by category",
    FilterAssignee = "filter_assignee" / "按处理人筛选": "filter by assignee",
    Mark = "mark" / "标记": "mark or unmark the selected ticket",
    MarkAll = "mark_all" / "全部标记": "mark every ticket in the filter",
    ClearMarks = "clear_marks" / "清除标记": "clear the marks",
    Bulk = "bulk" / "批量操作": "act on the marked tickets",
    Search = "search" / "搜索全部工单": "search every ticket, closed ones too (text, customer, number)",
    // A ticket.
    Take = "take" / "受理": "take the ticket (assign to me, start triage)",
    Assign = "assign" / "指派": "assign to a handler",
    Reply = "reply" / "回复": "reply to the submitter",
    Note = "note" / "内部备注": "add an internal note",
    Transition = "transition" / "改状态": "change the status",
    Transfer = "transfer" / "转交 转测试 转研发 转运维 转产品": "transfer to test, dev, ops or product",
    Resolve = "resolve" / "解决": "resolve with a resolution text",
    Close = "close" / "关闭": "close a resolved ticket",
    Reopen = "reopen" / "重新打开": "reopen a resolved or closed ticket",
    SetPriority = "set_priority" / "设优先级": "set the priority",
    SetCategory = "set_category" / "设分类": "set the category and subcategory",
    SetSystem = "set_system" / "设系统": "set the system",
    LinkDuplicate = "link_duplicate" / "关联重复": "link as a duplicate of another ticket",
    LinkParent = "link_parent" / "关联父事件": "link to a parent incident",
    Reveal = "reveal" / "查看客户完整信息": "show the customer's full data (audited)",
    Attachments = "attachments" / "附件 截图": "list the attachments",
    SaveAttachment = "save_attachment" / "保存附件": "save the selected attachment to a file",
    Similar = "similar" / "相似工单": "show similar open tickets",
    Helpful = "helpful" / "有帮助": "say the selected article helped",
    NewArticle = "new_article" / "写新文章": "write a new article",
    EditArticle = "edit_article" / "编辑文章": "edit the selected article",
    WriteUp = "write_up" / "写成文章 知识库": "write the ticket up as a knowledge-base article",
    ApproveScript = "approve_script" / "审批脚本": "approve an ops transfer's data-fix script (a second handler)",
    // Log lookups.
    PickSource = "pick_source" / "选择日志源": "choose the log source to search (or all)",
    FilterLevel = "filter_level" / "按级别筛选": "show only lines of one level",
    WidenWindow = "widen_window" / "扩大时间窗口": "widen the time window around the ticket (30 min, 2 h, 6 h, 1 day)",
    SameTrace = "same_trace" / "同一链路": "look up every line of the selected line's request (its trace id)",
    SetIdentifiers = "set_identifiers" / "按标识查询": "look up other identifiers (account, phone, user id, trace id)",
    Follow = "follow" / "跟随新日志": "follow new lines as they are written, or stop",
    Rerun = "rerun" / "重新查询": "run the lookup again",
    SaveQuery = "save_query" / "保存查询": "keep this lookup's filters under a name",
    DataQuery = "data_query" / "数据查询 客户资料": "run a data source's named query (profile, cards, orders) for the ticket's customer",
    SavedQueries = "saved_queries" / "已存查询": "run a kept lookup on the ticket in hand",
    // The service-center stats.
    PrevPeriod = "prev_period" / "上一期": "show the report of the period before",
    NextPeriod = "next_period" / "下一期": "show the report of the period after",
    ThisPeriod = "this_period" / "本期": "show the report of the period now running",
    SwitchReport = "switch_report" / "周报 月报 切换": "switch between the weekly and the monthly report",
    ReloadReport = "reload_report" / "重新载入报告": "fetch the report again",
    RecordSession = "record_session" / "记录知识分享": "record a knowledge session (day, topic, systems, articles, viewers)",
    EditSession = "edit_session" / "修改知识分享": "change the selected knowledge session (views grow with the replays)",
    // Account construction.
    PickEnv = "pick_env" / "选择环境": "choose the environment accounts are built in",
    Regenerate = "regenerate" / "重新生成": "draw the form's generated values again (a new seed)",
    SetCount = "set_count" / "批量数量": "set how many accounts one start builds (1–200)",
    StartRun = "start_run" / "开始构造": "build the account: run the recipe with the form's values",
    TeamRuns = "team_runs" / "我的 团队的构造": "show my construction runs, or the whole team's",
    ResumeRun = "resume_run" / "续跑": "resume the run from the step it stopped at",
    ResumeUnknown = "resume_unknown" / "续跑 重试结果未知的步骤": "resume, calling a step whose outcome is unknown again (asks first)",
    CancelRun = "cancel_run" / "取消构造": "cancel the run (asks first; it can be resumed later)",
    // Monitor alerts.
    Acknowledge = "acknowledge" / "确认告警 认领": "acknowledge the alert: someone is on it",
    Silence = "silence" / "静默告警": "silence the alert's notifications for 30 min, 2 h or 1 day, or end the silence",
    ResolveAlert = "resolve_alert" / "解除告警": "resolve the alert by hand (asks first)",
    OpenIncident = "open_incident" / "开事件单": "open the alert's parent incident ticket",
    LinkCandidate = "link_candidate" / "关联到事件单": "link a ticket that looks like the same problem to the alert's incident",
    ShowIncident = "show_incident" / "查看事件单": "show the alert's parent incident in the ticket pane",
    Monitors = "monitors" / "监控列表": "show the monitors and their evaluations, or the alerts again",
    RunMonitor = "run_monitor" / "立即运行监控": "run the selected monitor now",
    // Editors.
    Submit = "submit" / "发送": "send what was written",
    Cancel = "cancel" / "放弃": "discard what was written (asks first)",
    CannedReply = "canned_reply" / "常用回复": "insert a canned reply",
    Left = "left" / "左移": "move the cursor left",
    Right = "right" / "右移": "move the cursor right",
    WordLeft = "word_left" / "左移一个词": "move the cursor a word left",
    WordRight = "word_right" / "右移一个词": "move the cursor a word right",
    LineStart = "line_start" / "行首": "move the cursor to the start of the line",
    LineEnd = "line_end" / "行尾": "move the cursor to the end of the line",
    DeleteForward = "delete_forward" / "向后删除": "delete the character under the cursor",
    DeleteWordBack = "delete_word_back" / "删除前一个词": "delete the word before the cursor",
    DeleteWordForward = "delete_word_forward" / "删除后一个词": "delete the word after the cursor",
    KillLine = "kill_line" / "剪切到行尾": "cut to the end of the line",
    KillToLineStart = "kill_to_line_start" / "剪切到行首": "cut to the start of the line",
    Yank = "yank" / "粘贴剪切的内容": "paste what was cut last",
    Undo = "undo" / "撤销": "undo the last change",
    Redo = "redo" / "重做": "redo what was undone",
}

/// A name that is not an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action '{0}'")]
pub struct UnknownAction(pub String);

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a binding applies. Overlays and editors come first, then the focused pane, then
/// `global`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Queue,
    Ticket,
    Editor,
    Palette,
    Help,
    Picker,
    Logs,
    Kb,
    Construct,
    Stats,
    Alerts,
}

impl Context {
    pub const ALL: &'static [Context] = &[
        Context::Global,
        Context::Queue,
        Context::Ticket,
        Context::Editor,
        Context::Palette,
        Context::Help,
        Context::Picker,
        Context::Logs,
        Context::Kb,
        Context::Construct,
        Context::Stats,
        Context::Alerts,
    ];

    /// The table name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Queue => "queue",
            Context::Ticket => "ticket",
            Context::Editor => "editor",
            Context::Palette => "palette",
            Context::Help => "help",
            Context::Picker => "picker",
            Context::Logs => "logs",
            Context::Kb => "kb",
            Context::Construct => "construct",
            Context::Stats => "stats",
            Context::Alerts => "alerts",
        }
    }

    pub fn parse(s: &str) -> Option<Context> {
        Context::ALL.iter().copied().find(|c| c.name() == s)
    }

    /// Editors, the palette and pickers (typing narrows them) take typed text: a printable key
    /// bound there would shadow it, and a key they do not bind goes no further.
    pub fn takes_text(self) -> bool {
        matches!(self, Context::Editor | Context::Palette | Context::Picker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert_eq!(a.name().parse::<Action>(), Ok(*a));
            assert!(seen.insert(a.name()), "{a} twice");
            assert!(!a.about().is_empty());
        }
        assert_eq!("fly".parse::<Action>(), Err(UnknownAction("fly".into())));
        for c in Context::ALL {
            assert_eq!(Context::parse(c.name()), Some(*c));
        }
    }
}
