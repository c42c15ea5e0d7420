/** Connections: the registry of targets, their encrypted credentials, and who may use each. */
import "server-only";

export { createConnectionSchema, updateConnectionSchema } from "./schema";
export {
  assertCanManage,
  type ConnectionView,
  connectionIdByName,
  createConnection,
  deleteConnection,
  getConnectionById,
  getConnectionForUse,
  listConnections,
  openConnectionSecret,
  pinHostKey,
  updateConnection,
} from "./service";
export { testConnection } from "./test-connection";
