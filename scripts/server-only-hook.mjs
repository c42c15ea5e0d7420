// Lets the custom server and the admin command line (plain Node) import server modules guarded by
// `server-only`, which otherwise throws outside React Server Components.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === "server-only") return { url: "data:text/javascript,export{}", shortCircuit: true };
  return next(specifier, context);
}`),
);
