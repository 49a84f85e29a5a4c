//! Themes of the terminal workstation: `themes/*.toml`, or a user's theme file, turned into one
//! ratatui [`Style`] per semantic role. Widgets ask for a role (`theme.sla("breached")`,
//! `theme.selection()`), never for a colour, so a theme can change what a breach looks like
//! without touching a pane.
//!
//! This room parses and resolves theme files (with `file:line` in every error), follows
//! `[meta] extends`, lowers RGB to the xterm-256 palette unless the terminal says truecolor, and
//! honours `NO_COLOR`. It draws nothing and touches no terminal. The environment is read only by
//! [`ThemeEnv::from_env`], and a file only when the configured theme is a path; everything else
//! takes its inputs as parameters, so tests are deterministic.
//!
//! Rules a theme author relies on (also in `themes/README.md`):
//! - A role written in a theme replaces the inherited role whole; fields are not merged, so
//!   `selection = { bg = "blue" }` drops an inherited `reversed`.
//! - A user's file without `extends` builds on the configured theme (`default`, or `mono`
//!   under NO_COLOR, when none is); only shipped themes can be extended by name.
//! - `NO_COLOR` (set and non-empty) wins over the configured theme: with no theme configured it
//!   picks `mono`; a configured theme is still loaded (its errors still reported) but every
//!   colour is dropped and a background becomes reverse video, so a band-style selection stays
//!   visible. This departs from no-color.org's "configuration overrides NO_COLOR" on purpose: on
//!   a shared jump host NO_COLOR is set because the terminal renders colour badly, and the
//!   config file is often shared too.
//! - Colours are lowered once, at load time: RGB becomes the nearest xterm-256 index unless
//!   `COLORTERM` is `truecolor` or `24bit`. The 16 ANSI names and 0–255 indexes are kept as
//!   they are (`default` is the theme for 16-colour terminals).

use std::ffi::OsStr;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Declares the roles with their section and key in one place, so the enum, the parser and the
/// list in error messages cannot drift apart.
macro_rules! roles {
    ($([$section:literal] $($variant:ident = $key:literal,)+)+) => {
        /// One styled meaning on screen. A theme file sets it as `[section] key = …`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Role { $($($variant,)+)+ }

        impl Role {
            /// Every role, in file order.
            pub const ALL: &'static [Role] = &[$($(Role::$variant,)+)+];

            /// The `[section]` of a theme file the role lives in.
            pub fn section(self) -> &'static str {
                match self { $($(Role::$variant => $section,)+)+ }
            }

            /// The role's key inside its section.
            pub fn key(self) -> &'static str {
                match self { $($(Role::$variant => $key,)+)+ }
            }
        }

        /// The sections that hold roles (`[meta]` is the one other section).
        const ROLE_SECTIONS: &[&str] = &[$($section),+];
    };
}

roles! {
    ["base"]
    Text = "text",
    Muted = "muted",
    Border = "border",
    BorderFocus = "border_focus",
    Title = "title",
    Selection = "selection",
    Header = "header",
    KeyHint = "key_hint",
    ["status"]
    StatusNew = "new",
    StatusTriaging = "triaging",
    StatusWaitingSubmitter = "waiting_submitter",
    StatusTransferred = "transferred",
    StatusResolved = "resolved",
    StatusClosed = "closed",
    ["sla"]
    SlaOk = "ok",
    SlaDueSoon = "due_soon",
    SlaBreached = "breached",
    SlaPaused = "paused",
    SlaMet = "met",
    SlaMissed = "missed",
    ["priority"]
    P1 = "P1",
    P2 = "P2",
    P3 = "P3",
    P4 = "P4",
    ["alert"]
    AlertInfo = "info",
    AlertWarn = "warn",
    AlertError = "error",
    ["toast"]
    ToastInfo = "info",
    ToastError = "error",
    ["mark"]
    Marked = "marked",
}

const ROLE_COUNT: usize = Role::ALL.len();

impl Role {
    /// The role `[section] key` names, if any.
    pub fn find(section: &str, key: &str) -> Option<Role> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.section() == section && r.key() == key)
    }

    fn keys_of(section: &str) -> String {
        Role::ALL
            .iter()
            .filter(|r| r.section() == section)
            .map(|r| r.key())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The shipped themes, embedded in the binary: name and file text.
const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

const SHIPPED_NAMES: &[&str] = &["default", "dark", "light", "high-contrast", "mono"];

/// Looks a shipped theme up by name: the file name errors show, and its text.
fn shipped_source(name: &str) -> Option<(String, &'static str)> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| (format!("themes/{n}.toml"), *text))
}

/// What the terminal can show, decided once at start-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThemeEnv {
    /// `NO_COLOR` is set and non-empty (no-color.org): no style carries a colour.
    pub no_color: bool,
    /// `COLORTERM` is `truecolor` or `24bit`: RGB is kept instead of lowered to 256 colours.
    pub truecolor: bool,
}

impl ThemeEnv {
    /// Reads `NO_COLOR` and `COLORTERM` from the process environment.
    pub fn from_env() -> ThemeEnv {
        ThemeEnv::from_vars(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("COLORTERM").as_deref(),
        )
    }

    /// The same decision from given values of `NO_COLOR` and `COLORTERM`.
    pub fn from_vars(no_color: Option<&OsStr>, colorterm: Option<&OsStr>) -> ThemeEnv {
        let truecolor = colorterm.and_then(OsStr::to_str).is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("truecolor") || v.eq_ignore_ascii_case("24bit")
        });
        ThemeEnv {
            no_color: no_color.is_some_and(|v| !v.is_empty()),
            truecolor,
        }
    }
}

