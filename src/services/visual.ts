// Visual regression: a screenshot step's capture against the approved baseline of the same
// project, case, step, branch, browser, device and viewport. The first capture becomes the
// baseline and passes; a capture that differs by more than the step's threshold fails it and
// leaves a diff for a person to approve (the capture becomes the baseline) or reject.
import type { Scope } from "../auth/tenancy";
import { findRun } from "../db/runs";
import { findProject } from "../db/projects";
import {
  decideVisualDiff,
  findBaseline,
  findBaselineById,
  findVisualDiff,
  insertFirstBaseline,
  insertVisualDiff,
  listVisualDiffs,
  moveBaseline,
  baselinesOfBranch,
  listBaselines,
  type BaselineIdentity,
  type BaselineRow,
  type VisualDiffRow,
} from "../db/visual";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import type { DiffStatus, VisualOutcome } from "../schemas/visual";
import { artifactKeys, getBytes, putPng } from "../storage/artifacts";
import { comparePngs } from "../visual/compare";
import { pngHeader } from "../visual/png";
import type { ServiceDeps } from "./deps";
import { artifactUrl, type LinkSigner } from "./links";

export type VisualDeps = Pick<ServiceDeps, "db" | "artifacts" | "now">;

/** One screenshot step of one case of one run, and where its baseline is looked up (`branch`, then `baseBranch`). */
export type ScreenshotSubject = BaselineIdentity & {
  orgId: string;
  runId: string;
  caseName: string;
  baseBranch: string;
  threshold: number;
  chromiumVersion: string;
};

export type ScreenshotVerdict = { outcome: VisualOutcome; failure: string | null };

const percent = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 3 : 2)}%`;

export async function checkScreenshot(deps: VisualDeps, subject: ScreenshotSubject, png: Uint8Array): Promise<ScreenshotVerdict> {
  const at = deps.now().toISOString();
  const captureKey = artifactKeys.stepScreenshot(subject.runId, subject.caseId, subject.stepName);
  await putPng(deps.artifacts, captureKey, png);

  // The branch's own approved baseline, else the base branch's: a PR never writes main's look.
  let baseline = (await findBaseline(deps.db, subject)) ?? (subject.baseBranch !== subject.branch ? await findBaseline(deps.db, { ...subject, branch: subject.baseBranch }) : undefined);
  if (!baseline) {
    const id = uuidv7();
    const imageKey = artifactKeys.baselineImage(subject.projectId, id, 1);
    const { width, height } = pngHeader(png);
    await putPng(deps.artifacts, imageKey, png);
    const { orgId, projectId, caseId, stepName, branch, browserProfile, device, viewport, chromiumVersion } = subject;
    baseline = await insertFirstBaseline(deps.db, {
      id, orgId, projectId, caseId, stepName, branch, browserProfile, device, viewport, chromiumVersion,
      version: 1, imageKey, width, height, source: "first_capture", diffId: null, createdAt: at, updatedAt: at,
    });
    if (baseline?.id === id) return { outcome: { step: subject.stepName, outcome: "new_baseline", changedShare: 0, diffId: null }, failure: null };
    // Another run made the first baseline meanwhile: compare with that one.
    if (!baseline) throw new Error("baseline vanished after insert");
  }

  const basePng = await getBytes(deps.artifacts, baseline.imageKey);
  if (!basePng) throw new Error(`baseline image ${baseline.imageKey} is missing`);
  const comparison = await comparePngs(basePng, png);
  if (comparison.changedShare <= subject.threshold || !comparison.diffPng) {
    return { outcome: { step: subject.stepName, outcome: "matched", changedShare: comparison.changedShare, diffId: null }, failure: null };
  }

  const diffId = uuidv7();
  const diffKey = artifactKeys.diffImage(subject.runId, diffId);
  await putPng(deps.artifacts, diffKey, comparison.diffPng);
  const row: VisualDiffRow = {
    id: diffId,
    orgId: subject.orgId,
    projectId: subject.projectId,
    runId: subject.runId,
    caseId: subject.caseId,
    caseName: subject.caseName,
    stepName: subject.stepName,
    branch: subject.branch,
    status: "pending",
    changedPixels: comparison.changedPixels,
    totalPixels: comparison.totalPixels,
    threshold: subject.threshold,
    baselineId: baseline.id,
    baselineVersion: baseline.version,
    baselineBranch: baseline.branch,
    baselineKey: baseline.imageKey,
    baselineChromium: baseline.chromiumVersion,
    captureKey,
    captureChromium: subject.chromiumVersion,
    diffKey,
    width: comparison.width,
    height: comparison.height,
    createdAt: at,
    decidedAt: null,
  };
  await insertVisualDiff(deps.db, row);
  const where = baseline.branch === subject.branch ? "" : ` (${baseline.branch}'s: ${subject.branch} has none yet)`;
  const renderer = baseline.chromiumVersion !== subject.chromiumVersion ? `; the baseline was captured by ${baseline.chromiumVersion}, this by ${subject.chromiumVersion}` : "";
  return {
    outcome: { step: subject.stepName, outcome: "changed", changedShare: comparison.changedShare, diffId },
    failure: `${percent(comparison.changedShare)} of pixels changed (threshold ${percent(subject.threshold)}) against baseline v${baseline.version}${where}${renderer}; review diff ${diffId}`,
  };
}

