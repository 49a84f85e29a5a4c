//! The form a recipe is run from: its inputs with their labels, the values a run would take
//! (the handler's own, a default, or one generated from the form's seed), each editable on
//! one line and checked by the server as it is typed (after a pause) and when it is left;
//! what is wrong is written beside the input. Secret inputs never show their value.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::jobs::{CheckInputs, Checked, StartRuns};
use crate::api::construct::StartConstruction;
use crate::api::construct::{FormInput, RecipeForm};
use crate::tui::effect::Effect;
use crate::tui::panes::{Edit, PaneId};

/// Typing waits this long for the next key before the server checks what was typed.
pub const CHECK_PAUSE: Duration = Duration::from_millis(400);
/// What a secret value looks like, whatever its length.
pub const HIDDEN: &str = "●●●●●●";
/// The most accounts one start builds.
pub const MAX_COUNT: u32 = 200;

/// Where a value on the form comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Typed (or chosen) by the handler.
    Typed,
    Default,
    Generated,
    /// Nothing: an optional input left empty, or the values not checked yet.
    Empty,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Typed => "手填 typed",
            Source::Default => "默认 default",
            Source::Generated => "生成 generated",
            Source::Empty => "",
        }
    }
}

/// The input being typed into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editing {
    pub text: String,
    /// What the status line shows: the text, or dots for a secret.
    pub shown: String,
    pub prompt: String,
}

/// What editing the selected input starts.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// A line of text is being typed.
    Typing,
    /// One of a few values: a picker (label, value); an empty value is the default.
    Choose {
        title: String,
        options: Vec<(String, String)>,
    },
    Nothing,
}

#[derive(Debug)]
pub struct Form {
    /// The recipe's name, and its title as the list showed it.
    pub name: String,
    pub title: String,
    /// Its inputs and stages, once fetched.
    pub recipe: Option<RecipeForm>,
    /// What stands in the way that is not one input's (the fetch or a check failed, a start
    /// was refused).
    pub problem: Option<String>,
    /// The values the handler gave, by input name, as text (a list comma-separated).
    pub set: BTreeMap<String, String>,
    /// Every input's value as the last good check filled it.
    pub values: serde_json::Map<String, Value>,
    /// What is wrong, by input name.
    pub errors: BTreeMap<String, String>,
    pub seed: u64,
    pub count: u32,
    /// The input the cursor is on.
    pub selected: usize,
    pub editing: Option<Editing>,
    /// The newest check asked for; an answer to an older one is dropped.
    pub asked: u64,
    current: Arc<AtomicU64>,
    pub checking: bool,
    /// A start is on its way.
    pub starting: bool,
}

/// A value as the form writes it: a list comma-separated, nothing for null.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

impl Form {
    pub fn new(name: &str, title: &str, seed: u64) -> Form {
        Form {
            name: name.to_string(),
            title: title.to_string(),
            recipe: None,
            problem: None,
            set: BTreeMap::new(),
            values: serde_json::Map::new(),
            errors: BTreeMap::new(),
            seed,
            count: 1,
            selected: 0,
            editing: None,
            asked: 0,
            current: Arc::new(AtomicU64::new(0)),
            checking: false,
            starting: false,
        }
    }

    pub fn inputs(&self) -> &[FormInput] {
        self.recipe.as_ref().map_or(&[], |r| r.inputs.as_slice())
    }

    pub fn selected_input(&self) -> Option<&FormInput> {
        self.inputs().get(self.selected)
    }

    /// An input's value as the form shows it (a secret hidden), and where it comes from.
    pub fn shown(&self, input: &FormInput) -> (String, Source) {
        let (text, source) = self.value(input);
        if input.secret && !text.is_empty() {
            (HIDDEN.to_string(), source)
        } else {
            (text, source)
        }
    }

    /// An input's value as text, and where it comes from.
    pub fn value(&self, input: &FormInput) -> (String, Source) {
        if let Some(v) = self.set.get(&input.name) {
            return (v.clone(), Source::Typed);
        }
        match self.values.get(&input.name).map(text_of) {
            Some(text) if !text.is_empty() => {
                let source = if input.default.is_some() {
                    Source::Default
                } else if input.generate.is_some() {
                    Source::Generated
                } else {
                    Source::Empty
                };
                (text, source)
            }
            _ => (String::new(), Source::Empty),
        }
    }

    /// The values to send: the handler's, with the line being typed in its place.
    fn set_now(&self) -> BTreeMap<String, String> {
        let mut set = self.set.clone();
        if let (Some(editing), Some(input)) = (&self.editing, self.selected_input()) {
            if editing.text.trim().is_empty() {
                set.remove(&input.name);
            } else {
                set.insert(input.name.clone(), editing.text.trim().to_string());
            }
        }
        set
    }

