// Every R2 key of the product is built here, and nowhere else.
export const artifactKeys = {
  failureScreenshot: (runId: string, caseId: string) => `runs/${runId}/cases/${caseId}/failure.png`,
  stepScreenshot: (runId: string, caseId: string, name: string) => `runs/${runId}/cases/${caseId}/shots/${name}.png`,
  crawlPageScreenshot: (crawlId: string, pageId: string) => `crawls/${crawlId}/pages/${pageId}.png`,
  /** A suite's Playwright export, named by the hash of what it was made from: a changed suite is a new key. */
  playwrightExport: (suiteId: string, contentHash: string) => `exports/${suiteId}/playwright-${contentHash}.json`,
  playwrightExports: (suiteId: string) => `exports/${suiteId}/`,
  /** Each version of a baseline is its own object, never overwritten. */
  baselineImage: (projectId: string, baselineId: string, version: number) => `baselines/${projectId}/${baselineId}/v${version}.png`,
  /** Every baseline image of a project (they do not expire: deleted with the project). */
  projectBaselines: (projectId: string) => `baselines/${projectId}/`,
  diffImage: (runId: string, diffId: string) => `runs/${runId}/diffs/${diffId}.png`,
};

/** Keys we hand out links for: exactly the shapes above, so a signed link can never name another path. */
const ARTIFACT_KEY_PATTERN =
  /^(runs\/[0-9a-f-]{36}\/(cases\/[0-9a-f-]{36}\/(failure|shots\/[A-Za-z0-9._-]{1,80})|diffs\/[0-9a-f-]{36})|crawls\/[0-9a-f-]{36}\/pages\/[0-9a-f-]{36}|baselines\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/v\d{1,9})\.png$/;
export const isArtifactKey = (key: string) => ARTIFACT_KEY_PATTERN.test(key);

export async function putPng(bucket: R2Bucket, key: string, png: Uint8Array) {
  await bucket.put(key, png, { httpMetadata: { contentType: "image/png" } });
}

export async function getArtifact(bucket: R2Bucket, key: string) {
  return bucket.get(key);
}

export async function putJson(bucket: R2Bucket, key: string, value: unknown) {
  await bucket.put(key, JSON.stringify(value), { httpMetadata: { contentType: "application/json" } });
}

/** The parsed JSON at `key`, or null when there is none. */
export async function getJson(bucket: R2Bucket, key: string): Promise<unknown> {
  const object = await bucket.get(key);
  return object ? object.json() : null;
}

/** Deletes every object under `prefix` but `keep`. */
export async function deleteUnder(bucket: R2Bucket, prefix: string, keep?: string) {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    const doomed = page.objects.map((o) => o.key).filter((key) => key !== keep);
    if (doomed.length) await bucket.delete(doomed);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/** The bytes of an object, or null when there is none. */
export async function getBytes(bucket: R2Bucket, key: string): Promise<Uint8Array | null> {
  const object = await bucket.get(key);
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}
