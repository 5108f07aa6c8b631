//! `cutover report`'s page: one self-contained HTML file (inline CSS and SVG, no script, nothing
//! fetched), so it opens from disk or as a CI artefact. Every text from a record is escaped: image
//! names, reasons and alarm names are data, not markup.

pub mod charts;

use charts::Pair;
use cutover_core::timeline::{Summary, Timeline};
use cutover_core::GroupSeries;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One deployment's section: its timeline, and the metric charts or why there are none.
pub struct Section {
    pub timeline: Timeline,
    /// Candidate's then baseline's series, read from CloudWatch for the deployment's window.
    pub metrics: Result<[GroupSeries; 2], String>,
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn when(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn duration(ms: Option<u64>) -> String {
    ms.map_or("-".into(), |ms| {
        if ms < 10_000 {
            format!("{:.1} s", ms as f64 / 1000.0)
        } else {
            format!("{} s", (ms as f64 / 1000.0).round())
        }
    })
}

/// 5XX responses as a percentage of requests, in periods with requests.
fn error_rate(s: &GroupSeries) -> BTreeMap<i64, f64> {
    s.requests
        .iter()
        .filter(|(_, &n)| n > 0.0)
        .map(|(t, n)| (*t, s.errors_5xx.get(t).copied().unwrap_or(0.0) * 100.0 / n))
        .collect()
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:960px}\
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 8px;\
text-align:left;font-size:14px;vertical-align:top}th{background:#f4f4f4}\
section.deployment{border-top:2px solid #888;margin-top:28px}figure{margin:8px 0}\
.Promoted{color:#2ca02c}.RolledBack,.Failed,.Unhealthy{color:#d62728}.note{color:#666}";

pub fn page(
    app: &str,
    env: &str,
    generated_at_ms: u64,
    summary: &Summary,
    sections: &[Section],
) -> Result<String, String> {
    let mut h = String::new();
    let title = escape(&format!("Cutover report: {app}/{env}"));
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{STYLE}</style></head><body><h1>{title}</h1>\
         <p class=\"note\">Generated {} from the deployment ledger and CloudWatch.</p>",
        when(generated_at_ms)
    );
    history(&mut h, summary, sections);
    for s in sections {
        section(&mut h, s)?;
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

fn history(h: &mut String, s: &Summary, sections: &[Section]) {
    let rate = s
        .success_rate_percent
        .map_or("-".into(), |r| format!("{r:.0} %"));
    let _ = write!(
        h,
        "<h2>History of the last {n} deployments</h2><table id=\"summary\"><tr><th>Success rate</th>\
         <th>Promoted</th><th>Rolled back</th><th>Failed</th><th>In flight</th>\
         <th>Median duration</th><th>Time to rollback p50 / max</th></tr><tr>\
         <td data-success-rate=\"{rate}\">{rate}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{} / {}</td></tr></table>",
        s.promoted,
        s.rolled_back,
        s.failed,
        s.in_flight,
        duration(s.median_duration_ms),
        duration(s.time_to_rollback_p50_ms),
        duration(s.time_to_rollback_max_ms),
        n = sections.len(),
    );
    h.push_str(
        "<table id=\"history\"><tr><th>Started</th><th>Deployment</th><th>Image</th>\
         <th>Outcome</th><th>Duration</th><th>Rollback</th></tr>",
    );
    for t in sections.iter().map(|s| &s.timeline) {
        let rollback = t.rollback.as_ref().map_or("-".into(), |r| {
            let took = r
                .traffic_restored_at_ms
                .map(|at| at.saturating_sub(r.requested_at_ms));
            format!("{} in {}", r.trigger, duration(took))
        });
        let _ = write!(
            h,
            "<tr><td>{}</td><td><a href=\"#d-{id}\">{id}</a></td><td>{}</td>\
             <td class=\"{status:?}\">{status}</td><td>{}</td><td>{}</td></tr>",
            when(t.started_at_ms),
            escape(&t.image),
            duration(Some(t.ended_at_ms.saturating_sub(t.started_at_ms))),
            escape(&rollback),
            id = escape(&t.id),
            status = t.status,
        );
    }
    h.push_str("</table>");
}

fn section(h: &mut String, s: &Section) -> Result<(), String> {
    let t = &s.timeline;
    let id = escape(&t.id);
    let _ = write!(
        h,
        "<section class=\"deployment\" id=\"d-{id}\" data-deployment=\"{id}\" \
         data-candidate=\"{c}\" data-candidate-stroke=\"{cs}\" data-baseline-stroke=\"{bs}\" \
         data-status=\"{status:?}\"><h2>{id}</h2><p>{} → <span class=\"{status:?}\">{status}</span>; \
         candidate {c} running {}</p>",
        when(t.started_at_ms),
        escape(&t.image),
        c = t.candidate,
        cs = charts::hex(t.candidate),
        bs = charts::hex(t.candidate.other()),
        status = t.status,
    );
    if let Some(r) = &t.rollback {
        let alarm = r
            .alarm_at_ms
            .map_or(String::new(), |a| format!("alarm at {}, ", when(a)));
        let _ = write!(
            h,
            "<p class=\"rollback\">Rollback ({}: {}): {alarm}requested at {}, traffic 100 % live at {}.</p>",
            escape(&r.trigger),
            escape(&r.sources.join(", ")),
            when(r.requested_at_ms),
            r.traffic_restored_at_ms.map_or("-".into(), when),
        );
    }
    drill(h, t);
    let _ = write!(
        h,
        "<figure class=\"chart timeline\">{}</figure>",
        charts::timeline(t)?
    );
    match &s.metrics {
        Ok([candidate, baseline]) => {
            let rate = Pair {
                title: "5XX rate (% of requests)",
                unit: "%",
                candidate: error_rate(candidate),
                baseline: error_rate(baseline),
            };
            let p95 = Pair {
                title: "p95 latency",
                unit: "ms",
                candidate: candidate.p95_ms.clone(),
                baseline: baseline.p95_ms.clone(),
            };
            for (class, pair) in [("errors", rate), ("p95", p95)] {
                let _ = write!(
                    h,
                    "<figure class=\"chart {class}\">{}</figure>",
                    charts::metric(t, &pair)?
                );
            }
        }
        Err(why) => {
            let _ = write!(
                h,
                "<p class=\"note metrics\">No metric charts: {}</p>",
                escape(why)
            );
        }
    }
    verdicts(h, t);
    hooks(h, t);
    h.push_str("</section>");
    Ok(())
}

/// A rollback drill: what it injected and how fast it was caught (`cutover drill` prints the
/// requests users got wrong; they are in the history record's `drillReport`).
fn drill(h: &mut String, t: &Timeline) {
    let Some(d) = &t.drill else {
        return;
    };
    let caught = if d.detected {
        format!(
            "detected ({}) in {}, traffic back in {}",
            escape(d.trigger.as_deref().unwrap_or("?")),
            duration(d.detection_ms),
            duration(d.rollback_ms)
        )
    } else {
        "NOT detected: rolled back when the canary ended".to_string()
    };
    let _ = write!(
        h,
        "<p class=\"drill\" data-detected=\"{}\">Rollback drill: {} at {} %: {caught}.</p>",
        d.detected,
        d.fault.as_str(),
        d.weight_percent
    );
}

fn hooks(h: &mut String, t: &Timeline) {
    if t.hooks.is_empty() {
        return;
    }
    h.push_str(
        "<table class=\"hooks\"><tr><th>Hook stage</th><th>Function</th><th>Status</th>\
         <th>Attempts</th><th>Took</th><th>Reason</th></tr>",
    );
    for k in &t.hooks {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"{status}\">{status}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            k.stage.as_str(),
            escape(&k.function),
            k.attempts,
            duration(Some(k.updated_at_ms.saturating_sub(k.started_at_ms))),
            escape(k.reason.as_deref().unwrap_or("")),
            status = escape(&k.status),
        );
    }
    h.push_str("</table>");
}

fn verdicts(h: &mut String, t: &Timeline) {
    if t.verdicts.is_empty() {
        h.push_str("<p class=\"note\">No step was judged.</p>");
        return;
    }
    h.push_str(
        "<table class=\"verdicts\"><tr><th>At</th><th>Step</th><th>Candidate</th><th>Verdict</th>\
         <th>Score</th><th>Reasons</th></tr>",
    );
    for v in &t.verdicts {
        let at = (v.at_ms.saturating_sub(t.started_at_ms) as f64 / 1000.0).round() as u64;
        let reasons: Vec<String> = v.lines.iter().map(|l| escape(l)).collect();
        let _ = write!(
            h,
            "<tr><td>+{}:{:02}</td><td>{}</td><td>{} %</td><td class=\"{v}\">{v}</td><td>{}</td>\
             <td>{}</td></tr>",
            at / 60,
            at % 60,
            v.step_index.map_or("-".into(), |i| i.to_string()),
            v.candidate_weight,
            v.score.map_or("-".into(), |s| format!("{s:.0}")),
            reasons.join("<br>"),
            v = escape(&v.verdict),
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests;
