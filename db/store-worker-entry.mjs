// Entry of the embedded store's worker thread (see ./store-thread.ts): registers TypeScript loading (tsx) and the
// `server-only` hook in this thread, then loads the worker itself.
import "../scripts/server-only-hook.mjs";
import { register } from "tsx/esm/api";

register();
await import("./store-worker.ts");
