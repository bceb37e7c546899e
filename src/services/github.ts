// Reporting a run to GitHub: the commit status (context "aegisrunner") and one sticky comment per
// pull request and project, found again by a hidden marker and updated in place. The calls are
// made by the NOTIFY consumer (services/reporting.ts decides when); this module says what to send
// and how GitHub's answer is read.
import type { CaseResultRow, RunRow } from "../db/runs";
import type { VisualDiffRow } from "../db/visual";
import type { RunStatus } from "../schemas/runs";
import { callOutbound, type Outbound, type OutboundAnswer } from "./outbound";

const GITHUB_STATUS_CONTEXT = "aegisrunner";
const GITHUB_TIMEOUT_MS = 10_000;
/** Enough of an answer to read a comment list page: 30 comments of GitHub's largest (65,536 characters). */
const GITHUB_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const COMMENTS_PER_PAGE = 30;
/** Comment pages searched for our marker before a new comment is made (900 comments). */
const MAX_COMMENT_PAGES = 30;
const TOP_FAILURES = 10;

export type GitHubTarget = { repo: string; prNumber?: number; commitSha?: string };
export type GitHubClient = { outbound: Outbound; apiUrl: string; token: string };

/** The GitHub fields a run was triggered with, when it reports anywhere. */
export function githubTargetOf(run: Pick<RunRow, "options">): GitHubTarget | null {
  const { githubRepo, githubPrNumber, githubCommitSha } = run.options;
  if (!githubRepo || (!githubPrNumber && !githubCommitSha)) return null;
  return { repo: githubRepo, prNumber: githubPrNumber, commitSha: githubCommitSha };
}

// What GitHub is sent.

const STATUS_STATES: Record<RunStatus, { state: "pending" | "success" | "failure" | "error"; describe: (run: RunRow) => string }> = {
  queued: { state: "pending", describe: () => "Queued" },
  running: { state: "pending", describe: () => "Running" },
  passed: { state: "success", describe: (run) => `${run.passed} passed` },
  failed: { state: "failure", describe: (run) => `${run.failed} failed, ${run.passed} passed` },
  error: { state: "error", describe: (run) => `Run error: ${run.errorMessage ?? "not completed"}` },
  cancelled: { state: "error", describe: () => "Run cancelled" },
};

/** The commit status for a run as it is now; GitHub caps the description at 140 characters. */
export function commitStatusOf(run: RunRow, runUrl: string) {
  const { state, describe } = STATUS_STATES[run.status];
  return { state, target_url: runUrl, description: clip(`Aegis: ${describe(run)}`, 140), context: GITHUB_STATUS_CONTEXT };
}

/** The hidden first line that finds this project's comment on a pull request again. */
const commentMarker = (projectId: string) => `<!-- aegisrunner:project=${projectId} -->`;
/** The hidden second line: which run the comment reports (run ids sort by time). */
const runMarker = (runId: string) => `<!-- aegisrunner:run=${runId} -->`;
const reportedRun = (body: string) => /<!-- aegisrunner:run=([0-9a-f-]{36}) -->/.exec(body)?.[1] ?? null;

const HEADLINES: Record<RunStatus, string> = {
  passed: "✅ **Aegis: all tests passed**",
  failed: "❌ **Aegis: tests failed**",
  error: "⚠️ **Aegis: the run did not complete** (an error, not a test failure)",
  cancelled: "⏹️ **Aegis: the run was cancelled**",
  queued: "⏳ **Aegis: the run is queued**",
  running: "⏳ **Aegis: the run is running**",
};

/** The pull request comment: a status line, a counts table, the top failures and visual diffs a reviewer must look at. */
export function commentBodyOf(run: RunRow, results: CaseResultRow[], diffs: VisualDiffRow[], runUrl: string): string {
  const flaky = results.filter((r) => r.status === "passed" && r.attempts > 1).length;
  const lines = [
    commentMarker(run.projectId),
    runMarker(run.id),
    `${HEADLINES[run.status]} · [run ${run.id.slice(0, 8)}](${runUrl})`,
    "",
    "| Passed | Failed | Flaky | Skipped | Total |",
    "| ---: | ---: | ---: | ---: | ---: |",
    `| ${run.passed} | ${run.failed} | ${flaky} | ${run.skipped} | ${run.caseIds.length} |`,
  ];
  if (run.status === "error") lines.push("", `> ${markdownText(run.errorMessage ?? "The run could not be completed.")}`);
  const failures = results.filter((r) => r.status === "failed");
  if (failures.length) {
    lines.push("", `**Failing tests** (${Math.min(failures.length, TOP_FAILURES)} of ${failures.length}):`, "", "| Test | Why |", "| --- | --- |");
    for (const r of failures.slice(0, TOP_FAILURES)) lines.push(`| ${tableCell(r.caseName)} | ${tableCell(r.reason ?? "failed")} |`);
  }
  const needsReview = diffs.filter((d) => d.status !== "approved");
  if (needsReview.length) {
    lines.push("", "**Visual changes**:", "", "| Test | Screenshot | Changed | Review |", "| --- | --- | ---: | --- |");
    for (const d of needsReview.slice(0, TOP_FAILURES)) {
      const share = `${((d.changedPixels / Math.max(1, d.totalPixels)) * 100).toFixed(2)}%`;
      lines.push(`| ${tableCell(d.caseName)} | ${tableCell(d.stepName)} | ${share} | ${d.status} |`);
    }
  }
  lines.push("", `<sub>Updated ${run.finishedAt ?? run.createdAt}</sub>`);
  return lines.join("\n");
}

