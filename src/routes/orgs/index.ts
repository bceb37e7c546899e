import { createOrg } from "../../services/orgs";
import { requireAdmin } from "../../middleware/auth";
import { baseDeps, createRouter } from "../router";
import { createOrgRoute } from "./orgs.routes";

export const orgsRouter = createRouter();
orgsRouter.use("/orgs", requireAdmin());
orgsRouter.openapi(createOrgRoute, async (c) => c.json(await createOrg(baseDeps(c), c.req.valid("json")), 201));