export async function visualDiffView(diff: VisualDiffRow, signer: LinkSigner, nowMs: number) {
  return {
    id: diff.id,
    runId: diff.runId,
    caseId: diff.caseId,
    caseName: diff.caseName,
    step: diff.stepName,
    branch: diff.branch,
    status: diff.status,
    changedShare: diff.changedPixels / diff.totalPixels,
    changedPixels: diff.changedPixels,
    threshold: diff.threshold,
    width: diff.width,
    height: diff.height,
    baseline: {
      id: diff.baselineId,
      version: diff.baselineVersion,
      chromiumVersion: diff.baselineChromium,
      branch: diff.baselineBranch,
      why:
        diff.baselineBranch === diff.branch
          ? `the approved baseline of this step on the run's branch ${diff.branch}, version ${diff.baselineVersion}`
          : `${diff.branch} has no approved baseline of this step yet, so its base branch ${diff.baselineBranch}'s, version ${diff.baselineVersion}`,
    },
    captureChromiumVersion: diff.captureChromium,
    rendererChanged: diff.baselineChromium !== diff.captureChromium,
    baselineUrl: await artifactUrl(signer, diff.baselineKey, nowMs),
    captureUrl: await artifactUrl(signer, diff.captureKey, nowMs),
    diffUrl: await artifactUrl(signer, diff.diffKey, nowMs),
    createdAt: diff.createdAt,
    decidedAt: diff.decidedAt,
  };
}

export type VisualDiffView = Awaited<ReturnType<typeof visualDiffView>>;

/** Every diff of a run (at most 200), for its page. */
export async function runDiffViews(deps: Pick<ServiceDeps, "db">, runId: string, signer: LinkSigner, nowMs: number) {
  const { items } = await listVisualDiffs(deps.db, runId, { page: 1, pageSize: 200 });
  return Promise.all(items.map((diff) => visualDiffView(diff, signer, nowMs)));
}

export async function listRunDiffs(deps: Pick<ServiceDeps, "db">, scope: Scope, runId: string, query: PageQuery & { status?: DiffStatus }) {
  if (!(await findRun(deps.db, scope, runId))) throw notFound("Run");
  return listVisualDiffs(deps.db, runId, query);
}

export async function getDiff(deps: Pick<ServiceDeps, "db">, scope: Scope, id: string) {
  const diff = await findVisualDiff(deps.db, scope, id);
  if (!diff) throw notFound("Diff");
  return diff;
}

/**
 * The capture becomes the baseline of the run's branch: a new immutable object, then the pointer
 * moves from the version the diff was compared with (or, when the diff was judged against the
 * base branch, the branch gets a baseline of its own). If the pointer moved first, this is refused.
 */
