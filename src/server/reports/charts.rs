//! The reports' charts as inline SVG: pure functions from labels and numbers to markup, with
//! no script and no external asset, so a mailed report draws them offline.
//!
//! Each chart is built with maud, so every label is escaped (maud's HTML escaping of `&`, `<`,
//! `>` and `"` is also valid XML escaping). Each has a `viewBox` about a phone wide and
//! `width="100%"`: it scales to its container, and its text stays readable at 360 px.
//! Colours are set on the shapes themselves (not by the page's CSS), so a chart reads the same
//! wherever it is pasted; they are dark enough on white to print and to read in sunlight.

use maud::{Markup, html};
use unicode_width::UnicodeWidthChar;

/// Text size in viewBox units (about CSS pixels on a phone).
const FONT: f64 = 12.0;
const SMALL: f64 = 11.0;

const INK: &str = "#111827";
const MUTED: &str = "#4b5563";
const GRID: &str = "#d1d5db";
const GHOST: &str = "#c3cddb";
const BLUE: &str = "#1d4ed8";
const ORANGE: &str = "#c2410c";
const GREEN: &str = "#047857";
const SLATE: &str = "#64748b";
const TEAL: &str = "#0f766e";
const AREA: &str = "#dbe6fb";
/// The colours of a line chart's series, in order.
const SERIES: [&str; 3] = [BLUE, ORANGE, GREEN];

/// One bar: this period's value and, as a ghost behind it, the period before's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub previous: Option<u64>,
}

/// One line of a line chart; `None` where the period has no value (the line breaks there).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A number in SVG: at most one decimal, no trailing `.0`.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// About how wide `text` is drawn at `size`: CJK characters a full em, Latin about half.
/// Errs wide, so labels laid out by it do not collide.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(|c| char_width(c, size)).sum()
}

fn char_width(c: char, size: f64) -> f64 {
    c.width().unwrap_or(0) as f64 * size * 0.56
}