/// A problem inside a theme file; [`ThemeError::At`] says where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Syntax(String),
    #[error("unknown section [{0}] (sections: meta, {s})", s = ROLE_SECTIONS.join(", "))]
    UnknownSection(String),
    #[error("`{0}` must be inside a section such as [base]")]
    OutsideSection(String),
    #[error("[{0}] must be a table of roles")]
    NotASection(String),
    #[error(
        "unknown role `{role}` in [{section}] (roles: {})",
        Role::keys_of(section)
    )]
    UnknownRole { section: String, role: String },
    #[error("unknown key `{0}` in [meta] (keys: extends)")]
    UnknownMetaKey(String),
    #[error(
        "unknown colour `{value}`{hint} (colours: {names}, #rrggbb or 0–255)",
        hint = hint.map(|h| format!(", did you mean `{h}`?")).unwrap_or_default(),
        names = list(COLOUR_NAMES)
    )]
    UnknownColour {
        value: String,
        hint: Option<&'static str>,
    },
    #[error("bad colour `{0}`: write #rrggbb with six hex digits")]
    BadHex(String),
    #[error("colour index {0} is out of range 0–255")]
    BadIndex(String),
    #[error("unknown style key `{0}` (keys: fg, bg, {m})", m = list(MODIFIERS))]
    UnknownStyleKey(String),
    #[error("{what} must be {expected}, not {}", with_article(found))]
    WrongType {
        what: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("unknown theme `{0}` in extends (shipped: {s})", s = SHIPPED_NAMES.join(", "))]
    UnknownExtends(String),
    #[error("extends cycle: {0}")]
    ExtendsCycle(String),
}

/// The names of a name table, for messages.
fn list<T>(table: &[(&str, T)]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// "an array", "a string": TOML's type names as a sentence wants them.
fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// Why a theme could not be loaded. Problems inside a file say `file:line: …`.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{file}:{line}: {problem}")]
    At {
        file: String,
        line: usize,
        problem: Problem,
    },
    /// The configured theme is neither a shipped name nor a path to a file.
    #[error(
        "unknown theme `{0}` (shipped: {shipped}; or the path of a .toml file)",
        shipped = SHIPPED_NAMES.join(", ")
    )]
    UnknownName(String),
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Something a theme does that loads but is probably not what its author meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThemeWarning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ThemeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The resolved styles of one theme, one per [`Role`].
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    name: String,
    styles: [Style; ROLE_COUNT],
}

impl Theme {
    /// The names of the shipped themes.
    pub fn shipped() -> &'static [&'static str] {
        SHIPPED_NAMES
    }

    /// Loads the theme for this terminal, following `extends`. Warnings do not stop the load;
    /// the caller shows them at start-up.
    ///
    /// - `name_or_path`: the configured theme, a shipped name or the path of a theme file
    ///   (read here). `None` is `default`, or `mono` under `NO_COLOR`.
    /// - `user_file`: the user's theme file, already read, laid over the configured theme. When
    ///   it says `[meta] extends`, it builds on that shipped theme instead (with a warning if a
    ///   different theme was configured).
    ///
    /// A theme file without `extends` builds on the theme below it: for `user_file` the
    /// configured theme, for a configured path the automatic one.
    pub fn load(
        name_or_path: Option<&str>,
        user_file: Option<(&Path, &str)>,
        env: &ThemeEnv,
    ) -> Result<(Theme, Vec<ThemeWarning>), ThemeError> {
        let auto = if env.no_color { "mono" } else { "default" };
        let setting = name_or_path.map(str::trim).filter(|s| !s.is_empty());
        let mut files = Vec::new();
        if let Some((path, text)) = user_file {
            files.push(parse(None, &path.display().to_string(), text)?);
        }
        let base = match setting {
            None => Base::Auto(auto),
            Some(name) if shipped_source(name).is_some() => Base::Configured(name),
            Some(path) if path.contains(['/', '\\']) || path.ends_with(".toml") => {
                let path = Path::new(path);
                let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                files.push(parse(None, &path.display().to_string(), &text)?);
                Base::Auto(auto)
            }
            Some(other) => return Err(ThemeError::UnknownName(other.to_owned())),
        };
        build(files, base, env, &shipped_source)
    }

    /// The shipped name or the file the theme was loaded from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The style of any role; widgets usually call the accessors below.
    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// Ordinary text.
    pub fn text(&self) -> Style {
        self.style(Role::Text)
    }

    /// Secondary text: timestamps, counts, placeholders.
    pub fn muted(&self) -> Style {
        self.style(Role::Muted)
    }

    /// A pane's border; the focused pane's stands out.
    pub fn border(&self, focused: bool) -> Style {
        self.style(if focused {
            Role::BorderFocus
        } else {
            Role::Border
        })
    }

    pub fn title(&self) -> Style {
        self.style(Role::Title)
    }

    /// The row or item under the cursor.
    pub fn selection(&self) -> Style {
        self.style(Role::Selection)
    }

    /// Column headers of tables.
    pub fn header(&self) -> Style {
        self.style(Role::Header)
    }

    /// A key in the status line or help overlay.
    pub fn key_hint(&self) -> Style {
        self.style(Role::KeyHint)
    }

    /// A ticket status by its wire name (`new`, `triaging`, `waiting_submitter`,
    /// `transferred`, `resolved`, `closed`); anything else is plain text.
    pub fn status(&self, status: &str) -> Style {
        self.role_or_text("status", status)
    }

    /// An SLA clock state by its wire name (`running` or `ok`, `due_soon`, `breached`,
    /// `paused`, `met`, `missed`); anything else is plain text.
    pub fn sla(&self, state: &str) -> Style {
        let state = if state == "running" { "ok" } else { state };
        self.role_or_text("sla", state)
    }

    /// A priority `P1`–`P4`; anything else is plain text.
    pub fn priority(&self, priority: &str) -> Style {
        self.role_or_text("priority", priority)
    }

    /// A monitor alert level (`info`, `warn`, `error`); anything else is plain text.
    pub fn alert(&self, level: &str) -> Style {
        self.role_or_text("alert", level)
    }

    /// A toast about a background event.
    pub fn toast(&self, error: bool) -> Style {
        self.style(if error {
            Role::ToastError
        } else {
            Role::ToastInfo
        })
    }

    /// A ticket marked for bulk work.
    pub fn marked(&self) -> Style {
        self.style(Role::Marked)
    }

    fn role_or_text(&self, section: &str, key: &str) -> Style {
        Role::find(section, key).map_or_else(|| self.text(), |role| self.style(role))
    }
}

/// The colour names a theme may use: ratatui's 16 ANSI colours and `reset`.
const COLOUR_NAMES: &[(&str, Color)] = &[
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
];

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("reversed", Modifier::REVERSED),
    ("underlined", Modifier::UNDERLINED),
];

