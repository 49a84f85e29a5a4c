//! `[construct]` in `opsdesk.toml`: where recipes are kept and the UAT environments they run
//! against, as written, and the checked form the server and `--local` work with.
//!
//! No credential is written in the file: a system's token is read from the environment
//! variable `token_env` names, when a call is made, so it is never stored or shown.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// `[construct]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConstructConfig {
    /// Recipes beside the demo's (default: `recipes/` beside the config file); one with a
    /// demo recipe's name replaces it.
    pub recipes_dir: Option<PathBuf>,
    /// `[[construct.environment]]`: the UAT environments recipes run against.
    #[serde(rename = "environment")]
    pub environments: Vec<EnvironmentConfig>,
}

/// One `[[construct.environment]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// `uat1`, `uat2`: what `--env` and the pane call it.
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Runs building accounts in this environment at once, at most (a UAT box is small).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// The business systems by the name recipes call them (`account`, `depository`, `trading`).
    pub systems: BTreeMap<String, EndpointConfig>,
}

/// One business system of an environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// The base URL a step's path is appended to (`http://uat1-acct:8080/api`).
    pub url: String,
    /// The environment variable holding the system's token, if it wants one.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The header the token goes in (default `Authorization`, as `Bearer <token>`).
    #[serde(default)]
    pub header: Option<String>,
}

fn default_concurrency() -> usize {
    4
}

/// What the program works with.
#[derive(Debug, Clone, Default)]
pub struct Construction {
    /// The user's recipes dir, searched before the demo recipes built into the binary.
    pub recipes_dir: Option<PathBuf>,
    pub environments: Vec<Environment>,
    /// Serve the sandbox brokerage under `/uat-sandbox/` (the demo).
    pub sandbox: bool,
}

