import { changeProject, createProject, getProject, listProjectsPage, removeProject } from "../../services/projects";
import { createRouter, depsOf, scopeFor } from "../router";
import * as routes from "./projects.routes";

export const projectsRouter = createRouter()
  .openapi(routes.listProjectsRoute, async (c) => c.json(await listProjectsPage(depsOf(c), scopeFor(c), c.req.valid("query")), 200))
  .openapi(routes.createProjectRoute, async (c) => c.json(await createProject(depsOf(c), scopeFor(c), c.req.valid("json")), 201))
  .openapi(routes.getProjectRoute, async (c) => c.json(await getProject(depsOf(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateProjectRoute, async (c) =>
    c.json(await changeProject(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(routes.deleteProjectRoute, async (c) => {
    await removeProject(depsOf(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
