import type { Db } from "../db/client";
import { insertOrg } from "../db/orgs";
import { insertToken } from "../db/tokens";
import { generateToken, sha256Hex, tokenPrefix } from "../auth/tokens";
import { uuidv7 } from "../ids";
import type { Plan } from "../schemas/plans";
import type { Clock } from "./clock";

/** Creates an organization and its org key; the key is returned this once and stored only as a hash. */
export async function createOrg(deps: { db: Db; now: Clock }, input: { name: string; plan: Plan }) {
  const at = deps.now().toISOString();
  const org = { id: uuidv7(), name: input.name, plan: input.plan, createdAt: at, updatedAt: at };
  const apiKey = generateToken();
  await insertOrg(deps.db, org);
  await insertToken(deps.db, {
    id: uuidv7(),
    orgId: org.id,
    projectId: null,
    kind: "org",
    name: "organization key",
    prefix: tokenPrefix(apiKey),
    hash: await sha256Hex(apiKey),
    createdAt: at,
    lastUsedAt: null,
    revokedAt: null,
  });
  return { id: org.id, name: org.name, plan: org.plan, apiKey };
}
