import { createOrg } from "../../services/orgs";
import { requireAdmin } from "../../middleware/auth";
import { depsOf, createRouter } from "../router";
import { createOrgRoute } from "./orgs.routes";

export const orgsRouter = createRouter();
orgsRouter.use("/orgs", requireAdmin());
orgsRouter.openapi(createOrgRoute, async (c) => c.json(await createOrg(depsOf(c), c.req.valid("json")), 201));
