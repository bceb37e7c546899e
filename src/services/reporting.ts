// Reporting a run back to GitHub. The token is request-scoped: at the trigger it is sealed with
// CREDENTIAL_KEYS and held by the run's tracker (never D1, R2 or a log); when the run settles the
// listener below puts it, still sealed, into the NOTIFY messages that make the calls, then drops
// it. Each message reports the run as D1 holds it when handled, so a late or repeated message
// never reports an outdated state for long, and the run's own status never depends on GitHub.
import { seal, unseal, type Sealed } from "../auth/secrets";
import { recordNotification } from "../db/notifications";
import { findRunById, listCaseResults, type RunRow } from "../db/runs";
import { visualDiffsOfRun } from "../db/visual";
import { ApiError, validationError } from "../errors";
import type { NotificationKind } from "../schemas/reporting";
import { isSettled, type TriggerBody } from "../schemas/runs";
import type { ServiceDeps } from "./deps";
import {
  commentBodyOf,
  commitStatusOf,
  githubTargetOf,
  postCommitStatus,
  updateComment,
  upsertStickyComment,
  type GitHubClient,
  type GitHubOutcome,
  type GitHubTarget,
} from "./github";
import { findOrClaimComment, forgetComment, recordComment, releaseClaim, takeClaim } from "../db/github-comments";
import { runPageUrl, signerForRun } from "./links";
import type { SettledListener } from "./settled";

type ReportingDeps = Pick<ServiceDeps, "db" | "notify" | "tracker" | "keys" | "now" | "outbound" | "githubApiUrl" | "links">;

/** Attempts of one GitHub call (the NOTIFY queue's max_retries + 1). */
const GITHUB_MAX_ATTEMPTS = 6;

const tokenAad = (runId: string) => `github-token:${runId}`;

/** The trigger's GitHub fields, checked together: what a comment or a status needs, named when missing. */
export function checkGitHubFields(input: Pick<TriggerBody, "githubRepo" | "githubPrNumber" | "githubCommitSha" | "githubToken">) {
  const wants = input.githubPrNumber !== undefined || input.githubCommitSha !== undefined;
  const issues: { path: string; message: string }[] = [];
  if ((wants || input.githubToken !== undefined) && !input.githubRepo) issues.push({ path: "githubRepo", message: "required with githubPrNumber, githubCommitSha or githubToken" });
  if (wants && !input.githubToken) issues.push({ path: "githubToken", message: "required to comment on the pull request or set the commit status" });
  if (input.githubToken && !wants) issues.push({ path: "githubPrNumber", message: "githubToken needs githubPrNumber or githubCommitSha: nothing to report to" });
  if (issues.length) throw validationError("Invalid GitHub fields", { issues });
}

/** At the trigger, before the run is recorded: the token sealed for this run, or a clear 503 when it cannot be. */
export async function sealGitHubToken(deps: Pick<ServiceDeps, "keys">, runId: string, token: string): Promise<Sealed> {
  let ring;
  try {
    ring = await deps.keys();
  } catch {
    throw new ApiError("run.github_unavailable", "This deployment cannot keep a GitHub token (CREDENTIAL_KEYS unset): trigger without githubToken, or ask the operator");
  }
  return seal(ring, token, tokenAad(runId));
}

/** Once the run is recorded: the run's tracker holds the sealed token for the settled reports, and the pending status is queued. */
export async function prepareGitHubReports(deps: Pick<ServiceDeps, "notify" | "tracker">, run: RunRow, sealed: Sealed | null) {
  const target = githubTargetOf(run);
  if (!target || !sealed) return;
  await deps.tracker.holdSecret(run.id, sealed);
  if (target.commitSha) await deps.notify.send({ kind: "github", report: "status", stage: "started", runId: run.id, token: sealed });
}

/** The settled listener: queues the final status and the PR comment with the held token, then forgets it. */
export function reportToGitHub(deps: ReportingDeps): SettledListener {
  return {
    name: "report to GitHub",
    async handle(work) {
      if (work.kind !== "run") return;
      const target = githubTargetOf(work.run);
      if (!target) return;
      const token = await deps.tracker.heldSecret(work.run.id);
      if (!token) return; // reported already (a repeated announcement), or triggered without a token
      const reports: NotificationKind[] = [...(target.commitSha ? (["status"] as const) : []), ...(target.prNumber ? (["comment"] as const) : [])];
      await deps.notify.sendBatch(reports.map((report) => ({ body: { kind: "github" as const, report, stage: "settled" as const, runId: work.run.id, token } })));
      await deps.tracker.dropSecret(work.run.id);
    },
  };
}

/** Backoff when GitHub names no time: 10 s, 20 s, 40 s … capped at 10 minutes. */
const backoffSeconds = (attempt: number) => Math.min(600, 5 * 2 ** attempt);

/**
 * Makes one GitHub call for a NOTIFY message and records the outcome on the run. Answers the delay
 * after which the queue should retry, or null when the message is finished with.
 */
