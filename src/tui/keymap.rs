//! Keymaps: which key, in which context, does which [`Action`].
//!
//! This room turns `keymaps/*.toml` into a [`Keymap`] and answers one question per key press:
//! given the contexts in priority order (overlay, focused pane, `global`) and the keys typed so
//! far, is that an action, the start of a sequence (with the possible next keys, for the hint),
//! or nothing? It also lists the bindings for the help overlay and the status line, so neither
//! can drift from what the keys really do.
//!
//! It touches `action` and crossterm's key types only: no terminal, no app state and no file IO
//! (the caller reads the user's file and passes its text; the shipped maps are compiled in), so
//! everything here is tested on strings.
//!
//! # Loading
//!
//! Bindings merge per (context, key sequence): the built-in `default`, then the chosen preset
//! and whatever it `extends`, then the user's file. A later binding replaces an earlier one and
//! `noop` removes it, so the key is unbound in that context (a lower context may then answer).
//! A user file may say `[meta] extends = "emacs"`; that names its base in place of the preset the
//! caller passed.
//!
//! # What refuses to start and what only warns
//!
//! Errors ([`KeymapError`], opsdesk does not start) are files that do not say what they mean,
//! where any guess would run a keymap nobody wrote: TOML syntax, an unknown table, action or key
//! name, a value that is not a string, a bad `[meta]`, and **the same key written two ways in one
//! table** (`G` and `shift-g`): TOML itself refuses the same key written the same way twice, and
//! which of the two bindings was meant cannot be known.
//!
//! Warnings ([`KeymapWarning`], returned with the keymap for the start-up report; the binding is
//! kept as written) are bindings whose meaning is clear but probably unwise. A keymap that
//! worked yesterday should not lock a handler out of the desk over SSH today because it meets a
//! new check, and each of these still does exactly what it says:
//! - a binding that is a prefix of a longer one in the same context: the shorter one fires at
//!   once, so the sequence can never be typed. Checked after merging, because the usual cause is
//!   a user's single key over a shipped sequence; the warning points at the later of the two
//!   (usually the user's file) and unbinding either with `noop` silences it;
//! - a printable key starting a binding in a context that takes text (`[editor]`, `[palette]`):
//!   it does the action instead of typing the character;
//! - `ctrl-s`, `ctrl-q` (XON/XOFF flow control), `ctrl-b` (tmux's prefix), `ctrl-a` (GNU
//!   screen's) and `ctrl-h` (what backspace sends on many terminals): jump hosts, tmux and
//!   screen may never pass them on. A shipped keymap may bind one beside a key that always
//!   arrives for the same action (the editor's `ctrl-a` beside `home`); a user's file never
//!   goes unwarned;
//! - a user file whose `extends` overrides a non-default preset chosen by the caller.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::action::{Action, Context};

/// The shipped presets: name, path shown in messages, text.
const PRESETS: &[(&str, &str, &str)] = &[
    (
        "default",
        "keymaps/default.toml",
        include_str!("../../keymaps/default.toml"),
    ),
    (
        "emacs",
        "keymaps/emacs.toml",
        include_str!("../../keymaps/emacs.toml"),
    ),
];

/// Names of the shipped presets, for `--help` and messages.
pub fn presets() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(name, ..)| *name)
}

/// Keys that never reach the program on some terminal between the handler and opsdesk.
const SWALLOWED: &[(char, &str)] = &[
    (
        's',
        "ctrl-s is XOFF: many terminals and jump hosts freeze the screen on it instead of \
         passing it on",
    ),
    (
        'q',
        "ctrl-q is XON: many terminals and jump hosts take it instead of passing it on",
    ),
    (
        'b',
        "ctrl-b is the tmux prefix: inside tmux it never arrives",
    ),
    (
        'a',
        "ctrl-a is the GNU screen prefix: inside screen it never arrives",
    ),
    (
        'h',
        "ctrl-h is what backspace sends on many terminals: it may fire on backspace, or never \
         arrive",
    ),
];

/// Named keys as written in keymap files; single printable characters stand for themselves.
const NAMED: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
];

/// Modifiers in the order the canonical name writes them. Only the first three can be written
/// in a keymap; the others are printed so a key from an unusual terminal still reads sensibly.
const MODIFIERS: &[(KeyModifiers, &str)] = &[
    (KeyModifiers::CONTROL, "ctrl-"),
    (KeyModifiers::ALT, "alt-"),
    (KeyModifiers::SHIFT, "shift-"),
    (KeyModifiers::SUPER, "super-"),
    (KeyModifiers::HYPER, "hyper-"),
    (KeyModifiers::META, "meta-"),
];

/// One key press, normalised so that a key written in a keymap and the same key reported by
/// crossterm compare equal. A character is its own identity: `G` is shift-g, and SHIFT is never
/// kept with a character (terminals disagree on whether they report it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    mods: KeyModifiers,
}

