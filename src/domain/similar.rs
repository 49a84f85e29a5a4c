//! Which open tickets look like the same problem: the same customer, or the same system with a
//! similar title. Handlers link such reports as duplicates or to one parent incident.

use super::ticket::{Ticket, TicketId};
use super::view::TicketView;

/// Character pairs of a title, ignoring spaces and punctuation: Chinese titles have no word
/// boundaries, and shared pairs ("行情" "延迟") carry most of their meaning.
fn pairs(title: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let mut out: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Dice similarity of two titles' character pairs, 0.0 to 1.0.
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let (pa, pb) = (pairs(a), pairs(b));
    if pa.is_empty() || pb.is_empty() {
        return 0.0;
    }
    let shared = pa.iter().filter(|p| pb.binary_search(p).is_ok()).count();
    2.0 * shared as f64 / (pa.len() + pb.len()) as f64
}

/// Titles at least this similar on the same system count as the same problem.
const SIMILAR_TITLE: f64 = 0.4;

/// What the matching looks at in a ticket: its view (masked customer, in the workstation) or
/// the ticket itself (full customer, on the server).
pub trait Comparable {
    fn id(&self) -> TicketId;
    fn is_open(&self) -> bool;
    fn system(&self) -> &str;
    fn title(&self) -> &str;
    /// Whether both tickets name the same customer by account or phone.
    fn same_customer(&self, other: &Self) -> bool;
}

impl Comparable for TicketView {
    fn id(&self) -> TicketId {
        self.id
    }
    fn is_open(&self) -> bool {
        self.status.is_open()
    }
    fn system(&self) -> &str {
        &self.system
    }
    fn title(&self) -> &str {
        &self.title
    }
    /// Masked values: two customers sharing the masked prefix and suffix look alike here,
    /// which is why the server's answer (on full values) is preferred when there is one.
    fn same_customer(&self, o: &Self) -> bool {
        let (a, b) = (&self.customer, &o.customer);
        (a.account.is_some() && a.account == b.account) || (a.phone.is_some() && a.phone == b.phone)
    }
}

impl Comparable for Ticket {
    fn id(&self) -> TicketId {
        self.id
    }
    fn is_open(&self) -> bool {
        self.status.is_open()
    }
    fn system(&self) -> &str {
        &self.system
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn same_customer(&self, o: &Self) -> bool {
        let (a, b) = (&self.customer, &o.customer);
        let same = |x: Option<&str>, y: Option<&str>| x.is_some() && x == y;
        same(
            a.account.as_ref().map(|v| v.expose()),
            b.account.as_ref().map(|v| v.expose()),
        ) || same(
            a.phone.as_ref().map(|v| v.expose()),
            b.phone.as_ref().map(|v| v.expose()),
        )
    }
}

/// Open tickets other than `t` that are probably about the same problem, most alike first.
pub fn similar<'a, T: Comparable + 'a>(t: &T, all: impl Iterator<Item = &'a T>) -> Vec<TicketId> {
    let mut found: Vec<(f64, TicketId)> = all
        .filter(|o| o.id() != t.id() && o.is_open())
        .filter_map(|o| {
            let customer = t.same_customer(o);
            let score = if customer { 1.0 } else { 0.0 }
                + if o.system() == t.system() {
                    title_similarity(t.title(), o.title())
                } else {
                    0.0
                };
            (customer || score >= SIMILAR_TITLE).then_some((score, o.id()))
        })
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert!(title_similarity("行情延迟三秒", "行情刷新延迟") > 0.3);
        assert!(title_similarity("行情延迟", "开户失败") < 0.1);
        assert_eq!(title_similarity("", "开户"), 0.0);
        assert!((title_similarity("APP 闪退", "app闪退") - 1.0).abs() < 1e-9);
    }
}