export async function deliverGitHubReport(
  deps: Pick<ServiceDeps, "db" | "keys" | "now" | "outbound" | "githubApiUrl" | "links">,
  message: { report: NotificationKind; stage: "started" | "settled"; runId: string; token: Sealed },
  attempt: number,
): Promise<{ retryAfterSeconds: number } | null> {
  const run = await findRunById(deps.db, message.runId);
  const target = run && githubTargetOf(run);
  if (!run || !target) return null;
  // The pending status of a run that settled before it was sent: the settled report says it all.
  if (message.stage === "started" && isSettled(run.status)) return null;
  const record = (outcome: { ok: boolean; status: number | null; message: string }) =>
    recordNotification(deps.db, { runId: run.id, target: "github", kind: message.report, ...outcome, attempts: attempt, updatedAt: deps.now().toISOString() });

  let token: string;
  try {
    token = await unseal(await deps.keys(), message.token, tokenAad(run.id));
  } catch {
    await record({ ok: false, status: null, message: "The GitHub token could not be unsealed (CREDENTIAL_KEYS changed?)" });
    return null;
  }
  const client: GitHubClient = { outbound: deps.outbound, apiUrl: deps.githubApiUrl, token };
  const runUrl = await runPageUrl(signerForRun(deps.links, run), run.id);
  let outcome: GitHubOutcome;
  if (message.report === "status") {
    if (!target.commitSha) return null;
    const commit = { ...target, commitSha: target.commitSha };
    outcome = await postCommitStatus(client, commit, commitStatusOf(run, runUrl), deps.now().getTime());
    // A pending status that raced the run's settling is followed at once by the final one.
    const now = outcome.kind === "done" && !isSettled(run.status) ? await findRunById(deps.db, run.id) : undefined;
    if (now && isSettled(now.status)) outcome = await postCommitStatus(client, commit, commitStatusOf(now, runUrl), deps.now().getTime());
  } else {
    if (!target.prNumber) return null;
    const [results, diffs] = await Promise.all([listCaseResults(deps.db, run.id), visualDiffsOfRun(deps.db, run.id)]);
    const report = { projectId: run.projectId, runId: run.id, body: commentBodyOf(run, results, diffs, runUrl) };
    const answer = await commentOnPullRequest(deps, client, { ...target, prNumber: target.prNumber }, report);
    outcome = "wait" in answer ? { kind: "retry", status: null, message: answer.wait, retryAfterSeconds: null } : answer;
  }

  if (outcome.kind === "retry" && attempt < GITHUB_MAX_ATTEMPTS) {
    const retryAfterSeconds = Math.min(12 * 3600, outcome.retryAfterSeconds ?? backoffSeconds(attempt));
    await record({ ok: false, status: outcome.status, message: `${outcome.message}; retrying in ${retryAfterSeconds} s` });
    return { retryAfterSeconds };
  }
  if (outcome.kind === "done") await record({ ok: true, status: outcome.status, message: describeDone(message.report, outcome) });
  else await record({ ok: false, status: outcome.status, message: outcome.message });
  return null;
}

/** A claim on a pull request's comment older than this is taken over (its run stopped trying). */
const CLAIM_STALE_MS = 60_000;

/**
 * The sticky comment through its D1 row: edited by id once it exists, else made by the one run
 * that holds the row's claim (found by its marker first, in case it exists without a row). Another
 * run's claim means waiting, so two runs of one PR settling together make one comment.
 */
async function commentOnPullRequest(
  deps: Pick<ServiceDeps, "db" | "now">,
  client: GitHubClient,
  target: GitHubTarget & { prNumber: number },
  report: { projectId: string; runId: string; body: string },
): Promise<GitHubOutcome | { wait: string }> {
  const key = { projectId: report.projectId, repo: target.repo, prNumber: target.prNumber };
  const now = deps.now();
  const row = await findOrClaimComment(deps.db, key, report.runId, now.toISOString());
  if (row.reportedRunId && row.reportedRunId > report.runId) {
    return { kind: "done", status: 200, message: `Comment kept: it reports a later run (${row.reportedRunId})` };
  }
  if (row.commentId !== null) {
    const edited = await updateComment(client, target, row.commentId, report.body, now.getTime());
    if (edited.kind === "done") await recordComment(deps.db, key, row.commentId, report.runId);
    if (!(edited.kind === "refused" && edited.status === 404)) return edited;
    await forgetComment(deps.db, key, row.commentId); // deleted on GitHub: make it again below
  }
  const staleBefore = new Date(now.getTime() - CLAIM_STALE_MS).toISOString();
  if (!(await takeClaim(deps.db, key, report.runId, now.toISOString(), staleBefore))) {
    return { wait: "Another run of this pull request is making the comment" };
  }
  const made = await upsertStickyComment(client, target, report, now.getTime());
  const wrote = made.kind === "done" && made.id !== undefined && !made.message.startsWith("Comment kept");
  if (wrote) await recordComment(deps.db, key, made.id!, report.runId);
  else await releaseClaim(deps.db, key, report.runId);
  return made;
}

const describeDone = (report: NotificationKind, outcome: { status: number; message: string }) =>
  report === "status"
    ? `Commit status set (GitHub answered ${outcome.status})`
    : outcome.status === 201
      ? "Comment posted"
      : outcome.message.startsWith("Comment kept") ? outcome.message : "Comment updated";
