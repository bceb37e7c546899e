import * as suites from "../../services/suites";
import { exportSuiteToPlaywright } from "../../services/playwright-export";
import { depsOf, createRouter, scopeFor } from "../router";
import * as routes from "./suites.routes";

export const suitesRouter = createRouter()
  .openapi(routes.listSuitesRoute, async (c) =>
    c.json(await suites.listSuitesPage(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(routes.createSuiteRoute, async (c) =>
    c.json(await suites.createSuite(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json").name), 201),
  )
  .openapi(routes.getSuiteRoute, async (c) => c.json(await suites.getSuite(depsOf(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateSuiteRoute, async (c) =>
    c.json(await suites.renameSuite(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json").name), 200),
  )
  .openapi(routes.deleteSuiteRoute, async (c) => {
    await suites.removeSuite(depsOf(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.createCaseRoute, async (c) =>
    c.json(await suites.createCase(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .openapi(routes.getCaseRoute, async (c) => c.json(await suites.getCase(depsOf(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateCaseRoute, async (c) =>
    c.json(await suites.changeCase(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(routes.exportPlaywrightRoute, async (c) => {
    const exported = await exportSuiteToPlaywright(depsOf(c), scopeFor(c), c.req.valid("param").id);
    if (c.req.valid("query").download !== "true") return c.json(exported, 200);
    // The typed response is the JSON one; this is the same export as a file.
    return c.body(exported.spec, 200, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": `attachment; filename="${exported.fileName}"`,
    }) as never;
  })
  .openapi(routes.deleteCaseRoute, async (c) => {
    await suites.removeCase(depsOf(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
