//! Ticket work: what a handler does to the ticket in hand (take, reply, note, move, transfer,
//! resolve, set fields, link, approve a script, attachments), offered by every pane that holds
//! a ticket — the open one in the ticket pane, the selected row in the queue.
//!
//! Pure like a pane's `update`: it opens the shared overlays with its own purposes, takes
//! their answers back, and returns [`Call`]s (writes, sent or queued by the loop) and jobs.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::action::Action;
use super::desk::{Deferred, Desk};
use super::effect::{Effect, Io, Job};
use super::fetch::Fetch;
use super::overlay::Overlay;
use super::panes::{Command, PaneId, Purpose};
use super::preview::Preview;
use crate::api::TransitionBody;
use crate::domain::lifecycle::allowed_from;
use crate::domain::ticket::{Category, LinkKind, Priority, Status, TicketId, TransferTarget};

/// A change the handler asked the server for; `version` is the one they saw, so a ticket
/// someone else changed meanwhile answers with a conflict instead of being overwritten.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// Assign to me and, if still new, start triage.
    Take {
        id: TicketId,
        version: i64,
        me: String,
        start: bool,
    },
    Transition {
        id: TicketId,
        body: TransitionBody,
    },
    Message {
        id: TicketId,
        body: String,
        internal: bool,
        key: String,
    },
    Patch {
        id: TicketId,
        body: serde_json::Value,
    },
    Link {
        id: TicketId,
        kind: LinkKind,
        target: Option<TicketId>,
        version: i64,
    },
    ApproveScript {
        id: TicketId,
        version: i64,
    },
}

/// What an editor's text is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compose {
    Reply(TicketId),
    Note(TicketId),
    Resolve {
        id: TicketId,
        version: i64,
    },
    Handoff {
        id: TicketId,
        version: i64,
        to: TransferTarget,
    },
}

impl Compose {
    pub fn title(&self) -> String {
        match self {
            Compose::Reply(id) => format!("回复提交人 reply to the submitter · #{id}"),
            Compose::Note(id) => format!("内部备注 internal note · #{id}"),
            Compose::Resolve { id, .. } => format!("解决方案 resolution · #{id}"),
            Compose::Handoff { id, to, .. } => format!("转{} hand-off · #{id}", to.label_zh()),
        }
    }

    /// Where a draft of this is kept: one per ticket and purpose (a hand-off per team).
    pub fn draft_key(&self) -> String {
        match self {
            Compose::Reply(id) => format!("{id}/reply"),
            Compose::Note(id) => format!("{id}/note"),
            Compose::Resolve { id, .. } => format!("{id}/resolution"),
            Compose::Handoff { id, to, .. } => format!("{id}/handoff-{to}"),
        }
    }

    fn ticket(&self) -> TicketId {
        match self {
            Compose::Reply(id) | Compose::Note(id) => *id,
            Compose::Resolve { id, .. } | Compose::Handoff { id, .. } => *id,
        }
    }
}

/// What a one-line prompt asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ask {
    Link {
        id: TicketId,
        version: i64,
        kind: LinkKind,
    },
    /// The free subcategory under a chosen category (empty clears it).
    Subcategory {
        id: TicketId,
        version: i64,
        category: Category,
    },
}

impl Ask {
    fn title(&self) -> String {
        match self {
            Ask::Link {
                id,
                kind: LinkKind::DuplicateOf,
                ..
            } => format!("#{id} 重复于工单号 duplicate of #"),
            Ask::Link {
                id,
                kind: LinkKind::Parent,
                ..
            } => format!("#{id} 父事件工单号 parent incident #"),
            Ask::Subcategory { id, category, .. } => {
                format!("#{id} {} 小类 subcategory: ", category.label_zh())
            }
        }
    }
}

/// What a picker chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pick {
    Status {
        id: TicketId,
        version: i64,
    },
    TransferTarget {
        id: TicketId,
        version: i64,
    },
    Priority {
        id: TicketId,
        version: i64,
    },
    Category {
        id: TicketId,
        version: i64,
    },
    System {
        id: TicketId,
        version: i64,
    },
    Assignee {
        id: TicketId,
        version: i64,
    },
    /// Open one of the tickets that look like the same problem.
    Similar,
    /// An attachment of the ticket: enter saves it (`save`), else shows images.
    Attachment {
        id: TicketId,
        save: bool,
    },
}

