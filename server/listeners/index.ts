/** Native protocol front doors: the PostgreSQL wire listener (later SSH). */
import "server-only";

export { isLoopback, mayUsePlaintext, type PgListener, startPgListener } from "./pg-listener";
export { fingerprintOf, generateSelfSigned } from "./tls-certificate";