/// What the theme files of a load build on when none of them says `extends`.
#[derive(Clone, Copy)]
enum Base<'a> {
    /// Nothing was configured: `default`, or `mono` under NO_COLOR.
    Auto(&'a str),
    /// A shipped theme the configuration names.
    Configured(&'a str),
}

/// Finds a theme that `extends` may name: its file name for messages, and its text.
type Catalog<'c> = dyn Fn(&str) -> Option<(String, &'static str)> + 'c;

/// Stacks the theme files (top first) on their base, follows `extends` through `catalog`,
/// applies the chain root first, and finishes every style for `env`.
fn build(
    files: Vec<Doc>,
    base: Base<'_>,
    env: &ThemeEnv,
    catalog: &Catalog<'_>,
) -> Result<(Theme, Vec<ThemeWarning>), ThemeError> {
    let mut warnings = Vec::new();
    let (chain, unused) = stack(files, base, catalog)?;
    warnings.extend(unused);
    let name = chain.first().map_or_else(String::new, |d| {
        d.name.clone().unwrap_or_else(|| d.file.clone())
    });

    let mut slots: [Option<(Style, Origin)>; ROLE_COUNT] = std::array::from_fn(|_| None);
    for doc in chain.iter().rev() {
        for entry in &doc.entries {
            let origin = Origin {
                file: doc.file.clone(),
                line: entry.line,
            };
            slots[entry.role as usize] = Some((entry.style, origin));
        }
    }

    let root_file = chain.last().map_or(name.as_str(), |d| d.file.as_str());
    let styles = std::array::from_fn(|i| {
        let role = Role::ALL[i];
        match &slots[i] {
            Some((style, origin)) => {
                let style = finish(*style, env);
                check(role, style, origin, &mut warnings);
                style
            }
            None => {
                warnings.push(ThemeWarning {
                    file: root_file.to_owned(),
                    line: 1,
                    message: format!(
                        "no theme sets [{}] {}; it shows as plain text",
                        role.section(),
                        role.key()
                    ),
                });
                Style::new()
            }
        }
    });
    Ok((Theme { name, styles }, warnings))
}

/// The chain from the top file to its root: `[top, …, parent, grandparent, …]`, and a warning
/// when something configured is left out because a file above it says `extends`.
fn stack(
    files: Vec<Doc>,
    base: Base<'_>,
    catalog: &Catalog<'_>,
) -> Result<(Vec<Doc>, Option<ThemeWarning>), ThemeError> {
    let mut chain = Vec::new();
    let mut files = files.into_iter();
    let mut next = None;
    for doc in files.by_ref() {
        next = doc.extends.clone();
        chain.push(doc);
        if next.is_some() {
            break;
        }
    }
    let mut unused = None;
    match (&next, chain.last()) {
        // A file says what it builds on: what lies below it was configured for nothing.
        (Some(parent), Some(child)) => {
            let below = match (files.next(), base) {
                (Some(file), _) => Some(format!("theme file {}", file.file)),
                (None, Base::Configured(name)) if name != parent.value => {
                    Some(format!("theme `{name}`"))
                }
                _ => None,
            };
            unused = below.map(|below| ThemeWarning {
                file: child.file.clone(),
                line: parent.line.unwrap_or(1),
                message: format!(
                    "extends `{}`, so the configured {below} is not used",
                    parent.value
                ),
            });
        }
        _ => {
            let (Base::Auto(name) | Base::Configured(name)) = base;
            next = Some(Located {
                value: name.to_owned(),
                line: None,
            });
        }
    }
    while let Some(parent) = next.take() {
        let Some(child) = chain.last() else {
            // The configured or automatic theme, with no file above it.
            let (file, text) = catalog(&parent.value)
                .ok_or_else(|| ThemeError::UnknownName(parent.value.clone()))?;
            let doc = parse(Some(&parent.value), &file, text)?;
            next = doc.extends.clone();
            chain.push(doc);
            continue;
        };
        let at = |problem| match parent.line {
            Some(line) => ThemeError::At {
                file: child.file.clone(),
                line,
                problem,
            },
            None => ThemeError::UnknownName(parent.value.clone()),
        };
        if chain
            .iter()
            .any(|d| d.name.as_deref() == Some(&parent.value))
        {
            let path: Vec<&str> = chain
                .iter()
                .map(|d| d.name.as_deref().unwrap_or(d.file.as_str()))
                .chain([parent.value.as_str()])
                .collect();
            return Err(at(Problem::ExtendsCycle(path.join(" → "))));
        }
        let (file, text) = catalog(&parent.value)
            .ok_or_else(|| at(Problem::UnknownExtends(parent.value.clone())))?;
        let doc = parse(Some(&parent.value), &file, text)?;
        next = doc.extends.clone();
        chain.push(doc);
    }
    Ok((chain, unused))
}

/// Where a role was set, for warnings.
struct Origin {
    file: String,
    line: usize,
}

/// Warns about styles that load but cannot look as meant.
fn check(role: Role, style: Style, origin: &Origin, warnings: &mut Vec<ThemeWarning>) {
    let mut warn = |message: String| {
        warnings.push(ThemeWarning {
            file: origin.file.clone(),
            line: origin.line,
            message: format!("[{}] {}: {message}", role.section(), role.key()),
        });
    };
    if let (Some(fg), Some(bg)) = (style.fg, style.bg)
        && fg == bg
        && fg != Color::Reset
    {
        warn(format!(
            "fg and bg are the same colour ({fg}) on this terminal; the text is invisible"
        ));
    }
    if style.add_modifier.contains(Modifier::BOLD | Modifier::DIM) {
        warn("sets both bold and dim; many terminals show only one of them".to_owned());
    }
}

/// Fits a style to what the terminal can show.
fn finish(style: Style, env: &ThemeEnv) -> Style {
    if env.no_color {
        without_colour(style)
    } else if env.truecolor {
        style
    } else {
        Style {
            fg: style.fg.map(lower),
            bg: style.bg.map(lower),
            ..style
        }
    }
}

