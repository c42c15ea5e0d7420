/** Native protocol front doors: the PostgreSQL wire listener (later SSH), and the console's side of it. */
import "server-only";

export { issueDatabaseCredential } from "./connect";
export { type ConnectInstructions, connectInstructions } from "./connect-instructions";
export { endNativeSession } from "./end-session";
export { type PgListener, startPgListener } from "./pg-listener";
