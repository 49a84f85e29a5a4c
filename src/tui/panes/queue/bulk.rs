//! Bulk work on the marked tickets: take, priority, assign, transfer with one hand-off note,
//! link to a parent incident, close. The menu names the marked tickets before anything
//! changes; each ticket then gets its own call and its own result line.

use super::{PaneId, Purpose, Queue};
use crate::domain::lifecycle::allowed_from;
use crate::domain::ticket::{LinkKind, Priority, Status, TicketId, TransferTarget};
use crate::tui::desk::Desk;
use crate::tui::effect::Effect;
use crate::tui::overlay::Overlay;
use crate::tui::work::{self, Call};

/// One bulk change, applied to every marked ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bulk {
    Take,
    Priority(Priority),
    Assign(String),
    Transfer { to: TransferTarget, note: String },
    Parent(TicketId),
    Close,
}

/// An entry of the bulk menu: a change at once, or the next question.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Now(Bulk),
    AskAssignee,
    AskTransferTarget,
    AskParent,
}

/// The overlays of bulk work, each answered back to the queue.
#[derive(Debug)]
struct Menu(Vec<Step>);
#[derive(Debug)]
struct PickAssignee;
#[derive(Debug)]
struct PickTransferTarget;
#[derive(Debug)]
struct AskParent;
#[derive(Debug)]
struct Handoff(TransferTarget);

