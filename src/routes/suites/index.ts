import * as suites from "../../services/suites";
import { baseDeps, createRouter, scopeFor } from "../router";
import * as routes from "./suites.routes";

export const suitesRouter = createRouter()
  .openapi(routes.listSuitesRoute, async (c) =>
    c.json(await suites.listSuitesPage(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(routes.createSuiteRoute, async (c) =>
    c.json(await suites.createSuite(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json").name), 201),
  )
  .openapi(routes.getSuiteRoute, async (c) => c.json(await suites.getSuite(baseDeps(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateSuiteRoute, async (c) =>
    c.json(await suites.renameSuite(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json").name), 200),
  )
  .openapi(routes.deleteSuiteRoute, async (c) => {
    await suites.removeSuite(baseDeps(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.createCaseRoute, async (c) =>
    c.json(await suites.createCase(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .openapi(routes.getCaseRoute, async (c) => c.json(await suites.getCase(baseDeps(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateCaseRoute, async (c) =>
    c.json(await suites.changeCase(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(routes.deleteCaseRoute, async (c) => {
    await suites.removeCase(baseDeps(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