impl Pick {
    fn title(&self) -> &'static str {
        match self {
            Pick::Status { .. } => "状态 status",
            Pick::TransferTarget { .. } => "转交给 transfer to",
            Pick::Priority { .. } => "优先级 priority",
            Pick::Category { .. } => "分类 category",
            Pick::System { .. } => "系统 system",
            Pick::Assignee { .. } => "处理人 assignee",
            Pick::Similar => "相似工单 similar open tickets",
            Pick::Attachment { save: true, .. } => "附件：回车保存 attachments: enter saves",
            Pick::Attachment { save: false, .. } => {
                "附件：回车查看图片、保存其他文件 attachments: enter shows a picture, saves a file"
            }
        }
    }
}

/// Taking a ticket: assign it to me and, while it is new, start triage.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TakeOver {
    id: TicketId,
    version: i64,
    me: String,
    start: bool,
}

impl TakeOver {
    fn into_call(self) -> Call {
        Call::Take {
            id: self.id,
            version: self.version,
            me: self.me,
            start: self.start,
        }
    }
}

/// A question of ticket work was answered yes.
pub fn confirmed(purpose: Purpose) -> Result<Vec<Effect>, Purpose> {
    let take = purpose.take::<TakeOver>()?;
    Ok(vec![Effect::Call(take.into_call())])
}

/// The commands of ticket work, for the panes that offer it.
pub const COMMANDS: &[Command] = &[
    Command::new(Action::Take),
    Command::new(Action::Assign),
    Command::new(Action::Reply),
    Command::new(Action::Note),
    Command::new(Action::Transition),
    Command::new(Action::Transfer),
    Command::new(Action::Resolve),
    Command::new(Action::Close),
    Command::new(Action::Reopen),
    Command::new(Action::SetPriority),
    Command::new(Action::SetCategory),
    Command::new(Action::SetSystem),
    Command::new(Action::LinkDuplicate),
    Command::new(Action::LinkParent),
    Command::new(Action::Attachments),
    Command::new(Action::SaveAttachment),
    Command::new(Action::Similar),
    Command::new(Action::ApproveScript),
    Command::new(Action::WriteUp),
];

/// Ticket work that reads more of the ticket than its queue row holds: the subcategory, the
/// attachments, the description that similar tickets are matched on.
const NEEDS_VIEW: &[Action] = &[
    Action::SetCategory,
    Action::Attachments,
    Action::SaveAttachment,
    Action::Similar,
    Action::LinkDuplicate,
    Action::WriteUp,
];

