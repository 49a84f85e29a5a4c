//! The sandbox's answer envelope, `{"code": "0", "message": "成功", "data": {...}}`, the way
//! brokerage counters answer: a business refusal is HTTP 200 with its own code and a Chinese
//! message; a request that cannot be read is 400, an unknown customer 404, a missing key 401,
//! a system being deployed 503, each in the same envelope. Nothing here echoes a request's
//! text back except as JSON values.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::rules::Refusal;
use crate::store::StoreError;

/// A successful answer: code "0" and its `data`.
pub struct Done(pub Value);

impl IntoResponse for Done {
    fn into_response(self) -> Response {
        envelope(StatusCode::OK, "0", "成功", Some(self.0), None)
    }
}

/// Every answer that is not a success.
#[derive(Debug)]
pub enum Failure {
    /// HTTP 200, a business code and message; `data` for what helps (the missing steps).
    Business {
        code: &'static str,
        message: String,
        data: Option<Value>,
    },
    /// 400: unreadable JSON, a missing or mistyped field, a value too long.
    BadRequest(String),
    /// 413: a body over the server's limit.
    TooLarge,
    /// 401: no sandbox key or the wrong one (or no opsdesk token on the admin calls).
    Unauthorized(String),
    /// 403: an opsdesk token that is not a handler's or an admin's.
    Forbidden(String),
    /// 404: no such customer, fund account or binding.
    NotFound(String),
    /// 503: the system is being deployed (the outage switch) for this many more seconds.
    Deploying { retry_after: u64 },
    /// 503: the server is at its request limit or its storage refuses writes for now.
    Busy { message: String, retry_after: u64 },
    /// 500: a stored document that does not read, a database failure (logged, never shown).
    Internal,
}

impl Failure {
    pub fn business(code: &'static str, message: impl Into<String>) -> Self {
        Failure::Business {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Failure::BadRequest(message.into())
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Business {
            code: r.code,
            message: r.message,
            data: None,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        if e.trouble().is_some() || matches!(e, StoreError::Closed) {
            tracing::warn!(error = %e, "a sandbox write was refused by the storage");
            return Failure::Busy {
                message: "系统繁忙，请稍后再试".into(),
                retry_after: crate::server::error::STORAGE_RETRY_AFTER_SECS,
            };
        }
        tracing::error!(error = %e, "sandbox store failure");
        Failure::Internal
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Business {
                code,
                message,
                data,
            } => envelope(StatusCode::OK, code, &message, data, None),
            Failure::BadRequest(m) => envelope(StatusCode::BAD_REQUEST, "E_PARAM", &m, None, None),
            Failure::TooLarge => layer_error(StatusCode::PAYLOAD_TOO_LARGE),
            Failure::Unauthorized(m) => {
                envelope(StatusCode::UNAUTHORIZED, "E_AUTH", &m, None, None)
            }
            Failure::Forbidden(m) => envelope(StatusCode::FORBIDDEN, "E_FORBIDDEN", &m, None, None),
            Failure::NotFound(m) => envelope(StatusCode::NOT_FOUND, "E_NOT_FOUND", &m, None, None),
            Failure::Deploying { retry_after } => envelope(
                StatusCode::SERVICE_UNAVAILABLE,
                "DEPLOYING",
                "系统部署中，请稍后再试",
                None,
                Some(retry_after),
            ),
            Failure::Busy {
                message,
                retry_after,
            } => envelope(
                StatusCode::SERVICE_UNAVAILABLE,
                "E_BUSY",
                &message,
                None,
                Some(retry_after),
            ),
            Failure::Internal => envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                "E_INTERNAL",
                "系统内部错误",
                None,
                None,
            ),
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
}

/// The envelope as an answer: JSON, never cached (it carries test customers' data).
pub fn envelope(
    status: StatusCode,
    code: &str,
    message: &str,
    data: Option<Value>,
    retry_after: Option<u64>,
) -> Response {
    let body = Envelope {
        code,
        message,
        data,
    };
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, secs.max(1).into());
    }
    response
}

/// The envelope for an error a layer made (413 from the body limit, 405, 408 from the
/// timeout, 404 for a path no route has).
pub fn layer_error(status: StatusCode) -> Response {
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("E_PARAM", "请求体过大"),
        StatusCode::METHOD_NOT_ALLOWED => ("E_METHOD", "接口不支持该请求方法"),
        StatusCode::REQUEST_TIMEOUT => ("E_TIMEOUT", "请求超时"),
        StatusCode::NOT_FOUND => ("E_NOT_FOUND", "接口不存在"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("E_PARAM", "请求体须为 JSON"),
        s if s.is_server_error() => ("E_INTERNAL", "系统内部错误"),
        _ => ("E_PARAM", "请求无法处理"),
    };
    envelope(status, code, message, None, None)
}

/// A JSON object body read into `T`: 400 in the envelope when it is not JSON, not an object,
/// lacks a field, has one of the wrong type or one `T` does not know. An empty body reads as
/// `{}`, for calls that take nothing.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Failure::TooLarge
            } else {
                Failure::bad_request("请求体读取失败")
            }
        })?;
        parse(&bytes).map(Body)
    }
}

/// What [`Body`] does with the bytes.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| Failure::bad_request(format!("请求体不是合法的 JSON：{e}")))?
    };
    if !value.is_object() {
        return Err(Failure::bad_request("请求体须为 JSON 对象"));
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| Failure::bad_request(format!("请求参数错误（{}）：{}", e.path(), e.inner())))
}

/// A required text field: not blank, at most `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), Failure> {
    if value.trim().is_empty() {
        return Err(Failure::bad_request(format!("字段 {field} 不能为空")));
    }
    optional_text(field, Some(value), max)
}

/// An optional text field: when given, at most `max` characters and no control characters.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<(), Failure> {
    let Some(value) = value else { return Ok(()) };
    if value.chars().count() > max {
        return Err(Failure::bad_request(format!(
            "字段 {field} 过长（最多 {max} 个字符）"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Failure::bad_request(format!("字段 {field} 含有控制字符")));
    }
    Ok(())
}

/// One of a closed list of words.
pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), Failure> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(Failure::bad_request(format!(
            "字段 {field} 取值无效（可选：{}）",
            allowed.join("、")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Req {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn bodies_that_cannot_be_read_are_400s_that_say_why() {
        assert!(parse::<Req>(r#"{"name":"张三"}"#.as_bytes()).is_ok());
        for (bad, says) in [
            (&b"{\"name\":"[..], "JSON"),
            (b"[1]", "对象"),
            (b"{}", "name"),
            (br#"{"name":1}"#, "name"),
            (br#"{"name":"a","x":1}"#, "x"),
            (b"", "name"),
        ] {
            match parse::<Req>(bad) {
                Err(Failure::BadRequest(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(text("a", " ", 5).is_err());
        assert!(text("a", "abcdef", 5).is_err());
        assert!(text("a", "ab\u{1b}[31m", 50).is_err());
        assert!(text("a", "张三丰", 3).is_ok());
    }
}
