//! Logging in to the MSS pages: password check with backoff, sessions with idle and absolute
//! expiry, logout.

use chrono::{DateTime, Duration, Utc};

use super::{Desk, DeskError};
use crate::domain::people::{Role, lockout};
use crate::store::sessions::{self, NewSession, Session};
use crate::store::users::{self, User};

/// Sessions are touched at most this often, so reading pages does not write on every request.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Why a login was refused; the messages are what the page shows.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码错误")]
    Wrong,
    #[error("密码错误次数过多，账号已暂时锁定，请 {minutes} 分钟后再试")]
    Locked { minutes: i64 },
    #[error("此入口供客户经理提交事件使用；处理人请使用 opsdesk 终端")]
    NotSubmitter,
    #[error(transparent)]
    Desk(#[from] DeskError),
}

/// What a cookie's session is now.
#[derive(Debug)]
pub enum SessionState {
    Live(Session),
    /// It existed but idled out or passed its absolute limit; it has been removed.
    Expired,
    Unknown,
}

fn minutes_left(until: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    ((until - now).num_seconds() + 59) / 60
}

impl Desk {
    /// Checks a submitter's password and opens a session. Wrong passwords are counted per
    /// username (known or not, so the answer does not tell which names exist) and lock it
    /// with a growing backoff past `login_failures_per_username`.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(NewSession, User), LoginError> {
        let now = Utc::now();
        let name = username.trim().to_string();
        let key = name.clone();
        let failures = self
            .store
            .read(move |conn| sessions::failures(conn, &key))
            .await
            .map_err(DeskError::from)?;
        if let Some(until) = failures.as_ref().and_then(|f| f.locked_until)
            && until > now
        {
            return Err(LoginError::Locked {
                minutes: minutes_left(until, now),
            });
        }
        let (key, secret) = (name.clone(), password.to_string());
        let user = self
            .store
            .read(move |conn| users::verify_password(conn, &key, &secret))
            .await
            .map_err(DeskError::from)?;
        let mss = self.settings.mss.clone();
        let Some(user) = user else {
            let count = failures.map_or(0, |f| f.count).saturating_add(1);
            // The username itself locks only at a ceiling well above one address's lock
            // (`server::throttle`), so an attacker cannot lock a user out cheaply.
            let lock = lockout(count, mss.login_failures_per_username, mss.lockout);
            self.write(move |ctx| {
                let until = lock.map(|d| ctx.now + d);
                sessions::record_failure(ctx.conn, &name, count, until, ctx.now)?;
                Ok(())
            })
            .await?;
            tracing::info!(username = %username.trim(), failures = count, "MSS login refused");
            return Err(match lock {
                Some(d) => LoginError::Locked {
                    minutes: (d.num_seconds() + 59) / 60,
                },
                None => LoginError::Wrong,
            });
        };
        if user.role != Role::Submitter {
            return Err(LoginError::NotSubmitter);
        }
        let who = user.clone();
        let session = self
            .write(move |ctx| {
                sessions::clear_failures(ctx.conn, &who.username)?;
                // Logging in is a good moment to drop what has expired, everyone's.
                sessions::delete_expired(
                    ctx.conn,
                    ctx.now - mss.session_idle,
                    ctx.now - mss.session_max,
                )?;
                sessions::prune_failures(ctx.conn, ctx.now - Duration::days(1))?;
                Ok(sessions::create(ctx.conn, &who, ctx.now)?)
            })
            .await?;
        tracing::info!(username = %user.username, "MSS login");
        Ok((session, user))
    }

    /// The session behind a cookie value, ending it when it has expired.
    pub async fn session(&self, id: &str) -> Result<SessionState, DeskError> {
        let key = id.to_string();
        let Some(session) = self
            .store
            .read(move |conn| sessions::get(conn, &key))
            .await?
        else {
            return Ok(SessionState::Unknown);
        };
        let now = Utc::now();
        let mss = &self.settings.mss;
        let key = id.to_string();
        if now - session.last_seen_at > mss.session_idle
            || now - session.created_at > mss.session_max
        {
            self.write(move |ctx| Ok(sessions::delete(ctx.conn, &key)?))
                .await?;
            return Ok(SessionState::Expired);
        }
        if now - session.last_seen_at > TOUCH_EVERY {
            self.write(move |ctx| Ok(sessions::touch(ctx.conn, &key, ctx.now)?))
                .await?;
        }
        Ok(SessionState::Live(session))
    }

    /// Ends a session on the server, so its cookie is worthless even if kept.
    pub async fn logout(&self, id: &str) -> Result<(), DeskError> {
        let key = id.to_string();
        self.write(move |ctx| Ok(sessions::delete(ctx.conn, &key)?))
            .await
    }
}
