//! A phone-less MSS client for integration tests: plain HTTP with a cookie jar, forms and
//! hand-built multipart bodies (so malformed ones can be built too), and submitters with
//! passwords.
#![allow(dead_code)]

use std::collections::HashMap;

use opsdesk::domain::people::Role;
use opsdesk::store::users;
use reqwest::header::{HeaderMap, HeaderValue};

use super::TestServer;

pub const PASSWORD: &str = "mss-test-password";

/// Creates a submitter (or another role) who can log in to the pages.
pub async fn user_with_password(server: &TestServer, name: &'static str, role: Role) {
    server
        .store
        .write(move |ctx| {
            let hash = users::hash_password(PASSWORD)?;
            users::insert(ctx.conn, name, name, role, None, Some(&hash), ctx.now)?;
            Ok::<_, opsdesk::store::StoreError>(())
        })
        .await
        .expect("create a user with a password");
}

/// One answer, with what a browser would look at.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden input named `name`.
    pub fn hidden(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&needle)
            .unwrap_or_else(|| panic!("no {name} in page: {}", self.body))
            + needle.len();
        let end = self.body[start..].find('"').expect("closing quote") + start;
        self.body[start..end].to_string()
    }

    pub fn csrf(&self) -> String {
        self.hidden("csrf_token")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

/// A part of a multipart form.
#[derive(Clone)]
pub enum Part {
    Text(&'static str, String),
    File(&'static str, String, &'static str, Vec<u8>),
}

pub fn text(name: &'static str, value: impl Into<String>) -> Part {
    Part::Text(name, value.into())
}

pub fn file(
    name: &'static str,
    filename: &str,
    content_type: &'static str,
    bytes: Vec<u8>,
) -> Part {
    Part::File(name, filename.to_string(), content_type, bytes)
}

pub const BOUNDARY: &str = "----opsdesk-test-boundary-7d1f";

pub fn multipart_body(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::Text(name, value) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(value.as_bytes());
            }
            Part::File(name, filename, ct, bytes) => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// A browser stand-in: follows no redirects (tests look at them), keeps cookies.
pub struct MssClient {
    pub base: String,
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy in front of opsdesk would.
    pub forwarded_for: Option<String>,
}

impl MssClient {
    pub fn new(server: &TestServer) -> Self {
        Self {
            base: server.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
            forwarded_for: None,
        }
    }

    fn cookie_header(&self) -> Option<HeaderValue> {
        if self.cookies.is_empty() {
            return None;
        }
        let v = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&v).ok()
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match self.cookie_header() {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let req = match &self.forwarded_for {
            Some(ip) => req.header("x-forwarded-for", ip),
            None => req,
        };
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap_or_default();
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                let cleared = c.contains("Max-Age=0");
                if cleared || v.is_empty() {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        let body = r.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    pub async fn post_multipart(&mut self, path: &str, parts: &[Part]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart_body(parts));
        self.send(req).await
    }

    /// Logs in through the login page; returns the answer to the post.
    pub async fn login_as(&mut self, username: &str, password: &str) -> Page {
        let page = self.get("/mss/login").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf();
        self.post_form(
            "/mss/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &csrf),
            ],
        )
        .await
    }

    /// Logs in and asserts it worked.
    pub async fn logged_in(server: &TestServer, username: &str) -> MssClient {
        let mut c = MssClient::new(server);
        let r = c.login_as(username, PASSWORD).await;
        assert_eq!(r.status, 303, "login failed: {}", r.body);
        c
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A small real PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 120])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// The fields of a good submission, to be changed per test.
pub fn good_fields(csrf: &str, form_id: &str) -> Vec<Part> {
    vec![
        text("csrf_token", csrf),
        text("form_id", form_id),
        text("customer_name", "张三"),
        text("customer_account", "310001234567"),
        text("customer_phone", "13812345678"),
        text("system", "trading"),
        text("category_hint", ""),
        text("title", "客户委托买入提示资金不足"),
        text(
            "description",
            "客户 310001234567 今天 10:32 在 APP 买入 600000 时提示“可用资金不足”，账户可用资金 5 万元，已重新登录仍然不行。",
        ),
    ]
}

/// Saves a knowledge-base article for `audience` straight into the store; its number.
pub async fn kb_article(
    server: &TestServer,
    slug: &str,
    system: &str,
    title: &str,
    steps: &str,
    audience: opsdesk::domain::kb::Audience,
) -> i64 {
    let article = opsdesk::domain::kb::Article {
        id: slug.into(),
        title: title.into(),
        system: system.into(),
        category: opsdesk::domain::ticket::Category::Consultation,
        tags: Vec::new(),
        audience,
        hot: false,
        symptoms: Vec::new(),
        cause: String::new(),
        source_tickets: Vec::new(),
        author: "h_test".into(),
        updated_at: chrono::Utc::now(),
        views: 0,
        helpful: 0,
        steps: steps.into(),
    };
    let saved = server
        .store
        .write(move |ctx| opsdesk::store::kb::save(ctx.conn, &article, "h_test", ctx.now))
        .await
        .expect("save an article");
    match saved {
        opsdesk::store::kb::Saved::Created { id }
        | opsdesk::store::kb::Saved::Updated { id, .. }
        | opsdesk::store::kb::Saved::Unchanged { id } => id,
    }
}

/// Saves an article for submitters (the help center and the form's suggestions show it).
pub async fn help_article(
    server: &TestServer,
    slug: &str,
    system: &str,
    title: &str,
    steps: &str,
) -> i64 {
    kb_article(
        server,
        slug,
        system,
        title,
        steps,
        opsdesk::domain::kb::Audience::Submitters,
    )
    .await
}
