// Who is calling, and what they may reach. Query modules take a Scope and filter by it,
// so another tenant's row is simply not found (answered 404, never 403).
import type { Plan } from "../schemas/plans";

export type Caller =
  | { kind: "admin" }
  | { kind: "org"; orgId: string; tokenId: string; plan: Plan }
  | { kind: "ci"; orgId: string; projectId: string; tokenId: string; plan: Plan };

/** An organization, narrowed to one project for CI tokens. */
export type Scope = { orgId: string; projectId?: string };

export type TenantCaller = Exclude<Caller, { kind: "admin" }>;

export const scopeOf = (caller: TenantCaller): Scope =>
  caller.kind === "ci" ? { orgId: caller.orgId, projectId: caller.projectId } : { orgId: caller.orgId };