    /// Asks the server to fill and check the inputs, after `wait`.
    pub fn check(&mut self, wait: Duration) -> Vec<Effect> {
        if self.recipe.is_none() {
            return Vec::new();
        }
        self.asked += 1;
        self.current.store(self.asked, Ordering::Relaxed);
        self.checking = true;
        vec![Effect::run(
            Some(PaneId::CONSTRUCT),
            CheckInputs {
                recipe: self.name.clone(),
                set: self.set_now(),
                seed: self.seed,
                asked: self.asked,
                wait,
                current: self.current.clone(),
            },
        )]
    }

    pub fn on_checked(&mut self, checked: Checked) {
        if checked.asked != self.asked {
            return;
        }
        self.checking = false;
        match checked.result {
            Ok(check) => {
                self.problem = None;
                self.errors = check
                    .errors
                    .into_iter()
                    .map(|p| (p.input, p.message))
                    .collect();
                // A refused form fills nothing: the last good values stay on screen.
                if let (true, Value::Object(values)) = (self.errors.is_empty(), check.values) {
                    self.values = values;
                }
            }
            Err(why) => self.problem = Some(format!("未能校验 could not check the form: {why}")),
        }
    }

    /// Starts editing the selected input: a line to type, or a picker of its choices.
    pub fn begin(&mut self) -> Begin {
        let Some(input) = self.selected_input().cloned() else {
            return Begin::Nothing;
        };
        let choices: Vec<String> = match input.kind.as_str() {
            "bool" => vec!["true".into(), "false".into()],
            "list" => Vec::new(),
            _ => input.choices.clone(),
        };
        if !choices.is_empty() {
            let mut options: Vec<(String, String)> =
                choices.iter().map(|c| (c.clone(), c.clone())).collect();
            if !input.required || input.default.is_some() || input.generate.is_some() {
                options.push((
                    "默认 / 生成 the default or a generated one".into(),
                    String::new(),
                ));
            }
            return Begin::Choose {
                title: format!("{} {}", label_of(&input), input.name),
                options,
            };
        }
        let text = match self.set.get(&input.name) {
            Some(v) => v.clone(),
            // A secret starts empty (empty keeps the generated one); others from what is shown.
            None if input.secret => String::new(),
            None => self.value(&input).0,
        };
        let mut prompt = format!("{} {} ", label_of(&input), input.name);
        if input.kind == "list" && !input.choices.is_empty() {
            prompt = format!("{prompt}({}) ", input.choices.join(","));
        }
        let mut editing = Editing {
            text,
            shown: String::new(),
            prompt,
        };
        editing.shown = shown_text(&editing.text, input.secret);
        self.editing = Some(editing);
        Begin::Typing
    }

    /// A key typed into the input: checked once typing pauses.
    pub fn edit(&mut self, edit: Edit) -> Vec<Effect> {
        let secret = self.selected_input().is_some_and(|i| i.secret);
        let Some(editing) = self.editing.as_mut() else {
            return Vec::new();
        };
        crate::tui::overlay::edit_line(&mut editing.text, edit);
        editing.shown = shown_text(&editing.text, secret);
        self.check(CHECK_PAUSE)
    }

    pub fn paste(&mut self, text: &str) -> Vec<Effect> {
        let secret = self.selected_input().is_some_and(|i| i.secret);
        let Some(editing) = self.editing.as_mut() else {
            return Vec::new();
        };
        editing.text.push_str(text);
        editing.shown = shown_text(&editing.text, secret);
        self.check(CHECK_PAUSE)
    }

    /// Leaves the input keeping what was typed (empty goes back to the default or a
    /// generated value; the value shown, left as it was, stays theirs), and checks now.
    pub fn commit(&mut self) -> Vec<Effect> {
        let (Some(editing), Some(input)) = (self.editing.take(), self.selected_input().cloned())
        else {
            return Vec::new();
        };
        let text = editing.text.trim().to_string();
        let unchanged = !self.set.contains_key(&input.name) && text == self.value(&input).0;
        if text.is_empty() {
            self.set.remove(&input.name);
        } else if !unchanged {
            self.set.insert(input.name.clone(), text);
        }
        self.check(Duration::ZERO)
    }

    /// Leaves the input as it was before typing.
    pub fn revert(&mut self) -> Vec<Effect> {
        if self.editing.take().is_none() {
            return Vec::new();
        }
        self.check(Duration::ZERO)
    }

    /// A choice from the picker: empty goes back to the default.
    pub fn choose(&mut self, name: &str, value: String) -> Vec<Effect> {
        if value.is_empty() {
            self.set.remove(name);
        } else {
            self.set.insert(name.to_string(), value);
        }
        self.check(Duration::ZERO)
    }

    /// New generated values: the handler's own stay.
    pub fn regenerate(&mut self, seed: u64) -> Vec<Effect> {
        self.seed = seed;
        self.check(Duration::ZERO)
    }

