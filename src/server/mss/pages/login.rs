//! Logging in and out.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::server::AppState;
use crate::server::metrics::LoginOutcome;
use crate::server::mss::error::PageResult;
use crate::server::mss::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, Submitter, cookie, safe_next, same_secret, set_cookie,
};
use crate::server::mss::views::{self, Frame, LoginForm};
use crate::server::throttle::{ClientAddr, Wait};
use crate::service::sessions::{LoginError, SessionState};

use super::{CsrfOnly, fresh_id};

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    out: Option<String>,
}

fn login_response(s: &AppState, status: StatusCode, form: &LoginForm<'_>) -> PageResult<Response> {
    // Before login the CSRF token is a random value matched against a short-lived cookie.
    let token = fresh_id()?;
    let page = views::login(
        &Frame {
            tz: s.desk.settings.calendar.tz(),
            now: chrono::Utc::now(),
            user: None,
            csrf: &token,
        },
        form,
    );
    let cookie = set_cookie(
        LOGIN_CSRF_COOKIE,
        &token,
        Some(3600),
        s.desk.settings.mss.secure_cookies,
    );
    Ok((status, [(header::SET_COOKIE, cookie)], page).into_response())
}

pub async fn login_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> PageResult<Response> {
    let next = safe_next(q.next.as_deref());
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let SessionState::Live(_) = s.desk.session(&id).await?
    {
        return Ok(Redirect::to(&next).into_response());
    }
    let notice = if q.expired.is_some() {
        Some("登录已过期，请重新登录。未提交的内容已保存在本机。")
    } else if q.out.is_some() {
        Some("已退出登录。")
    } else {
        None
    };
    login_response(
        &s,
        StatusCode::OK,
        &LoginForm {
            username: "",
            error: None,
            notice,
            next: &next,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginBody {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

/// Where a login attempt comes from: the peer, or behind a proxy the address it appended.
fn client_ip(
    s: &AppState,
    peer: Option<ClientAddr>,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    if s.desk.settings.mss.behind_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.0.ip())
}

pub async fn login(
    State(s): State<AppState>,
    peer: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    Form(body): Form<LoginBody>,
) -> PageResult<Response> {
    let ip = client_ip(&s, peer.map(|p| p.0), &headers);
    let next = safe_next(body.next.as_deref());
    let refuse = |status, error: &str| {
        login_response(
            &s,
            status,
            &LoginForm {
                username: &body.username,
                error: Some(error),
                notice: None,
                next: &next,
            },
        )
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &body.csrf_token) {
        return refuse(StatusCode::FORBIDDEN, "页面已过期，请重新输入密码登录");
    }
    if body.username.trim().is_empty() || body.password.is_empty() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "请输入用户名和密码");
    }
    let now = std::time::Instant::now();
    let waiting = |wait: Wait| match wait {
        Wait::Pair(d) => format!(
            "密码错误次数过多，账号在这台设备上暂时锁定，请 {} 分钟后再试",
            d.as_secs().div_ceil(60)
        ),
        Wait::Address(d) => format!(
            "这个网络的登录失败次数过多，请 {} 分钟后再试",
            d.as_secs().div_ceil(60)
        ),
    };
    if let Some(wait) = ip.and_then(|ip| s.login_throttle.wait(ip, &body.username, now)) {
        s.metrics.count_login(LoginOutcome::Throttled);
        return refuse(StatusCode::TOO_MANY_REQUESTS, &waiting(wait));
    }
    let result = s.desk.login(&body.username, &body.password).await;
    // The wrong password that locks this username here is told so at once.
    let mut locked_here = None;
    if let Some(ip) = ip {
        match &result {
            Err(LoginError::Wrong | LoginError::Locked { .. }) => {
                s.login_throttle.failed(ip, &body.username, now);
                locked_here = s
                    .login_throttle
                    .wait(ip, &body.username, now)
                    .filter(|w| matches!(w, Wait::Pair(_)));
            }
            Ok(_) => s.login_throttle.succeeded(ip, &body.username),
            Err(_) => {}
        }
    }
    s.metrics.count_login(match &result {
        Ok(_) => LoginOutcome::Ok,
        Err(LoginError::Locked { .. }) => LoginOutcome::Locked,
        Err(_) if locked_here.is_some() => LoginOutcome::Locked,
        Err(_) => LoginOutcome::Wrong,
    });
    if let (Err(LoginError::Wrong), Some(wait)) = (&result, locked_here) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, &waiting(wait));
    }
    match result {
        Ok((session, _)) => {
            let secure = s.desk.settings.mss.secure_cookies;
            let max_age = s.desk.settings.mss.session_max.num_seconds();
            let mut r = Redirect::to(&next).into_response();
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session.id, Some(max_age), secure),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, "", None, secure),
            );
            Ok(r)
        }
        Err(LoginError::Desk(e)) => Err(e.into()),
        Err(e @ LoginError::Locked { .. }) => refuse(StatusCode::TOO_MANY_REQUESTS, &e.to_string()),
        Err(e @ LoginError::NotSubmitter) => refuse(StatusCode::FORBIDDEN, &e.to_string()),
        Err(e @ LoginError::Wrong) => refuse(StatusCode::UNAUTHORIZED, &e.to_string()),
    }
}

pub async fn logout(
    State(s): State<AppState>,
    who: Submitter,
    Form(body): Form<CsrfOnly>,
) -> PageResult<Response> {
    who.check_csrf(&body.csrf_token)?;
    s.desk.logout(&who.session_id).await?;
    let mut r = Redirect::to("/mss/login?out=1").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", None, s.desk.settings.mss.secure_cookies),
    );
    Ok(r)
}
