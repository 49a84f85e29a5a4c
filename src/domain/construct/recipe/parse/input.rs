//! `[[input]]` tables.

use toml::de::DeTable;

use super::{Declared, Doc, Fields, INPUT_KEYS, bad_var_name, is_var_name, shown};
use crate::domain::construct::recipe::inputs::{Generator, Input, InputKind};

impl Doc<'_> {
    pub(super) fn input(&mut self, table: &DeTable<'_>, start: usize) -> Option<Declared> {
        let mut f = Fields::new("[[input]]", table);
        let keys = f.keys();
        let Some(name_v) = f.get("name") else {
            self.error(start, "an [[input]] has no `name`");
            return None;
        };
        let name = self.string("name", name_v)?;
        let at = self.at(name_v.span().start);
        if !is_var_name(&name) {
            self.error(name_v.span().start, bad_var_name("input", &name));
        }
        let label = f.get("label").and_then(|v| self.string("label", v));
        let kind = match f.get("type") {
            None => InputKind::String,
            Some(v) => {
                let s = self.string("type", v)?;
                InputKind::parse(&s).or_else(|| {
                    self.error(
                        v.span().start,
                        format!(
                            "input `{name}`: type `{}` is not one of {}",
                            shown(&s),
                            InputKind::NAMES
                        ),
                    );
                    None
                })?
            }
        };
        let default_v = f.get("default");
        let default = default_v.and_then(|v| self.json("default", v));
        let default_at = self.at(default_v.map_or(start, |v| v.span().start));
        let mut generate = None;
        if let Some(v) = f.get("generate")
            && let Some(s) = self.string("generate", v)
        {
            match Generator::parse(&s) {
                Some(g) if !g.fits(kind) => self.error(
                    v.span().start,
                    format!(
                        "input `{name}`: generator `{g}` makes {} values, not {}",
                        g.kinds(),
                        kind.as_str()
                    ),
                ),
                Some(g) => generate = Some(g),
                None => self.error(
                    v.span().start,
                    format!(
                        "input `{name}`: unknown generator `{}` (one of: {})",
                        shown(&s),
                        Generator::ALL.map(Generator::as_str).join(", ")
                    ),
                ),
            }
        }
        let choices: Vec<String> = match f.get("choices") {
            Some(v) => {
                let choices: Vec<String> = self
                    .strings("choices", v)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect();
                if !choices.is_empty() && !matches!(kind, InputKind::String | InputKind::List) {
                    self.error(
                        v.span().start,
                        format!("input `{name}`: only string and list inputs have `choices`"),
                    );
                }
                choices
            }
            None => Vec::new(),
        };
        if generate == Some(Generator::Agreements) && choices.is_empty() {
            self.error(
                start,
                format!(
                    "input `{name}`: the agreements generator picks from `choices`, which is empty"
                ),
            );
        }
        let required = f
            .get("required")
            .and_then(|v| self.boolean("required", v))
            .unwrap_or(true);
        let secret = f
            .get("secret")
            .and_then(|v| self.boolean("secret", v))
            .unwrap_or(false);
        f.finish(self, INPUT_KEYS);
        Some(Declared {
            input: Input {
                name,
                label,
                kind,
                default,
                generate,
                choices,
                required,
                secret,
                at,
            },
            keys,
            default_at,
        })
    }
}
