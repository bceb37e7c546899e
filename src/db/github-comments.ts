// Where each project's sticky comment is on a pull request, and who is making it.
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { githubComments } from "./schema";

export type PullRequestKey = { projectId: string; repo: string; prNumber: number };
export type GitHubCommentRow = typeof githubComments.$inferSelect;

const keyOf = (key: PullRequestKey) =>
  and(eq(githubComments.projectId, key.projectId), eq(githubComments.repo, key.repo), eq(githubComments.prNumber, key.prNumber));

/** The pull request's row, claimed for `runId` when it is new. */
export async function findOrClaimComment(db: Db, key: PullRequestKey, runId: string, at: string): Promise<GitHubCommentRow> {
  await db.insert(githubComments).values({ ...key, commentId: null, reportedRunId: null, claimedBy: runId, claimedAt: at }).onConflictDoNothing();
  const [row] = await db.select().from(githubComments).where(keyOf(key)).limit(1);
  return row;
}

/** Takes the claim when nobody holds it, or its holder has been silent since before `staleBefore`. */
export async function takeClaim(db: Db, key: PullRequestKey, runId: string, at: string, staleBefore: string) {
  const rows = await db
    .update(githubComments)
    .set({ claimedBy: runId, claimedAt: at })
    .where(and(keyOf(key), isNull(githubComments.commentId), or(isNull(githubComments.claimedBy), eq(githubComments.claimedBy, runId), lt(githubComments.claimedAt, staleBefore))))
    .returning();
  return rows.length > 0;
}

/** The comment now shows `runId`'s report (unless a later run's is recorded already). */
export async function recordComment(db: Db, key: PullRequestKey, commentId: number, runId: string) {
  await db
    .update(githubComments)
    .set({ commentId, reportedRunId: runId, claimedBy: null, claimedAt: null })
    .where(and(keyOf(key), or(isNull(githubComments.reportedRunId), lt(githubComments.reportedRunId, runId), eq(githubComments.reportedRunId, runId))));
}

/** The claim is given up (the run could not make the comment). */
export async function releaseClaim(db: Db, key: PullRequestKey, runId: string) {
  await db.update(githubComments).set({ claimedBy: null, claimedAt: null }).where(and(keyOf(key), eq(githubComments.claimedBy, runId)));
}

/** The comment is gone (deleted on GitHub): the next report makes or finds one again. */
export async function forgetComment(db: Db, key: PullRequestKey, commentId: number) {
  await db.update(githubComments).set({ commentId: null }).where(and(keyOf(key), eq(githubComments.commentId, commentId)));
}