impl Key {
    /// The key of a crossterm key event (the caller has already kept only presses).
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers;
        let code = match ev.code {
            KeyCode::Char(c) => {
                // Legacy terminals send `G`; the kitty protocol may send `g` with SHIFT.
                let c = if mods.contains(KeyModifiers::SHIFT) {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// Parses one key name as written in a keymap: `a`, `G`, `?`, `space`, `ctrl-r`,
    /// `alt-enter`, `shift-tab`, `f5`. The error says why, for the loader's message.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut rest = s;
        let mut mods = KeyModifiers::NONE;
        'prefixes: loop {
            for &(flag, prefix) in &MODIFIERS[..3] {
                // `ctrl--` is ctrl and `-`; a bare `-` or `alt-` alone is not a prefix.
                if rest.len() > prefix.len()
                    && rest
                        .get(..prefix.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                {
                    if mods.contains(flag) {
                        return Err(format!("{prefix} is written twice"));
                    }
                    mods |= flag;
                    rest = &rest[prefix.len()..];
                    continue 'prefixes;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err("a key name is missing".into()),
            (Some(c), None) if c.is_ascii_graphic() => KeyCode::Char(c),
            (Some(_), None) => {
                return Err(
                    "only printable ASCII characters are key names (other characters \
                            come through the input method)"
                        .into(),
                );
            }
            _ => named_key(rest).ok_or_else(|| {
                "not a key name (expected one character like 'a', 'G' or '?', or a name like \
                 'enter', 'esc', 'space', 'tab', 'pagedown', 'f5', with ctrl-, alt- or shift-)"
                    .to_string()
            })?,
        };
        if !mods.contains(KeyModifiers::SHIFT) {
            return Ok(Key { code, mods });
        }
        // shift- changes which character a key types, so for characters it is folded into the
        // character, exactly as `from_event` does with what the terminal sends.
        let code = match code {
            KeyCode::Char(c) if c.is_ascii_alphabetic() || c == ' ' => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => {
                return Err(format!(
                    "shift- with '{c}' depends on the keyboard layout: write the character it \
                     types, like '!' or '?'"
                ));
            }
            KeyCode::Tab | KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Ok(Key { code, mods })
    }

    /// A character typed without ctrl or alt: in a context that takes text, that is text.
    fn is_printable(self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// Why this key may never arrive, if it is one of the keys terminals swallow.
    fn swallowed(self) -> Option<&'static str> {
        let KeyCode::Char(c) = self.code else {
            return None;
        };
        if self.mods != KeyModifiers::CONTROL {
            return None;
        }
        SWALLOWED.iter().find(|(k, _)| *k == c).map(|(_, why)| *why)
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    let lower = name.to_ascii_lowercase();
    if lower == "shift-tab" {
        return Some(KeyCode::BackTab);
    }
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
        && (1..=12).contains(&n)
        && lower == format!("f{n}")
    {
        return Some(KeyCode::F(n));
    }
    NAMED
        .iter()
        .find(|(n, _)| *n == lower)
        .map(|(_, code)| *code)
}

impl fmt::Display for Key {
    /// The canonical name: what [`Key::parse`] reads back to the same key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &(flag, prefix) in MODIFIERS {
            if self.mods.contains(flag) {
                f.write_str(prefix)?;
            }
        }
        match self.code {
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Char(c) if c != ' ' => write!(f, "{c}"),
            code => match NAMED.iter().find(|(_, k)| *k == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{}", format!("{code:?}").to_ascii_lowercase()),
            },
        }
    }
}

/// Keys of a sequence as written canonically: `g g`, `ctrl-x ctrl-c`.
fn keys_text(keys: &[Key]) -> String {
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the keys typed so far mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Do this.
    Action(Action),
    /// The start of one or more sequences: each possible next key with what it leads to (an
    /// action name, or `+` and the actions further down), sorted by key, for the "which key"
    /// hint. Wait for the next key.
    Pending(Vec<(Key, String)>),
    /// Not bound: drop the keys typed so far; in a context that takes text, the text widget
    /// gets the key.
    None,
}

/// The merged bindings of every context.
#[derive(Clone, Debug)]
pub struct Keymap {
    contexts: HashMap<Context, HashMap<Vec<Key>, Action>>,
}

impl Keymap {
    /// Loads the built-in `default`, then `preset` (and what it extends), then the user's file
    /// (`path` is only for messages), merged per (context, key sequence). The warnings are for
    /// the start-up report; see the module doc for what is an error and what a warning.
    pub fn load(
        preset: &str,
        user: Option<(&Path, &str)>,
    ) -> Result<(Keymap, Vec<KeymapWarning>), KeymapError> {
        if !presets().any(|p| p == preset) {
            return Err(KeymapError::UnknownPreset {
                name: shown(preset),
            });
        }
        let user = user
            .map(|(path, text)| Layer::parse(&path.display().to_string(), text))
            .transpose()?;
        let mut warnings = Vec::new();
        let mut base = preset;
        if let Some(Layer {
            file,
            extends: Some((name, line)),
            ..
        }) = &user
        {
            if name != preset && preset != "default" {
                warnings.push(KeymapWarning {
                    file: file.clone(),
                    line: *line,
                    message: format!(
                        "extends = \"{name}\" replaces the preset '{preset}' chosen in the \
                         configuration"
                    ),
                });
            }
            base = name;
        }
        let mut layers = preset_chain(base)?;
        layers.extend(user);
        let merged = merge(&layers);
        warnings.extend(check(&layers, &merged));
        let contexts = merged
            .into_iter()
            .map(|(ctx, map)| {
                let map = map.into_iter().map(|(k, b)| (k, b.action)).collect();
                (ctx, map)
            })
            .collect();
        Ok((Keymap { contexts }, warnings))
    }

    /// What `pending` (the keys typed so far, the latest last) means in `contexts` (in priority
    /// order: overlay, pane, `global`).
    ///
    /// The first context with a binding for `pending` or a longer sequence starting with it
    /// decides; within a context the exact binding wins. The hint gathers the next keys of every
    /// context, a higher context winning per key, because a sequence a pane does not know may
    /// still be global's. A context that takes text (editor, palette) ends the lookup: a key it
    /// does not bind belongs to the text (typed, or moving the cursor), so `q` is never
    /// `global`'s quit and `enter` never the ticket's open while a reply is being written.
    pub fn lookup(&self, contexts: &[Context], pending: &[Key]) -> Lookup {
        if pending.is_empty() {
            return Lookup::None;
        }
        let mut next: Vec<(Key, String)> = Vec::new();
        for &ctx in contexts {
            let map = self.contexts.get(&ctx);
            if next.is_empty()
                && let Some(action) = map.and_then(|m| m.get(pending))
            {
                return Lookup::Action(*action);
            }
            for (key, leads_to) in continuations(map, pending) {
                if !next.iter().any(|(k, _)| *k == key) {
                    next.push((key, leads_to));
                }
            }
            if ctx.takes_text() {
                break;
            }
        }
        if next.is_empty() {
            return Lookup::None;
        }
        next.sort_by_cached_key(|(k, _)| k.to_string());
        Lookup::Pending(next)
    }

    /// Every binding of one context, keys written canonically, sorted by action (the order
    /// actions are declared in groups them) and then keys, for the help overlay.
    pub fn bindings(&self, context: Context) -> Vec<(String, Action)> {
        let mut all: Vec<(String, Action)> = self
            .contexts
            .get(&context)
            .into_iter()
            .flatten()
            .map(|(keys, action)| (keys_text(keys), *action))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| hint_order(&a.0, &b.0)));
        all
    }

    /// The keys that do `action` from `context` with `stack` in force, the handiest first: a
    /// key a more specific section binds to something else is left out (in the ticket pane,
    /// `q` goes back, so it is no hint for quit).
    pub fn effective_keys(
        &self,
        stack: &[Context],
        context: Context,
        action: Action,
    ) -> Vec<String> {
        let mut keys: Vec<(String, &Vec<Key>)> = self
            .contexts
            .get(&context)
            .into_iter()
            .flatten()
            .filter(|(_, a)| **a == action)
            .map(|(keys, _)| (keys_text(keys), keys))
            .collect();
        keys.retain(|(_, k)| self.lookup(stack, k) == Lookup::Action(action));
        keys.sort_by(|a, b| hint_order(&a.0, &b.0));
        keys.into_iter().map(|(text, _)| text).collect()
    }

    /// The keys bound to `action` in one context, the handiest first (fewest keys, shortest
    /// name), for status-line hints.
    pub fn keys_for(&self, context: Context, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = self
            .contexts
            .get(&context)
            .into_iter()
            .flatten()
            .filter(|(_, a)| **a == action)
            .map(|(keys, _)| keys_text(keys))
            .collect();
        keys.sort_by(|a, b| hint_order(a, b));
        keys
    }
}

fn hint_order(a: &str, b: &str) -> std::cmp::Ordering {
    let words = |s: &str| s.split(' ').count();
    (words(a), a.len(), a).cmp(&(words(b), b.len(), b))
}

/// The next keys after `pending` in one context's bindings, with what each leads to.
fn continuations(map: Option<&HashMap<Vec<Key>, Action>>, pending: &[Key]) -> Vec<(Key, String)> {
    let mut by_key: Vec<(Key, Option<Action>, Vec<Action>)> = Vec::new();
    for (seq, action) in map.into_iter().flatten() {
        let Some(rest) = seq.strip_prefix(pending) else {
            continue;
        };
        let Some(&key) = rest.first() else {
            continue;
        };
        let slot = match by_key.iter().position(|(k, ..)| *k == key) {
            Some(i) => &mut by_key[i],
            None => {
                by_key.push((key, None, Vec::new()));
                let last = by_key.len() - 1;
                &mut by_key[last]
            }
        };
        if rest.len() == 1 {
            slot.1 = Some(*action);
        } else {
            slot.2.push(*action);
        }
    }
    by_key
        .into_iter()
        .map(|(key, exact, mut deeper)| {
            let leads_to = match exact {
                Some(action) => action.name().to_string(),
                None => {
                    deeper.sort();
                    deeper.dedup();
                    let names: Vec<&str> = deeper.iter().map(|a| a.name()).collect();
                    format!("+{}", names.join(", "))
                }
            };
            (key, leads_to)
        })
        .collect()
}

/// A keymap file that cannot be used; opsdesk does not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    /// Not valid TOML (this includes TOML's own "duplicate key").
    #[error("{file}:{line}:{col}: {message}")]
    Syntax {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    /// Valid TOML that a keymap cannot mean.
    #[error("{file}:{line}: {problem}")]
    Invalid {
        file: String,
        line: usize,
        problem: Problem,
    },
    /// The preset the caller named (configuration or command line) is not shipped. The one
    /// error with no file and line to point at.
    #[error("unknown keymap preset '{name}' (shipped: {})", preset_list())]
    UnknownPreset { name: String },
}

/// What is wrong at a line of a keymap file. Names quoted from the file are shortened and
/// escaped, so a message never carries a control character to the terminal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(
        "unknown table [{name}] (a keymap has [meta] and the contexts {})",
        context_list()
    )]
    UnknownContext { name: String },
    #[error(
        "\"{name}\" is {found} outside any table; bindings go under a table like [global] or [queue]"
    )]
    NotATable { name: String, found: &'static str },
    #[error("unknown action '{action}' for key \"{keys}\" in [{context}]")]
    UnknownAction {
        keys: String,
        context: &'static str,
        action: String,
    },
    #[error("unknown key \"{keys}\" in [{context}]: {reason}")]
    UnknownKey {
        keys: String,
        context: &'static str,
        reason: String,
    },
    #[error("\"{keys}\" in [{context}] is {found}; it must be an action name in quotes")]
    NotAString {
        keys: String,
        context: &'static str,
        found: &'static str,
    },
    #[error(
        "\"{keys}\" in [{context}] is the same key as \"{first}\" on line {first_line}; keep one"
    )]
    SameKey {
        keys: String,
        context: &'static str,
        first: String,
        first_line: usize,
    },
    #[error("unknown setting '{name}' in [meta] (the only one is 'extends')")]
    UnknownMeta { name: String },
    #[error("extends is {found}; it must be a preset name in quotes")]
    ExtendsNotString { found: &'static str },
    #[error("extends unknown preset '{name}' (shipped: {})", preset_list())]
    UnknownExtends { name: String },
    #[error("extends '{name}', which leads back here: presets cannot extend each other in a loop")]
    ExtendsLoop { name: String },
}

