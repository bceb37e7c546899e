import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { orgs } from "./schema";

export type OrgRow = typeof orgs.$inferSelect;

export async function insertOrg(db: Db, row: OrgRow) {
  await db.insert(orgs).values(row);
}

export async function findOrg(db: Db, id: string) {
  return db.query.orgs.findFirst({ where: eq(orgs.id, id) });
}
