//! Entry points for fuzzing the parsers that take untrusted bytes, each fed the way the product
//! feeds it: a phone's picture, an ITSM export (UTF-8 or GBK), the handler's keymap and theme
//! files, the server's configuration, the change stream's events. None may panic, hang or
//! allocate without bound, whatever the bytes. `tests/fuzz.rs` drives them on every test run
//! with mutations of a checked-in seed corpus (`tests/fuzz/corpus/<target>/`) and replays
//! every input that once failed (`tests/fuzz/regressions/<target>/`); `fuzz/` runs them under
//! libFuzzer where a nightly toolchain is at hand (see the README).

use std::path::Path;
use std::sync::OnceLock;

use crate::config::{Config, Settings};
use crate::domain::images::{self, Limits};
use crate::service::Desk;

/// A target: untrusted bytes in, nothing out but a panic when something is wrong.
pub type Target = fn(&[u8]);

/// The targets, by the name their corpus and regression folders carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("image", image),
    ("itsm_csv", itsm_csv),
    ("keymap", keymap),
    ("theme", theme),
    ("config", config),
    ("sse", sse),
];

/// An uploaded picture through the image gate. The limits are a fuzzing size (what a decoder
/// does with a header claiming 8,000 pixels is the same as with one claiming 800, only slower).
pub fn image(bytes: &[u8]) {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_width: 1_024,
        max_height: 1_024,
        max_alloc: 16 << 20,
        max_pixels: 1 << 20,
    };
    if let Ok(processed) = images::process(bytes, &limits) {
        assert!(
            processed.width <= limits.max_width && processed.height <= limits.max_height,
            "an image beyond the limits passed"
        );
    }
}

/// An ITSM CSV export imported into a scratch data dir shared by every call (the import is
/// repeatable: a row imported twice is skipped).
pub fn itsm_csv(bytes: &[u8]) {
    if crate::service::import::read_header(bytes).is_err() {
        return;
    }
    let (runtime, desk) = scratch_desk();
    // Row refusals are outcomes; only a failure of the import as a whole is an error.
    let _ = runtime.block_on(desk.import_itsm_csv(bytes));
}

fn scratch_desk() -> &'static (tokio::runtime::Runtime, Desk) {
    static DESK: OnceLock<(tokio::runtime::Runtime, Desk)> = OnceLock::new();
    DESK.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = std::env::temp_dir().join(format!("opsdesk-fuzz-{}", std::process::id()));
        let store = crate::store::Store::open(&dir).expect("a scratch data dir");
        let desk = Desk::new(store, std::sync::Arc::new(Settings::default()));
        (runtime, desk)
    })
}

/// A handler's `keymap.toml`.
pub fn keymap(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _ = crate::tui::keymap::Keymap::load("default", Some((Path::new("keymap.toml"), &text)));
}

/// A handler's `theme.toml`, over the default theme and under `NO_COLOR`.
pub fn theme(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for no_color in [false, true] {
        let env = crate::tui::theme::ThemeEnv {
            no_color,
            truecolor: !no_color,
        };
        let _ = crate::tui::theme::Theme::load(None, Some((Path::new("theme.toml"), &text)), &env);
    }
}

/// The server's `opsdesk.toml`, parsed and turned into settings.
pub fn config(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let path = Path::new("opsdesk.toml");
    if let Ok(config) = Config::parse(&text, path) {
        let _ = config.settings(path);
    }
}

/// The change stream as the workstation reads it: the bytes cut into chunks where they hold
/// a 0xFF (so chunk borders fall mid-line and mid-character), parsed as server-sent events, each
/// event's data read as a change and made terminal-safe.
pub fn sse(bytes: &[u8]) {
    use eventsource_stream::Eventsource;
    use futures::StreamExt;
    let chunks: Vec<Result<bytes::Bytes, std::convert::Infallible>> = bytes
        .split(|b| *b == 0xFF)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let mut events = futures::stream::iter(chunks).eventsource();
    futures::executor::block_on(async {
        while let Some(event) = events.next().await {
            let Ok(event) = event else { break };
            let Ok(change) = crate::client::sync::change_of(&event.data) else {
                continue;
            };
            // Everything a change carries is inert, whatever its kind.
            assert_inert(&change.kind);
            assert_inert(&change.actor);
            let mut texts = Vec::new();
            strings(&change.data, &mut texts);
            for text in texts {
                assert_inert(text);
            }
        }
    });
}

fn assert_inert(text: &str) {
    assert!(
        matches!(
            crate::domain::sanitize::terminal_safe(text),
            std::borrow::Cow::Borrowed(_)
        ),
        "unsafe text reached the workstation: {text:?}"
    );
}

fn strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text) => out.push(text),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        // Keys are structure, never shown: an unknown one is ignored.
        serde_json::Value::Object(fields) => fields.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}
