// Opens a `cutover report` page in headless Chromium (Debian's, through playwright-core) and prints,
// as one JSON object, what a person would see: console errors, any request that left the file (the
// page must be self-contained), and per deployment the levels its timeline draws for the candidate
// and the baseline, read off the rendered SVG through the chart's own axis labels. Saves a screenshot
// next to the page. Usage: node report.mjs REPORT.html [SCREENSHOT.png]
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { pathToFileURL } from "node:url";

const [page_path, shot_arg] = process.argv.slice(2);
if (!page_path) {
  console.error("usage: node report.mjs REPORT.html [SCREENSHOT.png]");
  process.exit(64);
}
const file = resolve(page_path);
const shot = resolve(shot_arg ?? join(dirname(file), "report.png"));
// The machine's network is closed: without these flags Chromium keeps trying Google's hosts.
const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const profile = mkdtempSync(join(tmpdir(), "cutover-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args,
  viewport: { width: 1100, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  const outside = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("request", (r) => r.url().startsWith("file:") || outside.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });

  const read = await page.evaluate(() => {
    // Positions in the chart's own user units: plotters puts a tick label's x (or y) exactly on its
    // tick, in the same coordinates as the series' points.
    const at = (el, axis) => el[axis].baseVal[0].value;
    const points = (line) => Array.from(line.points, (p) => ({ x: p.x, y: p.y }));
    const stroked = (svg, stroke) =>
      Array.from(svg.querySelectorAll("polyline"))
        .filter((l) => (l.getAttribute("stroke") || "").toUpperCase() === stroke.toUpperCase())
        .map(points);
    const longest = (svg, stroke) => stroked(svg, stroke).sort((a, b) => b.length - a.length)[0] ?? [];
    const sections = Array.from(document.querySelectorAll("section.deployment")).map((s) => {
      const svg = s.querySelector("figure.timeline svg");
      const texts = Array.from(svg.querySelectorAll("text"));
      const label = (t) => texts.find((e) => e.textContent.trim() === t);
      const [zero, hundred] = [label("0%"), label("100%")].map((e) => e && at(e, "y"));
      // Tick labels of the time axis: "m:ss", or "s.s s" over a short deployment.
      const clocks = texts
        .map((e) => {
          const t = e.textContent.trim();
          const mss = /^(\d+):(\d\d)$/.exec(t);
          const sec = /^(\d+(?:\.\d+)?) s$/.exec(t);
          const s = mss ? Number(mss[1]) * 60 + Number(mss[2]) : sec ? Number(sec[1]) : null;
          return s === null ? null : { s, x: at(e, "x") };
        })
        .filter(Boolean);
      const [a, b] = [clocks[0], clocks[clocks.length - 1]];
      const seconds = (x) => (a && b && b.x !== a.x ? a.s + ((x - a.x) * (b.s - a.s)) / (b.x - a.x) : null);
      const percent = (y) => Math.round(((zero - y) / (zero - hundred)) * 1000) / 10;
      // A step line's distinct levels in order, and when each began.
      const steps = (pts) => {
        const out = [];
        for (const p of pts) {
          const v = percent(p.y);
          if (!out.length || Math.abs(out[out.length - 1].percent - v) > 0.5) {
            out.push({ percent: v, atS: seconds(p.x) });
          }
        }
        return out;
      };
      // A vertical line (the legend's sample of the same stroke is horizontal).
      const vertical = (stroke) => {
        const l = stroked(svg, stroke).find((p) => p.length === 2 && p[0].x === p[1].x);
        return l ? seconds(l[0].x) : null;
      };
      return {
        id: s.dataset.deployment,
        status: s.dataset.status,
        candidate: steps(longest(svg, s.dataset.candidateStroke)),
        baseline: steps(longest(svg, s.dataset.baselineStroke)),
        rollbackRequestedAtS: vertical("#D62728"),
        charts: s.querySelectorAll("figure.chart svg").length,
        metricsNote: s.querySelector("p.metrics")?.textContent ?? null,
        // Every line each metric chart strokes in the candidate's and the baseline's colour (the
        // legend's sample is one of them, two points long).
        metricLines: Object.fromEntries(["errors", "p95"].map((c) => {
          const svg = s.querySelector(`figure.${c} svg`);
          const lengths = (stroke) => svg ? Array.from(svg.querySelectorAll("polyline"))
            .filter((l) => (l.getAttribute("stroke") || "").toUpperCase() === stroke.toUpperCase())
            .map((l) => l.points.length) : [];
          return [c, { candidate: lengths(s.dataset.candidateStroke), baseline: lengths(s.dataset.baselineStroke) }];
        })),
        verdicts: Math.max(0, s.querySelectorAll("table.verdicts tr").length - 1),
      };
    });
    const rate = document.querySelector("#summary [data-success-rate]");
    return { successRate: rate ? rate.dataset.successRate : null, sections };
  });
  await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ consoleErrors, outsideRequests: outside, ...read, screenshot: shot }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
