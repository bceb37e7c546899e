// Visual regression: a screenshot step's capture against the approved baseline of the same
// project, case, step, branch, browser, device and viewport. The first capture becomes the
// baseline and passes; a capture that differs by more than the step's threshold fails it and
// leaves a diff for a person to approve (the capture becomes the baseline) or reject.
import type { Scope } from "../auth/tenancy";
import { findRun } from "../db/runs";
import {
  decideVisualDiff,
  findBaseline,
  findBaselineById,
  findVisualDiff,
  insertFirstBaseline,
  insertVisualDiff,
  listVisualDiffs,
  moveBaseline,
  type BaselineIdentity,
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

/** One screenshot step of one case of one run, and where its baseline is looked up. */
export type ScreenshotSubject = BaselineIdentity & {
  orgId: string;
  runId: string;
  caseName: string;
  threshold: number;
  chromiumVersion: string;
};

export type ScreenshotVerdict = { outcome: VisualOutcome; failure: string | null };

const percent = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 3 : 2)}%`;

export async function checkScreenshot(deps: VisualDeps, subject: ScreenshotSubject, png: Uint8Array): Promise<ScreenshotVerdict> {
  const at = deps.now().toISOString();
  const captureKey = artifactKeys.stepScreenshot(subject.runId, subject.caseId, subject.stepName);
  await putPng(deps.artifacts, captureKey, png);

  let baseline = await findBaseline(deps.db, subject);
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
    status: "pending",
    changedPixels: comparison.changedPixels,
    totalPixels: comparison.totalPixels,
    threshold: subject.threshold,
    baselineId: baseline.id,
    baselineVersion: baseline.version,
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
  const renderer = baseline.chromiumVersion !== subject.chromiumVersion ? `; the baseline was captured by ${baseline.chromiumVersion}, this by ${subject.chromiumVersion}` : "";
  return {
    outcome: { step: subject.stepName, outcome: "changed", changedShare: comparison.changedShare, diffId },
    failure: `${percent(comparison.changedShare)} of pixels changed (threshold ${percent(subject.threshold)}) against baseline v${baseline.version}${renderer}; review diff ${diffId}`,
  };
}

export async function visualDiffView(diff: VisualDiffRow, signer: LinkSigner, nowMs: number) {
  return {
    id: diff.id,
    runId: diff.runId,
    caseId: diff.caseId,
    caseName: diff.caseName,
    step: diff.stepName,
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
      why: `the approved baseline of this case's "${diff.stepName}" step on its branch, version ${diff.baselineVersion}`,
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
 * The capture becomes the baseline: a new immutable object, then the pointer moves from the
 * version the diff was compared with. If a later approval moved it first, this one is refused.
 */
export async function approveDiff(deps: VisualDeps, scope: Scope, id: string) {
  const diff = await getDiff(deps, scope, id);
  const baseline = await findBaselineById(deps.db, diff.baselineId);
  if (!baseline) throw notFound("Baseline");
  if (diff.status === "approved") throw new ApiError("visual.already_decided", "The diff is already approved", { status: diff.status });
  if (baseline.version !== diff.baselineVersion) {
    throw new ApiError("visual.baseline_moved", `The baseline moved to version ${baseline.version} since this diff; run again and review the new diff`, { version: baseline.version });
  }
  const capture = await getBytes(deps.artifacts, diff.captureKey);
  if (!capture) throw new Error(`capture ${diff.captureKey} is missing`);
  const version = baseline.version + 1;
  const imageKey = artifactKeys.baselineImage(baseline.projectId, baseline.id, version);
  await putPng(deps.artifacts, imageKey, capture);
  const at = deps.now().toISOString();
  const { width, height } = pngHeader(capture);
  const moved = await moveBaseline(deps.db, baseline.id, baseline.version, {
    version, imageKey, width, height, chromiumVersion: diff.captureChromium, source: "approved", diffId: diff.id, updatedAt: at,
  });
  if (!moved) throw new ApiError("visual.baseline_moved", "The baseline moved while approving; run again and review the new diff");
  const decided = await decideVisualDiff(deps.db, id, "approve", at);
  if (!decided) throw new ApiError("visual.already_decided", "The diff was decided meanwhile");
  return decided;
}

export async function rejectDiff(deps: VisualDeps, scope: Scope, id: string) {
  const diff = await getDiff(deps, scope, id);
  const decided = await decideVisualDiff(deps.db, id, "reject", deps.now().toISOString());
  if (!decided) throw new ApiError("visual.already_decided", `The diff is already ${diff.status}`, { status: diff.status });
  return decided;
}