/// Ticket work on `id` from the pane `owner`; `similar` is the server's list of the same
/// problem when the pane has it. `None` when the action is not ticket work.
pub fn act(
    owner: PaneId,
    action: Action,
    id: Option<TicketId>,
    similar: Option<&[TicketId]>,
    desk: &mut Desk,
) -> Option<Vec<Effect>> {
    if !COMMANDS.iter().any(|c| c.action == action) {
        return None;
    }
    let Some(t) = id.and_then(|id| desk.tickets.row(id)) else {
        desk.toast("没有选中的工单 · no ticket selected", true);
        return Some(Vec::new());
    };
    let (id, version, status) = (t.id, t.version, t.status);
    let holder = t.assignee.as_deref().map(str::to_string);
    // Work that reads more than the queue row waits for the full view, which the queue
    // fetches as the selection moves: a key pressed in that instant is done when it arrives.
    if NEEDS_VIEW.contains(&action) && desk.tickets.view(id).is_none() {
        let fetch = Fetch::of(t);
        desk.deferred = Some(Deferred {
            pane: owner,
            action,
            ticket: id,
        });
        return Some(vec![Effect::run(Some(owner), fetch)]);
    }
    let call = |call: Call| Some(vec![Effect::Call(call)]);
    let picker = |purpose: Pick, options: Vec<(String, String)>| {
        let title = purpose.title();
        Overlay::picker(owner, purpose, title, options)
    };
    match action {
        Action::Take => match desk.me.clone() {
            Some(me) => {
                let take = TakeOver {
                    id,
                    version,
                    me: me.clone(),
                    start: status == Status::New,
                };
                // A colleague's ticket is taken over only when the handler says so.
                match holder.filter(|a| *a != me) {
                    Some(holder) => desk.overlay(Overlay::confirm(
                        owner,
                        take,
                        format!("#{id} 由 {holder} 处理中，确定接手？ #{id} is {holder}'s; take it over?"),
                    )),
                    None => return call(take.into_call()),
                }
            }
            None => desk.toast("未登录 · not signed in", true),
        },
        Action::Reply => compose(owner, Compose::Reply(id), String::new(), desk),
        Action::WriteUp => write_up(id, desk),
        Action::Note => compose(owner, Compose::Note(id), String::new(), desk),
        Action::Resolve => {
            if allowed_from(status).contains(&Status::Resolved) {
                compose(owner, Compose::Resolve { id, version }, String::new(), desk);
            } else {
                refuse(status, Status::Resolved, desk);
            }
        }
        Action::Transfer if allowed_from(status).contains(&Status::Transferred) => {
            desk.overlay(picker(
                Pick::TransferTarget { id, version },
                transfer_options(),
            ));
        }
        Action::Transfer => refuse(status, Status::Transferred, desk),
        Action::Close | Action::Reopen => {
            let to = if action == Action::Close {
                Status::Closed
            } else {
                Status::Triaging
            };
            let reopen_ok =
                action == Action::Close || matches!(status, Status::Resolved | Status::Closed);
            if reopen_ok && allowed_from(status).contains(&to) {
                return call(Call::Transition {
                    id,
                    body: transition(to, Some(version)),
                });
            }
            refuse(status, to, desk);
        }
        Action::Transition => {
            let options = allowed_from(status)
                .iter()
                .map(|s| labelled(s.label_zh(), s.as_str()))
                .collect();
            desk.overlay(picker(Pick::Status { id, version }, options));
        }
        Action::SetPriority => {
            let options = Priority::ALL
                .iter()
                .map(|p| (p.as_str().to_string(), p.as_str().to_string()))
                .collect();
            desk.overlay(picker(Pick::Priority { id, version }, options));
        }
        Action::SetCategory => {
            let options = Category::ALL
                .iter()
                .map(|c| labelled(c.label_zh(), c.as_str()))
                .collect();
            desk.overlay(picker(Pick::Category { id, version }, options));
        }
        Action::SetSystem => {
            let options = desk
                .systems
                .iter()
                .map(|s| (format!("{} {}", s.name, s.key), s.key.clone()))
                .collect();
            desk.overlay(picker(Pick::System { id, version }, options));
        }
        Action::Assign => {
            let mut options = vec![("不指派 unassign".to_string(), String::new())];
            options.extend(desk.assignable().into_iter().map(|h| (h.clone(), h)));
            desk.overlay(picker(Pick::Assignee { id, version }, options));
        }
        Action::Similar => {
            let options = similar_to(desk, id, similar);
            if options.is_empty() {
                desk.toast("没有相似的未结工单 · no similar open tickets", false);
            } else {
                desk.overlay(picker(Pick::Similar, options));
            }
        }
        Action::ApproveScript => return call(Call::ApproveScript { id, version }),
        Action::LinkDuplicate | Action::LinkParent => {
            let kind = if action == Action::LinkDuplicate {
                LinkKind::DuplicateOf
            } else {
                LinkKind::Parent
            };
            // The likeliest original is offered: the most similar open ticket.
            let input = if kind == LinkKind::DuplicateOf {
                similar_to(desk, id, similar)
                    .first()
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let ask = Ask::Link { id, version, kind };
            let title = ask.title();
            desk.overlay(Overlay::prompt(owner, ask, title, input));
        }
        Action::Attachments | Action::SaveAttachment => {
            let options: Vec<(String, String)> = desk
                .tickets
                .view(id)
                .map(|t| t.attachments.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    (
                        format!(
                            "{} ({} KB, {})",
                            a.filename,
                            (a.size + 1023) / 1024,
                            a.content_type
                        ),
                        a.id.to_string(),
                    )
                })
                .collect();
            if options.is_empty() {
                desk.toast("没有附件 · no attachments", false);
            } else {
                let save = action == Action::SaveAttachment;
                desk.overlay(picker(Pick::Attachment { id, save }, options));
            }
        }
        _ => {}
    }
    Some(Vec::new())
}