    /// The start the form describes, in `environment`.
    pub fn start(&mut self, environment: &str, key: String) -> StartRuns {
        self.starting = true;
        self.problem = None;
        StartRuns {
            start: StartConstruction {
                recipe: self.name.clone(),
                environment: environment.to_string(),
                set: self.set.clone(),
                count: Some(self.count),
                seed: Some(self.seed as i64),
            },
            key,
        }
    }

    /// Moves the cursor over the inputs.
    pub fn step(&mut self, by: isize) {
        let last = self.inputs().len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(by).min(last);
    }
}

/// An input's label, else its name.
pub fn label_of(input: &FormInput) -> &str {
    input.label.as_deref().unwrap_or(&input.name)
}

fn shown_text(text: &str, secret: bool) -> String {
    if secret {
        "●".repeat(text.chars().count())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, secret: bool, generate: Option<&str>) -> FormInput {
        FormInput {
            name: name.into(),
            label: Some(format!("{name} label")),
            kind: "string".into(),
            default: None,
            generate: generate.map(str::to_string),
            choices: Vec::new(),
            required: true,
            secret,
        }
    }

    fn form() -> Form {
        let mut f = Form::new("plain-account", "普通账户", 7);
        f.recipe = Some(RecipeForm {
            name: "plain-account".into(),
            title: "普通账户".into(),
            description: String::new(),
            inputs: vec![
                input("phone", false, Some("Phone")),
                input("trading_password", true, Some("Password")),
            ],
            stages: Vec::new(),
            systems: vec!["account".into()],
        });
        f.values = serde_json::json!({"phone": "15353604007", "trading_password": "170393"})
            .as_object()
            .cloned()
            .unwrap();
        f
    }

    fn checks(effects: &[Effect]) -> Vec<(BTreeMap<String, String>, u64, Duration)> {
        effects
            .iter()
            .filter_map(|e| e.job::<CheckInputs>())
            .map(|c| (c.set.clone(), c.seed, c.wait))
            .collect()
    }

    #[test]
    fn typing_is_checked_after_a_pause_and_leaving_checks_at_once() {
        let mut f = form();
        assert_eq!(f.begin(), Begin::Typing);
        assert_eq!(
            f.editing.as_ref().map(|e| e.text.as_str()),
            Some("15353604007")
        );
        let typed = f.edit(Edit::KillToLineStart);
        let typed: Vec<_> = typed.into_iter().chain(f.edit(Edit::Insert('1'))).collect();
        let asked = checks(&typed);
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[1].0.get("phone").map(String::as_str), Some("1"));
        assert_eq!(asked[1].2, CHECK_PAUSE);
        // The first is overtaken: its job sees it is no longer the newest and sends nothing.
        assert_eq!(f.current.load(Ordering::Relaxed), f.asked);
        let left = f.commit();
        assert_eq!(checks(&left)[0].2, Duration::ZERO);
        assert_eq!(f.set.get("phone").map(String::as_str), Some("1"));

        // An answer to an older check is dropped; the newest one's errors stay by their input.
        f.on_checked(Checked {
            asked: f.asked - 1,
            result: Ok(crate::api::construct::InputCheck {
                values: serde_json::json!({}),
                errors: Vec::new(),
            }),
        });
        assert!(f.checking);
        f.on_checked(Checked {
            asked: f.asked,
            result: Ok(crate::api::construct::InputCheck {
                values: serde_json::json!({}),
                errors: vec![crate::api::construct::InputProblem {
                    input: "phone".into(),
                    message: "not an 11-digit mainland mobile number".into(),
                }],
            }),
        });
        assert!(!f.checking);
        assert_eq!(
            f.errors.get("phone").map(String::as_str),
            Some("not an 11-digit mainland mobile number")
        );
        // The values a refused check did not fill stay as they were.
        assert_eq!(
            f.values.get("trading_password"),
            Some(&Value::from("170393"))
        );
    }

    #[test]
    fn a_secret_never_shows_and_an_untouched_value_stays_generated() {
        let mut f = form();
        let pw = f.inputs()[1].clone();
        assert_eq!(f.shown(&pw), (HIDDEN.to_string(), Source::Generated));
        f.selected = 1;
        f.begin();
        assert_eq!(f.editing.as_ref().map(|e| e.text.as_str()), Some(""));
        for c in "1357".chars() {
            f.edit(Edit::Insert(c));
        }
        assert_eq!(f.editing.as_ref().map(|e| e.shown.as_str()), Some("●●●●"));
        f.commit();
        assert_eq!(f.shown(&pw), (HIDDEN.to_string(), Source::Typed));
        // The phone, opened and left as generated, is not made the handler's.
        f.selected = 0;
        f.begin();
        f.commit();
        assert!(!f.set.contains_key("phone"));
        // A new seed keeps what was typed.
        let effects = f.regenerate(99);
        let asked = checks(&effects);
        assert_eq!(asked[0].1, 99);
        assert_eq!(
            asked[0].0.get("trading_password").map(String::as_str),
            Some("1357")
        );
    }
}
