//! What an alert's notifications say, on each channel: the e-mail the seed's team reads
//! (listing the anomalous records), the WeCom robot's markdown, the webhook's JSON.
//!
//! Pure, like `domain::notify`: the rows come in already masked, the clock and the link as
//! parameters; the result is the exact payload the notify worker sends later.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::monitors::Alert;
use crate::domain::notify::{Email, WECOM_MAX_BYTES, fit_bytes, md_inert};

/// Rows an e-mail lists; the rest are counted.
pub const MAILED_ROWS: usize = 200;
/// Rows a WeCom message lists.
const WECOM_ROWS: usize = 10;

/// What happened to the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum News {
    /// It began firing.
    Fired,
    /// Its monitor found the data normal again.
    Cleared,
}

impl News {
    /// As the queue's and the webhook's `event` name it.
    pub fn event(self) -> &'static str {
        match self {
            News::Fired => "monitor.alert",
            News::Cleared => "monitor.cleared",
        }
    }

    fn label_zh(self) -> &'static str {
        match self {
            News::Fired => "监控告警",
            News::Cleared => "告警恢复",
        }
    }
}

/// One alert's news, its rows masked.
pub struct AlertNotice<'a> {
    pub news: News,
    pub alert: &'a Alert,
    pub columns: &'a [String],
    pub rows: &'a [Vec<Option<String>>],
    pub at: DateTime<Utc>,
    /// Where the desk's pages are (`notify.public_url`).
    pub public_url: Option<&'a str>,
}

impl AlertNotice<'_> {
    fn link(&self) -> String {
        match self.public_url {
            Some(base) => format!(
                "{}/api/v1/alerts/{}",
                base.trim_end_matches('/'),
                self.alert.id
            ),
            None => format!("opsdesk alerts show {}", self.alert.id),
        }
    }

    fn row_line(row: &[Option<String>]) -> String {
        row.iter()
            .map(|c| c.as_deref().unwrap_or("-"))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// The e-mail: the finding, then every listed record as a line, up to [`MAILED_ROWS`].
pub fn email(n: &AlertNotice<'_>, to: &[String]) -> Email {
    let a = n.alert;
    let subject = format!(
        "[opsdesk {}] {} — {}",
        n.news.label_zh(),
        a.title,
        first_line(&a.summary)
    );
    let mut body = format!(
        "{}：{}\n{}\n\n监控 monitor：{}\n告警 alert：#{}\n时间 at：{}\n",
        n.news.label_zh(),
        a.title,
        a.summary,
        a.monitor,
        a.id,
        n.at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if let Some(t) = a.ticket_id {
        body.push_str(&format!("父事件 parent incident：#{t}\n"));
    }
    if n.news == News::Fired && !n.rows.is_empty() {
        body.push_str(&format!(
            "\n异常记录 anomalous records ({}):\n{}\n",
            n.rows.len(),
            n.columns.join(" | ")
        ));
        for row in n.rows.iter().take(MAILED_ROWS) {
            body.push_str(&AlertNotice::row_line(row));
            body.push('\n');
        }
        if n.rows.len() > MAILED_ROWS {
            body.push_str(&format!(
                "……另有 {} 条 ({} more)\n",
                n.rows.len() - MAILED_ROWS,
                n.rows.len() - MAILED_ROWS
            ));
        }
    }
    body.push_str(&format!("\n{}\n", n.link()));
    Email {
        to: to.to_vec(),
        subject,
        body,
    }
}

/// The WeCom robot's markdown, within its byte limit.
pub fn wecom_body(n: &AlertNotice<'_>) -> serde_json::Value {
    let a = n.alert;
    let mut content = format!(
        "**【{}】{}**\n> {}\n> 告警 #{}　监控 {}\n",
        n.news.label_zh(),
        md_inert(&a.title),
        md_inert(&a.summary),
        a.id,
        md_inert(&a.monitor),
    );
    if n.news == News::Fired {
        for row in n.rows.iter().take(WECOM_ROWS) {
            content.push_str(&format!("> {}\n", md_inert(&AlertNotice::row_line(row))));
        }
        if n.rows.len() > WECOM_ROWS {
            content.push_str(&format!("> ……共 {} 条\n", n.rows.len()));
        }
    }
    content.push_str(&format!("\n> {}", md_inert(&n.link())));
    let content = fit_bytes(&content, WECOM_MAX_BYTES).to_string();
    serde_json::json!({"msgtype": "markdown", "markdown": {"content": content}})
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    event: &'static str,
    at: DateTime<Utc>,
    alert: &'a Alert,
    columns: &'a [String],
    /// Masked, at most [`MAILED_ROWS`].
    rows: &'a [Vec<Option<String>>],
}

/// The generic webhook's JSON.
pub fn webhook_body(n: &AlertNotice<'_>) -> serde_json::Value {
    let rows = &n.rows[..n.rows.len().min(MAILED_ROWS)];
    serde_json::to_value(WebhookBody {
        event: n.news.event(),
        at: n.at,
        alert: n.alert,
        columns: n.columns,
        rows,
    })
    .unwrap_or_default()
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(80).collect()
}