/// A picker of ticket work was answered; the purpose comes back when it is not ours.
pub fn picked(
    owner: PaneId,
    purpose: Purpose,
    value: String,
    desk: &mut Desk,
) -> Result<Vec<Effect>, Purpose> {
    let call = |call: Call| Ok(vec![Effect::Call(call)]);
    let patch = |id: TicketId, body: serde_json::Value| call(Call::Patch { id, body });
    match purpose.take::<Pick>()? {
        Pick::Status { id, version } => match value.parse::<Status>() {
            Ok(Status::Resolved) => {
                compose(owner, Compose::Resolve { id, version }, String::new(), desk)
            }
            Ok(Status::Transferred) => {
                let pick = Pick::TransferTarget { id, version };
                let title = pick.title();
                desk.overlay(Overlay::picker(owner, pick, title, transfer_options()));
            }
            Ok(to) => {
                return call(Call::Transition {
                    id,
                    body: transition(to, Some(version)),
                });
            }
            Err(_) => {}
        },
        Pick::TransferTarget { id, version } => {
            if let Ok(to) = value.parse::<TransferTarget>() {
                let compose_for = Compose::Handoff { id, version, to };
                compose(owner, compose_for, handoff_template(to), desk);
            }
        }
        Pick::Priority { id, version } => {
            return patch(
                id,
                serde_json::json!({"version": version, "priority": value}),
            );
        }
        Pick::Category { id, version } => {
            if let Ok(category) = value.parse::<Category>() {
                // The subcategory is free text: offer the current one to keep or change.
                let input = desk
                    .tickets
                    .view(id)
                    .and_then(|t| t.subcategory.clone())
                    .unwrap_or_default();
                let ask = Ask::Subcategory {
                    id,
                    version,
                    category,
                };
                let title = ask.title();
                desk.overlay(Overlay::prompt(owner, ask, title, input));
            }
        }
        Pick::System { id, version } => {
            return patch(id, serde_json::json!({"version": version, "system": value}));
        }
        Pick::Assignee { id, version } => {
            let assignee = (!value.is_empty()).then_some(value);
            return patch(
                id,
                serde_json::json!({"version": version, "assignee": assignee}),
            );
        }
        Pick::Similar => {
            if let Ok(id) = value.parse::<TicketId>() {
                desk.request(super::desk::Request::OpenTicket(id));
            }
        }
        Pick::Attachment { id, save } => {
            let chosen = value.parse::<i64>().ok().and_then(|aid| {
                desk.tickets
                    .view(id)?
                    .attachments
                    .iter()
                    .find(|a| a.id == aid)
                    .map(|a| {
                        (
                            aid,
                            a.filename.clone(),
                            a.content_type.starts_with("image/"),
                        )
                    })
            });
            if let Some((attachment, filename, image)) = chosen {
                let job = if image && !save {
                    AttachmentJob::Preview {
                        ticket: id,
                        attachment,
                        filename,
                    }
                } else {
                    AttachmentJob::Save {
                        ticket: id,
                        attachment,
                        filename,
                    }
                };
                return Ok(vec![Effect::run(None, job)]);
            }
        }
    }
    Ok(Vec::new())
}

/// A prompt of ticket work was answered.
pub fn prompted(purpose: Purpose, input: String, desk: &mut Desk) -> Result<Vec<Effect>, Purpose> {
    match purpose.take::<Ask>()? {
        Ask::Link { id, version, kind } => {
            // Empty removes the link.
            let target = if input.trim().is_empty() {
                None
            } else {
                match ticket_number(&input, desk) {
                    Some(t) => Some(t),
                    None => return Ok(Vec::new()),
                }
            };
            Ok(vec![Effect::Call(Call::Link {
                id,
                kind,
                target,
                version,
            })])
        }
        Ask::Subcategory {
            id,
            version,
            category,
        } => {
            let sub = input.trim();
            let sub = (!sub.is_empty()).then_some(sub);
            Ok(vec![Effect::Call(Call::Patch {
                id,
                body: serde_json::json!({"version": version, "category": category, "subcategory": sub}),
            })])
        }
    }
}

/// An editor of ticket work was sent.
pub fn written(purpose: Purpose, text: String, desk: &mut Desk) -> Result<Vec<Effect>, Purpose> {
    let key = format!("tui-{}-{}", desk.now.timestamp_micros(), text.len());
    let call = match purpose.take::<Compose>()? {
        Compose::Reply(id) => Call::Message {
            id,
            body: text,
            internal: false,
            key,
        },
        Compose::Note(id) => Call::Message {
            id,
            body: text,
            internal: true,
            key,
        },
        Compose::Resolve { id, version } => {
            // What solved it is what the next handler needs: offer to write it up.
            desk.toast(
                format!("#{id} 已提交解决方案 · W 写成知识库文章 write it up"),
                false,
            );
            Call::Transition {
                id,
                body: TransitionBody {
                    resolution: Some(text),
                    ..transition(Status::Resolved, Some(version))
                },
            }
        }
        Compose::Handoff { id, version, to } => Call::Transition {
            id,
            body: TransitionBody {
                transfer_to: Some(to),
                note: Some(text),
                ..transition(Status::Transferred, Some(version))
            },
        },
    };
    Ok(vec![Effect::Call(call)])
}