// How GitHub is called and its answers read.

export type GitHubOutcome =
  /** `id`: what GitHub made or changed (a comment's id), when it said. */
  | { kind: "done"; status: number; message: string; id?: number }
  /** Not worth retrying: a bad token, a missing permission, an unknown repository or PR. */
  | { kind: "refused"; status: number; message: string }
  /** Worth retrying after `retryAfterSeconds` (5xx, time-outs, rate limits). */
  | { kind: "retry"; status: number | null; message: string; retryAfterSeconds: number | null };

function githubRequest(client: GitHubClient, method: string, path: string, body?: unknown) {
  return callOutbound(
    client.outbound,
    {
      url: `${client.apiUrl.replace(/\/$/, "")}${path}`,
      method,
      headers: {
        authorization: `Bearer ${client.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "aegisrunner",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    },
    { timeoutMs: GITHUB_TIMEOUT_MS, maxResponseBytes: GITHUB_MAX_RESPONSE_BYTES },
  );
}

/** Reads GitHub's answer: 2xx done; rate limits and 5xx retried (honouring its headers); other refusals final. */
function outcomeOf(answer: OutboundAnswer, nowMs: number): GitHubOutcome {
  if (!answer.reached) return { kind: "retry", status: null, message: answer.error, retryAfterSeconds: null };
  const { status, headers } = answer;
  const message = githubMessage(answer.body, status);
  if (status >= 200 && status < 300) return { kind: "done", status, message, id: idIn(answer.body) };
  const retryAfter = Number(headers.get("retry-after"));
  const reset = Number(headers.get("x-ratelimit-reset"));
  const rateLimited =
    status === 429 || (status === 403 && (Number.isFinite(retryAfter) && headers.has("retry-after") || headers.get("x-ratelimit-remaining") === "0"));
  if (rateLimited || status >= 500) {
    const wait = headers.has("retry-after") && Number.isFinite(retryAfter) ? retryAfter : Number.isFinite(reset) && reset > 0 ? Math.ceil(reset - nowMs / 1000) : null;
    return { kind: "retry", status, message, retryAfterSeconds: wait !== null ? Math.max(1, wait) : null };
  }
  return { kind: "refused", status, message };
}

function idIn(body: string): number | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === "number" ? id : undefined;
  } catch {
    return undefined;
  }
}

function githubMessage(body: string, status: number): string {
  let said: unknown;
  try {
    said = (JSON.parse(body) as { message?: unknown }).message;
  } catch {
    // not JSON
  }
  return clip(typeof said === "string" && said ? `GitHub answered ${status}: ${said}` : `GitHub answered ${status}`, 300);
}

export async function postCommitStatus(client: GitHubClient, target: GitHubTarget & { commitSha: string }, status: ReturnType<typeof commitStatusOf>, nowMs: number) {
  return outcomeOf(await githubRequest(client, "POST", `/repos/${target.repo}/statuses/${target.commitSha}`, status), nowMs);
}

/** Edits a comment we made, by its id. */
export async function updateComment(client: GitHubClient, target: GitHubTarget, commentId: number, body: string, nowMs: number) {
  return outcomeOf(await githubRequest(client, "PATCH", `/repos/${target.repo}/issues/comments/${commentId}`, { body }), nowMs);
}

/**
 * Finds this project's comment on the pull request and edits it, or makes it when there is none
 * (when the comment's id is not known yet, or it was deleted). Ours is
 * the comment that starts with the marker; one reporting a later run than `runId` is left as it is,
 * so a late retry of an older run never puts old results back.
 */
export async function upsertStickyComment(
  client: GitHubClient,
  target: GitHubTarget & { prNumber: number },
  report: { projectId: string; runId: string; body: string },
  nowMs: number,
): Promise<GitHubOutcome> {
  const marker = commentMarker(report.projectId);
  for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
    const answer = await githubRequest(client, "GET", `/repos/${target.repo}/issues/${target.prNumber}/comments?per_page=${COMMENTS_PER_PAGE}&page=${page}`);
    const listed = outcomeOf(answer, nowMs);
    if (listed.kind !== "done" || !answer.reached) return listed;
    let comments: { id: number; body?: string }[];
    try {
      comments = JSON.parse(answer.body);
    } catch {
      return { kind: "retry", status: answer.status, message: "GitHub's comment list could not be read", retryAfterSeconds: null };
    }
    const ours = comments.find((comment) => typeof comment.body === "string" && comment.body.startsWith(marker));
    if (ours) {
      const shown = reportedRun(ours.body!);
      if (shown && shown > report.runId) return { kind: "done", status: 200, message: `Comment kept: it reports a later run (${shown})`, id: ours.id };
      return updateComment(client, target, ours.id, report.body, nowMs);
    }
    if (comments.length < COMMENTS_PER_PAGE) break;
  }
  return outcomeOf(await githubRequest(client, "POST", `/repos/${target.repo}/issues/${target.prNumber}/comments`, { body: report.body }), nowMs);
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
/** One line of text safe inside a Markdown table cell. */
const tableCell = (text: string) => clip(markdownText(text).replace(/\|/g, "\\|"), 200);
/**
 * Text from the page under test (case names, reasons) as inert Markdown: one line, no HTML, no
 * links or images, no @mentions that would notify people, no code spans that break the table.
 */
const markdownText = (text: string) =>
  text
    .replace(/[\r\n]+/g, " ")
    .replace(/</g, "&lt;")
    .replace(/[\\`*_[\]!]/g, (c) => `\\${c}`)
    .replace(/@/g, "@\u200b");