impl Queue {
    fn marked(&self) -> Vec<TicketId> {
        let mut ids: Vec<TicketId> = self.marks.iter().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The bulk menu; its options name the marked tickets, so the change is previewed.
    pub(super) fn bulk_menu(&mut self, desk: &mut Desk) {
        if self.marks.is_empty() {
            desk.toast("先用空格标记工单 · mark tickets first (space)", true);
            return;
        }
        let ids = self.marked();
        let list = ids
            .iter()
            .map(|id| format!("#{id}"))
            .collect::<Vec<_>>()
            .join(" ");
        let n = ids.len();
        // Taking over is said before it is done: whose tickets the take would reassign.
        let others: Vec<String> = ids
            .iter()
            .filter_map(|id| {
                let holder = desk.tickets.row(*id)?.assignee.as_deref()?.to_string();
                (Some(&holder) != desk.me.as_ref()).then(|| format!("#{id} {holder}"))
            })
            .collect();
        let take = if others.is_empty() {
            format!("受理（指派给我）take {n}: {list}")
        } else {
            format!(
                "受理并接手 take {n}: {list}（接手 taking over {}）",
                others.join("、")
            )
        };
        let mut entries = vec![(take, Step::Now(Bulk::Take))];
        entries.extend(Priority::ALL.iter().map(|p| {
            (
                format!("设为 {p} priority {n}: {list}"),
                Step::Now(Bulk::Priority(*p)),
            )
        }));
        entries.extend([
            (format!("指派给… assign {n}: {list}"), Step::AskAssignee),
            (
                format!("转交… transfer {n}: {list}"),
                Step::AskTransferTarget,
            ),
            (
                format!("关联父事件… link to a parent {n}: {list}"),
                Step::AskParent,
            ),
            (
                format!("关闭已解决的 close {n}: {list}"),
                Step::Now(Bulk::Close),
            ),
        ]);
        let (options, steps): (Vec<(String, String)>, Vec<Step>) = entries
            .into_iter()
            .enumerate()
            .map(|(i, (label, step))| ((label, i.to_string()), step))
            .unzip();
        desk.overlay(Overlay::picker(
            PaneId::QUEUE,
            Menu(steps),
            "批量操作 bulk",
            options,
        ));
    }

    /// A bulk picker was answered; the purpose comes back when it is not bulk work's.
    pub(super) fn bulk_picked(
        &mut self,
        purpose: Purpose,
        index: usize,
        value: String,
        desk: &mut Desk,
    ) -> Result<Vec<Effect>, Purpose> {
        let purpose = match purpose.take::<Menu>() {
            Ok(Menu(steps)) => {
                return Ok(match steps.into_iter().nth(index) {
                    Some(Step::Now(bulk)) => self.bulk(bulk, desk),
                    Some(Step::AskAssignee) => {
                        let options = desk.assignable().into_iter().map(|h| (h.clone(), h));
                        desk.overlay(Overlay::picker(
                            PaneId::QUEUE,
                            PickAssignee,
                            "批量指派给 assign the marked to",
                            options,
                        ));
                        Vec::new()
                    }
                    Some(Step::AskTransferTarget) => {
                        desk.overlay(Overlay::picker(
                            PaneId::QUEUE,
                            PickTransferTarget,
                            "批量转交给 transfer the marked to",
                            work::transfer_options(),
                        ));
                        Vec::new()
                    }
                    Some(Step::AskParent) => {
                        desk.overlay(Overlay::prompt(
                            PaneId::QUEUE,
                            AskParent,
                            "批量关联父事件工单号 parent incident #",
                            "",
                        ));
                        Vec::new()
                    }
                    None => Vec::new(),
                });
            }
            Err(p) => p,
        };
        let purpose = match purpose.take::<PickAssignee>() {
            Ok(PickAssignee) => return Ok(self.bulk(Bulk::Assign(value), desk)),
            Err(p) => p,
        };
        let PickTransferTarget = purpose.take::<PickTransferTarget>()?;
        if let Ok(to) = value.parse::<TransferTarget>() {
            let draft = format!("bulk/handoff-{to}");
            let kept = desk.drafts.get(&draft).cloned();
            desk.overlay(Overlay::editor(
                PaneId::QUEUE,
                Handoff(to),
                format!("批量转{} hand-off for the marked tickets", to.label_zh()),
                &work::handoff_template(to),
                kept.as_deref(),
                work::canned(desk, None),
                Some(draft),
            ));
        }
        Ok(Vec::new())
    }

    pub(super) fn bulk_prompted(
        &mut self,
        purpose: Purpose,
        input: &str,
        desk: &mut Desk,
    ) -> Result<Vec<Effect>, Purpose> {
        let AskParent = purpose.take::<AskParent>()?;
        Ok(match work::ticket_number(input, desk) {
            Some(parent) => self.bulk(Bulk::Parent(parent), desk),
            None => Vec::new(),
        })
    }

    pub(super) fn bulk_written(
        &mut self,
        purpose: Purpose,
        text: &str,
        desk: &mut Desk,
    ) -> Result<Vec<Effect>, Purpose> {
        let Handoff(to) = purpose.take::<Handoff>()?;
        let note = text.to_string();
        Ok(self.bulk(Bulk::Transfer { to, note }, desk))
    }

    /// One call per marked ticket; a ticket the change does not apply to is skipped with a
    /// line saying why.
    pub fn bulk(&mut self, what: Bulk, desk: &mut Desk) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut skipped = Vec::new();
        for id in self.marked() {
            let Some(t) = desk.tickets.row(id) else {
                continue;
            };
            let (version, status) = (t.version, t.status);
            let patch = |body: serde_json::Value| Some(Call::Patch { id, body });
            let call = match &what {
                Bulk::Take => desk.me.clone().map(|me| Call::Take {
                    id,
                    version,
                    me,
                    start: status == Status::New,
                }),
                Bulk::Close if allowed_from(status).contains(&Status::Closed) => {
                    Some(Call::Transition {
                        id,
                        body: work::transition(Status::Closed, Some(version)),
                    })
                }
                Bulk::Close => {
                    desk.toast(
                        format!("#{id} {}，不能关闭 · skipped", status.label_zh()),
                        true,
                    );
                    None
                }
                Bulk::Assign(who) => {
                    patch(serde_json::json!({"version": version, "assignee": who}))
                }
                Bulk::Priority(p) => patch(serde_json::json!({"version": version, "priority": p})),
                Bulk::Parent(parent) if *parent != id => Some(Call::Link {
                    id,
                    kind: LinkKind::Parent,
                    target: Some(*parent),
                    version,
                }),
                Bulk::Parent(_) => None,
                Bulk::Transfer { to, note }
                    if allowed_from(status).contains(&Status::Transferred) =>
                {
                    Some(Call::Transition {
                        id,
                        body: crate::api::TransitionBody {
                            transfer_to: Some(*to),
                            note: Some(note.clone()),
                            ..work::transition(Status::Transferred, Some(version))
                        },
                    })
                }
                Bulk::Transfer { .. } => {
                    desk.toast(
                        format!("#{id} {}，不能转交 · skipped", status.label_zh()),
                        true,
                    );
                    None
                }
            };
            match call {
                Some(call) => effects.push(Effect::Call(call)),
                None => skipped.push(id),
            }
        }
        // The skipped stay marked, to be seen to; the rest were acted on.
        self.marks.retain(|id| skipped.contains(id));
        effects
    }
}
