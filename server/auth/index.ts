/** Identity: sessions, local and single sign-on accounts, groups, service accounts and API tokens. */
import "server-only";

export {
  actorOf,
  hasPermission,
  PERMISSIONS,
  type Permission,
  type Principal,
  type Role,
  rateLimitKey,
} from "@/server/principal";
export { principalFromCookieHeader, principalFromRequest } from "./authenticate";
export {
  accessTokenLifetimeSeconds,
  createClientSecret,
  mintAccessToken,
  OAuthError,
  revokeClientSecret,
} from "./client-secrets";
export {
  type CreateDatabaseCredentialInput,
  createDatabaseCredential,
  createDatabaseCredentialSchema,
  DATABASE_CREDENTIAL_PREFIX,
  type DatabaseCredentialView,
  isDatabaseCredentialLive,
  listDatabaseCredentials,
  NATIVE_END_CHANNEL,
  type NativeEndSignal,
  noteDatabaseCredentialUse,
  onNativeEnd,
  revokeDatabaseCredential,
  type ScramCandidates,
  sameDigest,
  scramCandidates,
  scramVerifier,
  signalNativeEnd,
} from "./database-credentials";
export {
  createFirstAdmin,
  type GroupView,
  isSetupNeeded,
  listGroups,
  listPeople,
  listServiceAccounts,
  type ServiceAccountView,
  type UserView,
} from "./directory";
export { getAuthOptions } from "./next-auth";
export { handleTokenRequest } from "./oauth";
export { currentPrincipal, requirePrincipal } from "./require";
export {
  handleSamlAnswer,
  handleSamlLogin,
  handleServiceProviderMetadata,
  samlPostSchema,
  samlRefusalMessage,
} from "./saml";
export {
  createClientSecretSchema,
  createGroupSchema,
  createServiceAccountSchema,
  createUserSchema,
  emailSchema,
  groupMemberSchema,
  groupNameSchema,
  issueTokenSchema,
  passwordSchema,
  rotateTokenSchema,
  serviceAccountRoleSchema,
  tokenRequestSchema,
  updateServiceAccountSchema,
  updateUserSchema,
} from "./schema";
export { assertMayGrant, type Grantor, setServiceAccountRole } from "./service-accounts";
export { currentSessionEpoch, endSessions } from "./sessions";
export { findGroupsByName } from "./store";
export {
  createServiceAccount,
  hashToken,
  issueToken,
  newSecret,
  principalFromToken,
  principalFromTokenHash,
  revokeToken,
  rotateToken,
  tokenHashOf,
} from "./tokens";
export {
  addGroupMember,
  countPeople,
  createGroup,
  createUser,
  deleteGroup,
  deleteUser,
  loadPrincipal,
  removeGroupMember,
  resolveGroupIds,
  updateUser,
} from "./users";
