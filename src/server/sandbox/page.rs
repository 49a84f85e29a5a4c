//! `GET /uat-sandbox/`: one self-contained page that says what this is (a sandbox, not a
//! brokerage), which systems it serves and whether the outage switch is on. It shows no
//! customer data and nothing anyone submitted; it runs no script and loads nothing.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{DOCTYPE, Markup, html};

use super::{Outage, PREFIX, System, outage_now};
use crate::server::AppState;

/// What the page is, first and plainly.
const LABEL: &str =
    "UAT 沙箱 · sandbox brokerage — not a real system; for account construction demos";

const STYLE: &str = r#"
* { box-sizing: border-box; }
body { margin: 0; color: #111827; background: #fff; line-height: 1.6; font-size: 15px;
  font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
main { max-width: 760px; margin: 0 auto; padding: 18px 14px 40px; }
.banner { border: 3px dashed #b45309; background: #fffbeb; border-radius: 8px; padding: 10px 14px; }
.banner h1 { margin: 0; font-size: 1.4rem; }
.banner p { margin: .3em 0 0; }
h2 { font-size: 1.1rem; margin: 1.8em 0 .6em; border-bottom: 1px solid #d1d5db; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d1d5db; }
code { font-size: .9em; background: #f3f4f6; padding: 0 4px; border-radius: 3px; }
.down { font-weight: bold; color: #b91c1c; }
.ok { color: #15803d; }
.note { color: #4b5563; font-size: .9rem; }
"#;

pub async fn index(State(s): State<AppState>) -> Response {
    // The page still answers when the switch cannot be read: it then says so.
    let outage = outage_now(&s).await;
    let markup = render(outage.as_ref().ok().map(Option::as_ref), Utc::now());
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        markup,
    )
        .into_response()
}

/// `outage`: None when it could not be read, Some(None) when it is off.
fn render(outage: Option<Option<&Outage>>, now: chrono::DateTime<Utc>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (LABEL) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                main {
                    section.banner {
                        h1 { (LABEL) }
                        p { "这不是真实的券商系统：它只为演示账户构造（UAT 数据构造）而模拟开户、三方存管和交易权限接口，数据均为测试数据。" }
                    }
                    h2 { "系统 · systems" }
                    table {
                        thead { tr { th { "系统" } th { "接口前缀" } th { "状态" } } }
                        tbody {
                            @for sys in System::ALL {
                                tr {
                                    td { (sys.name_zh()) " · " (sys.code()) }
                                    td { code { (PREFIX) "/" (sys.code()) "/" } }
                                    td {
                                        @match outage {
                                            None => span.note { "未知（无法读取部署状态）" },
                                            Some(o) => @match o.and_then(|o| o.remaining(sys, now)) {
                                                Some(secs) => span.down { "部署中 · deploying，约 " (secs) " 秒后恢复" },
                                                None => span.ok { "正常 · up" },
                                            },
                                        }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "调用 · calling it" }
                    p {
                        "每个系统调用须带 " code { "Authorization: Bearer <sandbox key>" }
                        "；答复为 " code { "{\"code\": \"0\", \"message\": \"成功\", \"data\": {…}}" }
                        "，业务错误为 HTTP 200 与非 \"0\" 的 code。"
                    }
                    p.note {
                        "部署开关（" code { "POST/DELETE " (PREFIX) "/admin/outage" } "）和状态（"
                        code { "GET " (PREFIX) "/admin/status" } "）需要 opsdesk 处理人或管理员令牌。"
                        "接口清单见 docs/sandbox.md。"
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_says_it_is_a_sandbox_and_which_systems_are_down() {
        let now = Utc::now();
        let o = Outage {
            until: now + chrono::Duration::seconds(60),
            systems: vec![System::Depository],
            set_by: "<script>".into(),
        };
        let page = render(Some(Some(&o)), now).into_string();
        assert!(page.contains(LABEL));
        assert!(page.contains("部署中"));
        assert_eq!(page.matches("正常 · up").count(), 2);
        assert!(!page.contains("<script"));
        let up = render(Some(None), now).into_string();
        assert_eq!(up.matches("正常 · up").count(), 3);
        assert!(render(None, now).into_string().contains("未知"));
    }
}
