/** Identity: sessions, local and single sign-on accounts, groups, service accounts and API tokens. */
import "server-only";

export { principalFromCookieHeader, principalFromRequest } from "./authenticate";
export {
  accessTokenLifetimeSeconds,
  createClientSecret,
  mintAccessToken,
  OAuthError,
  revokeClientSecret,
} from "./client-secrets";
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
export {
  actorOf,
  hasPermission,
  isAdminCapable,
  MEMBER_OR_AUDITOR_READ,
  PERMISSIONS,
  type Permission,
  type Principal,
  permissionsOf,
  permissionText,
  type Role,
  rateLimitKey,
  SERVICE_ACCOUNT_ROLES,
} from "./principal";
export { currentPrincipal, requirePrincipal } from "./require";
export {
  createClientSecretSchema,
  createGroupSchema,
  createServiceAccountSchema,
  createUserSchema,
  groupMemberSchema,
  issueTokenSchema,
  rotateTokenSchema,
  serviceAccountRoleSchema,
  tokenRequestSchema,
  updateServiceAccountSchema,
  updateUserSchema,
} from "./schema";
export { assertMayGrant, type Grantor, setServiceAccountRole } from "./service-accounts";
export { endSessions } from "./sessions";
export {
  createServiceAccount,
  hashToken,
  issueToken,
  newSecret,
  principalFromToken,
  revokeToken,
  rotateToken,
} from "./tokens";
export {
  addGroupMember,
  createGroup,
  createUser,
  deleteGroup,
  deleteUser,
  loadPrincipal,
  removeGroupMember,
  resolveGroupIds,
  updateUser,
} from "./users";
