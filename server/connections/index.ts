/** Connections: the registry of targets, their encrypted credentials, and who may use each. */
import "server-only";

export { createConnectionSchema, trustHostKeySchema, updateConnectionSchema } from "./schema";
export {
  assertCanManage,
  type ConnectionView,
  connectionIdByName,
  createConnection,
  deleteConnection,
  getConnectionById,
  getConnectionForUse,
  listAllConnections,
  listConnections,
  openConnectionSecret,
  pinHostKey,
  resetHostKey,
  updateConnection,
} from "./service";
export { testConnection, trustHostKey } from "./test-connection";