/// A binding that works as written but probably should not be there. Display: `file:line: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeymapWarning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for KeymapWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

fn preset_list() -> String {
    presets().collect::<Vec<_>>().join(", ")
}

fn context_list() -> String {
    Context::ALL
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text from a file, made safe and short enough to quote in a message.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(60).flat_map(char::escape_debug).collect();
    if s.chars().nth(60).is_some() {
        out.push('…');
    }
    out
}

/// "a table", "an integer": how a TOML value is named in messages.
fn a_type(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(..) => "a string",
        DeValue::Integer(..) => "an integer",
        DeValue::Float(..) => "a float",
        DeValue::Boolean(..) => "a boolean",
        DeValue::Datetime(..) => "a date",
        DeValue::Array(..) => "an array",
        DeValue::Table(..) => "a table",
    }
}

/// One binding as a file wrote it.
struct Entry {
    context: Context,
    keys: Vec<Key>,
    action: Action,
    line: usize,
}

/// One keymap file, checked.
struct Layer {
    file: String,
    /// The preset named by `[meta] extends`, and its line.
    extends: Option<(String, usize)>,
    /// In file order.
    entries: Vec<Entry>,
}

type TomlEntry<'a, 'i> = (&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>);

/// Entries of a TOML table in file order (toml keeps them sorted by name).
fn in_file_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<TomlEntry<'a, 'i>> {
    let mut items: Vec<_> = table.iter().collect();
    items.sort_by_key(|(k, _)| k.span().start);
    items
}

