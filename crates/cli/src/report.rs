//! How progress reaches a person or a CI log: a live status line on a terminal, one plain line per
//! event otherwise, or one JSON object per event with `--output json`.

use cutover_core::{Colour, Weights};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A live status line on a terminal, plain lines when stdout is not one (CI logs).
    Text,
    /// One JSON object per line: every event, then the result.
    Json,
}

pub struct Report {
    format: Format,
    started: Instant,
    live: Option<ProgressBar>,
    /// What every line of this report is about (a region of a release), before its text.
    scope: Option<String>,
}

/// `blue ##################|== green`: each mark is 5 %.
pub fn bar(w: Weights) -> String {
    format!(
        "blue {}|{} green",
        "#".repeat(usize::from(w.of(Colour::Blue)) / 5),
        "=".repeat(usize::from(w.of(Colour::Green)) / 5)
    )
}

/// The candidate's share at each listener change, as a terminal sparkline (`▁` 0 % … `█` 100 %) with
/// the shares after it: `▁▂█ 0→10→100 %`.
pub fn sparkline(candidate_shares: &[u8]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let bars: String = candidate_shares
        .iter()
        .map(|&p| BARS[(usize::from(p.min(100)) * 7).div_ceil(100)])
        .collect();
    let figures: Vec<String> = candidate_shares.iter().map(u8::to_string).collect();
    format!("{bars} {} %", figures.join("→"))
}

impl Report {
    pub fn new(format: Format) -> Report {
        let live = (format == Format::Text && std::io::stdout().is_terminal()).then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("template"),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        Report {
            format,
            started: Instant::now(),
            live,
            scope: None,
        }
    }

    /// The same report, each line starting `<scope>: ` (and, in JSON, carrying `scope`).
    pub fn scoped(&self, scope: &str) -> Report {
        Report {
            format: self.format,
            started: self.started,
            live: self.live.clone(),
            scope: Some(scope.to_string()),
        }
    }

    /// One event: `kind` names it, `text` is what a person reads, `data` what a program reads.
    pub fn event(&self, kind: &str, text: &str, data: Value) {
        match (self.format, &self.scope) {
            (Format::Json, None) => println!(
                "{}",
                json!({ "event": kind, "data": data, "message": text })
            ),
            (Format::Json, Some(scope)) => println!(
                "{}",
                json!({ "event": kind, "scope": scope, "data": data, "message": text })
            ),
            (Format::Text, scope) => {
                let text = match scope {
                    Some(s) => format!("{s}: {text}"),
                    None => text.to_string(),
                };
                let line = format!("[{:7.1}s] {text}", self.started.elapsed().as_secs_f64());
                match &self.live {
                    Some(pb) => pb.println(line),
                    None => println!("{line}"),
                }
            }
        }
    }

    /// The terminal's status line (current step, split, bake countdown); nothing elsewhere.
    pub fn status(&self, text: String) {
        if let Some(pb) = &self.live {
            pb.set_message(text);
        }
    }

    pub fn finish(&self) {
        if let Some(pb) = &self.live {
            pb.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_canary_then_a_rollback_reads_as_its_shares() {
        assert_eq!(super::sparkline(&[0, 10, 100]), "▁▂█ 0→10→100 %");
        assert_eq!(super::sparkline(&[0, 10, 0]), "▁▂▁ 0→10→0 %");
        assert_eq!(super::sparkline(&[]), "  %");
    }
}