/// `text` cut with `…` to fit `max` at `size`.
fn clip(text: &str, max: f64, size: f64) -> String {
    if text_width(text, size) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = char_width('…', size);
    for c in text.chars() {
        used += char_width(c, size);
        if used > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The smallest of 1, 2, 5 or 10 times a power of ten that is at least `v`: an axis's top.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= v)
        .unwrap_or(10.0 * magnitude)
}

/// The `<svg>` around a chart: scales with its container; `label` names it for screen readers.
fn frame(width: f64, height: f64, label: &str, body: Markup) -> Markup {
    html! {
        svg viewBox=(format!("0 0 {} {}", n(width), n(height))) width="100%"
            role="img" aria-label=(label) font-size=(n(FONT)) fill=(INK) {
            title { (label) }
            (body)
        }
    }
}

/// Colour swatches with names, left to right from `(x, y)` (the text's baseline).
fn legend(x: f64, y: f64, items: &[(&str, &str, bool)]) -> Markup {
    let mut at = x;
    let mut placed = Vec::new();
    for (colour, name, dashed) in items {
        placed.push((at, *colour, *name, *dashed));
        at += 18.0 + text_width(name, SMALL) + 12.0;
    }
    html! {
        g font-size=(n(SMALL)) {
            @for (x, colour, name, dashed) in placed {
                @if dashed {
                    line x1=(n(x)) y1=(n(y - 4.0)) x2=(n(x + 14.0)) y2=(n(y - 4.0))
                        stroke=(colour) stroke-width="2" stroke-dasharray="4 2" {}
                } @else {
                    rect x=(n(x)) y=(n(y - 9.0)) width="14" height="10" fill=(colour) {}
                }
                text x=(n(x + 18.0)) y=(n(y)) fill=(MUTED) { (name) }
            }
        }
    }
}

/// Which of `count` evenly spaced labels to draw so none overlaps its neighbour: every
/// `step`-th, counted back from the last (the latest period is always named).
fn label_step(count: usize, spacing: f64, widest: f64) -> usize {
    if count < 2 || spacing <= 0.0 {
        return 1;
    }
    ((widest + 6.0) / spacing).ceil().max(1.0) as usize
}

/// A horizontal bar chart: a row per bar, its label left, its value (and in brackets the
/// period before's) right. Bars are drawn in the order given.
pub fn bars(title: &str, bars: &[Bar]) -> Markup {
    const WIDTH: f64 = 360.0;
    const ROW: f64 = 26.0;
    let ghosts = bars.iter().any(|b| b.previous.is_some());
    let top = if ghosts { 22.0 } else { 2.0 };
    let height = top + ROW * bars.len() as f64 + 2.0;
    let label_w = bars
        .iter()
        .map(|b| text_width(&b.label, FONT))
        .fold(0.0, f64::max)
        .min(WIDTH * 0.34);
    let before = |b: &Bar| b.previous.map(|p| format!(" ({p})")).unwrap_or_default();
    let value_w = bars
        .iter()
        .map(|b| text_width(&format!("{}{}", b.value, before(b)), FONT))
        .fold(0.0, f64::max);
    let (x0, x1) = (label_w + 8.0, WIDTH - value_w - 6.0);
    let max = bars
        .iter()
        .map(|b| b.value.max(b.previous.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let length = |v: u64| n((x1 - x0) * v as f64 / max);
    let (bar_y, bar_h) = if ghosts { (8.0, 10.0) } else { (5.0, 16.0) };
    let body = html! {
        @if ghosts {
            (legend(0.0, 13.0, &[(BLUE, "本期", false), (GHOST, "上期（括号内）", false)]))
        }
        @for (i, b) in bars.iter().enumerate() {
            @let y = top + ROW * i as f64;
            g {
                title {
                    (b.label) "：" (b.value)
                    @if let Some(p) = b.previous { "（上期 " (p) "）" }
                }
                text x=(n(label_w)) y=(n(y + 17.0)) text-anchor="end" {
                    (clip(&b.label, label_w, FONT))
                }
                @if let Some(p) = b.previous {
                    rect x=(n(x0)) y=(n(y + 4.0)) width=(length(p)) height="18" fill=(GHOST) {}
                }
                rect x=(n(x0)) y=(n(y + bar_y)) width=(length(b.value)) height=(n(bar_h))
                    fill=(BLUE) {}
                text x=(n(WIDTH)) y=(n(y + 17.0)) text-anchor="end" {
                    tspan font-weight="bold" { (b.value) }
                    tspan fill=(MUTED) { (before(b)) }
                }
            }
        }
    };
    frame(WIDTH, height, title, body)
}

/// A value axis: what a panel maps onto its height.
struct Axis {
    top: f64,
    height: f64,
    low: f64,
    high: f64,
}

impl Axis {
    fn y(&self, v: f64) -> f64 {
        let span = (self.high - self.low).max(f64::EPSILON);
        self.top + self.height * (1.0 - (v - self.low) / span)
    }
}

/// An SVG path through the points, lifting the pen over the gaps.
fn path(points: impl Iterator<Item = Option<(f64, f64)>>) -> String {
    let mut d = Vec::new();
    let mut drawing = false;
    for point in points {
        match point {
            Some((x, y)) => {
                d.push(format!(
                    "{}{} {}",
                    if drawing { "L" } else { "M" },
                    n(x),
                    n(y)
                ));
                drawing = true;
            }
            None => drawing = false,
        }
    }
    d.join(" ")
}

/// Pushes label positions apart (kept in order) so none is closer than `gap` to the one above.
fn spread(ys: &mut [(f64, usize)], gap: f64) {
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    for i in 1..ys.len() {
        if ys[i].0 - ys[i - 1].0 < gap {
            ys[i].0 = ys[i - 1].0 + gap;
        }
    }
}

/// One panel of the trend chart: grid lines with their values at the left, the series as
/// lines with dots, each series' latest value written at its end.
fn panel(
    xs: &[f64],
    axis: &Axis,
    ticks: &[f64],
    format: &dyn Fn(f64) -> String,
    series: &[(&Series, &str)],
) -> Markup {
    let (left, right) = (
        xs.first().copied().unwrap_or(0.0),
        xs.last().copied().unwrap_or(0.0),
    );
    let mut ends: Vec<(f64, usize)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, (s, _))| s.values.last().copied().flatten().map(|v| (axis.y(v), i)))
        .collect();
    spread(&mut ends, FONT + 1.0);
    html! {
        @for t in ticks {
            @let y = axis.y(*t);
            line x1=(n(left)) y1=(n(y)) x2=(n(right)) y2=(n(y)) stroke=(GRID) stroke-width="1" {}
            text x=(n(left - 6.0)) y=(n(y + 4.0)) text-anchor="end" font-size=(n(SMALL)) fill=(MUTED) {
                (format(*t))
            }
        }
        @for (s, colour) in series {
            @let points = || xs.iter().zip(&s.values).map(|(x, v)| v.map(|v| (*x, axis.y(v))));
            path d=(path(points())) fill="none" stroke=(colour) stroke-width="2"
                stroke-linejoin="round" {}
            @for (x, y) in points().flatten() {
                circle cx=(n(x)) cy=(n(y)) r="2.5" fill=(colour) {}
            }
        }
        @for (y, i) in ends {
            @let (s, colour) = series[i];
            @if let Some(Some(v)) = s.values.last() {
                text x=(n(right + 6.0)) y=(n(y + 4.0)) fill=(colour) font-weight="bold" {
                    (format(*v))
                }
            }
        }
    }
}

/// The range a percentage panel shows: the values with some room, on multiples of 5.
fn percent_range(values: &[Option<f64>]) -> (f64, f64) {
    let present = values.iter().flatten().copied();
    let (min, max) = present.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if min > max {
        return (0.0, 100.0);
    }
    let mut low = (((min - 2.0) / 5.0).floor() * 5.0).max(0.0);
    let mut high = (((max + 2.0) / 5.0).ceil() * 5.0).min(100.0);
    // At least ten points tall, so a flat share does not look like a swing.
    while high - low < 10.0 {
        if high < 100.0 {
            high += 5.0;
        }
        if high - low < 10.0 && low > 0.0 {
            low -= 5.0;
        }
    }
    (low, high)
}

/// The trend over `periods` (short labels, oldest first): counts as lines on one panel
/// (up to three series), and a percentage (a share) on its own panel below, with its own
/// scale, so neither is flattened by the other.
pub fn trend(title: &str, periods: &[String], counts: &[Series], share: Option<&Series>) -> Markup {
    const WIDTH: f64 = 400.0;
    const LEFT: f64 = 34.0;
    const RIGHT: f64 = 46.0;
    let count = periods.len();
    let plot = WIDTH - LEFT - RIGHT;
    let spacing = if count > 1 {
        plot / (count - 1) as f64
    } else {
        0.0
    };
    let xs: Vec<f64> = (0..count)
        .map(|i| {
            if count > 1 {
                LEFT + spacing * i as f64
            } else {
                LEFT + plot / 2.0
            }
        })
        .collect();
    let coloured: Vec<(&Series, &str)> = counts.iter().zip(SERIES).collect();
    let max = counts
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0, |a: f64, b| a.max(*b));
    let high = nice_ceiling(max);
    let counts_axis = Axis {
        top: 30.0,
        height: 130.0,
        low: 0.0,
        high,
    };
    let mut bottom = counts_axis.top + counts_axis.height;
    let share_axis = share.map(|s| {
        let (low, high) = percent_range(&s.values);
        Axis {
            top: bottom + 32.0,
            height: 60.0,
            low,
            high,
        }
    });
    if let Some(a) = &share_axis {
        bottom = a.top + a.height;
    }
    let height = bottom + 26.0;
    let mut names: Vec<(&str, &str, bool)> = coloured
        .iter()
        .map(|(s, c)| (*c, s.name.as_str(), false))
        .collect();
    if let Some(s) = share {
        names.push((GREEN, s.name.as_str(), false));
    }
    let widest = periods
        .iter()
        .map(|p| text_width(p, SMALL))
        .fold(0.0, f64::max);
    let step = label_step(count, spacing, widest);
    let body = html! {
        (legend(0.0, 13.0, &names))
        (panel(&xs, &counts_axis, &[0.0, high / 2.0, high], &|v| n(v), &coloured))
        @if let (Some(s), Some(axis)) = (share, &share_axis) {
            @let middle = (axis.low + axis.high) / 2.0;
            (panel(&xs, axis, &[axis.low, middle, axis.high], &|v| format!("{}%", n(v)), &[(s, GREEN)]))
        }
        g font-size=(n(SMALL)) fill=(MUTED) text-anchor="middle" {
            @for (i, (x, label)) in xs.iter().zip(periods).enumerate() {
                @if (count - 1 - i).is_multiple_of(step) {
                    text x=(n(*x)) y=(n(bottom + 20.0)) { (label) }
                }
            }
        }
    };
    frame(WIDTH, height, title, body)
}

