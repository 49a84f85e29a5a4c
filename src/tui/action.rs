//! What a key can do. The snake_case names are what `keymaps/*.toml` bind; the descriptions
//! are the actions reference of the help overlay and the README.

use std::fmt;
use std::str::FromStr;

/// Declares the actions with their keymap names and descriptions in one place, so the enum,
/// the parser and the help text cannot drift apart.
macro_rules! actions {
    ($($variant:ident = $name:literal : $about:literal,)+) => {
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
    Quit = "quit": "quit opsdesk",
    Help = "help": "show the keys of this pane",
    Palette = "palette": "open the command palette",
    Refresh = "refresh": "sync with the server now",
    NextPane = "next_pane": "go to the next pane",
    PrevPane = "prev_pane": "go to the previous pane",
    PaneQueue = "pane_queue": "go to the queue",
    PaneTicket = "pane_ticket": "go to the open ticket",
    PaneLogs = "pane_logs": "go to log lookups",
    PaneKb = "pane_kb": "go to the knowledge base",
    PaneConstruct = "pane_construct": "go to account construction",
    PaneStats = "pane_stats": "go to the service-center stats",
    PaneAlerts = "pane_alerts": "go to monitor alerts",
    Back = "back": "close the overlay, or go back",
    Outbox = "outbox": "show the writes waiting to be sent, and any set aside",
    Goto = "goto": "open a ticket by its number, closed ones too",
    Messages = "messages": "show every message of this session",
    Noop = "noop": "do nothing (unbinds a key)",
    // Moving in lists and text.
    Up = "up": "move up",
    Down = "down": "move down",
    PageUp = "page_up": "move up a page",
    PageDown = "page_down": "move down a page",
    Top = "top": "go to the top",
    Bottom = "bottom": "go to the bottom",
    Open = "open": "open the selected item",
    // The queue.
    Filter = "filter": "type a filter",
    NextMatch = "next_match": "next ticket matching the filter",
    PrevMatch = "prev_match": "previous ticket matching the filter",
    ClearFilter = "clear_filter": "clear every filter",
    SortNext = "sort_next": "sort by SLA due, priority, then age",
    ToggleMine = "toggle_mine": "show only my tickets, or all",
    FilterStatus = "filter_status": "filter by status",
    FilterSystem = "filter_system": "filter by system",
    FilterCategory = "filter_category": "filter by category",
    FilterAssignee = "filter_assignee": "filter by assignee",
    Mark = "mark": "mark or unmark the selected ticket",
    MarkAll = "mark_all": "mark every ticket in the filter",
    ClearMarks = "clear_marks": "clear the marks",
    Bulk = "bulk": "act on the marked tickets",
    Search = "search": "search every ticket, closed ones too (text, customer, number)",
    // A ticket.
    Take = "take": "take the ticket (assign to me, start triage)",
    Assign = "assign": "assign to a handler",
    Reply = "reply": "reply to the submitter",
    Note = "note": "add an internal note",
    Transition = "transition": "change the status",
    Transfer = "transfer": "transfer to test, dev, ops or product",
    Resolve = "resolve": "resolve with a resolution text",
    Close = "close": "close a resolved ticket",
    Reopen = "reopen": "reopen a resolved or closed ticket",
    SetPriority = "set_priority": "set the priority",
    SetCategory = "set_category": "set the category and subcategory",
    SetSystem = "set_system": "set the system",
    LinkDuplicate = "link_duplicate": "link as a duplicate of another ticket",
    LinkParent = "link_parent": "link to a parent incident",
    Reveal = "reveal": "show the customer's full data (audited)",
    Attachments = "attachments": "list the attachments",
    SaveAttachment = "save_attachment": "save the selected attachment to a file",
    Similar = "similar": "show similar open tickets",
    ApproveScript = "approve_script": "approve an ops transfer's data-fix script (a second handler)",
    // Editors.
    Submit = "submit": "send what was written",
    Cancel = "cancel": "discard what was written (asks first)",
    CannedReply = "canned_reply": "insert a canned reply",
    Left = "left": "move the cursor left",
    Right = "right": "move the cursor right",
    WordLeft = "word_left": "move the cursor a word left",
    WordRight = "word_right": "move the cursor a word right",
    LineStart = "line_start": "move the cursor to the start of the line",
    LineEnd = "line_end": "move the cursor to the end of the line",
    DeleteForward = "delete_forward": "delete the character under the cursor",
    DeleteWordBack = "delete_word_back": "delete the word before the cursor",
    DeleteWordForward = "delete_word_forward": "delete the word after the cursor",
    KillLine = "kill_line": "cut to the end of the line",
    KillToLineStart = "kill_to_line_start": "cut to the start of the line",
    Yank = "yank": "paste what was cut last",
    Undo = "undo": "undo the last change",
    Redo = "redo": "redo what was undone",
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

    /// Editors and the palette take typed text: a printable key bound there would shadow it.
    pub fn takes_text(self) -> bool {
        matches!(self, Context::Editor | Context::Palette)
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