impl Layer {
    fn parse(file: &str, text: &str) -> Result<Layer, KeymapError> {
        let doc = DeTable::parse(text).map_err(|e| {
            let (line, col) = crate::config::line_col(text, e.span().map_or(0, |s| s.start));
            KeymapError::Syntax {
                file: file.to_string(),
                line,
                col,
                message: e
                    .message()
                    .lines()
                    .next()
                    .unwrap_or("invalid TOML")
                    .to_string(),
            }
        })?;
        let line_of = |offset: usize| crate::config::line_col(text, offset).0;
        let invalid = |offset: usize, problem: Problem| KeymapError::Invalid {
            file: file.to_string(),
            line: line_of(offset),
            problem,
        };
        let mut layer = Layer {
            file: file.to_string(),
            extends: None,
            entries: Vec::new(),
        };
        for (name, value) in in_file_order(doc.get_ref()) {
            let at = name.span().start;
            let DeValue::Table(table) = value.get_ref() else {
                return Err(invalid(
                    at,
                    Problem::NotATable {
                        name: shown(name.get_ref()),
                        found: a_type(value.get_ref()),
                    },
                ));
            };
            if name.get_ref() == "meta" {
                layer.extends = parse_meta(table, &invalid, &line_of)?;
                continue;
            }
            let Some(context) = Context::parse(name.get_ref()) else {
                return Err(invalid(
                    at,
                    Problem::UnknownContext {
                        name: shown(name.get_ref()),
                    },
                ));
            };
            let first_of_table = layer.entries.len();
            for (written, value) in in_file_order(table) {
                let at = written.span().start;
                let keys_shown = shown(written.get_ref());
                let ctx = context.name();
                let DeValue::String(action) = value.get_ref() else {
                    return Err(invalid(
                        at,
                        Problem::NotAString {
                            keys: keys_shown,
                            context: ctx,
                            found: a_type(value.get_ref()),
                        },
                    ));
                };
                let keys = parse_sequence(written.get_ref()).map_err(|reason| {
                    invalid(
                        at,
                        Problem::UnknownKey {
                            keys: keys_shown.clone(),
                            context: ctx,
                            reason,
                        },
                    )
                })?;
                let action = action.parse::<Action>().map_err(|_| {
                    invalid(
                        value.span().start,
                        Problem::UnknownAction {
                            keys: keys_shown.clone(),
                            context: ctx,
                            action: shown(action),
                        },
                    )
                })?;
                if let Some(first) = layer.entries[first_of_table..]
                    .iter()
                    .find(|e| e.keys == keys)
                {
                    return Err(invalid(
                        at,
                        Problem::SameKey {
                            keys: keys_shown,
                            context: ctx,
                            first: keys_text(&first.keys),
                            first_line: first.line,
                        },
                    ));
                }
                layer.entries.push(Entry {
                    context,
                    keys,
                    action,
                    line: line_of(at),
                });
            }
        }
        Ok(layer)
    }
}

/// `[meta]`: only `extends`, naming a shipped preset.
fn parse_meta(
    table: &DeTable<'_>,
    invalid: &impl Fn(usize, Problem) -> KeymapError,
    line_of: &impl Fn(usize) -> usize,
) -> Result<Option<(String, usize)>, KeymapError> {
    let mut extends = None;
    for (name, value) in in_file_order(table) {
        let at = name.span().start;
        if name.get_ref() != "extends" {
            return Err(invalid(
                at,
                Problem::UnknownMeta {
                    name: shown(name.get_ref()),
                },
            ));
        }
        let DeValue::String(preset) = value.get_ref() else {
            return Err(invalid(
                at,
                Problem::ExtendsNotString {
                    found: a_type(value.get_ref()),
                },
            ));
        };
        if !presets().any(|p| p == preset) {
            return Err(invalid(
                value.span().start,
                Problem::UnknownExtends {
                    name: shown(preset),
                },
            ));
        }
        extends = Some((preset.to_string(), line_of(at)));
    }
    Ok(extends)
}