/// A small line of a count per day (`(label, count)`, in order), with its values above the
/// points where they fit (else the highest and the last only) and the days below.
pub fn sparkline(title: &str, points: &[(String, u64)]) -> Markup {
    const WIDTH: f64 = 360.0;
    const SIDE: f64 = 20.0;
    let count = points.len();
    let spacing = if count > 1 {
        (WIDTH - 2.0 * SIDE) / (count - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| {
        if count > 1 {
            SIDE + spacing * i as f64
        } else {
            WIDTH / 2.0
        }
    };
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let axis = Axis {
        top: 20.0,
        height: 40.0,
        low: 0.0,
        high: max,
    };
    let base = axis.y(0.0);
    let coords: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (x(i), axis.y(p.1 as f64)))
        .collect();
    let line = path(coords.iter().map(|c| Some(*c)));
    let area = match (coords.first(), coords.last()) {
        (Some(first), Some(last)) => format!(
            "M{} {} {} L{} {} Z",
            n(first.0),
            n(base),
            line.replacen('M', "L", 1),
            n(last.0),
            n(base)
        ),
        _ => String::new(),
    };
    let value_w = points
        .iter()
        .map(|p| text_width(&p.1.to_string(), SMALL))
        .fold(0.0, f64::max);
    let every_value = count < 2 || spacing >= value_w + 4.0;
    let peak = points.iter().map(|p| p.1).max().unwrap_or(0);
    let widest = points
        .iter()
        .map(|p| text_width(&p.0, SMALL))
        .fold(0.0, f64::max);
    let step = label_step(count, spacing, widest);
    let body = html! {
        line x1=(n(SIDE)) y1=(n(base)) x2=(n(WIDTH - SIDE)) y2=(n(base)) stroke=(GRID) {}
        path d=(area) fill=(AREA) {}
        path d=(line) fill="none" stroke=(BLUE) stroke-width="2" stroke-linejoin="round" {}
        g font-size=(n(SMALL)) text-anchor="middle" {
            @for (i, ((cx, cy), (label, value))) in coords.iter().zip(points).enumerate() {
                circle cx=(n(*cx)) cy=(n(*cy)) r="2.5" fill=(BLUE) { title { (label) "：" (value) } }
                @if every_value || *value == peak || i + 1 == count {
                    text x=(n(*cx)) y=(n(cy - 6.0)) font-weight="bold" { (value) }
                }
                @if (count - 1 - i).is_multiple_of(step) {
                    text x=(n(*cx)) y=(n(base + 16.0)) fill=(MUTED) { (label) }
                }
            }
        }
    };
    frame(WIDTH, base + 22.0, title, body)
}

/// Where a bar chart's slots are: `count` of them across `width` with `side` to spare.
struct Slots {
    side: f64,
    width: f64,
}

impl Slots {
    fn centre(&self, i: usize) -> f64 {
        self.side + self.width * (i as f64 + 0.5)
    }
}

/// The average lines of [`before_after`]: each spans the bars it averages, those before the
/// marked week and those after it, as `(value, from x, to x)`.
fn average_spans(
    slots: &Slots,
    weeks: usize,
    marked: Option<usize>,
    before: Option<f64>,
    after: Option<f64>,
) -> Vec<(f64, f64, f64)> {
    let Some(m) = marked else {
        return Vec::new();
    };
    [(before, 0, m), (after, m + 1, weeks)]
        .into_iter()
        .filter(|(_, from, to)| from < to)
        .filter_map(|(v, from, to)| {
            let half = slots.width / 2.0;
            v.map(|v| (v, slots.centre(from) - half, slots.centre(to - 1) + half))
        })
        .collect()
}

/// A knowledge session against the weeks around it: a bar per week (`(label, count)`), the
/// session's week (`marked`) picked out and named, and the average of the weeks before and
/// after it as dashed lines over those weeks.
pub fn before_after(
    title: &str,
    weeks: &[(String, u64)],
    marked: Option<usize>,
    before: Option<f64>,
    after: Option<f64>,
) -> Markup {
    const WIDTH: f64 = 360.0;
    const SIDE: f64 = 4.0;
    let slots = Slots {
        side: SIDE,
        width: (WIDTH - 2.0 * SIDE) / weeks.len().max(1) as f64,
    };
    let bar_w = slots.width * 0.66;
    let max = weeks
        .iter()
        .map(|w| w.1 as f64)
        .chain(before)
        .chain(after)
        .fold(1.0, f64::max);
    let axis = Axis {
        top: 40.0,
        height: 100.0,
        low: 0.0,
        high: nice_ceiling(max),
    };
    let base = axis.y(0.0);
    let colour = |i: usize| match marked {
        Some(m) if i == m => BLUE,
        Some(m) if i > m => TEAL,
        _ => SLATE,
    };
    let widest = weeks
        .iter()
        .map(|w| text_width(&w.0, SMALL))
        .fold(0.0, f64::max);
    let step = label_step(weeks.len(), slots.width, widest);
    let legend_items = [
        (SLATE, "分享前", false),
        (BLUE, "分享当周", false),
        (TEAL, "分享后", false),
        (INK, "平均每周", true),
    ];
    // The average lines go first, behind the bars, so they never cross a bar's number.
    let body = html! {
        (legend(0.0, 13.0, &legend_items))
        line x1=(n(SIDE)) y1=(n(base)) x2=(n(WIDTH - SIDE)) y2=(n(base)) stroke=(GRID) {}
        @for (v, from, to) in average_spans(&slots, weeks.len(), marked, before, after) {
            line x1=(n(from)) y1=(n(axis.y(v))) x2=(n(to)) y2=(n(axis.y(v)))
                stroke=(INK) stroke-width="1.5" stroke-dasharray="5 3" {}
        }
        g font-size=(n(SMALL)) text-anchor="middle" font-weight="bold" {
            @for (i, (label, value)) in weeks.iter().enumerate() {
                @let (x, top) = (slots.centre(i), axis.y(*value as f64));
                rect x=(n(x - bar_w / 2.0)) y=(n(top)) width=(n(bar_w))
                    height=(n(base - top)) fill=(colour(i)) { title { (label) "：" (value) } }
                @if base - top >= SMALL + 6.0 {
                    text x=(n(x)) y=(n(top + SMALL + 2.0)) fill="#ffffff" { (value) }
                } @else {
                    text x=(n(x)) y=(n(top - 4.0)) { (value) }
                }
                @if Some(i) == marked {
                    text x=(n(x)) y=(n(top - 5.0)) fill=(BLUE) { "分享会" }
                }
                @if (weeks.len() - 1 - i).is_multiple_of(step) {
                    text x=(n(x)) y=(n(base + 16.0)) fill=(MUTED) font-weight="normal" { (label) }
                }
            }
        }
    };
    frame(WIDTH, base + 22.0, title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(175.0), 200.0);
        assert_eq!(nice_ceiling(200.0), 200.0);
        assert_eq!(nice_ceiling(201.0), 500.0);
        assert_eq!(percent_range(&[Some(83.7), Some(86.3)]), (80.0, 90.0));
        assert_eq!(percent_range(&[Some(99.0)]), (90.0, 100.0));
        assert_eq!(percent_range(&[None]), (0.0, 100.0));
    }

    #[test]
    fn labels_are_cut_to_fit_and_escaped() {
        assert_eq!(clip("交易", 100.0, 12.0), "交易");
        let cut = clip("两融担保比例显示与柜台不一致", 60.0, 12.0);
        assert!(
            cut.ends_with('…') && text_width(&cut, 12.0) <= 60.0,
            "{cut}"
        );
        let svg = bars(
            "<b>图</b>",
            &[Bar {
                label: "<script>x</script>".into(),
                value: 3,
                previous: Some(1),
            }],
        )
        .into_string();
        assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;") && svg.contains("viewBox="),
            "{svg}"
        );
    }

    #[test]
    fn lines_break_over_missing_values() {
        let d = path([Some((0.0, 1.0)), Some((1.0, 2.0)), None, Some((3.0, 4.0))].into_iter());
        assert_eq!(d, "M0 1 L1 2 M3 4");
    }

    #[test]
    fn empty_and_single_point_charts_still_draw() {
        for svg in [
            trend("t", &[], &[], None),
            trend(
                "t",
                &["W1".into()],
                &[Series {
                    name: "a".into(),
                    values: vec![Some(3.0)],
                }],
                None,
            ),
            sparkline("s", &[]),
            sparkline("s", &[("11-16".into(), 0)]),
            before_after("b", &[], None, None, None),
            bars("b", &[]),
        ] {
            let svg = svg.into_string();
            assert!(svg.starts_with("<svg") && !svg.contains("NaN"), "{svg}");
        }
    }
}
