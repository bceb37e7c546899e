import type { Db } from "../db/client";
import { findProject } from "../db/projects";
import { deleteSuite, findSuite, insertSuite, listSuites, updateSuite, type SuiteRow } from "../db/suites";
import { deleteCase, findCase, insertCase, listCasesOfSuite, updateCase, type CaseRow } from "../db/cases";
import type { Scope } from "../auth/tenancy";
import { notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import type { Step } from "../schemas/steps";
import type { Clock } from "./clock";
import type { ServiceDeps } from "./deps";
import { deleteSuiteExports } from "./playwright-export";

type Deps = { db: Db; now: Clock };

const suiteView = (s: SuiteRow, caseCount: number) => ({
  id: s.id,
  projectId: s.projectId,
  name: s.name,
  caseCount,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

export const caseView = (c: CaseRow) => ({
  id: c.id,
  suiteId: c.suiteId,
  name: c.name,
  steps: c.steps,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export async function createSuite(deps: Deps, scope: Scope, projectId: string, name: string) {
  const project = await findProject(deps.db, scope, projectId);
  if (!project) throw notFound("Project");
  const at = deps.now().toISOString();
  const row: SuiteRow = { id: uuidv7(), orgId: project.orgId, projectId, name, source: "manual", createdAt: at, updatedAt: at };
  await insertSuite(deps.db, row);
  return suiteView(row, 0);
}

export async function listSuitesPage(deps: Deps, scope: Scope, projectId: string, page: PageQuery) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  const { items, totalCount } = await listSuites(deps.db, scope, projectId, page);
  return { items: items.map((i) => suiteView(i.suite, i.caseCount)), totalCount, ...page };
}

export async function getSuite(deps: Deps, scope: Scope, id: string) {
  const found = await findSuite(deps.db, scope, id);
  if (!found) throw notFound("Suite");
  const cases = await listCasesOfSuite(deps.db, id);
  return { ...suiteView(found.suite, found.caseCount), cases: cases.map(caseView) };
}

export async function renameSuite(deps: Deps, scope: Scope, id: string, name: string) {
  const row = await updateSuite(deps.db, scope, id, { name, updatedAt: deps.now().toISOString() });
  if (!row) throw notFound("Suite");
  return getSuite(deps, scope, id);
}

export async function removeSuite(deps: Deps & Pick<ServiceDeps, "artifacts">, scope: Scope, id: string) {
  if (!(await deleteSuite(deps.db, scope, id))) throw notFound("Suite");
  await deleteSuiteExports(deps, id);
}

export async function createCase(deps: Deps, scope: Scope, suiteId: string, input: { name: string; steps: Step[] }) {
  const found = await findSuite(deps.db, scope, suiteId);
  if (!found) throw notFound("Suite");
  const at = deps.now().toISOString();
  const row: CaseRow = {
    id: uuidv7(),
    orgId: found.suite.orgId,
    projectId: found.suite.projectId,
    suiteId,
    name: input.name,
    steps: input.steps,
    createdAt: at,
    updatedAt: at,
  };
  await insertCase(deps.db, row);
  return caseView(row);
}

export async function getCase(deps: Deps, scope: Scope, id: string) {
  const row = await findCase(deps.db, scope, id);
  if (!row) throw notFound("Case");
  return caseView(row);
}

export async function changeCase(deps: Deps, scope: Scope, id: string, input: { name?: string; steps?: Step[] }) {
  const row = await updateCase(deps.db, scope, id, { ...input, updatedAt: deps.now().toISOString() });
  if (!row) throw notFound("Case");
  return caseView(row);
}

export async function removeCase(deps: Deps, scope: Scope, id: string) {
  if (!(await deleteCase(deps.db, scope, id))) throw notFound("Case");
}