/// Drops every colour. A background becomes reverse video, so what stood out as a band (a
/// selection, a breach) still stands out.
fn without_colour(style: Style) -> Style {
    let had_background = style.bg.is_some_and(|c| c != Color::Reset);
    let plain = Style {
        fg: None,
        bg: None,
        ..style
    };
    if had_background {
        plain.add_modifier(Modifier::REVERSED)
    } else {
        plain
    }
}

/// RGB to the nearest xterm-256 colour; any other colour is kept.
fn lower(colour: Color) -> Color {
    match colour {
        Color::Rgb(r, g, b) => Color::Indexed(rgb_to_256(r, g, b)),
        other => other,
    }
}

/// The nearest colour of the xterm-256 palette's 6×6×6 cube (16–231) or grey ramp (232–255),
/// as tmux picks it. The first 16 are left out: terminals redefine them. The screenshot
/// preview lowers its pixels through this too, so a colour is the same in both.
///
/// Hand-written on purpose: `ansi_colours` does this perceptually but is LGPL-3.0, which an
/// MIT binary linked statically should not carry; tmux's rule is twenty lines.
pub(super) fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let (qr, qg, qb) = (cube_level(r), cube_level(g), cube_level(b));
    let cube = 16 + 36 * qr + 6 * qg + qb;
    let (cr, cg, cb) = (
        CUBE_LEVELS[usize::from(qr)],
        CUBE_LEVELS[usize::from(qg)],
        CUBE_LEVELS[usize::from(qb)],
    );
    if (cr, cg, cb) == (r, g, b) {
        return cube;
    }
    let average = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    // The grey ramp runs 8, 18, …, 238.
    let grey_step = if average > 238 {
        23
    } else {
        (average.saturating_sub(3) / 10) as u8
    };
    let grey = 8 + 10 * grey_step;
    let distance = |x: u8, y: u8, z: u8| -> u32 {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).unsigned_abs().pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if distance(grey, grey, grey) < distance(cr, cg, cb) {
        232 + grey_step
    } else {
        cube
    }
}

/// The six levels of each channel of the xterm-256 colour cube.
const CUBE_LEVELS: [u8; 6] = [0x00, 0x5f, 0x87, 0xaf, 0xd7, 0xff];

/// The nearest cube level: the levels are 95, then steps of 40.
fn cube_level(v: u8) -> u8 {
    match v {
        0..48 => 0,
        48..115 => 1,
        _ => (v - 35) / 40,
    }
}

/// One theme file, parsed but not resolved.
struct Doc {
    /// The name `extends` uses for it; `None` for a user's file, which cannot be extended.
    name: Option<String>,
    file: String,
    extends: Option<Located<String>>,
    entries: Vec<Entry>,
}

struct Entry {
    role: Role,
    style: Style,
    line: usize,
}

#[derive(Clone)]
struct Located<T> {
    value: T,
    /// `None` when it comes from the configuration rather than a file.
    line: Option<usize>,
}

/// Turns byte offsets of one file into `file:line` errors.
struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: &Range<usize>, problem: Problem) -> ThemeError {
        ThemeError::At {
            file: self.file.to_owned(),
            line: self.line(span),
            problem,
        }
    }
}

type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;

/// The entries of a table in file order (the map itself is sorted by key), so the first
/// problem reported is the first in the file.
fn in_file_order<'t, 'i>(table: &'t DeTable<'i>) -> Vec<(&'t Key<'i>, &'t Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

fn parse(name: Option<&str>, file: &str, text: &str) -> Result<Doc, ThemeError> {
    let ctx = Ctx { file, text };
    let root = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let mut message = e.message().trim().to_owned();
        // toml says only "duplicate key"; which one, and why it matters here, helps more.
        if message == "duplicate key"
            && let Some(key) = text.get(span.clone())
        {
            let key: String = key.chars().take(40).collect();
            message = format!("duplicate key `{key}`: a role is set once per file");
        }
        ctx.error(&span, Problem::Syntax(message))
    })?;
    let mut doc = Doc {
        name: name.map(str::to_owned),
        file: file.to_owned(),
        extends: None,
        entries: Vec::new(),
    };
    for (key, value) in in_file_order(root.get_ref()) {
        let section = key.get_ref().as_ref();
        let is_section = section == "meta" || ROLE_SECTIONS.contains(&section);
        let DeValue::Table(table) = value.get_ref() else {
            let problem = if is_section {
                Problem::NotASection(section.to_owned())
            } else if Role::ALL.iter().any(|r| r.key() == section) {
                Problem::OutsideSection(section.to_owned())
            } else {
                Problem::UnknownSection(section.to_owned())
            };
            return Err(ctx.error(&key.span(), problem));
        };
        if section == "meta" {
            doc.extends = parse_meta(&ctx, table)?;
            continue;
        }
        if !is_section {
            return Err(ctx.error(&key.span(), Problem::UnknownSection(section.to_owned())));
        }
        for (role_key, value) in in_file_order(table) {
            let Some(role) = Role::find(section, role_key.get_ref()) else {
                let problem = Problem::UnknownRole {
                    section: section.to_owned(),
                    role: role_key.get_ref().to_string(),
                };
                return Err(ctx.error(&role_key.span(), problem));
            };
            let what = format!("[{section}] {}", role.key());
            doc.entries.push(Entry {
                role,
                style: parse_style(&ctx, &what, value)?,
                line: ctx.line(&role_key.span()),
            });
        }
    }
    Ok(doc)
}

fn parse_meta(ctx: &Ctx<'_>, table: &DeTable<'_>) -> Result<Option<Located<String>>, ThemeError> {
    let mut extends = None;
    for (key, value) in in_file_order(table) {
        if key.get_ref() != "extends" {
            let problem = Problem::UnknownMetaKey(key.get_ref().to_string());
            return Err(ctx.error(&key.span(), problem));
        }
        let Some(name) = value.get_ref().as_str() else {
            let problem = Problem::WrongType {
                what: "[meta] extends".to_owned(),
                expected: "the name of a shipped theme",
                found: value.get_ref().type_str(),
            };
            return Err(ctx.error(&value.span(), problem));
        };
        extends = Some(Located {
            value: name.to_owned(),
            line: Some(ctx.line(&value.span())),
        });
    }
    Ok(extends)
}

