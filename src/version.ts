// The deployed version, taken from package.json when the Worker is bundled (esbuild and Vite inline
// the one field; nothing reads package.json at run time).
import { version } from "../package.json";

export const VERSION: string = version;