/// Opens the article editor on ticket `id` written up: its title, system and category, the
/// error texts its description quotes, its resolution as the steps.
fn write_up(id: TicketId, desk: &mut Desk) {
    let Some(t) = desk.tickets.view(id) else {
        return;
    };
    let from = crate::domain::kb::FromTicket {
        id,
        title: &t.title,
        system: &t.system,
        category: t.category,
        description: &t.description,
        resolution: t.resolution.as_deref(),
    };
    let me = desk.me.clone().unwrap_or_default();
    let mut article = crate::domain::kb::written_up(&from, &me, desk.now);
    if article.steps.is_empty() {
        // Not resolved yet: the steps are the writer's to fill in.
        article.steps = "1. ".into();
    }
    let writing = crate::tui::panes::kb::write::Writing::WriteUp { ticket: id };
    crate::tui::panes::kb::write::open(writing, &article, desk);
}

/// Opens the editor for `purpose`: the draft kept for it when there is one, else `template`.
fn compose(owner: PaneId, purpose: Compose, template: String, desk: &mut Desk) {
    let canned = canned(desk, Some(purpose.ticket()));
    let title = purpose.title();
    let draft = purpose.draft_key();
    let kept = desk.drafts.get(&draft).cloned();
    desk.overlay(Overlay::editor(
        owner,
        purpose,
        title,
        &template,
        kept.as_deref(),
        canned,
        Some(draft),
    ));
}

/// Opens the reply editor on ticket `id` with `text` in it (after the draft kept for that
/// reply, if any): an answer taken from elsewhere, a knowledge-base article's steps.
pub fn reply_with(owner: PaneId, id: TicketId, text: &str, desk: &mut Desk) {
    compose_with(owner, Compose::Reply(id), text, desk);
}

/// Opens the internal-note editor on ticket `id` with `text` in it (after the draft kept for
/// that note, if any): what another pane found or built (a construction run's result).
pub fn note_with(owner: PaneId, id: TicketId, text: &str, desk: &mut Desk) {
    compose_with(owner, Compose::Note(id), text, desk);
}

/// The editor for `purpose` holding `text` after the draft kept for it, read over before it
/// is sent: nothing taken from elsewhere replaces what the handler already wrote.
fn compose_with(owner: PaneId, purpose: Compose, text: &str, desk: &mut Desk) {
    if let Some(kept) = desk.drafts.get(&purpose.draft_key()).cloned() {
        desk.drafts.insert(
            purpose.draft_key(),
            format!("{}\n\n{text}", kept.trim_end()),
        );
        compose(owner, purpose, String::new(), desk);
    } else {
        compose(owner, purpose, text.to_string(), desk);
    }
}

/// Refuses a move the lifecycle does not allow, saying which moves it does.
pub fn refuse(from: Status, to: Status, desk: &mut Desk) {
    let allowed: Vec<&str> = allowed_from(from).iter().map(|s| s.label_zh()).collect();
    desk.toast(
        format!(
            "{}的工单不能改为{}；可改为：{}",
            from.label_zh(),
            to.label_zh(),
            allowed.join("、")
        ),
        true,
    );
}

/// The canned replies for a ticket (or for several, `None`), from the library, with their
/// slots filled: (title, text), those for the ticket's system first.
pub fn canned(desk: &Desk, id: Option<TicketId>) -> Vec<(String, String)> {
    let t = id.and_then(|id| desk.tickets.view(id));
    let customer = t
        .and_then(|t| t.customer.name.clone())
        .unwrap_or_else(|| "客户".into());
    let number = id
        .map(|id| id.to_string())
        .unwrap_or_else(|| "（见各工单）".into());
    let system_key = t.map(|t| t.system.clone()).unwrap_or_default();
    let system = desk.system_name(&system_key);
    let slots = crate::domain::canned::Slots {
        customer: &customer,
        ticket: &number,
        system: &system,
        submitter: t.map(|t| t.submitter.as_str()).unwrap_or("-"),
        handler: desk.me.as_deref().unwrap_or("-"),
    };
    crate::domain::canned::for_system(&desk.canned, &system_key)
        .into_iter()
        .map(|c| {
            (
                c.title.clone(),
                crate::domain::canned::fill(&c.body, &slots),
            )
        })
        .collect()
}

