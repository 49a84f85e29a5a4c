//! Pinyin readings of CJK characters, built once into flat tables indexed by code point, so
//! matching a pinyin query reads a table instead of converting text.
//!
//! Every reading of a polyphonic character is accepted (a reader typing `chong` or `zhong`
//! for 重 means one of them), except inside the finance words listed in [`WORDS`], where the
//! word decides: 银行 is `yinhang`, never `yinxing`; 行权 is `xingquan`. The tone-less readings
//! come from the `pinyin` crate's data (the Unicode Han database via pinyin-data); ü is
//! written `v`, as pinyin keyboards take it.

use std::sync::OnceLock;

use pinyin::ToPinyinMulti;

/// The CJK unified ideographs and extension A: the characters a ticket or article is written in.
const FIRST: u16 = 0x3400;
const LAST: u16 = 0x9FFF;

/// Words whose polyphonic characters are read one way in this trade; `(word, readings)`.
const WORDS: &[(&str, &[&str])] = &[
    ("银行", &["yin", "hang"]),
    ("行情", &["hang", "qing"]),
    ("行业", &["hang", "ye"]),
    ("分行", &["fen", "hang"]),
    ("支行", &["zhi", "hang"]),
    ("行长", &["hang", "zhang"]),
    ("同行", &["tong", "hang"]),
    ("行权", &["xing", "quan"]),
    ("执行", &["zhi", "xing"]),
    ("发行", &["fa", "xing"]),
    ("运行", &["yun", "xing"]),
    ("进行", &["jin", "xing"]),
    ("行为", &["xing", "wei"]),
    ("重置", &["chong", "zhi"]),
    ("重新", &["chong", "xin"]),
    ("重复", &["chong", "fu"]),
    ("重启", &["chong", "qi"]),
    ("重要", &["zhong", "yao"]),
    ("还款", &["huan", "kuan"]),
    ("归还", &["gui", "huan"]),
    ("偿还", &["chang", "huan"]),
    ("还是", &["hai", "shi"]),
    ("利率", &["li", "lv"]),
    ("费率", &["fei", "lv"]),
    ("汇率", &["hui", "lv"]),
    ("比率", &["bi", "lv"]),
    ("收益率", &["shou", "yi", "lv"]),
    ("长期", &["chang", "qi"]),
    ("增长", &["zeng", "zhang"]),
    ("调整", &["tiao", "zheng"]),
    ("调用", &["diao", "yong"]),
    ("调查", &["diao", "cha"]),
    ("单位", &["dan", "wei"]),
    ("参数", &["can", "shu"]),
    ("差额", &["cha", "e"]),
    ("出差", &["chu", "chai"]),
    ("传输", &["chuan", "shu"]),
    ("冲正", &["chong", "zheng"]),
    ("折扣", &["zhe", "kou"]),
    ("处理", &["chu", "li"]),
    ("数据", &["shu", "ju"]),
    ("转账", &["zhuan", "zhang"]),
    ("账户", &["zhang", "hu"]),
    ("结算", &["jie", "suan"]),
    ("交割", &["jiao", "ge"]),
    ("提供", &["ti", "gong"]),
    ("供应", &["gong", "ying"]),
    ("应答", &["ying", "da"]),
    ("答应", &["da", "ying"]),
    ("相应", &["xiang", "ying"]),
    ("没有", &["mei", "you"]),
    ("朝阳", &["chao", "yang"]),
    ("质押", &["zhi", "ya"]),
    ("解冻", &["jie", "dong"]),
    ("着急", &["zhao", "ji"]),
    ("看着", &["kan", "zhe"]),
    ("乐意", &["le", "yi"]),
    ("音乐", &["yin", "yue"]),
    ("便宜", &["pian", "yi"]),
    ("方便", &["fang", "bian"]),
    ("省份", &["sheng", "fen"]),
    ("降低", &["jiang", "di"]),
    ("大厦", &["da", "sha"]),
];

/// The readings tables: syllables, and per character the range of its readings.
struct Table {
    /// Every tone-less syllable, ASCII, `v` for ü.
    syllables: Vec<Box<str>>,
    /// For character `FIRST + i`: its readings are `readings[spans[i].0 .. spans[i].1]`.
    spans: Vec<(u32, u32)>,
    /// Syllable ids.
    readings: Vec<u16>,
    /// For character `FIRST + i`: bit `l - b'a'` set when a reading starts with letter `l`.
    initials: Vec<u32>,
    /// Characters that some word in `WORDS` reads one way, with the words they occur in.
    words: Vec<(u16, Vec<WordReading>)>,
    /// Per character from [`FIRST`], whether it is in `words`: most are not, and a search
    /// asks for every candidate character.
    in_words: Vec<bool>,
}

