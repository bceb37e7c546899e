import { changeProject, createProject, getProject, listProjectsPage, removeProject } from "../../services/projects";
import { baseDeps, createRouter, scopeFor, tokenDeps } from "../router";
import * as routes from "./projects.routes";

export const projectsRouter = createRouter()
  .openapi(routes.listProjectsRoute, async (c) => c.json(await listProjectsPage(baseDeps(c), scopeFor(c), c.req.valid("query")), 200))
  .openapi(routes.createProjectRoute, async (c) => c.json(await createProject(baseDeps(c), scopeFor(c), c.req.valid("json")), 201))
  .openapi(routes.getProjectRoute, async (c) => c.json(await getProject(baseDeps(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateProjectRoute, async (c) =>
    c.json(await changeProject(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(routes.deleteProjectRoute, async (c) => {
    await removeProject(tokenDeps(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
