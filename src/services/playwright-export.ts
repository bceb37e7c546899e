// A suite's Playwright export, kept in R2 under the hash of what it is made from (the suite, its
// cases, the project's base URL, the generator's version): while nothing changes it is served from
// there; a change makes a new one and the old one is deleted, so a suite keeps one export.
import type { Scope } from "../auth/tenancy";
import { sha256Hex } from "../auth/tokens";
import { findProject } from "../db/projects";
import { findSuite } from "../db/suites";
import { listCasesOfSuite } from "../db/cases";
import { notFound } from "../errors";
import { PlaywrightExportSchema, type PlaywrightExport } from "../schemas/exports";
import { artifactKeys, deleteUnder, getJson, putJson } from "../storage/artifacts";
import type { ServiceDeps } from "./deps";
import { renderPlaywrightConfig, renderPlaywrightSpec, slugOf } from "./playwright-spec";

/** Bumped when the generator's output changes, so stored exports are made again. */
const GENERATOR_VERSION = 1;

export async function exportSuiteToPlaywright(deps: Pick<ServiceDeps, "db" | "artifacts" | "now">, scope: Scope, suiteId: string): Promise<PlaywrightExport> {
  const found = await findSuite(deps.db, scope, suiteId);
  if (!found) throw notFound("Suite");
  const [cases, project] = await Promise.all([listCasesOfSuite(deps.db, suiteId), findProject(deps.db, scope, found.suite.projectId)]);
  const source = {
    generator: GENERATOR_VERSION,
    suite: { id: found.suite.id, name: found.suite.name },
    baseUrl: project?.baseUrl ?? null,
    cases: cases.map((c) => ({ id: c.id, name: c.name, steps: c.steps })),
  };
  const key = artifactKeys.playwrightExport(suiteId, await sha256Hex(JSON.stringify(source)));

  const stored = PlaywrightExportSchema.safeParse(await getJson(deps.artifacts, key));
  if (stored.success) return stored.data;

  const generatedAt = deps.now().toISOString();
  const fileName = `${slugOf(found.suite.name)}.spec.ts`;
  const spec = renderPlaywrightSpec({ name: found.suite.name, cases: source.cases }, { suiteId, generatedAt });
  const made: PlaywrightExport = { suiteId, fileName, spec, config: renderPlaywrightConfig(fileName, source.baseUrl), generatedAt, sha256: await sha256Hex(spec) };
  await putJson(deps.artifacts, key, made);
  await deleteUnder(deps.artifacts, artifactKeys.playwrightExports(suiteId), key);
  return made;
}

/** A deleted suite's exports go with it. */
export const deleteSuiteExports = (deps: Pick<ServiceDeps, "artifacts">, suiteId: string) =>
  deleteUnder(deps.artifacts, artifactKeys.playwrightExports(suiteId));
