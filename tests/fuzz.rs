//! Byte fuzzing of every parser of untrusted input (`opsdesk::fuzz`) on the stable toolchain,
//! on every test run: each target's seed corpus (`tests/fuzz/corpus/<target>/`) as it is, then
//! a bounded number of mutations of it (bytes flipped, inserted, deleted, repeated, spliced
//! from another seed, cut short), then every input that once broke a target
//! (`tests/fuzz/regressions/<target>/`, kept for good). A failure prints the shrunk input;
//! save it under `regressions/<target>/` with the fix. Coverage-guided runs: `fuzz/` (README).
//!
//! `OPSDESK_FUZZ_CASES` sets the mutations per target (default 256).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn folder(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(kind)
        .join(target)
}

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Repeat { at: usize, len: usize, times: usize },
    Splice { from: usize, at: usize, len: usize },
    Cut { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        // The bytes parsers care about most: quotes, separators, escapes, high bytes.
        (
            at,
            prop::sample::select(vec![
                0u8, b'"', b',', b'\n', b'\r', b'=', b'[', b']', b'{', b'}', b'\\', 0x1b, 0x7f,
                0x80, 0xff, b':', b'#', b'-'
            ])
        )
            .prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (at, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, 1usize..32, 2usize..64).prop_map(|(at, len, times)| Mutation::Repeat {
            at,
            len,
            times
        }),
        (any::<usize>(), at, 1usize..256).prop_map(|(from, at, len)| Mutation::Splice {
            from,
            at,
            len
        }),
        at.prop_map(|at| Mutation::Cut { at }),
    ]
}

fn mutate(seed: &[u8], others: &[Vec<u8>], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let place = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
        match m {
            Mutation::Flip { at, bit } if !b.is_empty() => {
                let i = at % b.len();
                b[i] ^= 1 << bit;
            }
            Mutation::Set { at, byte } if !b.is_empty() => {
                let i = at % b.len();
                b[i] = *byte;
            }
            Mutation::Insert { at, bytes } => {
                let i = place(*at, b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete { at, len } if !b.is_empty() => {
                let i = at % b.len();
                let end = (i + len).min(b.len());
                b.drain(i..end);
            }
            Mutation::Repeat { at, len, times } if !b.is_empty() => {
                let i = at % b.len();
                let piece: Vec<u8> = b[i..(i + len).min(b.len())].to_vec();
                let more: Vec<u8> = piece
                    .iter()
                    .copied()
                    .cycle()
                    .take(piece.len() * times)
                    .collect();
                b.splice(i..i, more);
            }
            Mutation::Splice { from, at, len } if !others.is_empty() => {
                let other = &others[from % others.len()];
                if !other.is_empty() {
                    let start = from % other.len();
                    let piece = &other[start..(start + len).min(other.len())];
                    let i = place(*at, b.len());
                    b.splice(i..i, piece.iter().copied());
                }
            }
            Mutation::Cut { at } => {
                let i = place(*at, b.len());
                b.truncate(i);
            }
            _ => {}
        }
    }
    b
}

/// Seeds made here rather than checked in: pictures in each format the gate takes.
fn generated(target: &str) -> Vec<Vec<u8>> {
    if target != "image" {
        return Vec::new();
    }
    let mut out = Vec::new();
    let rgba = image::RgbaImage::from_fn(24, 16, |x, y| {
        image::Rgba([
            (x * 10) as u8,
            (y * 15) as u8,
            128,
            if x < 4 { 0 } else { 255 },
        ])
    });
    let rgb = image::DynamicImage::ImageRgba8(rgba.clone()).to_rgb8();
    for (img, format) in [
        (
            image::DynamicImage::ImageRgba8(rgba.clone()),
            image::ImageFormat::Png,
        ),
        (
            image::DynamicImage::ImageRgb8(rgb.clone()),
            image::ImageFormat::Jpeg,
        ),
        (
            image::DynamicImage::ImageRgba8(rgba),
            image::ImageFormat::WebP,
        ),
    ] {
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, format).expect("an encoded seed");
        out.push(bytes.into_inner());
    }
    out
}

fn cases() -> u32 {
    std::env::var("OPSDESK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn fuzz(target: &str) {
    let run = opsdesk::fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, run)| *run)
        .expect("a known target");
    let mut seeds = files(&folder("corpus", target));
    seeds.extend(generated(target));
    assert!(!seeds.is_empty(), "{target} has no seeds");
    for seed in &seeds {
        run(seed);
    }
    for input in files(&folder("regressions", target)) {
        run(&input);
    }
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..6));
    let result = runner.run(&strategy, |(seed, mutations)| {
        let input = mutate(&seeds[seed], &seeds, &mutations);
        let outcome = std::panic::catch_unwind(|| run(&input));
        prop_assert!(
            outcome.is_ok(),
            "{target} broke on {} bytes: {:?}",
            input.len(),
            String::from_utf8_lossy(&input)
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
}

#[test]
fn image_gate() {
    fuzz("image");
}

#[test]
fn itsm_csv_import() {
    fuzz("itsm_csv");
}

#[test]
fn keymap_files() {
    fuzz("keymap");
}

#[test]
fn theme_files() {
    fuzz("theme");
}

#[test]
fn config_file() {
    fuzz("config");
}

#[test]
fn change_stream() {
    fuzz("sse");
}

/// Writes the generated seeds into the corpus, for the libFuzzer runs (`fuzz/`):
/// `cargo test --test fuzz -- --ignored write_generated_seeds`.
#[test]
#[ignore]
fn write_generated_seeds() {
    for (name, _) in opsdesk::fuzz::TARGETS {
        for (i, seed) in generated(name).iter().enumerate() {
            let dir = folder("corpus", name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("generated-{i}")), seed).unwrap();
        }
    }
}
