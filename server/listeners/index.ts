/** Native protocol front doors: the PostgreSQL wire listener (later SSH). */
import "server-only";

export { type PgListener, startPgListener } from "./pg-listener";
