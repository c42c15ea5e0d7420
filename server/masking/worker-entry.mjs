// Entry of a masking worker thread (see ./pool.ts): registers TypeScript loading (tsx) and the `server-only`
// hook in this thread, then loads the worker itself.
import "../../scripts/server-only-hook.mjs";
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
