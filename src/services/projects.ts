import type { Db } from "../db/client";
import { deleteProject, findProject, insertProject, listProjects, updateProject, type ProjectRow } from "../db/projects";
import type { Scope } from "../auth/tenancy";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import type { ProjectScanSettings } from "../schemas/projects";
import type { Clock } from "./clock";
import { tokenHashesOfProject } from "../db/tokens";
import { propagateRevocations } from "./tokens";
import { suiteIdsOfProject } from "../db/suites";
import type { ServiceDeps } from "./deps";
import { deleteSuiteExports } from "./playwright-export";
import { artifactKeys, deleteUnder } from "../storage/artifacts";

type Deps = { db: Db; now: Clock };

export const projectView = (p: ProjectRow) => ({
  id: p.id,
  name: p.name,
  baseUrl: p.baseUrl,
  scanSettings: p.scanSettings,
  defaultBranch: p.defaultBranch,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

export async function createProject(
  deps: Deps,
  scope: Scope,
  input: { name: string; baseUrl?: string; scanSettings?: ProjectScanSettings; defaultBranch?: string },
) {
  if (scope.projectId) throw new ApiError("auth.org_key_required", "Creating projects needs the organization key");
  const at = deps.now().toISOString();
  const row: ProjectRow = {
    id: uuidv7(),
    orgId: scope.orgId,
    name: input.name,
    baseUrl: input.baseUrl ?? null,
    scanSettings: input.scanSettings ?? {},
    defaultBranch: input.defaultBranch ?? "main",
    createdAt: at,
    updatedAt: at,
  };
  await insertProject(deps.db, row);
  return projectView(row);
}

export async function getProject(deps: Deps, scope: Scope, id: string) {
  const row = await findProject(deps.db, scope, id);
  if (!row) throw notFound("Project");
  return projectView(row);
}

export async function listProjectsPage(deps: Deps, scope: Scope, page: PageQuery) {
  const { items, totalCount } = await listProjects(deps.db, scope, page);
  return { items: items.map(projectView), totalCount, ...page };
}

export async function changeProject(
  deps: Deps,
  scope: Scope,
  id: string,
  input: { name?: string; baseUrl?: string | null; scanSettings?: ProjectScanSettings },
) {
  const row = await updateProject(deps.db, scope, id, { ...input, updatedAt: deps.now().toISOString() });
  if (!row) throw notFound("Project");
  return projectView(row);
}

/**
 * Deletes a project with its suites (and their exports), runs, baselines (and their images) and CI
 * tokens; the tokens stop working at once. Run and crawl images expire by the bucket's rules.
 */
export async function removeProject(deps: Deps & Pick<ServiceDeps, "limiter" | "artifacts">, scope: Scope, id: string) {
  if (scope.projectId) throw new ApiError("auth.org_key_required", "Deleting a project needs the organization key");
  if (!(await findProject(deps.db, scope, id))) throw notFound("Project");
  const hashes = await tokenHashesOfProject(deps.db, id);
  // Tokens first: a project whose deletion fails halfway keeps no usable token.
  await propagateRevocations(deps.limiter, hashes);
  const suiteIds = await suiteIdsOfProject(deps.db, id);
  if (!(await deleteProject(deps.db, scope, id))) throw notFound("Project");
  for (const suiteId of suiteIds) await deleteSuiteExports(deps, suiteId);
  await deleteUnder(deps.artifacts, artifactKeys.projectBaselines(id));
}
