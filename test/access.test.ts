// What each credential may do, endpoint by endpoint. An admitted call is sent with an invalid
// id or body, so it answers the validator's 400 (the credential check runs before validation);
// a refused one answers 403 with the code naming the credential it needs.
import { describe, expect, it } from "vitest";
import { bootTenant, call } from "./helpers/api";

type Who = "org" | "ci";
type Row = [method: string, path: string, body: unknown, admitted: Who[]];

const X = "not-an-id";
const BOTH: Who[] = ["org", "ci"];
const BAD = { name: 42 };

const TABLE: Row[] = [
  ["GET", "/projects?page=0", undefined, BOTH],
  ["POST", "/projects", BAD, ["org"]],
  ["GET", `/projects/${X}`, undefined, BOTH],
  ["PATCH", `/projects/${X}`, BAD, ["org"]],
  ["DELETE", `/projects/${X}`, undefined, ["org"]],
  ["POST", `/projects/${X}/tokens`, BAD, ["org"]],
  ["GET", `/projects/${X}/tokens`, undefined, ["org"]],
  ["DELETE", `/tokens/${X}`, undefined, ["org"]],
  ["GET", `/projects/${X}/suites`, undefined, BOTH],
  ["POST", `/projects/${X}/suites`, BAD, BOTH],
  ["GET", `/suites/${X}`, undefined, BOTH],
  ["PATCH", `/suites/${X}`, BAD, BOTH],
  ["DELETE", `/suites/${X}`, undefined, BOTH],
  ["POST", `/suites/${X}/cases`, BAD, BOTH],
  ["GET", `/cases/${X}`, undefined, BOTH],
  ["PATCH", `/cases/${X}`, BAD, BOTH],
  ["DELETE", `/cases/${X}`, undefined, BOTH],
  ["POST", `/suites/${X}/run`, BAD, BOTH],
  ["GET", `/suites/${X}/export/playwright`, undefined, BOTH],
  ["POST", "/ci/trigger", { wait: "yes" }, ["ci"]],
  ["GET", `/ci/runs/${X}`, undefined, BOTH],
  ["GET", `/runs/${X}`, undefined, BOTH],
  ["GET", `/runs/${X}/diffs`, undefined, BOTH],
  ["GET", `/runs/${X}/events`, undefined, BOTH],
  ["GET", `/diffs/${X}`, undefined, BOTH],
  ["POST", `/diffs/${X}/approve`, undefined, BOTH],
  ["POST", `/diffs/${X}/reject`, undefined, BOTH],
  ["GET", `/projects/${X}/baselines`, undefined, BOTH],
  ["POST", `/projects/${X}/baselines/promote`, BAD, BOTH],
  ["POST", `/ci/runs/${X}/cancel`, undefined, BOTH],
  ["GET", `/projects/${X}/runs`, undefined, BOTH],
  ["POST", `/projects/${X}/crawls`, BAD, BOTH],
  ["GET", `/projects/${X}/crawls`, undefined, BOTH],
  ["GET", `/crawls/${X}`, undefined, BOTH],
  ["POST", `/crawls/${X}/cancel`, undefined, BOTH],
  ["GET", `/crawls/${X}/events`, undefined, BOTH],
  ["POST", `/projects/${X}/webhooks`, BAD, ["org"]],
  ["GET", `/projects/${X}/webhooks`, undefined, BOTH],
  ["GET", `/webhooks/${X}`, undefined, BOTH],
  ["PATCH", `/webhooks/${X}`, BAD, ["org"]],
  ["DELETE", `/webhooks/${X}`, undefined, ["org"]],
  ["POST", `/webhooks/${X}/rotate-secret`, undefined, ["org"]],
  ["POST", `/webhooks/${X}/test`, undefined, ["org"]],
  ["GET", `/webhooks/${X}/deliveries`, undefined, BOTH],
  ["POST", `/webhooks/${X}/deliveries/${X}/redeliver`, undefined, ["org"]],
];

const REFUSAL: Record<Who, string> = { org: "auth.org_key_required", ci: "auth.ci_token_required" };

describe("what each credential may do", () => {
  for (const [method, path, body, admitted] of TABLE) {
    for (const who of ["org", "ci"] as const) {
      const allowed = admitted.includes(who);
      it(`${method} ${path.replace(X, ":id")} is ${allowed ? "open" : "closed"} to ${who === "org" ? "the org key" : "a CI token"}`, async () => {
        const t = await bootTenant();
        const res = await call(method, `/api/v1${path}`, { token: who === "org" ? t.orgKey : t.ciToken, body });
        if (allowed) {
          expect(res.status, res.text).toBe(400);
          expect(res.json.code).toBe("request.invalid");
        } else {
          expect(res.status, res.text).toBe(403);
          expect(res.json.code).toBe(REFUSAL[admitted[0]]);
        }
      });
    }
  }

  it("covers every operation of the OpenAPI document", async () => {
    const doc = await call("GET", "/openapi.json");
    const documented = Object.entries(doc.json.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .filter((op) => !op.startsWith("POST /api/v1/orgs"));
    const tabled = TABLE.map(([method, path]) => `${method} /api/v1${path.split("?")[0].replace(X, "{id}").replace(X, "{deliveryId}")}`.replace(/\/runs\/\{id\}/, "/runs/{runId}"));
    expect(new Set(tabled)).toEqual(new Set(documented));
    // The document says who may call each operation, from the same declaration the check uses.
    expect(doc.json.paths["/api/v1/projects/{id}/tokens"].post["x-credentials"]).toEqual(["org"]);
    expect(doc.json.paths["/api/v1/ci/trigger"].post["x-credentials"]).toEqual(["ci"]);
  });
});

describe("a leaked CI token", () => {
  it("cannot mint a token, revoke its siblings, or point the project's browser elsewhere", async () => {
    const t = await bootTenant();
    const sibling = await call("POST", `/projects/${t.projectId}/tokens`, { token: t.orgKey, body: { name: "sibling" } });
    expect(sibling.status).toBe(201);

    const minted = await call("POST", `/projects/${t.projectId}/tokens`, { token: t.ciToken, body: { name: "backdoor" } });
    expect(minted).toMatchObject({ status: 403, json: { code: "auth.org_key_required" } });
    const revoked = await call("DELETE", `/tokens/${sibling.json.id}`, { token: t.ciToken });
    expect(revoked.status).toBe(403);
    const moved = await call("PATCH", `/projects/${t.projectId}`, { token: t.ciToken, body: { baseUrl: "https://attacker.example" } });
    expect(moved.status).toBe(403);

    // Nothing changed: both tokens live, the sibling still works, the base URL is the old one.
    const tokens = await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey });
    expect(tokens.json.items.map((i: { name: string }) => i.name).sort()).toEqual(["CI", "sibling"]);
    expect((await call("GET", `/projects/${t.projectId}`, { token: sibling.json.token })).status).toBe(200);
    const project = await call("GET", `/projects/${t.projectId}`, { token: t.orgKey });
    expect(project.json.baseUrl).not.toContain("attacker");

    // Revoked by the org key, it is gone at once.
    expect((await call("DELETE", `/tokens/${(await tokenIdOf(t, "CI"))}`, { token: t.orgKey })).status).toBe(204);
    expect((await call("GET", `/projects/${t.projectId}`, { token: t.ciToken })).status).toBe(401);
  });
});

async function tokenIdOf(t: { orgKey: string; projectId: string }, name: string) {
  const tokens = await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey });
  return tokens.json.items.find((i: { name: string }) => i.name === name).id as string;
}
