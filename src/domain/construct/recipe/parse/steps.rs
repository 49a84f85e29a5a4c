//! `[defaults]`, `[[stage]]`, `[[stage.step]]` and `[[stage.step.check]]` tables.

use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::*;

impl Doc<'_> {
    /// A `retry` table over `base`.
    fn retry(&mut self, v: &V<'_>, base: Retry) -> Retry {
        let Some(table) = self.table("retry", v) else {
            return base;
        };
        let mut fields = Fields::new("`retry`", table);
        let mut retry = base;
        if let Some(a) = fields.get("attempts")
            && let Some(n) = self.integer("attempts", a)
        {
            if (1..=MAX_ATTEMPTS).contains(&n) {
                retry.attempts = n as u32;
            } else {
                self.error(
                    a.span().start,
                    format!("`attempts` must be 1 to {MAX_ATTEMPTS} (calls in all)"),
                );
            }
        }
        if let Some(b) = fields.get("backoff")
            && let Some(d) = self.duration("backoff", b)
        {
            retry.backoff = d;
        }
        if let Some(m) = fields.get("max_backoff")
            && let Some(d) = self.duration("max_backoff", m)
        {
            retry.max_backoff = d;
        }
        if retry.backoff > retry.max_backoff {
            self.error(
                v.span().start,
                "`retry`: `backoff` is longer than `max_backoff`",
            );
        }
        fields.finish(self, RETRY_KEYS);
        retry
    }

    pub(super) fn defaults(&mut self, v: &V<'_>) -> Defaults {
        let mut d = Defaults::default();
        let Some(table) = self.table("defaults", v) else {
            return d;
        };
        let mut fields = Fields::new("[defaults]", table);
        if let Some(t) = fields.get("timeout") {
            d.timeout = self.timeout(t).unwrap_or(d.timeout);
        }
        if let Some(r) = fields.get("retry") {
            d.retry = self.retry(r, d.retry);
        }
        if let Some(p) = fields.get("error_pointer") {
            d.error_pointer = self.pointer("error_pointer", p);
        }
        fields.finish(self, DEFAULTS_KEYS);
        d
    }

    fn timeout(&mut self, v: &V<'_>) -> Option<Duration> {
        let d = self.duration("timeout", v)?;
        if d.is_zero() {
            self.error(v.span().start, "`timeout` must be longer than 0");
            return None;
        }
        Some(d)
    }

    pub(super) fn stage(
        &mut self,
        table: &DeTable<'_>,
        start: usize,
        defaults: &Defaults,
    ) -> Option<Stage> {
        let mut f = Fields::new("[[stage]]", table);
        let Some(name_v) = f.get("name") else {
            self.error(start, "a [[stage]] has no `name`");
            return None;
        };
        let name = self.string("name", name_v)?;
        if !is_step_name(&name) {
            self.error(
                name_v.span().start,
                format!(
                    "stage name `{}` may hold only letters, digits, - and _",
                    shown(&name)
                ),
            );
        }
        let title = f.get("title").and_then(|v| self.string("title", v));
        let mut steps = Vec::new();
        if let Some(v) = f.get("step") {
            for (t, s) in self.tables("step", v) {
                if let Some(step) = self.step(t, s, &name, defaults) {
                    steps.push(step);
                }
            }
        }
        f.finish(self, STAGE_KEYS);
        Some(Stage { name, title, steps })
    }

    fn step(
        &mut self,
        table: &DeTable<'_>,
        start: usize,
        stage: &str,
        defaults: &Defaults,
    ) -> Option<Step> {
        let mut f = Fields::new("[[stage.step]]", table);
        let Some(name_v) = f.get("name") else {
            self.error(start, format!("a step of stage `{stage}` has no `name`"));
            return None;
        };
        let name = self.string("name", name_v)?;
        let at = self.at(name_v.span().start);
        if !is_step_name(&name) {
            self.error(
                name_v.span().start,
                format!(
                    "step name `{}` may hold only letters, digits, - and _",
                    shown(&name)
                ),
            );
        }
        let system = match f.get("system") {
            Some(v) => self.string("system", v),
            None => {
                self.error(
                    name_v.span().start,
                    format!("step `{name}` has no `system`"),
                );
                None
            }
        };
        let method = match f.get("method") {
            None => Some("GET".to_string()),
            Some(v) => self.string("method", v).and_then(|m| {
                let upper = m.to_ascii_uppercase();
                if METHODS.contains(&upper.as_str()) {
                    Some(upper)
                } else {
                    self.error(
                        v.span().start,
                        format!(
                            "step `{name}`: method `{}` is not one of {}",
                            shown(&m),
                            METHODS.join(", ")
                        ),
                    );
                    None
                }
            }),
        };
        let path = match f.get("path") {
            Some(v) => self
                .string("path", v)
                .map(|s| Template::text(&s, self.at(v.span().start), "path")),
            None => {
                self.error(name_v.span().start, format!("step `{name}` has no `path`"));
                None
            }
        };
        let query = f
            .get("query")
            .map(|v| self.text_table("query", v))
            .unwrap_or_default();
        let headers = f
            .get("headers")
            .map(|v| self.text_table("headers", v))
            .unwrap_or_default();
        let body = match (f.get("json"), f.get("form")) {
            (Some(j), Some(_)) => {
                self.error(
                    j.span().start,
                    format!("step `{name}` has both `json` and `form`; a body is one or the other"),
                );
                None
            }
            (Some(j), None) => self.shape(j, "json").map(Body::Json),
            (None, Some(form)) => Some(Body::Form(self.text_table("form", form))),
            (None, None) => None,
        };
        let idempotent = f
            .get("idempotent")
            .and_then(|v| self.boolean("idempotent", v))
            .unwrap_or(false);
        let expression = |doc: &mut Doc<'_>, key: &str, v: &V<'_>| {
            doc.string(key, v)
                .map(|s| Template::expression(&s, doc.at(v.span().start), key))
        };
        let when = f.get("when").and_then(|v| expression(self, "when", v));
        let for_each = f
            .get("for_each")
            .and_then(|v| expression(self, "for_each", v));
        let mut bind = "item".to_string();
        if let Some(v) = f.get("as")
            && let Some(s) = self.string("as", v)
        {
            if for_each.is_none() && !f.has("for_each") {
                self.error(
                    v.span().start,
                    format!("step `{name}` has `as` but no `for_each`"),
                );
            } else if !is_var_name(&s) {
                self.error(v.span().start, bad_var_name("`as`", &s));
            } else {
                bind = s;
            }
        }
        let timeout = f
            .get("timeout")
            .and_then(|v| self.timeout(v))
            .unwrap_or(defaults.timeout);
        let retry = match f.get("retry") {
            Some(v) => self.retry(v, defaults.retry),
            None => defaults.retry,
        };
        let mut extract = Vec::new();
        if let Some(v) = f.get("extract")
            && let Some(t) = self.table("extract", v)
        {
            for (var, at, p) in Fields::new("`extract`", t).entries {
                if !is_var_name(var) {
                    self.error(at, bad_var_name("extract target", var));
                    continue;
                }
                if let Some(pointer) = self.pointer(var, p) {
                    extract.push(Extract {
                        name: var.to_string(),
                        pointer,
                        at: self.at(at),
                    });
                }
            }
        }
        let mut checks = Vec::new();
        if let Some(v) = f.get("check") {
            for (t, s) in self.tables("check", v) {
                if let Some(c) = self.check(t, s, &name) {
                    checks.push(c);
                }
            }
        }
        f.finish(self, STEP_KEYS);
        Some(Step {
            name,
            stage: stage.to_string(),
            system: system?,
            idempotent,
            timeout,
            retry,
            at,
            method: method?,
            path: path?,
            query,
            headers,
            body,
            when,
            for_each,
            bind,
            extract,
            checks,
            error_pointer: defaults.error_pointer.clone(),
        })
    }

    fn check(&mut self, table: &DeTable<'_>, start: usize, step: &str) -> Option<Check> {
        let mut f = Fields::new("[[stage.step.check]]", table);
        let wrote_status = f.has("status");
        let mut status = Vec::new();
        if let Some(v) = f.get("status") {
            let codes: Vec<&V<'_>> = match v.get_ref() {
                DeValue::Array(items) => items.iter().collect(),
                _ => vec![v],
            };
            for c in codes {
                match self.integer("status", c) {
                    Some(n @ 100..=599) => status.push(n as u16),
                    Some(_) => self.error(
                        c.span().start,
                        "`status` must be an HTTP status, 100 to 599",
                    ),
                    None => {}
                }
            }
        }
        let pointer_v = f.get("pointer");
        let pointer = pointer_v.and_then(|v| self.pointer("pointer", v));
        let mut expects = Vec::new();
        if let Some(v) = f.get("equals") {
            expects.push((v, self.json("equals", v).map(Expect::Equals)));
        }
        if let Some(v) = f.get("not_equals") {
            expects.push((v, self.json("not_equals", v).map(Expect::NotEquals)));
        }
        if let Some(v) = f.get("exists") {
            expects.push((v, self.boolean("exists", v).map(Expect::Exists)));
        }
        let message = f.get("message").and_then(|v| {
            self.string("message", v)
                .map(|s| Template::message(&s, self.at(v.span().start), "message"))
        });
        f.finish(self, CHECK_KEYS);
        if expects.len() > 1 {
            self.error(
                expects[1].0.span().start,
                format!("step `{step}`: a check takes one of `equals`, `not_equals`, `exists`"),
            );
        }
        if pointer_v.is_none() {
            if let Some((v, _)) = expects.first() {
                self.error(
                    v.span().start,
                    format!("step `{step}`: a check that compares a value needs `pointer`"),
                );
            } else if !wrote_status {
                self.error(
                    start,
                    format!("step `{step}`: a check needs `status` or `pointer`"),
                );
            }
        }
        let expect = match expects.into_iter().next() {
            Some((_, e)) => e?,
            None => Expect::Exists(true),
        };
        Some(Check {
            status,
            pointer: pointer.map(|p| (p, expect)),
            message,
        })
    }
}
