// Before any authentication: a path no route serves answers 404, and a known path asked with a
// method it does not serve answers 405 with `Allow`. A user who mistyped the path or sent PATCH
// instead of PUT should hear about that, not about the token. The table is read from the app's
// own routes on first use, so it cannot drift from them.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

type RouteEntry = { method: string; path: string };
type PathMethods = { pattern: RegExp; methods: Set<string> };

/** `/api/v1/projects/:id/crawls` → a pattern matching one value per parameter; `*` matches the rest. */
function patternOf(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}/?$`);
}

export function methodTable(routes: readonly RouteEntry[]): PathMethods[] {
  const byPath = new Map<string, Set<string>>();
  for (const { method, path } of routes) {
    if (method === "ALL" || path === "/*" || path === "*") continue; // middleware, not endpoints
    const methods = byPath.get(path) ?? new Set<string>();
    methods.add(method.toUpperCase());
    if (method.toUpperCase() === "GET") methods.add("HEAD");
    byPath.set(path, methods);
  }
  return [...byPath].map(([path, methods]) => ({ pattern: patternOf(path), methods }));
}

/** The methods a path is served with, or null when no route has the path at all. */
export function allowedMethods(table: PathMethods[], path: string): Set<string> | null {
  let found: Set<string> | null = null;
  for (const entry of table) {
    if (!entry.pattern.test(path)) continue;
    found ??= new Set();
    for (const method of entry.methods) found.add(method);
  }
  return found;
}

export const knownRoutesOnly = (routes: () => readonly RouteEntry[]) => {
  let table: PathMethods[] | undefined;
  return createMiddleware<AppEnv>(async (c, next) => {
    // OPTIONS is the CORS preflight's, answered (or not) by the CORS middleware before this.
    if (c.req.method === "OPTIONS") return next();
    table ??= methodTable(routes());
    const allowed = allowedMethods(table, c.req.path);
    if (!allowed) throw new ApiError("route.not_found", `No route for ${c.req.method} ${c.req.path}`);
    if (!allowed.has(c.req.method)) {
      const allow = [...allowed].sort().join(", ");
      throw new ApiError("route.method_not_allowed", `${c.req.method} is not served on ${c.req.path}; use ${allow}`, { allow: [...allowed].sort() }, { Allow: allow });
    }
    return next();
  });
};
