// The read-only HTML page of a run, for people following the link from CI logs and PR comments.
import { html } from "hono/html";
import type { RunDetailView } from "../../services/runs";
import type { VisualDiffView } from "../../services/visual";

const STATUS_COLOURS: Record<string, string> = {
  passed: "#1a7f37", failed: "#cf222e", error: "#9a6700", cancelled: "#57606a", queued: "#0969da", running: "#0969da",
};

export function renderRunPage(run: RunDetailView, diffs: VisualDiffView[] = []) {
  const colour = STATUS_COLOURS[run.status] ?? "#57606a";
  const pending = diffs.filter((d) => d.status === "pending").length;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Run ${run.runId}: ${run.status}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1f2328}
.status{display:inline-block;padding:.1rem .6rem;border-radius:1rem;color:#fff;background:${colour}}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.4rem;text-align:left;vertical-align:top}
img{max-width:24rem;border:1px solid #d0d7de}.muted{color:#57606a}
.diff{display:grid;grid-template-columns:repeat(3,1fr);gap:.5rem}.diff img{max-width:100%}
</style>
</head>
<body>
<h1>Run <code>${run.runId}</code> <span class="status" data-status="${run.status}">${run.status}</span></h1>
<p><span data-count="passed">${run.passed}</span> passed · <span data-count="failed">${run.failed}</span> failed ·
<span data-count="skipped">${run.skipped}</span> skipped · ${run.total} total</p>
<p class="muted">Base URL ${run.baseUrl ?? "(none)"} · browser ${run.browserProfile} · triggered ${run.createdAt}
${run.durationMs !== null ? html` · took ${(run.durationMs / 1000).toFixed(1)} s` : ""}</p>
${run.errorMessage ? html`<p><strong>Error:</strong> ${run.errorMessage}</p>` : ""}
<table>
<thead><tr><th>Case</th><th>Status</th><th>Time</th><th>Reason</th></tr></thead>
<tbody>
${run.results.map(
  (r) => html`<tr data-case="${r.caseId}">
<td>${r.caseName}</td><td>${r.status}</td><td>${r.durationMs} ms</td>
<td>${r.reason ?? ""}${r.screenshotUrl ? html`<br><a href="${r.screenshotUrl}"><img src="${r.screenshotUrl}" alt="Screenshot of the failure"></a>` : ""}</td>
</tr>`,
)}
</tbody>
</table>
${diffs.length
  ? html`<h2>Visual diffs <span class="muted">(<span data-count="pending-diffs">${pending}</span> pending)</span></h2>
${diffs.map(
  (d) => html`<section data-diff="${d.id}" data-diff-status="${d.status}">
<h3>${d.caseName} · ${d.step} · ${d.status}</h3>
<p class="muted">${(d.changedShare * 100).toFixed(3)}% of pixels changed (threshold ${(d.threshold * 100).toFixed(3)}%) · ${d.baseline.why}${d.rendererChanged ? html` · <strong>renderer changed</strong> (${d.baseline.chromiumVersion} → ${d.captureChromiumVersion})` : ""}</p>
<div class="diff">
<figure><a href="${d.baselineUrl}"><img src="${d.baselineUrl}" alt="Baseline"></a><figcaption>Baseline v${d.baseline.version} (${d.baseline.branch})</figcaption></figure>
<figure><a href="${d.captureUrl}"><img src="${d.captureUrl}" alt="Capture"></a><figcaption>This run</figcaption></figure>
<figure><a href="${d.diffUrl}"><img src="${d.diffUrl}" alt="Diff"></a><figcaption>Changed pixels in red</figcaption></figure>
</div>
</section>`,
)}`
  : ""}
${run.status === "queued" || run.status === "running" ? liveUpdates : ""}
</body>
</html>`;
}

/**
 * While the run is going, the page follows its events (the signed `events` link beside the page,
 * the page's own signature granting it) and shows the latest; it reloads when the run settles.
 */
const liveUpdates = html`<p class="muted" data-live>Live: waiting for the run…</p>
<script>
(() => {
  const line = document.querySelector("[data-live]");
  const events = new EventSource(location.pathname + "/events" + location.search);
  for (const type of ["status_changed", "case_started", "case_finished", "step_failed"]) {
    events.addEventListener(type, (message) => {
      const event = JSON.parse(message.data);
      const d = event.data;
      line.textContent = "Live: " + type.replace("_", " ") + (d.caseName ? " · " + d.caseName : "") + (d.status ? " · " + d.status : "");
      if (type === "status_changed" && !["queued", "running"].includes(d.status)) {
        events.close();
        location.reload();
      }
    });
  }
})();
</script>`;