/// A key sequence as written: key names separated by spaces.
fn parse_sequence(written: &str) -> Result<Vec<Key>, String> {
    let several = written.split_whitespace().nth(1).is_some();
    let keys = written
        .split_whitespace()
        .map(|k| {
            // In a sequence, say which key is wrong.
            Key::parse(k).map_err(|why| match several {
                true => format!("'{}': {why}", shown(k)),
                false => why,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err("no key is written".into());
    }
    Ok(keys)
}

/// The shipped preset `name` and what it extends, base first. `default` is the root; a preset
/// that does not say what it extends builds on `default`.
fn preset_chain(name: &str) -> Result<Vec<Layer>, KeymapError> {
    let mut chain: Vec<Layer> = Vec::new();
    let mut visited: Vec<String> = Vec::new();
    let mut name = name.to_string();
    loop {
        let Some(&(_, file, text)) = PRESETS.iter().find(|(n, ..)| *n == name) else {
            return Err(KeymapError::UnknownPreset { name: shown(&name) });
        };
        let layer = Layer::parse(file, text)?;
        let (next, line) = match &layer.extends {
            Some((next, line)) => (next.clone(), *line),
            None if name == "default" => {
                chain.push(layer);
                break;
            }
            None => ("default".to_string(), 1),
        };
        visited.push(name);
        if visited.contains(&next) {
            return Err(KeymapError::Invalid {
                file: layer.file,
                line,
                problem: Problem::ExtendsLoop { name: next },
            });
        }
        chain.push(layer);
        name = next;
    }
    chain.reverse();
    Ok(chain)
}

/// A merged binding and where it was written.
#[derive(Clone, Copy)]
struct Bound {
    action: Action,
    layer: usize,
    line: usize,
}

type Merged = HashMap<Context, HashMap<Vec<Key>, Bound>>;

fn merge(layers: &[Layer]) -> Merged {
    let mut merged: Merged = HashMap::new();
    for (layer, l) in layers.iter().enumerate() {
        for e in &l.entries {
            let map = merged.entry(e.context).or_default();
            if e.action == Action::Noop {
                map.remove(&e.keys);
            } else {
                let bound = Bound {
                    action: e.action,
                    layer,
                    line: e.line,
                };
                map.insert(e.keys.clone(), bound);
            }
        }
    }
    merged
}

/// The warnings of the merged keymap, each at the binding to change, in file order.
fn check(layers: &[Layer], merged: &Merged) -> Vec<KeymapWarning> {
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    for (&ctx, map) in merged {
        let in_ctx = format!("in [{}]", ctx.name());
        for (keys, b) in map {
            let written = keys_text(keys);
            let here = format!("\"{written}\" = \"{}\" {in_ctx}", b.action);
            if ctx.takes_text()
                && let Some(first) = keys.first().filter(|k| k.is_printable())
            {
                let message = format!(
                    "{here} shadows typing \"{first}\"; bind a key with ctrl- or alt-, or a \
                     named key, instead"
                );
                found.push((b.layer, b.line, message));
            }
            // A shipped keymap may offer a key that a multiplexer can keep (ctrl-a, ctrl-b in
            // the editor) as a convenience beside one that always arrives; a user's own binding
            // of such a key is always pointed out.
            let shipped = PRESETS
                .iter()
                .any(|(_, path, _)| *path == layers[b.layer].file);
            let also_reachable = map.iter().any(|(other, o)| {
                o.action == b.action
                    && other != keys
                    && other.iter().all(|k| k.swallowed().is_none())
            });
            if !(shipped && also_reachable) {
                for key in keys {
                    if let Some(why) = key.swallowed() {
                        let message = format!("{here}: {why}");
                        found.push((b.layer, b.line, message));
                    }
                }
            }
            for len in 1..keys.len() {
                let Some(short) = map.get(&keys[..len]) else {
                    continue;
                };
                let short_keys = keys_text(&keys[..len]);
                // Reported at the later of the two: that is the binding that made the conflict.
                if (short.layer, short.line) > (b.layer, b.line) {
                    let at = format!("{}:{}", layers[b.layer].file, b.line);
                    let message = format!(
                        "\"{short_keys}\" = \"{}\" {in_ctx} makes \"{written}\" ({}, {at}) \
                         impossible to type; unbind one of them with \"noop\"",
                        short.action, b.action
                    );
                    found.push((short.layer, short.line, message));
                } else {
                    let at = format!("{}:{}", layers[short.layer].file, short.line);
                    let message = format!(
                        "{here} can never be typed: \"{short_keys}\" ({}, {at}) fires first; \
                         unbind one of them with \"noop\"",
                        short.action
                    );
                    found.push((b.layer, b.line, message));
                }
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(layer, line, message)| KeymapWarning {
            file: layers[layer].file.clone(),
            line,
            message,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};
    use proptest::prelude::*;

    fn key(s: &str) -> Key {
        match Key::parse(s) {
            Ok(k) => k,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn keys(s: &str) -> Vec<Key> {
        s.split(' ').map(key).collect()
    }

    fn load(preset: &str, user: &str) -> (Keymap, Vec<KeymapWarning>) {
        match Keymap::load(preset, Some((Path::new("user.toml"), user))) {
            Ok(loaded) => loaded,
            Err(e) => panic!("{e}"),
        }
    }

    fn event(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: mods,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn key_names_print_canonically_and_read_back() {
        let table = [
            ("a", "a"),
            ("G", "G"),
            ("shift-g", "G"),
            ("shift-G", "G"),
            ("?", "?"),
            ("/", "/"),
            ("*", "*"),
            ("1", "1"),
            ("-", "-"),
            ("space", "space"),
            ("shift-space", "space"),
            ("ctrl-r", "ctrl-r"),
            ("CTRL-r", "ctrl-r"),
            ("ctrl-R", "ctrl-R"),
            ("ctrl-shift-g", "ctrl-G"),
            ("ctrl--", "ctrl--"),
            ("alt-<", "alt-<"),
            ("alt->", "alt->"),
            ("alt-enter", "alt-enter"),
            ("alt-ctrl-x", "ctrl-alt-x"),
            ("enter", "enter"),
            ("Esc", "esc"),
            ("tab", "tab"),
            ("backtab", "backtab"),
            ("shift-tab", "backtab"),
            ("shift-backtab", "backtab"),
            ("backspace", "backspace"),
            ("delete", "delete"),
            ("insert", "insert"),
            ("home", "home"),
            ("end", "end"),
            ("PageUp", "pageup"),
            ("pagedown", "pagedown"),
            ("up", "up"),
            ("shift-up", "shift-up"),
            ("down", "down"),
            ("left", "left"),
            ("right", "right"),
            ("f1", "f1"),
            ("F12", "f12"),
            ("ctrl-f5", "ctrl-f5"),
        ];
        for (written, canonical) in table {
            let k = key(written);
            assert_eq!(k.to_string(), canonical, "{written}");
            assert_eq!(key(canonical), k, "{canonical}");
        }
    }

    #[test]
    fn bad_key_names_say_why() {
        let table = [
            ("", "missing"),
            ("ctrl-", "not a key name"),
            ("enterr", "not a key name"),
            ("pgdn", "not a key name"),
            ("f0", "not a key name"),
            ("f13", "not a key name"),
            ("f01", "not a key name"),
            ("hyper-x", "not a key name"),
            ("回", "printable ASCII"),
            ("é", "printable ASCII"),
            ("\u{1b}", "printable ASCII"),
            ("shift-1", "keyboard layout"),
            ("shift-?", "keyboard layout"),
            ("ctrl-ctrl-x", "twice"),
        ];
        for (written, why) in table {
            match Key::parse(written) {
                Ok(k) => panic!("{written:?} parsed as {k}"),
                Err(e) => assert!(e.contains(why), "{written:?}: {e}"),
            }
        }
    }

    #[test]
    fn events_normalise_to_the_keys_keymaps_name() {
        let table = [
            (KeyCode::Char('G'), KeyModifiers::SHIFT, "G"),
            (KeyCode::Char('g'), KeyModifiers::SHIFT, "G"), // the kitty protocol's way
            (KeyCode::Char('g'), KeyModifiers::NONE, "g"),
            (KeyCode::Char('?'), KeyModifiers::SHIFT, "?"),
            (KeyCode::Char(' '), KeyModifiers::NONE, "space"),
            (KeyCode::Char('r'), KeyModifiers::CONTROL, "ctrl-r"),
            (KeyCode::Char('h'), KeyModifiers::CONTROL, "ctrl-h"),
            (
                KeyCode::Char('g'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT,
                "ctrl-G",
            ),
            (KeyCode::Char('<'), KeyModifiers::ALT, "alt-<"),
            (KeyCode::BackTab, KeyModifiers::SHIFT, "backtab"),
            (KeyCode::BackTab, KeyModifiers::NONE, "backtab"),
            (KeyCode::Tab, KeyModifiers::SHIFT, "backtab"),
            (KeyCode::Enter, KeyModifiers::ALT, "alt-enter"),
            (KeyCode::Up, KeyModifiers::SHIFT, "shift-up"),
            (KeyCode::F(5), KeyModifiers::NONE, "f5"),
        ];
        for (code, mods, name) in table {
            let k = Key::from_event(&event(code, mods));
            assert_eq!(k, key(name), "{code:?} {mods:?}");
            assert_eq!(k.to_string(), name);
        }
        assert_eq!(key("shift-tab"), key("backtab"));
        assert_eq!(
            key("shift-g"),
            Key::from_event(&event(KeyCode::Char('G'), KeyModifiers::SHIFT))
        );
    }

    #[test]
    fn merge_goes_default_then_preset_then_user() {
        let user = r#"
            [queue]
            "s" = "filter_status"   # overrides default's sort_next
            "j" = "noop"            # unbinds default's j
            [editor]
            "ctrl-t" = "canned_reply"   # emacs unbound it; the user wants it back
        "#;
        let (map, warnings) = load("emacs", user);
        assert!(warnings.is_empty(), "{warnings:?}");
        let queue = [Context::Queue, Context::Global];
        let editor = [Context::Editor, Context::Ticket, Context::Global];
        let at = |ctx: &[Context], k: &str| map.lookup(ctx, &keys(k));
        assert_eq!(at(&queue, "s"), Lookup::Action(Action::FilterStatus));
        assert_eq!(at(&queue, "j"), Lookup::None);
        assert_eq!(at(&queue, "k"), Lookup::Action(Action::Up)); // default
        assert_eq!(at(&queue, "ctrl-n"), Lookup::Action(Action::Down)); // emacs
        // emacs: ctrl-d deletes a character
        assert_eq!(at(&editor, "ctrl-d"), Lookup::Action(Action::DeleteForward));
        assert_eq!(at(&editor, "ctrl-c ctrl-c"), Lookup::Action(Action::Submit)); // emacs
        assert_eq!(at(&editor, "ctrl-t"), Lookup::Action(Action::CannedReply)); // user

        let (plain, _) = load("default", "");
        assert_eq!(
            plain.lookup(&queue, &keys("s")),
            Lookup::Action(Action::SortNext)
        );
        assert_eq!(plain.lookup(&queue, &keys("ctrl-n")), Lookup::None);
        assert_eq!(
            plain.lookup(&editor, &keys("ctrl-d")),
            Lookup::Action(Action::Submit)
        );
    }

    #[test]
    fn a_user_file_may_name_its_base() {
        let user = "[meta]\nextends = \"emacs\"\n";
        let (map, warnings) = load("default", user);
        assert!(warnings.is_empty(), "{warnings:?}");
        let got = map.lookup(&[Context::Global], &keys("ctrl-x ctrl-c"));
        assert_eq!(got, Lookup::Action(Action::Quit));

        let user = "\n[meta]\nextends = \"default\"\n";
        let (map, warnings) = load("emacs", user);
        let shown: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].starts_with("user.toml:3: extends = \"default\" replaces"));
        assert_eq!(
            map.lookup(&[Context::Global], &keys("ctrl-x")),
            Lookup::None
        );
    }

    #[test]
    fn sequences_are_pending_until_complete() {
        let (map, _) = load("default", "");
        let queue = [Context::Queue, Context::Global];
        assert_eq!(
            map.lookup(&queue, &keys("g")),
            Lookup::Pending(vec![(key("g"), "top".into())])
        );
        assert_eq!(
            map.lookup(&queue, &keys("g g")),
            Lookup::Action(Action::Top)
        );
        assert_eq!(map.lookup(&queue, &keys("g x")), Lookup::None);
        assert_eq!(map.lookup(&queue, &[]), Lookup::None);
        let Lookup::Pending(fields) = map.lookup(&queue, &keys("f")) else {
            panic!("f is a prefix in the queue");
        };
        let fields: Vec<String> = fields.iter().map(|(k, to)| format!("{k} {to}")).collect();
        assert_eq!(
            fields,
            [
                "a filter_assignee",
                "c filter_category",
                "s filter_status",
                "x clear_filter",
                "y filter_system"
            ]
        );
    }

    #[test]
    fn pending_hints_gather_every_context_and_deeper_sequences() {
        let (map, _) = load("emacs", "");
        // ctrl-x h is the queue's, ctrl-x ctrl-c and ctrl-x o are global's.
        let got = map.lookup(&[Context::Queue, Context::Global], &keys("ctrl-x"));
        let want = vec![
            (key("ctrl-c"), "quit".to_string()),
            (key("h"), "mark_all".to_string()),
            (key("o"), "next_pane".to_string()),
        ];
        assert_eq!(got, Lookup::Pending(want));

        let user = "[global]\n\"alt-c r a\" = \"reply\"\n\"alt-c r n\" = \"note\"\n";
        let (map, _) = load("default", user);
        let got = map.lookup(&[Context::Global], &keys("alt-c"));
        assert_eq!(
            got,
            Lookup::Pending(vec![(key("r"), "+reply, note".into())])
        );
        let got = map.lookup(&[Context::Global], &keys("alt-c r n"));
        assert_eq!(got, Lookup::Action(Action::Note));
    }

    #[test]
    fn higher_contexts_win() {
        let user = r#"
            [global]
            "x" = "refresh"
            "g" = "help"
            [queue]
            "x" = "bulk"
            [help]
            "x" = "open"
        "#;
        let (map, _) = load("default", user);
        let x = keys("x");
        let stack = [Context::Help, Context::Queue, Context::Global];
        assert_eq!(map.lookup(&stack, &x), Lookup::Action(Action::Open));
        assert_eq!(map.lookup(&stack[1..], &x), Lookup::Action(Action::Bulk));
        assert_eq!(map.lookup(&stack[2..], &x), Lookup::Action(Action::Refresh));
        // Unbound in help, the queue's s answers; unbound in both, global's 1.
        assert_eq!(
            map.lookup(&stack, &keys("s")),
            Lookup::Action(Action::SortNext)
        );
        assert_eq!(
            map.lookup(&stack, &keys("1")),
            Lookup::Action(Action::PaneQueue)
        );
        // A picker takes text: what it does not bind is typed, never the queue's or global's.
        let picker = [Context::Picker, Context::Queue, Context::Global];
        assert_eq!(map.lookup(&picker, &keys("j")), Lookup::None);
        assert_eq!(
            map.lookup(&stack, &keys("esc")),
            Lookup::Action(Action::Back)
        );
        // The queue's "g g" hides global's "g" in the queue only.
        assert!(matches!(
            map.lookup(&stack[1..], &keys("g")),
            Lookup::Pending(_)
        ));
        assert_eq!(
            map.lookup(&stack[2..], &keys("g")),
            Lookup::Action(Action::Help)
        );
    }

    #[test]
    fn noop_on_a_shipped_sequence_silences_the_prefix_warning() {
        let (map, warnings) = load("default", "[queue]\n\"g\" = \"open\"\n");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(
            map.lookup(&[Context::Queue], &keys("g")),
            Lookup::Action(Action::Open)
        );
        let (map, warnings) = load("default", "[queue]\n\"g\" = \"open\"\n\"g g\" = \"noop\"\n");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            map.lookup(&[Context::Queue], &keys("g")),
            Lookup::Action(Action::Open)
        );
    }

    #[test]
    fn keys_a_multiplexer_takes_are_warned_about() {
        for (key, words) in [
            ("ctrl-a", "GNU screen"),
            ("ctrl-b", "tmux"),
            ("ctrl-s", "XOFF"),
        ] {
            let (_, warnings) = load("default", &format!("[queue]\n\"{key}\" = \"open\"\n"));
            assert!(
                warnings.iter().any(|w| w.to_string().contains(words)),
                "{key}: {warnings:?}"
            );
        }
    }

    #[test]
    fn contexts_that_take_text_keep_unbound_keys_for_the_text() {
        let (map, _) = load("default", "");
        let stack = [Context::Editor, Context::Ticket, Context::Global];
        for typed in ["q", "r", "j", "1", "?", "space", "G"] {
            assert_eq!(map.lookup(&stack, &keys(typed)), Lookup::None, "{typed}");
        }
        // Nor do the pane's or global's other keys: enter is a new line, not the ticket's open.
        for edits in ["enter", "tab", "backtab", "f5"] {
            assert_eq!(map.lookup(&stack, &keys(edits)), Lookup::None, "{edits}");
        }
        // The editor's own keys move and cut in the text: ctrl-r redoes rather than re-syncing.
        for (key, action) in [
            ("up", Action::Up),
            ("home", Action::LineStart),
            ("ctrl-a", Action::LineStart),
            ("ctrl-u", Action::KillToLineStart),
            ("ctrl-r", Action::Redo),
            ("esc", Action::Back),
            ("ctrl-x", Action::Cancel),
        ] {
            assert_eq!(
                map.lookup(&stack, &keys(key)),
                Lookup::Action(action),
                "{key}"
            );
        }
        assert_eq!(
            map.lookup(&stack, &keys("alt-enter")),
            Lookup::Action(Action::Submit)
        );
        let palette = [Context::Palette, Context::Global];
        assert_eq!(map.lookup(&palette, &keys("q")), Lookup::None);
        assert_eq!(
            map.lookup(&palette, &keys("tab")),
            Lookup::Action(Action::Down)
        );
    }

    #[test]
    fn bindings_and_hints_list_what_the_keys_do() {
        let (map, _) = load("default", "");
        assert_eq!(map.keys_for(Context::Queue, Action::Down), ["j", "down"]);
        assert_eq!(map.keys_for(Context::Queue, Action::Top), ["home", "g g"]);
        assert!(map.keys_for(Context::Editor, Action::Quit).is_empty());
        let editor: Vec<(String, Action)> = map.bindings(Context::Editor);
        let first: Vec<(&str, Action)> =
            editor[..4].iter().map(|(k, a)| (k.as_str(), *a)).collect();
        assert_eq!(
            first,
            [
                ("esc", Action::Back),
                ("up", Action::Up),
                ("ctrl-p", Action::Up),
                ("down", Action::Down)
            ],
            "sorted by action, then the handiest key first"
        );
        assert_eq!(
            map.keys_for(Context::Editor, Action::LineStart),
            ["home", "ctrl-a"]
        );
    }

    #[test]
    fn unknown_preset_is_an_error() {
        let err = Keymap::load("vim", None)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "unknown keymap preset 'vim' (shipped: default, emacs)");
    }

    #[test]
    fn messages_never_carry_control_characters() {
        let err = Keymap::load(
            "default",
            Some((Path::new("u.toml"), "[queue]\n\"\\u001b[6n\" = \"up\"\n")),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("u.toml:2: unknown key \"\\u{1b}[6n\" in [queue]"),
            "{err}"
        );
        assert!(!err.contains('\u{1b}'));
    }

    /// Each fixture's first line says what it must produce:
    /// `# expect: error|warning LINE[:COL]: text`.
    fn fixtures(kind: &str) -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/keymaps")
            .join(kind);
        let mut found: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "toml"))
            .map(|path| {
                let name = path.file_name().expect("a file name").to_string_lossy();
                let shown = format!("tests/fixtures/keymaps/{kind}/{name}");
                let text = std::fs::read_to_string(&path).expect("a fixture");
                (shown, text)
            })
            .collect();
        found.sort();
        assert!(!found.is_empty(), "no fixtures in {}", dir.display());
        found
    }

    #[test]
    fn every_invalid_fixture_reports_its_file_line_and_problem() {
        let mut errors = 0;
        let mut warnings = 0;
        for (file, text) in fixtures("invalid") {
            let expect = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{file}: first line must be `# expect: ...`"));
            let (kind, rest) = expect.split_once(' ').expect("kind");
            let (at, want) = rest.split_once(": ").expect("line: text");
            let place = format!("{file}:{at}: ");
            let got = Keymap::load("default", Some((Path::new(&file), &text)));
            let message = match (kind, got) {
                ("error", Err(e)) => {
                    errors += 1;
                    e.to_string()
                }
                ("warning", Ok((_, found))) => {
                    warnings += 1;
                    assert_eq!(found.len(), 1, "{file}: {found:?}");
                    found[0].to_string()
                }
                (kind, Err(e)) => panic!("{file}: expected a {kind}, got the error {e}"),
                (kind, Ok((_, found))) => panic!("{file}: expected an {kind}, got {found:?}"),
            };
            assert!(
                message.starts_with(&place),
                "{file}: {message}\nwanted {place}"
            );
            assert!(message.contains(want), "{file}: {message}\nwanted {want}");
        }
        assert!(
            errors >= 8 && warnings >= 4,
            "{errors} errors, {warnings} warnings"
        );
    }

    #[test]
    fn every_valid_fixture_loads_without_warnings() {
        for (file, text) in fixtures("valid") {
            for preset in presets() {
                match Keymap::load(preset, Some((Path::new(&file), &text))) {
                    Ok((_, warnings)) => assert!(warnings.is_empty(), "{file}: {warnings:?}"),
                    Err(e) => panic!("{file} over {preset}: {e}"),
                }
            }
        }
    }

    #[test]
    fn shipped_keymaps_load_without_warnings_and_every_binding_can_be_typed() {
        for preset in presets() {
            let (map, warnings) = match Keymap::load(preset, None) {
                Ok(loaded) => loaded,
                Err(e) => panic!("{preset}: {e}"),
            };
            assert!(warnings.is_empty(), "{preset}: {warnings:?}");
            for &ctx in Context::ALL {
                let stack: &[Context] = if ctx == Context::Global {
                    &[Context::Global]
                } else {
                    &[ctx, Context::Global]
                };
                for (written, action) in map.bindings(ctx) {
                    let seq = keys(&written);
                    for n in 1..seq.len() {
                        let Lookup::Pending(next) = map.lookup(stack, &seq[..n]) else {
                            panic!("{preset} [{}] {written}: not pending after {n}", ctx.name());
                        };
                        assert!(next.iter().any(|(k, _)| *k == seq[n]));
                    }
                    let got = map.lookup(stack, &seq);
                    assert_eq!(
                        got,
                        Lookup::Action(action),
                        "{preset} [{}] {written}",
                        ctx.name()
                    );
                }
            }
        }
    }

    #[test]
    fn every_action_has_a_key_in_the_default_keymap() {
        let (map, _) = load("default", "");
        for &action in Action::ALL {
            if action == Action::Noop {
                continue;
            }
            let bound = Context::ALL
                .iter()
                .any(|&ctx| !map.keys_for(ctx, action).is_empty());
            assert!(bound, "{action} has no key");
        }
    }

    /// The bindings of `map` that `base` lacks, one row per action and set of keys, as the
    /// tables in keymaps/README.md print them.
    fn readme_table(map: &Keymap, base: Option<&Keymap>) -> String {
        let mut rows: Vec<(Action, Vec<String>, Vec<&str>)> = Vec::new();
        for &action in Action::ALL {
            for &ctx in Context::ALL {
                let keys: Vec<String> = map
                    .keys_for(ctx, action)
                    .into_iter()
                    .filter(|k| base.is_none_or(|b| !b.keys_for(ctx, action).contains(k)))
                    .collect();
                if keys.is_empty() {
                    continue;
                }
                match rows.iter_mut().find(|(a, k, _)| *a == action && *k == keys) {
                    Some(row) => row.2.push(ctx.name()),
                    None => rows.push((action, keys, vec![ctx.name()])),
                }
            }
        }
        let mut out = String::from("| action | keys | where | what it does |\n|---|---|---|---|\n");
        for (action, keys, contexts) in rows {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            out += &format!(
                "| {action} | {} | {} | {} |\n",
                keys.join(" "),
                contexts.join(" "),
                action.about()
            );
        }
        out
    }

    #[test]
    fn the_readme_tables_match_the_shipped_keymaps() {
        let readme = include_str!("../../keymaps/README.md");
        let (default, _) = load("default", "");
        let (emacs, _) = load("emacs", "");
        for (name, table) in [
            ("default", readme_table(&default, None)),
            ("emacs", readme_table(&emacs, Some(&default))),
        ] {
            assert!(
                readme.contains(&table),
                "keymaps/README.md lacks the {name} table:\n{table}"
            );
        }
    }

    fn any_key() -> impl Strategy<Value = Key> {
        let mods = prop::sample::select(vec![
            KeyModifiers::NONE,
            KeyModifiers::CONTROL,
            KeyModifiers::ALT,
            KeyModifiers::CONTROL | KeyModifiers::ALT,
        ]);
        let char_key =
            ((0x21u8..0x7f).prop_map(char::from), mods.clone()).prop_map(|(c, mods)| Key {
                code: KeyCode::Char(c),
                mods,
            });
        let named = prop::sample::select(
            NAMED
                .iter()
                .map(|(_, code)| *code)
                .chain((1..=12).map(KeyCode::F))
                .collect::<Vec<_>>(),
        );
        let shift = prop::bool::ANY;
        let named_key = (named, mods, shift).prop_map(|(code, mods, shift)| {
            let shift_kept =
                shift && !matches!(code, KeyCode::Char(_) | KeyCode::Tab | KeyCode::BackTab);
            let mods = if shift_kept {
                mods | KeyModifiers::SHIFT
            } else {
                mods
            };
            Key { code, mods }
        });
        prop_oneof![char_key, named_key]
    }

    proptest! {
        #[test]
        fn printed_keys_read_back_and_match_their_events(k in any_key()) {
            prop_assert_eq!(Key::parse(&k.to_string()), Ok(k));
            prop_assert_eq!(Key::from_event(&event(k.code, k.mods)), k);
        }

        #[test]
        fn any_file_text_gives_a_keymap_or_a_located_error(
            text in "(\\[(global|queue|editor|palette|meta|[a-z]{1,8})\\]\n\
                     |\"([ -~]{0,6}|ctrl-[a-z]|g|g g|[A-Z]|shift-[a-z0-9])\" = \"(up|top|open|noop|[a-z_]{0,8})\"\n\
                     |extends = \"(default|emacs|[a-z]{0,6})\"\n\
                     |[ -~]{0,16}\n){0,12}"
        ) {
            match Keymap::load("default", Some((Path::new("u.toml"), &text))) {
                Ok((_, warnings)) => {
                    for w in warnings {
                        prop_assert!(w.to_string().starts_with("u.toml:"));
                    }
                }
                Err(e) => prop_assert!(e.to_string().starts_with("u.toml:"), "{}", e),
            }
        }
    }
}
