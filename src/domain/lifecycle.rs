//! The ticket lifecycle as an explicit state machine.
//!
//! ```text
//! new → triaging → waiting_submitter | transferred(test|dev|ops|product) → resolved → closed
//!         ↑  ↑____________________________|                                   |        |
//!         |_______________________________ reopen ____________________________|________|
//! ```
//! Every move not in [`allowed_from`] is refused with an error that names what is allowed.
//! Who makes which move is the service's rule (`service::messages`, `service::submissions`):
//! handlers any; a submitter's message moves waiting_submitter and resolved back to triaging,
//! their confirmation moves resolved to closed, and only handlers reopen a closed ticket.
//! `apply` also keeps the fields that follow from a move consistent: the SLA pauses, the first
//! response, resolution and close times, and the transfer hand-off.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sla;
use super::ticket::{Status, Ticket, TransferTarget};

/// The statuses a ticket may move to from `from`.
pub fn allowed_from(from: Status) -> &'static [Status] {
    use Status::*;
    match from {
        New => &[Triaging],
        Triaging => &[WaitingSubmitter, Transferred, Resolved],
        WaitingSubmitter => &[Triaging, Resolved],
        Transferred => &[Triaging, Resolved],
        Resolved => &[Closed, Triaging],
        Closed => &[Triaging],
    }
}

/// A requested move, as the API and the TUI send it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: Option<Status>,
    /// Required when `to` is `transferred`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_to: Option<TransferTarget>,
    /// The hand-off note of a transfer (reproduction steps, evidence, script, configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Required when `to` is `resolved`: the answer, later the seed of a KB article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the ticket is already {0}")]
    AlreadyThere(Status),
    #[error("a ticket cannot move from {from} to {to}; from {from} it may move to: {}", allowed_list(*.from))]
    NotAllowed { from: Status, to: Status },
    #[error("a transfer needs transfer_to (test, dev, ops or product)")]
    MissingTransferTarget,
    #[error("a transfer needs a hand-off note for the receiving team")]
    MissingHandoffNote,
    #[error("transfer_to is only meaningful when moving to transferred")]
    UnexpectedTransferTarget,
    #[error("resolving needs a resolution text")]
    MissingResolution,
    #[error("the request names no target status ('to')")]
    MissingTarget,
}

impl TransitionError {
    /// Whether the ticket's present status is what refuses the move (the same body may be
    /// fine from another status), rather than the body lacking what the move needs.
    pub fn depends_on_status(&self) -> bool {
        matches!(
            self,
            TransitionError::AlreadyThere(_) | TransitionError::NotAllowed { .. }
        )
    }
}

fn allowed_list(from: Status) -> String {
    allowed_from(from)
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a move against the state machine and its required fields, changing nothing.
pub fn check(from: Status, req: &TransitionRequest) -> Result<Status, TransitionError> {
    let to = req.to.ok_or(TransitionError::MissingTarget)?;
    if from == to {
        return Err(TransitionError::AlreadyThere(from));
    }
    if !allowed_from(from).contains(&to) {
        return Err(TransitionError::NotAllowed { from, to });
    }
    let has_text = |t: &Option<String>| t.as_deref().is_some_and(|s| !s.trim().is_empty());
    match to {
        Status::Transferred => {
            if req.transfer_to.is_none() {
                return Err(TransitionError::MissingTransferTarget);
            }
            if !has_text(&req.note) {
                return Err(TransitionError::MissingHandoffNote);
            }
        }
        _ if req.transfer_to.is_some() => return Err(TransitionError::UnexpectedTransferTarget),
        Status::Resolved if !has_text(&req.resolution) => {
            return Err(TransitionError::MissingResolution);
        }
        _ => {}
    }
    Ok(to)
}

/// Applies a checked move at `at`, keeping the derived fields consistent. The caller bumps
/// `version` and `updated_at` as for any other change.
pub fn apply(
    ticket: &mut Ticket,
    req: &TransitionRequest,
    at: DateTime<Utc>,
) -> Result<(), TransitionError> {
    let from = ticket.status;
    let to = check(from, req)?;

    // The SLA clock does not count while the ticket waits on the submitter, nor between a
    // resolution and a reopen; every other status counts.
    let counts = |s: Status| {
        !matches!(
            s,
            Status::WaitingSubmitter | Status::Resolved | Status::Closed
        )
    };
    if counts(from) && !counts(to) {
        sla::pause(&mut ticket.sla_pauses, at);
    } else if !counts(from) && counts(to) {
        sla::resume(&mut ticket.sla_pauses, at);
    }

    if from == Status::New && ticket.first_responded_at.is_none() {
        // Taking a ticket (受理) is the first response the submitter sees.
        ticket.first_responded_at = Some(at);
    }
    match to {
        Status::Transferred => {
            ticket.transfer_to = req.transfer_to;
            ticket.transfer_note = req.note.as_ref().map(|n| n.trim().to_string());
            // A new hand-off needs its own review.
            ticket.script_approved_by = None;
            ticket.script_approved_at = None;
        }
        Status::Resolved => {
            ticket.resolved_at = Some(at);
            ticket.resolution = req.resolution.as_ref().map(|r| r.trim().to_string());
        }
        Status::Closed => ticket.closed_at = Some(at),
        Status::Triaging if matches!(from, Status::Resolved | Status::Closed) => {
            // A reopen: the earlier resolution no longer holds.
            ticket.resolved_at = None;
            ticket.closed_at = None;
        }
        _ => {}
    }
    if to != Status::Transferred {
        // Back with the handler (or done): the ticket no longer sits with another team.
        ticket.transfer_to = None;
    }
    ticket.status = to;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("only a ticket transferred to ops carries a data-fix script to approve")]
    NotAnOpsTransfer,
    #[error("the handler who wrote the script cannot approve it; a second handler must review it")]
    OwnScript,
    #[error("the script was already approved by {0}")]
    AlreadyApproved(String),
}

