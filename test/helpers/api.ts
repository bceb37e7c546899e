// Drives the Worker through its public surface, as a CI job or a person would.
import { exports, env } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token";
export const fixtureOrigin = () => env.FIXTURE_ORIGIN;

type CallOptions = { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> };

export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const url = path.startsWith("http") ? path : `http://localhost${path.startsWith("/api") || path.startsWith("/runs") || path.startsWith("/artifacts") ? "" : "/api/v1"}${path}`;
  const response = await exports.default.fetch(new Request(url, { method, headers, body, redirect: "manual" }));
  const text = await response.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (HTML pages, PNGs)
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** An organization with one project (base URL: the fixture site) and one CI token. */
export async function bootTenant(plan = "pro", name = "Acme") {
  const org = await call("POST", "/orgs", { token: ADMIN_TOKEN, body: { name, plan } });
  if (org.status !== 201) throw new Error(`org: ${org.status} ${org.text}`);
  const project = await call("POST", "/projects", { token: org.json.apiKey, body: { name: `${name} web`, baseUrl: fixtureOrigin() } });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${project.text}`);
  const token = await call("POST", `/projects/${project.json.id}/tokens`, { token: org.json.apiKey, body: { name: "CI" } });
  if (token.status !== 201) throw new Error(`token: ${token.status} ${token.text}`);
  return { orgKey: org.json.apiKey as string, orgId: org.json.id as string, projectId: project.json.id as string, ciToken: token.json.token as string };
}

export async function createSuiteWithCase(token: string, projectId: string, steps: unknown[], caseName = "case") {
  const suite = await call("POST", `/projects/${projectId}/suites`, { token, body: { name: "Suite" } });
  if (suite.status !== 201) throw new Error(`suite: ${suite.status} ${suite.text}`);
  const testCase = await call("POST", `/suites/${suite.json.id}/cases`, { token, body: { name: caseName, steps } });
  if (testCase.status !== 201) throw new Error(`case: ${testCase.status} ${testCase.text}`);
  return { suiteId: suite.json.id as string, caseId: testCase.json.id as string };
}
