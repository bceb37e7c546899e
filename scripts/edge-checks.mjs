// Contract checks that must hold in wrangler's bundle, not only in the vitest pool: the demo runs
// them against `wrangler dev`. Each returns a line to print, or throws naming what is wrong.
import http from "node:http";

/** One plain-http request with a Host header of our choosing (fetch does not let us set Host). */
function rawRequest(origin, { method = "GET", path, headers = {}, body }) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

function expect(condition, message) {
  if (!condition) throw new Error(`edge check failed: ${message}`);
}

export async function runEdgeChecks(origin, token) {
  const lines = [];

  const wrongMethod = await rawRequest(origin, { method: "PATCH", path: "/api/v1/orgs" });
  expect(wrongMethod.status === 405 && wrongMethod.headers.allow === "POST", `PATCH /api/v1/orgs answered ${wrongMethod.status} (Allow: ${wrongMethod.headers.allow})`);
  expect(JSON.parse(wrongMethod.text).code === "route.method_not_allowed", `PATCH /api/v1/orgs said ${wrongMethod.text}`);
  lines.push("PATCH /api/v1/orgs → 405, Allow: POST, before any token");

  const plain = await rawRequest(origin, {
    method: "POST",
    path: "/api/v1/ci/trigger",
    headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
    body: "{}",
  });
  expect(plain.status === 415 && JSON.parse(plain.text).code === "request.unsupported_media_type", `POST text/plain answered ${plain.status} ${plain.text}`);
  lines.push("POST /api/v1/ci/trigger as text/plain → 415");

  // Plain http on a public host is redirected to https. wrangler dev's own proxy rewrites every
  // URL on the request's host in response headers to the outer origin, scheme included
  // (rewriteUrlRelatedHeaders in wrangler's ProxyWorker), so locally the Location comes back as
  // http://; in production there is no such proxy. What the Worker controls is checked here.
  const redirect = await rawRequest(origin, { path: "/api/v1/projects?page=2", headers: { host: "api.example.com" } });
  expect(redirect.status === 308, `plain http on a public host answered ${redirect.status}`);
  expect(/^https?:\/\/api\.example\.com\/api\/v1\/projects\?page=2$/.test(redirect.headers.location ?? ""), `Location was ${redirect.headers.location}`);
  lines.push(`GET http://api.example.com/… → 308 (Location ${redirect.headers.location}; wrangler dev's proxy sets the scheme)`);
  return lines;
}
