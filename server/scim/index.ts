/** SCIM 2.0 provisioning: the identity provider creates, updates, deactivates and deletes people and groups. */
import "server-only";

export { handleScimRequest } from "./handler";
export { createScimToken, createScimTokenSchema, listScimTokens, revokeScimToken } from "./tokens";