/// `word` (as UTF-16 units) reads its character at `offset` as syllable `syllable`.
struct WordReading {
    word: Vec<u16>,
    offset: usize,
    syllable: u16,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// The reading as typed on a pinyin keyboard: `v` for ü, plain letters for the rare marked
/// ones (ê, ḿ, ń); `None` for a reading that still is not plain letters.
fn ascii(reading: &str) -> Option<String> {
    let typed: String = reading
        .chars()
        .map(|c| match c {
            'ü' => 'v',
            'ê' | 'ē' | 'é' | 'ě' | 'è' => 'e',
            'ḿ' => 'm',
            'ń' | 'ň' | 'ǹ' => 'n',
            c => c,
        })
        .collect();
    (!typed.is_empty() && typed.bytes().all(|b| b.is_ascii_lowercase())).then_some(typed)
}

fn build() -> Table {
    let mut syllables: Vec<Box<str>> = Vec::new();
    let mut ids = std::collections::HashMap::new();
    let mut id_of = |s: String, syllables: &mut Vec<Box<str>>| -> u16 {
        *ids.entry(s.clone()).or_insert_with(|| {
            syllables.push(s.into_boxed_str());
            (syllables.len() - 1) as u16
        })
    };
    let count = usize::from(LAST - FIRST) + 1;
    let mut spans = Vec::with_capacity(count);
    let mut readings = Vec::new();
    let mut initials = Vec::with_capacity(count);
    for unit in FIRST..=LAST {
        let start = readings.len() as u32;
        let mut mask = 0u32;
        if let Some(multi) = char::from_u32(u32::from(unit)).and_then(|c| c.to_pinyin_multi()) {
            for s in multi.into_iter().filter_map(|p| ascii(p.plain())) {
                let id = id_of(s.clone(), &mut syllables);
                if !readings[start as usize..].contains(&id) {
                    readings.push(id);
                    if let Some(&b) = s.as_bytes().first() {
                        mask |= 1 << (b - b'a');
                    }
                }
            }
        }
        spans.push((start, readings.len() as u32));
        initials.push(mask);
    }
    let mut words: Vec<(u16, Vec<WordReading>)> = Vec::new();
    for (word, reads) in WORDS {
        let units: Vec<u16> = word.encode_utf16().collect();
        for (offset, (&unit, reading)) in units.iter().zip(reads.iter()).enumerate() {
            let syllable = id_of((*reading).to_string(), &mut syllables);
            let entry = WordReading {
                word: units.clone(),
                offset,
                syllable,
            };
            match words.iter_mut().find(|(u, _)| *u == unit) {
                Some((_, list)) => list.push(entry),
                None => words.push((unit, vec![entry])),
            }
        }
    }
    words.sort_by_key(|(u, _)| *u);
    let mut in_words = vec![false; count];
    for (unit, _) in &words {
        if let Some(i) = index(*unit) {
            in_words[i] = true;
        }
    }
    Table {
        syllables,
        spans,
        readings,
        initials,
        words,
        in_words,
    }
}

#[inline]
fn index(unit: u16) -> Option<usize> {
    (FIRST..=LAST)
        .contains(&unit)
        .then(|| usize::from(unit - FIRST))
}

/// Whether `unit` is a CJK character this module reads.
#[inline]
pub fn is_han(unit: u16) -> bool {
    index(unit).is_some()
}

/// The letters (bit `l - 'a'`) that some reading of `unit` starts with; 0 for a non-Han unit.
pub fn initials(unit: u16) -> u32 {
    Initials::get().of(unit)
}

/// The initials table, fetched once for a scan that asks about every character.
#[derive(Clone, Copy)]
pub struct Initials(&'static [u32]);

impl Initials {
    pub fn get() -> Initials {
        Initials(&table().initials)
    }

    #[inline]
    pub fn of(self, unit: u16) -> u32 {
        self.0
            .get(usize::from(unit.wrapping_sub(FIRST)))
            .copied()
            .unwrap_or(0)
    }
}

/// The readings of `text[at]` in its context: the word's reading inside a listed word, else
/// every reading of the character.
pub fn readings_at(text: &[u16], at: usize) -> impl Iterator<Item = &'static str> {
    let t = table();
    let unit = text[at];
    let han = index(unit);
    let fixed = han
        .filter(|&i| t.in_words[i])
        .and_then(|_| t.words.binary_search_by_key(&unit, |(u, _)| *u).ok())
        .and_then(|i| {
            t.words[i].1.iter().find(|w| {
                at >= w.offset
                    && text
                        .get(at - w.offset..at - w.offset + w.word.len())
                        .is_some_and(|s| s == w.word.as_slice())
            })
        })
        .map(|w| w.syllable);
    let all = match (fixed, han) {
        (Some(_), _) | (None, None) => &[][..],
        (None, Some(i)) => {
            let (a, b) = t.spans[i];
            &t.readings[a as usize..b as usize]
        }
    };
    fixed
        .into_iter()
        .chain(all.iter().copied())
        .map(|id| &*t.syllables[usize::from(id)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn read(s: &str, at: usize) -> Vec<&'static str> {
        readings_at(&units(s), at).collect()
    }

    #[test]
    fn finance_words_decide_the_reading_of_polyphonic_characters() {
        assert_eq!(read("银行卡", 1), vec!["hang"]);
        assert_eq!(read("行情", 0), vec!["hang"]);
        assert_eq!(read("行权价", 0), vec!["xing"]);
        assert_eq!(read("密码重置", 2), vec!["chong"]);
        let alone = read("行", 0);
        assert!(
            alone.contains(&"xing") && alone.contains(&"hang"),
            "{alone:?}"
        );
    }

    #[test]
    fn readings_are_ascii_with_v_for_u_umlaut() {
        assert!(read("绿", 0).contains(&"lv"));
        assert_eq!(read("开户失败", 0), vec!["kai"]);
        assert_eq!(read("开户失败", 3), vec!["bai"]);
        for unit in FIRST..=LAST {
            for r in readings_at(&[unit], 0) {
                assert!(r.bytes().all(|b| b.is_ascii_lowercase()), "{unit:x} {r}");
            }
        }
    }

    #[test]
    fn initials_mask_names_the_first_letters() {
        let kai = units("开")[0];
        assert_eq!(initials(kai), 1 << (b'k' - b'a'));
        assert_eq!(initials(u16::from(b'k')), 0);
        assert!(!is_han(u16::from(b'a')));
    }
}
