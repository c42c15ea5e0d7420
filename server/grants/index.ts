/**
 * Time-boxed access grants: a person asks for a connection for a while, an admin decides, the grant lapses by
 * itself. The connection registry enforces active grants; this folder stores and decides them.
 */
import "server-only";

export {
  decideGrant,
  type GrantView,
  listGrantableConnections,
  listGrants,
  type RequestGrantInput,
  requestGrant,
  requestGrantSchema,
  revokeGrant,
} from "./grants";
