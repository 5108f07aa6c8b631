//! The report's charts, drawn by plotters into SVG strings. The x axis of every chart of one
//! deployment is seconds since its start, so the timeline and the metric charts line up.

use cutover_core::timeline::Timeline;
use cutover_core::Colour;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 260;
const BLUE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const GREEN: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const BAKE: RGBColor = RGBColor(0xf2, 0xc1, 0x4e);
const ROLLBACK: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const ALARM: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
const FONT: &str = "sans-serif";

pub fn colour_of(c: Colour) -> RGBColor {
    match c {
        Colour::Blue => BLUE,
        Colour::Green => GREEN,
    }
}

/// The hex a chart strokes a colour's line with: what the page's legend and the browser test use.
pub fn hex(c: Colour) -> String {
    let RGBColor(r, g, b) = colour_of(c);
    format!("#{r:02X}{g:02X}{b:02X}")
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A legend's sample of a line series.
fn legend_line(style: impl Into<ShapeStyle>) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style)
}

/// Every chart's legend, in the same corner and style.
fn draw_legend<'a>(chart: &mut Chart<'a, 'a>) -> Drawn {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
}
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn svg(draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| format!("drawing a chart: {e}"))?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Below this span whole seconds would label every tick alike: the axis counts tenths instead.
const SHORT_SPAN_S: f64 = 30.0;

/// A tick label, seconds since the deployment started: `m:ss`, or `s.s s` over a short span.
fn clock(span: f64, seconds: f64) -> String {
    if span < SHORT_SPAN_S {
        return format!("{:.1} s", seconds.max(0.0));
    }
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn axis_description(span: f64) -> &'static str {
    if span < SHORT_SPAN_S {
        "time since start (s)"
    } else {
        "time since start (m:ss)"
    }
}

fn seconds(t: &Timeline, at_ms: u64) -> f64 {
    at_ms.saturating_sub(t.started_at_ms) as f64 / 1000.0
}

fn span(t: &Timeline) -> f64 {
    seconds(t, t.ended_at_ms).max(1.0)
}

/// Each colour's share as a step line, the bake windows shaded, a dot per verdict at the share it
/// judged (red when Unhealthy), and a vertical line at the alarm and at the rollback request.
pub fn timeline(t: &Timeline) -> Result<String, String> {
    svg(|root| {
        let end = span(t);
        let mut chart = ChartBuilder::on(root)
            .caption("Listener weights", (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..end, -4f64..104f64)?;
        chart
            .configure_mesh()
            .y_labels(3)
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .x_label_formatter(&|s| clock(end, *s))
            .x_desc(axis_description(end))
            .draw()?;
        chart
            .draw_series(t.bakes.iter().map(|b| {
                let (x0, x1) = (seconds(t, b.from_ms), seconds(t, b.to_ms));
                Rectangle::new([(x0, -4.0), (x1, 104.0)], BAKE.mix(0.25).filled())
            }))?
            .label("bake + verification")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], BAKE.mix(0.5).filled()));
        for colour in [Colour::Blue, Colour::Green] {
            let share = |candidate: u8| {
                if colour == t.candidate {
                    f64::from(candidate)
                } else {
                    100.0 - f64::from(candidate)
                }
            };
            let mut points = Vec::new();
            for p in &t.split {
                let x = seconds(t, p.at_ms);
                if let Some(&(_, last)) = points.last() {
                    points.push((x, last));
                }
                points.push((x, share(p.candidate_percent)));
            }
            if let Some(&(_, last)) = points.last() {
                points.push((end, last));
            }
            let stroke = colour_of(colour).stroke_width(3);
            chart
                .draw_series(LineSeries::new(points, stroke))?
                .label(format!("{colour} %"))
                .legend(legend_line(stroke));
        }
        chart.draw_series(t.verdicts.iter().map(|v| {
            let fill = if v.verdict == "Healthy" {
                BLACK.filled()
            } else {
                ROLLBACK.filled()
            };
            Circle::new(
                (seconds(t, v.at_ms), f64::from(v.candidate_weight)),
                5,
                fill,
            )
        }))?;
        if let Some(r) = &t.rollback {
            let vertical = |at: u64, c: RGBColor| {
                PathElement::new(
                    vec![(seconds(t, at), -4.0), (seconds(t, at), 104.0)],
                    c.stroke_width(2),
                )
            };
            if let Some(at) = r.alarm_at_ms {
                chart
                    .draw_series([vertical(at, ALARM)])?
                    .label("alarm")
                    .legend(legend_line(ALARM));
            }
            chart
                .draw_series([vertical(r.requested_at_ms, ROLLBACK)])?
                .label("rollback requested")
                .legend(legend_line(ROLLBACK));
        }
        draw_legend(&mut chart)
    })
}

/// One metric of the candidate and the baseline, per period (seconds since the epoch → value).
pub struct Pair<'a> {
    pub title: &'a str,
    pub unit: &'a str,
    pub candidate: BTreeMap<i64, f64>,
    pub baseline: BTreeMap<i64, f64>,
}

/// The candidate's and the baseline's series of one metric over the deployment's window.
pub fn metric(t: &Timeline, pair: &Pair<'_>) -> Result<String, String> {
    svg(|root| {
        let start_s = (t.started_at_ms / 1000) as i64;
        let x = |ts: i64| (ts - start_s) as f64;
        let all = pair.candidate.values().chain(pair.baseline.values());
        let top = all.copied().fold(0.0, f64::max).max(1.0) * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(pair.title, (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..span(t), 0f64..top)?;
        chart
            .configure_mesh()
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.1} {}", pair.unit))
            .x_label_formatter(&|s| clock(span(t), *s))
            .x_desc(axis_description(span(t)))
            .draw()?;
        let baseline = t.candidate.other();
        for (colour, series, role) in [
            (t.candidate, &pair.candidate, "candidate"),
            (baseline, &pair.baseline, "baseline"),
        ] {
            let stroke = colour_of(colour).stroke_width(2);
            chart
                .draw_series(LineSeries::new(
                    series.iter().map(|(&ts, &v)| (x(ts), v)),
                    stroke,
                ))?
                .label(format!("{role} ({colour})"))
                .legend(legend_line(stroke));
        }
        draw_legend(&mut chart)
    })
}