/// Records a second handler's approval of the data-fix script an ops transfer carries; ops
/// runs a script only once it is approved (运维审查后执行).
pub fn approve_script(
    ticket: &mut Ticket,
    approver: &str,
    at: DateTime<Utc>,
) -> Result<(), ApprovalError> {
    if ticket.status != Status::Transferred || ticket.transfer_to != Some(TransferTarget::Ops) {
        return Err(ApprovalError::NotAnOpsTransfer);
    }
    if let Some(by) = &ticket.script_approved_by {
        return Err(ApprovalError::AlreadyApproved(by.clone()));
    }
    if ticket.transferred_by.as_deref() == Some(approver) {
        return Err(ApprovalError::OwnScript);
    }
    ticket.script_approved_by = Some(approver.to_string());
    ticket.script_approved_at = Some(at);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ticket(status: Status) -> Ticket {
        Ticket {
            status,
            ..super::tests_ticket()
        }
    }

    fn req(to: Status) -> TransitionRequest {
        TransitionRequest {
            to: Some(to),
            transfer_to: (to == Status::Transferred).then_some(TransferTarget::Dev),
            note: (to == Status::Transferred).then(|| "疑似委托服务超时".to_string()),
            resolution: (to == Status::Resolved).then(|| "已指导客户重新登录后下单".to_string()),
        }
    }

    #[test]
    fn every_pair_is_allowed_or_refused_as_the_table_says() {
        let legal: &[(Status, Status)] = {
            use Status::*;
            &[
                (New, Triaging),
                (Triaging, WaitingSubmitter),
                (Triaging, Transferred),
                (Triaging, Resolved),
                (WaitingSubmitter, Triaging),
                (WaitingSubmitter, Resolved),
                (Transferred, Triaging),
                (Transferred, Resolved),
                (Resolved, Closed),
                (Resolved, Triaging),
                (Closed, Triaging),
            ]
        };
        let at = Utc::now();
        for from in Status::ALL {
            for to in Status::ALL {
                let mut t = ticket(*from);
                let result = apply(&mut t, &req(*to), at);
                if legal.contains(&(*from, *to)) {
                    assert!(result.is_ok(), "{from} → {to}: {result:?}");
                    assert_eq!(t.status, *to);
                } else {
                    assert!(result.is_err(), "{from} → {to} should be refused");
                    assert_eq!(t, ticket(*from), "a refused move changes nothing");
                }
            }
        }
    }

    #[test]
    fn an_ops_script_needs_a_second_handler() {
        let at = Utc::now();
        let mut t = ticket(Status::Triaging);
        let ops = TransitionRequest {
            to: Some(Status::Transferred),
            transfer_to: Some(TransferTarget::Ops),
            note: Some("UPDATE stock_holder SET status = 'N' WHERE acct = '3100…';".into()),
            resolution: None,
        };
        apply(&mut t, &ops, at).unwrap();
        t.transferred_by = Some("h_chen".into());
        assert_eq!(
            approve_script(&mut t, "h_chen", at),
            Err(ApprovalError::OwnScript)
        );
        approve_script(&mut t, "h_lin", at).unwrap();
        assert_eq!(
            approve_script(&mut t, "h_wang", at),
            Err(ApprovalError::AlreadyApproved("h_lin".into()))
        );
        // A new transfer resets the review.
        apply(&mut t, &req(Status::Triaging), at).unwrap();
        apply(&mut t, &ops, at).unwrap();
        assert_eq!(t.script_approved_by, None);
        let mut dev = ticket(Status::Triaging);
        apply(&mut dev, &req(Status::Transferred), at).unwrap();
        assert_eq!(
            approve_script(&mut dev, "h_lin", at),
            Err(ApprovalError::NotAnOpsTransfer)
        );
    }

    #[test]
    fn refusal_names_what_is_allowed() {
        let err = check(Status::New, &req(Status::Resolved)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a ticket cannot move from new to resolved; from new it may move to: triaging"
        );
    }

    #[test]
    fn transfer_and_resolve_need_their_fields() {
        let bare = |to| TransitionRequest {
            to: Some(to),
            ..Default::default()
        };
        assert_eq!(
            check(Status::Triaging, &bare(Status::Transferred)),
            Err(TransitionError::MissingTransferTarget)
        );
        let no_note = TransitionRequest {
            transfer_to: Some(TransferTarget::Ops),
            note: Some("  ".into()),
            ..bare(Status::Transferred)
        };
        assert_eq!(
            check(Status::Triaging, &no_note),
            Err(TransitionError::MissingHandoffNote)
        );
        assert_eq!(
            check(Status::Triaging, &bare(Status::Resolved)),
            Err(TransitionError::MissingResolution)
        );
        let stray = TransitionRequest {
            transfer_to: Some(TransferTarget::Test),
            ..req(Status::Resolved)
        };
        assert_eq!(
            check(Status::Triaging, &stray),
            Err(TransitionError::UnexpectedTransferTarget)
        );
    }

    #[test]
    fn waiting_pauses_the_clock_and_answering_resumes_it() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let t1 = t0 + chrono::Duration::hours(1);
        let mut t = ticket(Status::New);
        apply(&mut t, &req(Status::Triaging), t0).unwrap();
        assert_eq!(t.first_responded_at, Some(t0));
        apply(&mut t, &req(Status::WaitingSubmitter), t0).unwrap();
        assert!(sla::is_paused(&t.sla_pauses));
        apply(&mut t, &req(Status::Triaging), t1).unwrap();
        assert!(!sla::is_paused(&t.sla_pauses));
        assert_eq!(t.sla_pauses.len(), 1);
    }

    #[test]
    fn reopen_clears_the_resolution_times_and_transfer_returns_to_handler() {
        let at = Utc::now();
        let mut t = ticket(Status::Triaging);
        apply(&mut t, &req(Status::Transferred), at).unwrap();
        assert_eq!(t.transfer_to, Some(TransferTarget::Dev));
        apply(&mut t, &req(Status::Resolved), at).unwrap();
        assert_eq!(t.transfer_to, None);
        assert!(t.resolved_at.is_some());
        apply(&mut t, &req(Status::Closed), at).unwrap();
        apply(&mut t, &req(Status::Triaging), at).unwrap();
        assert_eq!((t.resolved_at, t.closed_at), (None, None));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Any sequence of requested moves leaves the ticket in a status reachable by legal
        /// moves only, with the SLA paused exactly when the status does not count.
        #[test]
        fn random_walks_stay_legal(moves in proptest::collection::vec(status(), 0..40)) {
            let mut t = super::tests_ticket();
            let mut at = t.created_at;
            for to in moves {
                at += chrono::Duration::minutes(7);
                let before = t.status;
                let r = TransitionRequest {
                    to: Some(to),
                    transfer_to: (to == Status::Transferred).then_some(TransferTarget::Test),
                    note: Some("复现步骤".into()),
                    resolution: Some("已解决".into()),
                };
                match apply(&mut t, &r, at) {
                    Ok(()) => prop_assert!(allowed_from(before).contains(&to)),
                    Err(_) => prop_assert_eq!(t.status, before),
                }
                let waiting = matches!(t.status, Status::WaitingSubmitter | Status::Resolved | Status::Closed);
                prop_assert_eq!(sla::is_paused(&t.sla_pauses), waiting);
                prop_assert_eq!(t.transfer_to.is_some(), t.status == Status::Transferred);
                prop_assert_eq!(t.resolved_at.is_some(), matches!(t.status, Status::Resolved | Status::Closed));
            }
        }
    }
}

#[cfg(test)]
fn tests_ticket() -> Ticket {
    use super::ticket::Channel;
    use super::validate::NewTicket;
    let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 2, 2, 0, 0).unwrap();
    let new = NewTicket {
        title: "委托下单失败".into(),
        description: "客户账号 310012345678 上午十点下单提示资金不足".into(),
        system: "trading".into(),
        ..Default::default()
    };
    Ticket {
        id: 1,
        ..Ticket::open(new, Channel::Mss, "cm_wang".into(), at)
    }
}