impl Construction {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The environment names, for messages that list what exists.
    pub fn environment_names(&self) -> String {
        if self.environments.is_empty() {
            return "none is configured ([[construct.environment]] in opsdesk.toml)".into();
        }
        self.environments
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks the written form: names, URLs, limits. `default_dir` is where the recipes dir
    /// is when none is named.
    pub fn from_config(
        config: &ConstructConfig,
        default_dir: Option<PathBuf>,
    ) -> Result<Construction, String> {
        let mut environments = Vec::new();
        for (i, env) in config.environments.iter().enumerate() {
            let key = format!("construct.environment[{i}]");
            if !is_name(&env.name) {
                return Err(format!(
                    "{key}.name: '{}' must be 1–32 of a-z, 0-9, _ and -",
                    env.name
                ));
            }
            if environments
                .iter()
                .any(|e: &Environment| e.name == env.name)
            {
                return Err(format!("{key}.name: '{}' is listed twice", env.name));
            }
            if !(1..=64).contains(&env.concurrency) {
                return Err(format!(
                    "{key}.concurrency: {} is outside 1–64",
                    env.concurrency
                ));
            }
            if env.systems.is_empty() {
                return Err(format!("{key}.systems: name at least one business system"));
            }
            let mut systems = BTreeMap::new();
            for (name, endpoint) in &env.systems {
                let at = format!("{key}.systems.{name}");
                if !is_name(name) {
                    return Err(format!(
                        "{at}: a system name must be 1–32 of a-z, 0-9, _ and -"
                    ));
                }
                let base = check_base(&endpoint.url).map_err(|m| format!("{at}.url: {m}"))?;
                let auth = match &endpoint.token_env {
                    None => {
                        if endpoint.header.is_some() {
                            return Err(format!("{at}.header: set token_env too, or neither"));
                        }
                        None
                    }
                    Some(var) => Some(Credential {
                        header: endpoint
                            .header
                            .clone()
                            .unwrap_or_else(|| "Authorization".into()),
                        source: CredentialSource::Env(var.clone()),
                    }),
                };
                systems.insert(name.clone(), Endpoint { base, auth });
            }
            environments.push(Environment {
                name: env.name.clone(),
                title: env.title.clone(),
                concurrency: env.concurrency,
                systems,
            });
        }
        Ok(Construction {
            recipes_dir: config.recipes_dir.clone().or(default_dir),
            environments,
            sandbox: false,
        })
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An http(s) URL without a query, its trailing `/` dropped so a step's `/path` joins it.
fn check_base(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("'{url}' is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || url.contains(['?', '#', ' ']) {
        return Err(format!(
            "'{url}' is not a base URL such as http://host:8080/api"
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A named UAT environment.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub title: Option<String>,
    pub concurrency: usize,
    pub systems: BTreeMap<String, Endpoint>,
}

impl Environment {
    /// The demo's environment: the sandbox brokerage this server mounts under
    /// `/uat-sandbox/`, reached at `base` with the sandbox's key.
    pub fn sandbox(base: &str, key: String) -> Environment {
        let systems = ["account", "depository", "trading"]
            .into_iter()
            .map(|system| {
                let endpoint = Endpoint {
                    base: format!("{}/uat-sandbox/{system}", base.trim_end_matches('/')),
                    auth: Some(Credential {
                        header: "Authorization".into(),
                        source: CredentialSource::Value(key.clone()),
                    }),
                };
                (system.to_string(), endpoint)
            })
            .collect();
        Environment {
            name: "sandbox".into(),
            title: Some("UAT 沙箱 sandbox brokerage (demo, not a real system)".into()),
            concurrency: 8,
            systems,
        }
    }

    pub fn system_names(&self) -> Vec<&str> {
        self.systems.keys().map(String::as_str).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base: String,
    pub auth: Option<Credential>,
}

/// Where a system's token comes from, and the header it goes in.
#[derive(Clone)]
pub struct Credential {
    pub header: String,
    pub source: CredentialSource,
}

#[derive(Clone)]
pub enum CredentialSource {
    /// Read from this environment variable at each call.
    Env(String),
    /// Held in memory only (the demo sandbox's key).
    Value(String),
}

impl Credential {
    /// The header's name and value, or why there is none.
    pub fn header_value(&self) -> Result<(String, String), String> {
        let token = match &self.source {
            CredentialSource::Value(v) => v.clone(),
            CredentialSource::Env(var) => std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("the environment variable {var} (its token) is not set"))?,
        };
        let value = if self.header.eq_ignore_ascii_case("authorization") {
            format!("Bearer {token}")
        } else {
            token
        };
        Ok((self.header.clone(), value))
    }
}

impl fmt::Debug for Credential {
    // A token must not reach a log line through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = match &self.source {
            CredentialSource::Env(var) => format!("${var}"),
            CredentialSource::Value(_) => "<held>".into(),
        };
        write!(f, "Credential({}: {from})", self.header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Construction, String> {
        let c: ConstructConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        Construction::from_config(&c, None)
    }

    #[test]
    fn environments_parse_and_are_checked() {
        let ok = parse(
            r#"
            [[environment]]
            name = "uat1"
            concurrency = 8
            systems.account = { url = "http://uat1:8080/acct/", token_env = "UAT1_TOKEN" }
            systems.trading = { url = "https://uat1-trade" }
            "#,
        )
        .unwrap();
        let env = ok.environment("uat1").unwrap();
        assert_eq!(env.concurrency, 8);
        assert_eq!(env.systems["account"].base, "http://uat1:8080/acct");
        assert_eq!(env.system_names(), ["account", "trading"]);
        assert!(format!("{:?}", env.systems["account"].auth).contains("$UAT1_TOKEN"));

        for (bad, says) in [
            (
                "[[environment]]\nname = \"UAT\"\nsystems.a = { url = \"http://x\" }",
                "name",
            ),
            (
                "[[environment]]\nname = \"u\"\nsystems = {}",
                "at least one",
            ),
            (
                "[[environment]]\nname = \"u\"\nsystems.a = { url = \"ftp://x\" }",
                "http",
            ),
            (
                "[[environment]]\nname = \"u\"\nconcurrency = 0\nsystems.a = { url = \"http://x\" }",
                "concurrency",
            ),
            (
                "[[environment]]\nname = \"u\"\nsystems.a = { url = \"http://x\", header = \"X\" }",
                "token_env",
            ),
            (
                "[[environment]]\nname = \"u\"\nsystems.a = { url = \"http://x\" }\n[[environment]]\nname = \"u\"\nsystems.a = { url = \"http://x\" }",
                "twice",
            ),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_token_is_read_at_the_call_and_goes_in_its_header() {
        let bearer = Credential {
            header: "Authorization".into(),
            source: CredentialSource::Value("k1".into()),
        };
        assert_eq!(
            bearer.header_value().unwrap(),
            ("Authorization".into(), "Bearer k1".into())
        );
        let missing = Credential {
            header: "X-Api-Key".into(),
            source: CredentialSource::Env("OPSDESK_TEST_SURELY_UNSET_TOKEN".into()),
        };
        assert!(
            missing
                .header_value()
                .unwrap_err()
                .contains("OPSDESK_TEST_SURELY_UNSET_TOKEN")
        );
        assert!(!format!("{bearer:?}").contains("k1"));
    }
}