/// A role's value: a colour (its foreground) or an inline table.
fn parse_style(
    ctx: &Ctx<'_>,
    what: &str,
    value: &Spanned<DeValue<'_>>,
) -> Result<Style, ThemeError> {
    let table = match value.get_ref() {
        DeValue::Table(table) => table,
        DeValue::String(_) | DeValue::Integer(_) => {
            return Ok(Style::new().fg(parse_colour(ctx, what, value)?));
        }
        other => {
            let problem = Problem::WrongType {
                what: what.to_owned(),
                expected: "a colour or a table { fg, bg, bold, dim, italic, reversed, underlined }",
                found: other.type_str(),
            };
            return Err(ctx.error(&value.span(), problem));
        }
    };
    let mut style = Style::new();
    for (key, value) in in_file_order(table) {
        let key_name = key.get_ref().as_ref();
        match key_name {
            "fg" => style.fg = Some(parse_colour(ctx, &format!("{what}.fg"), value)?),
            "bg" => style.bg = Some(parse_colour(ctx, &format!("{what}.bg"), value)?),
            _ => {
                let Some((_, modifier)) = MODIFIERS.iter().find(|(k, _)| *k == key_name) else {
                    let problem = Problem::UnknownStyleKey(key_name.to_owned());
                    return Err(ctx.error(&key.span(), problem));
                };
                match value.get_ref().as_bool() {
                    Some(true) => style = style.add_modifier(*modifier),
                    Some(false) => {}
                    None => {
                        let problem = Problem::WrongType {
                            what: format!("{what}.{key_name}"),
                            expected: "true or false",
                            found: value.get_ref().type_str(),
                        };
                        return Err(ctx.error(&value.span(), problem));
                    }
                }
            }
        }
    }
    Ok(style)
}

fn parse_colour(
    ctx: &Ctx<'_>,
    what: &str,
    value: &Spanned<DeValue<'_>>,
) -> Result<Color, ThemeError> {
    let result = match value.get_ref() {
        DeValue::String(s) => colour_from_str(s),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .and_then(|n| u8::try_from(n).ok())
            .map(Color::Indexed)
            .ok_or_else(|| Problem::BadIndex(i.to_string())),
        other => Err(Problem::WrongType {
            what: what.to_owned(),
            expected: "a colour (\"red\", \"#rrggbb\" or 0–255)",
            found: other.type_str(),
        }),
    };
    result.map_err(|problem| ctx.error(&value.span(), problem))
}

