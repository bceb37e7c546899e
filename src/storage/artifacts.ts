// Every R2 key of the product is built here, and nowhere else.
export const artifactKeys = {
  failureScreenshot: (runId: string, caseId: string) => `runs/${runId}/cases/${caseId}/failure.png`,
  stepScreenshot: (runId: string, caseId: string, name: string) => `runs/${runId}/cases/${caseId}/shots/${name}.png`,
  crawlPageScreenshot: (crawlId: string, pageId: string) => `crawls/${crawlId}/pages/${pageId}.png`,
};

/** Keys we hand out links for: exactly the shapes above, so a signed link can never name another path. */
const ARTIFACT_KEY_PATTERN =
  /^(runs\/[0-9a-f-]{36}\/cases\/[0-9a-f-]{36}\/(failure|shots\/[A-Za-z0-9._-]{1,80})|crawls\/[0-9a-f-]{36}\/pages\/[0-9a-f-]{36})\.png$/;
export const isArtifactKey = (key: string) => ARTIFACT_KEY_PATTERN.test(key);

export async function putPng(bucket: R2Bucket, key: string, png: Uint8Array) {
  await bucket.put(key, png, { httpMetadata: { contentType: "image/png" } });
}

export async function getArtifact(bucket: R2Bucket, key: string) {
  return bucket.get(key);
}
