// drizzle-kit generates migrations/ from src/db/schema.ts; a person reviews each file.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