fn colour_from_str(s: &str) -> Result<Color, Problem> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Problem::BadHex(s.to_owned()));
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        return Ok(Color::Rgb(channel(0), channel(2), channel(4)));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u8>()
            .map(Color::Indexed)
            .map_err(|_| Problem::BadIndex(s.to_owned()));
    }
    if let Some((_, colour)) = COLOUR_NAMES.iter().find(|(n, _)| *n == s) {
        return Ok(*colour);
    }
    // Names as other tools spell them: "Dark Grey", "bright-red", "lightblue".
    let squash = |v: &str| {
        v.to_ascii_lowercase()
            .replace([' ', '-', '_'], "")
            .replace("grey", "gray")
            .replace("bright", "light")
    };
    let hint = COLOUR_NAMES
        .iter()
        .map(|(n, _)| *n)
        .find(|n| squash(n) == squash(s));
    Err(Problem::UnknownColour {
        value: s.chars().take(40).collect(),
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSI_16: &[Color] = &[
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];

    const PLAIN: ThemeEnv = ThemeEnv {
        no_color: false,
        truecolor: false,
    };
    const TRUECOLOR: ThemeEnv = ThemeEnv {
        no_color: false,
        truecolor: true,
    };
    const NO_COLOR: ThemeEnv = ThemeEnv {
        no_color: true,
        truecolor: true,
    };

    /// Shipped themes plus the fixtures that need a name to be extended by.
    fn test_catalog(name: &str) -> Option<(String, &'static str)> {
        match name {
            "extends_cycle" => Some((
                "tests/fixtures/themes/invalid/extends_cycle.toml".to_owned(),
                include_str!("../../tests/fixtures/themes/invalid/extends_cycle.toml"),
            )),
            _ => shipped_source(name),
        }
    }

    fn shipped(name: &str, env: &ThemeEnv) -> Theme {
        match Theme::load(Some(name), None, env) {
            Ok((theme, _)) => theme,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    fn user_file(file: &str, text: &str, env: &ThemeEnv) -> (Theme, Vec<ThemeWarning>) {
        let path = Path::new(file);
        match Theme::load(None, Some((path, text)), env) {
            Ok(loaded) => loaded,
            Err(e) => panic!("{file}: {e}"),
        }
    }

    fn has_colour(style: Style) -> bool {
        let coloured = |c: Option<Color>| c.is_some_and(|c| c != Color::Reset);
        coloured(style.fg) || coloured(style.bg)
    }

    #[test]
    fn every_shipped_theme_loads_without_warnings() {
        assert_eq!(Theme::shipped().len(), SHIPPED.len());
        for name in Theme::shipped() {
            assert!(shipped_source(name).is_some(), "{name} is not embedded");
            for env in [PLAIN, TRUECOLOR, NO_COLOR] {
                let (theme, warnings) =
                    Theme::load(Some(name), None, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(warnings.is_empty(), "{name} {env:?}: {warnings:?}");
                assert_eq!(theme.name(), *name);
            }
        }
    }

    #[test]
    fn default_uses_only_the_16_ansi_colours_and_never_a_background() {
        let theme = shipped("default", &TRUECOLOR);
        for role in Role::ALL {
            let style = theme.style(*role);
            assert_eq!(style.bg, None, "{role:?} sets a background");
            if let Some(fg) = style.fg {
                assert!(ANSI_16.contains(&fg), "{role:?} uses {fg:?}");
            }
        }
        assert!(theme.selection().add_modifier.contains(Modifier::REVERSED));
        // The 16 colours are never lowered, truecolor or not.
        assert_eq!(theme, shipped("default", &PLAIN));
    }

    #[test]
    fn mono_has_no_colour_in_any_role() {
        for env in [PLAIN, TRUECOLOR] {
            let theme = shipped("mono", &env);
            for role in Role::ALL {
                assert!(!has_colour(theme.style(*role)), "{role:?}");
            }
        }
    }

    #[test]
    fn no_color_picks_mono_when_nothing_is_configured() {
        let (auto, _) = Theme::load(None, None, &NO_COLOR).expect("auto");
        assert_eq!(auto.name(), "mono");
        assert_eq!(auto, shipped("mono", &PLAIN));
        let (auto, _) = Theme::load(None, None, &PLAIN).expect("auto");
        assert_eq!(auto.name(), "default");
        let (blank, _) = Theme::load(Some("  "), None, &NO_COLOR).expect("blank setting");
        assert_eq!(blank.name(), "mono");
        // A user file without extends builds on mono too.
        let text = include_str!("../../tests/fixtures/themes/valid/no_extends.toml");
        let (theme, _) = user_file("mine.toml", text, &NO_COLOR);
        assert_eq!(theme.selection(), auto.selection());
        assert_eq!(theme.muted(), auto.muted());
    }

    #[test]
    fn no_color_wins_over_a_configured_theme() {
        for name in Theme::shipped() {
            let theme = shipped(name, &NO_COLOR);
            assert_eq!(theme.name(), *name);
            for role in Role::ALL {
                assert!(!has_colour(theme.style(*role)), "{name} {role:?}");
            }
            // What stood out still stands out.
            let selection = theme.selection().add_modifier;
            assert!(selection.contains(Modifier::REVERSED), "{name} selection");
            assert_ne!(theme.sla("breached"), theme.sla("ok"), "{name}");
        }
        let text = include_str!("../../tests/fixtures/themes/valid/extends_dark.toml");
        let (theme, _) = user_file("mine.toml", text, &NO_COLOR);
        for role in Role::ALL {
            assert!(!has_colour(theme.style(*role)), "user file {role:?}");
        }
    }

    #[test]
    fn no_color_turns_a_background_into_reverse_video() {
        let dark = shipped("dark", &TRUECOLOR);
        assert!(dark.selection().bg.is_some());
        assert!(!dark.selection().add_modifier.contains(Modifier::REVERSED));
        let dark = shipped("dark", &NO_COLOR);
        assert_eq!(
            dark.selection(),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        );
    }

    #[test]
    fn a_user_file_extends_dark_and_overrides_some_roles() {
        let text = include_str!("../../tests/fixtures/themes/valid/extends_dark.toml");
        let (theme, warnings) = user_file("/home/h/themes/mine.toml", text, &TRUECOLOR);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(theme.name(), "/home/h/themes/mine.toml");
        let dark = shipped("dark", &TRUECOLOR);
        let overridden = [Role::SlaBreached, Role::Selection, Role::P1];
        assert_eq!(
            theme.sla("breached"),
            Style::new()
                .fg(Color::Rgb(0xff, 0xff, 0xff))
                .bg(Color::Indexed(160))
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        );
        // Replaced whole: dark's selection background is not merged in.
        assert_eq!(
            theme.selection(),
            Style::new().add_modifier(Modifier::REVERSED)
        );
        assert_eq!(theme.priority("P1"), Style::new().fg(Color::LightRed));
        for role in Role::ALL.iter().filter(|r| !overridden.contains(r)) {
            assert_eq!(theme.style(*role), dark.style(*role), "{role:?}");
        }
    }

    #[test]
    fn a_user_file_without_extends_builds_on_default() {
        let text = include_str!("../../tests/fixtures/themes/valid/no_extends.toml");
        let (theme, warnings) = user_file("mine.toml", text, &PLAIN);
        assert!(warnings.is_empty(), "{warnings:?}");
        let default = shipped("default", &PLAIN);
        assert_eq!(theme.sla("due_soon"), Style::new().fg(Color::Yellow));
        assert_eq!(theme.text(), default.text());
        assert_eq!(theme.selection(), default.selection());
    }

    #[test]
    fn rgb_is_lowered_to_the_nearest_256_colour() {
        let cases: &[((u8, u8, u8), u8)] = &[
            ((0x00, 0x00, 0x00), 16),
            ((0xff, 0xff, 0xff), 231),
            ((0xff, 0x00, 0x00), 196),
            ((0x5f, 0x87, 0xaf), 67),
            ((0x80, 0x80, 0x80), 244),
            ((0x3a, 0x3a, 0x3a), 237),
            ((0xe0, 0x6c, 0x75), 168),
            ((0x61, 0xaf, 0xef), 75),
            ((0x01, 0x02, 0x03), 16),
            ((0xfe, 0xfe, 0xfe), 231),
        ];
        for &((r, g, b), index) in cases {
            assert_eq!(rgb_to_256(r, g, b), index, "#{r:02x}{g:02x}{b:02x}");
        }
        // Never one of the first 16, whose colours each terminal sets its own way.
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(15) {
                for b in (0..=255).step_by(15) {
                    assert!(rgb_to_256(r, g, b) >= 16, "#{r:02x}{g:02x}{b:02x}");
                }
            }
        }
    }

    #[test]
    fn rgb_is_lowered_at_load_unless_truecolor() {
        let text = include_str!("../../tests/fixtures/themes/valid/colours.toml");
        let cases: &[(Role, Color, Color)] = &[
            // role, without truecolor, with truecolor
            (
                Role::Text,
                Color::Indexed(168),
                Color::Rgb(0xe0, 0x6c, 0x75),
            ),
            (
                Role::Muted,
                Color::Indexed(244),
                Color::Rgb(0x80, 0x80, 0x80),
            ),
            (Role::Title, Color::Indexed(214), Color::Indexed(214)),
            (
                Role::Header,
                Color::Indexed(67),
                Color::Rgb(0x5f, 0x87, 0xaf),
            ),
            (Role::KeyHint, Color::LightBlue, Color::LightBlue),
        ];
        let (plain, _) = user_file("colours.toml", text, &PLAIN);
        let (truecolor, _) = user_file("colours.toml", text, &TRUECOLOR);
        for &(role, lowered, kept) in cases {
            assert_eq!(plain.style(role).fg, Some(lowered), "{role:?}");
            assert_eq!(truecolor.style(role).fg, Some(kept), "{role:?}");
        }
        assert_eq!(plain.selection().bg, Some(Color::Indexed(237)));
        assert_eq!(truecolor.selection().bg, Some(Color::Rgb(0x3a, 0x3a, 0x3a)));
    }

    #[test]
    fn high_contrast_colours_survive_lowering_exactly() {
        let truecolor = shipped("high-contrast", &TRUECOLOR);
        let lowered = shipped("high-contrast", &PLAIN);
        for role in Role::ALL {
            let pairs = [
                (truecolor.style(*role).fg, lowered.style(*role).fg),
                (truecolor.style(*role).bg, lowered.style(*role).bg),
            ];
            for (kept, low) in pairs {
                if let (Some(Color::Rgb(r, g, b)), Some(Color::Indexed(i))) = (kept, low) {
                    assert_eq!(xterm_rgb(i), (r, g, b), "{role:?}");
                }
            }
        }
    }

    /// The RGB of an xterm-256 colour from 16 up.
    fn xterm_rgb(index: u8) -> (u8, u8, u8) {
        if index >= 232 {
            let v = 8 + 10 * (index - 232);
            return (v, v, v);
        }
        let i = usize::from(index - 16);
        (
            CUBE_LEVELS[i / 36],
            CUBE_LEVELS[i / 6 % 6],
            CUBE_LEVELS[i % 6],
        )
    }

    #[test]
    fn env_reads_no_color_and_colorterm() {
        let os = |s: &'static str| Some(OsStr::new(s));
        let cases: &[(Option<&OsStr>, Option<&OsStr>, ThemeEnv)] = &[
            (None, None, PLAIN),
            (os(""), None, PLAIN),
            (
                os("1"),
                None,
                ThemeEnv {
                    no_color: true,
                    truecolor: false,
                },
            ),
            (
                os("0"),
                None,
                ThemeEnv {
                    no_color: true,
                    truecolor: false,
                },
            ),
            (None, os("truecolor"), TRUECOLOR),
            (None, os("24bit"), TRUECOLOR),
            (None, os("TrueColor"), TRUECOLOR),
            (None, os("256color"), PLAIN),
            (None, os(""), PLAIN),
            (os("yes"), os("truecolor"), NO_COLOR),
        ];
        for (no_color, colorterm, expected) in cases {
            assert_eq!(
                ThemeEnv::from_vars(*no_color, *colorterm),
                *expected,
                "{no_color:?} {colorterm:?}"
            );
        }
    }

    #[test]
    fn accessors_map_domain_words_to_roles() {
        let theme = shipped("default", &PLAIN);
        assert_eq!(theme.sla("running"), theme.style(Role::SlaOk));
        assert_eq!(theme.sla("ok"), theme.style(Role::SlaOk));
        assert_eq!(theme.sla("breached"), theme.style(Role::SlaBreached));
        assert_eq!(
            theme.status("waiting_submitter"),
            theme.style(Role::StatusWaitingSubmitter)
        );
        assert_eq!(theme.priority("P1"), theme.style(Role::P1));
        assert_eq!(theme.alert("warn"), theme.style(Role::AlertWarn));
        assert_eq!(theme.border(true), theme.style(Role::BorderFocus));
        assert_eq!(theme.border(false), theme.style(Role::Border));
        assert_eq!(theme.toast(true), theme.style(Role::ToastError));
        assert_eq!(theme.toast(false), theme.style(Role::ToastInfo));
        assert_eq!(theme.marked(), theme.style(Role::Marked));
        // Unknown words, or a key of another section, are plain text.
        for (style, word) in [
            (theme.status("archived"), "archived"),
            (theme.sla("text"), "text"),
            (theme.priority("p1"), "p1"),
            (theme.alert("error "), "error "),
        ] {
            assert_eq!(style, theme.text(), "{word}");
        }
    }

    #[test]
    fn colour_names_are_ratatuis() {
        for (name, colour) in COLOUR_NAMES {
            assert_eq!(name.parse::<Color>().ok(), Some(*colour), "{name}");
            assert_eq!(colour_from_str(name), Ok(*colour));
        }
        assert_eq!(colour_from_str("7"), Ok(Color::Indexed(7)));
    }

    #[test]
    fn warnings_say_file_and_line() {
        let text = include_str!("../../tests/fixtures/themes/valid/warnings.toml");
        let (_, warnings) = user_file("warn.toml", text, &PLAIN);
        let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("warn.toml:5: [base] selection: fg and bg are the same"));
        assert!(shown[1].starts_with("warn.toml:9: [sla] paused: sets both bold and dim"));
        // Under NO_COLOR there is no colour to clash.
        let (_, warnings) = user_file("warn.toml", text, &NO_COLOR);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    /// One invalid fixture: its name, its text, the line of its problem, and words the
    /// message must contain.
    macro_rules! invalid {
        ($name:literal, $line:literal, $message:literal) => {
            (
                $name,
                include_str!(concat!(
                    "../../tests/fixtures/themes/invalid/",
                    $name,
                    ".toml"
                )),
                $line,
                $message,
            )
        };
    }

    /// One fixture per problem.
    const INVALID_CASES: &[(&str, &str, usize, &str)] = &[
        invalid!("syntax", 7, "invalid basic string"),
        invalid!(
            "duplicate_role",
            6,
            "duplicate key `text`: a role is set once per file"
        ),
        invalid!("unknown_section", 5, "unknown section [colours]"),
        invalid!(
            "outside_section",
            3,
            "`text` must be inside a section such as [base]"
        ),
        invalid!(
            "unknown_role",
            6,
            "unknown role `txt` in [base] (roles: text, muted,"
        ),
        invalid!(
            "unknown_colour",
            5,
            "unknown colour `grey`, did you mean `gray`?"
        ),
        invalid!("bad_hex", 6, "bad colour `#12g456`: write #rrggbb"),
        invalid!("bad_index", 5, "colour index 300 is out of range 0–255"),
        invalid!("bad_style_key", 7, "unknown style key `blink`"),
        invalid!(
            "bad_modifier",
            5,
            "[base] title.bold must be true or false, not a string"
        ),
        invalid!("bad_value", 4, "[sla] ok must be a colour or a table"),
        invalid!(
            "unknown_meta_key",
            3,
            "unknown key `extend` in [meta] (keys: extends)"
        ),
        invalid!("unknown_extends", 4, "unknown theme `solarized` in extends"),
        invalid!(
            "extends_cycle",
            3,
            "extends cycle: extends_cycle → extends_cycle"
        ),
    ];

    #[test]
    fn each_invalid_fixture_names_its_file_line_and_problem() {
        for &(name, text, line, message) in INVALID_CASES {
            let file = format!("tests/fixtures/themes/invalid/{name}.toml");
            let result = match name {
                // Only named themes can be extended, so the cycle goes through the catalog.
                "extends_cycle" => build(vec![], Base::Configured(name), &PLAIN, &test_catalog),
                _ => parse(None, &file, text)
                    .and_then(|doc| build(vec![doc], Base::Auto("default"), &PLAIN, &test_catalog)),
            };
            let err = match result {
                Ok(_) => panic!("{name} loaded"),
                Err(e) => e.to_string(),
            };
            let expected = format!("{file}:{line}: ");
            assert!(err.starts_with(&expected), "{name}: {err}");
            assert!(err.contains(message), "{name}: {err}");
        }
    }

    #[test]
    fn every_invalid_fixture_has_a_case() {
        let root = Path::new(file!())
            .ancestors()
            .nth(3)
            .unwrap_or(Path::new(""));
        let dir = root.join("tests/fixtures/themes/invalid");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut on_disk: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        on_disk.sort();
        let mut tested: Vec<String> = INVALID_CASES.iter().map(|c| c.0.to_owned()).collect();
        tested.sort();
        tested.dedup();
        assert_eq!(on_disk, tested);
    }

    #[test]
    fn a_root_theme_missing_a_role_warns_and_shows_it_plain() {
        let catalog = |name: &str| {
            (name == "partial").then(|| ("partial.toml".to_owned(), "[base]\ntext = \"red\"\n"))
        };
        let (theme, warnings) =
            build(vec![], Base::Configured("partial"), &PLAIN, &catalog).expect("loads");
        assert_eq!(warnings.len(), ROLE_COUNT - 1);
        assert_eq!(
            warnings[0].to_string(),
            "partial.toml:1: no theme sets [base] muted; it shows as plain text"
        );
        assert_eq!(theme.text(), Style::new().fg(Color::Red));
        assert_eq!(theme.muted(), Style::new());
    }

    #[test]
    fn every_valid_fixture_loads() {
        let fixtures = [
            include_str!("../../tests/fixtures/themes/valid/extends_dark.toml"),
            include_str!("../../tests/fixtures/themes/valid/no_extends.toml"),
            include_str!("../../tests/fixtures/themes/valid/colours.toml"),
            include_str!("../../tests/fixtures/themes/valid/warnings.toml"),
        ];
        for text in fixtures {
            for env in [PLAIN, TRUECOLOR, NO_COLOR] {
                user_file("fixture.toml", text, &env);
            }
        }
    }

    /// The crate root, from this file's path (relative to it in the crate, absolute when the
    /// module is mounted elsewhere with #[path]).
    fn crate_root() -> &'static Path {
        Path::new(file!())
            .ancestors()
            .nth(3)
            .unwrap_or(Path::new(""))
    }

    #[test]
    fn the_setting_names_a_shipped_theme_or_a_file() {
        let env = PLAIN;
        let (theme, _) = Theme::load(Some("light"), None, &env).expect("light");
        assert_eq!(theme.name(), "light");
        let err = Theme::load(Some("solarized"), None, &env).expect_err("unknown");
        assert!(matches!(err, ThemeError::UnknownName(_)));
        assert!(
            err.to_string()
                .starts_with("unknown theme `solarized` (shipped: default,")
        );

        let missing = "/nonexistent/opsdesk/theme.toml";
        let err = Theme::load(Some(missing), None, &env).expect_err("missing file");
        assert!(matches!(err, ThemeError::Read { .. }));
        assert!(err.to_string().starts_with(missing), "{err}");

        let path = crate_root().join("tests/fixtures/themes/valid/no_extends.toml");
        let setting = path.to_str().expect("utf-8 path");
        let (theme, warnings) = Theme::load(Some(setting), None, &env).expect("file");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(theme.name(), setting);
        assert_eq!(theme.sla("due_soon"), Style::new().fg(Color::Yellow));

        let path = crate_root().join("tests/fixtures/themes/invalid/bad_hex.toml");
        let setting = path.to_str().expect("utf-8 path");
        let err = Theme::load(Some(setting), None, &env).expect_err("bad file");
        assert!(
            err.to_string()
                .starts_with(&format!("{setting}:6: bad colour")),
            "{err}"
        );
    }

    #[test]
    fn a_user_file_lays_over_the_configured_theme() {
        let text = include_str!("../../tests/fixtures/themes/valid/no_extends.toml");
        let user = Some((Path::new("theme.toml"), text));
        let (theme, warnings) = Theme::load(Some("dark"), user, &TRUECOLOR).expect("loads");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(theme.name(), "theme.toml");
        let dark = shipped("dark", &TRUECOLOR);
        assert_eq!(theme.sla("due_soon"), Style::new().fg(Color::Yellow));
        assert_eq!(theme.selection(), dark.selection());
        assert_eq!(theme.text(), dark.text());
    }

    #[test]
    fn a_user_file_that_extends_another_theme_says_the_configured_one_is_unused() {
        let text = include_str!("../../tests/fixtures/themes/valid/extends_dark.toml");
        let user = Some((Path::new("theme.toml"), text));
        let (theme, warnings) = Theme::load(Some("light"), user, &TRUECOLOR).expect("loads");
        let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["theme.toml:3: extends `dark`, so the configured theme `light` is not used"]
        );
        assert_eq!(theme.text(), shipped("dark", &TRUECOLOR).text());
        // Configuring the theme it extends is no conflict.
        let (_, warnings) = Theme::load(Some("dark"), user, &TRUECOLOR).expect("loads");
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