export async function approveDiff(deps: VisualDeps, scope: Scope, id: string) {
  const diff = await getDiff(deps, scope, id);
  if (diff.status === "approved") throw new ApiError("visual.already_decided", "The diff is already approved", { status: diff.status });
  const compared = await findBaselineById(deps.db, diff.baselineId);
  if (!compared) throw notFound("Baseline");
  const own = compared.branch === diff.branch ? compared : await findBaseline(deps.db, { ...compared, branch: diff.branch });
  const expectedVersion = compared.branch === diff.branch ? diff.baselineVersion : 0;
  if ((own?.version ?? 0) !== expectedVersion) {
    throw new ApiError("visual.baseline_moved", `The baseline on ${diff.branch} changed since this diff; run again and review the new diff`, { version: own?.version ?? null });
  }
  const capture = await getBytes(deps.artifacts, diff.captureKey);
  // Run artifacts expire (the bucket's lifecycle rule): an old diff can no longer become a baseline.
  if (!capture) throw new ApiError("visual.capture_expired", "This diff's capture is no longer kept (run artifacts expire after 90 days); run again and review the new diff");
  const at = deps.now().toISOString();
  const { width, height } = pngHeader(capture);
  const next = { width, height, chromiumVersion: diff.captureChromium, source: "approved" as const, diffId: diff.id, updatedAt: at };
  if (own) {
    const imageKey = artifactKeys.baselineImage(own.projectId, own.id, own.version + 1);
    await putPng(deps.artifacts, imageKey, capture);
    if (!(await moveBaseline(deps.db, own.id, own.version, { ...next, version: own.version + 1, imageKey }))) {
      throw new ApiError("visual.baseline_moved", "The baseline moved while approving; run again and review the new diff");
    }
  } else {
    const baselineId = uuidv7();
    const imageKey = artifactKeys.baselineImage(compared.projectId, baselineId, 1);
    await putPng(deps.artifacts, imageKey, capture);
    const inserted = await insertFirstBaseline(deps.db, { ...compared, ...next, id: baselineId, branch: diff.branch, version: 1, imageKey, createdAt: at });
    if (inserted?.id !== baselineId) throw new ApiError("visual.baseline_moved", `${diff.branch} got a baseline meanwhile; run again and review the new diff`);
  }
  const decided = await decideVisualDiff(deps.db, id, "approve", at);
  if (!decided) throw new ApiError("visual.already_decided", "The diff was decided meanwhile");
  return decided;
}

/**
 * After a merge (any merge method: branch names survive squash and rebase, ancestry does not), the
 * branch's approved baselines become the target's. Objects are immutable, so the target's new
 * versions point at the same images.
 */
export async function promoteBaselines(deps: Pick<ServiceDeps, "db" | "now">, scope: Scope, projectId: string, from: string, to: string) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  if (from === to) throw new ApiError("request.invalid", "from and to must be different branches", { issues: [{ path: "to", message: "same as from" }] });
  const at = deps.now().toISOString();
  let promoted = 0;
  for (const source of await baselinesOfBranch(deps.db, projectId, from)) {
    const copy = { width: source.width, height: source.height, chromiumVersion: source.chromiumVersion, imageKey: source.imageKey, source: source.source, diffId: source.diffId, updatedAt: at };
    const target = await findBaseline(deps.db, { ...source, branch: to });
    if (target) {
      if (target.imageKey === source.imageKey) continue;
      if (await moveBaseline(deps.db, target.id, target.version, { ...copy, version: target.version + 1 })) promoted++;
    } else if ((await insertFirstBaseline(deps.db, { ...source, ...copy, id: uuidv7(), branch: to, version: 1, createdAt: at }))?.imageKey === source.imageKey) {
      promoted++;
    }
  }
  return { from, to, promoted };
}

export async function listBaselinesPage(deps: Pick<ServiceDeps, "db">, scope: Scope, projectId: string, query: PageQuery & { branch?: string }) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  return listBaselines(deps.db, projectId, query);
}

export async function baselineView(b: BaselineRow, signer: LinkSigner, nowMs: number) {
  return {
    id: b.id,
    caseId: b.caseId,
    step: b.stepName,
    branch: b.branch,
    browserProfile: b.browserProfile,
    device: b.device,
    viewport: b.viewport,
    version: b.version,
    source: b.source,
    diffId: b.diffId,
    chromiumVersion: b.chromiumVersion,
    width: b.width,
    height: b.height,
    imageUrl: await artifactUrl(signer, b.imageKey, nowMs),
    updatedAt: b.updatedAt,
  };
}

export async function rejectDiff(deps: VisualDeps, scope: Scope, id: string) {
  const diff = await getDiff(deps, scope, id);
  const decided = await decideVisualDiff(deps.db, id, "reject", deps.now().toISOString());
  if (!decided) throw new ApiError("visual.already_decided", `The diff is already ${diff.status}`, { status: diff.status });
  return decided;
}