pub fn transition(to: Status, version: Option<i64>) -> TransitionBody {
    TransitionBody {
        to,
        transfer_to: None,
        note: None,
        resolution: None,
        version,
    }
}

/// A ticket number as typed in a prompt (`#12` or `12`); anything else is said to the handler.
pub fn ticket_number(input: &str, desk: &mut Desk) -> Option<TicketId> {
    let wanted = input.trim().trim_start_matches('#');
    let parsed = wanted.parse::<TicketId>().ok();
    if parsed.is_none() {
        desk.toast(format!("'{wanted}' 不是工单号 · not a ticket number"), true);
    }
    parsed
}

/// "中文 english" labels with the value a picker returns.
pub fn labelled(zh: &str, value: &str) -> (String, String) {
    (format!("{zh} {value}"), value.to_string())
}

pub fn transfer_options() -> Vec<(String, String)> {
    TransferTarget::ALL
        .iter()
        .map(|t| labelled(t.label_zh(), t.as_str()))
        .collect()
}

/// What each receiving team needs, as a form to fill in.
pub fn handoff_template(to: TransferTarget) -> String {
    match to {
        TransferTarget::Test => "复现步骤：\n环境（版本/机型）：\n",
        TransferTarget::Dev => "疑似组件：\n证据（日志/埋点）：\n",
        TransferTarget::Ops => "数据修复脚本（待审核）：\n影响范围：\n回滚方式：\n",
        TransferTarget::Product => "需要修改的配置：\n期望值：\n",
    }
    .to_string()
}

/// Open tickets that look like the same problem as `id`, as picker options: the server's
/// list (matched on full customer values) when the pane has it, else the workstation's own
/// guess from masked values.
pub fn similar_to(desk: &Desk, id: TicketId, server: Option<&[TicketId]>) -> Vec<(String, String)> {
    let Some(t) = desk.tickets.view(id) else {
        return Vec::new();
    };
    server
        .map(<[TicketId]>::to_vec)
        .unwrap_or_else(|| crate::domain::similar::similar(t, desk.tickets.views()))
        .into_iter()
        .take(8)
        .filter_map(|other| desk.tickets.row(other))
        .map(|o| {
            (
                format!("#{} {} {}", o.id, o.status.label_zh(), o.title),
                o.id.to_string(),
            )
        })
        .collect()
}

/// An attachment shown in the terminal or saved to the download dir.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentJob {
    Preview {
        ticket: TicketId,
        attachment: i64,
        filename: String,
    },
    Save {
        ticket: TicketId,
        attachment: i64,
        filename: String,
    },
}

impl Job for AttachmentJob {
    fn run(self: Box<Self>, io: Io) -> BoxFuture<'static, ()> {
        async move {
            match *self {
                AttachmentJob::Preview {
                    ticket,
                    attachment,
                    filename,
                } => {
                    let decoded = match io.client.download(attachment).await {
                        Ok(bytes) => tokio::task::spawn_blocking(move || Preview::decode(&bytes))
                            .await
                            .unwrap_or_else(|e| Err(e.to_string())),
                        Err(e) => Err(e.to_string()),
                    };
                    match decoded {
                        Ok(image) => {
                            io.show(Overlay::Preview {
                                title: format!("#{ticket} {filename}"),
                                image: Box::new(image),
                            })
                            .await
                        }
                        Err(e) => io.toast(format!("#{ticket} {filename}: {e}"), true).await,
                    }
                }
                AttachmentJob::Save {
                    ticket,
                    attachment,
                    filename,
                } => {
                    match super::calls::save_attachment(&io.client, ticket, attachment, &filename)
                        .await
                    {
                        Ok(path) => {
                            io.toast(format!("已保存 saved: {}", path.display()), false)
                                .await
                        }
                        // The whole chain: which file, and why (no space, no permission…).
                        Err(e) => {
                            io.toast(
                                format!("#{ticket} {filename} 未能保存 not saved: {e:#}"),
                                true,
                            )
                            .await
                        }
                    }
                }
            }
        }
        .boxed()
    }
}
