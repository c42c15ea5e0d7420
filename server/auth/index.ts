/** Identity: sessions, local and single sign-on accounts, groups, service accounts and API tokens. */
import "server-only";

export { principalFromCookieHeader, principalFromRequest } from "./authenticate";
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
export { actorOf, hasPermission, type Permission, type Principal, type Role } from "./principal";
export { currentPrincipal, requirePrincipal } from "./require";
export {
  createGroupSchema,
  createServiceAccountSchema,
  createUserSchema,
  updateUserSchema,
} from "./schema";
export { createServiceAccount, issueToken, principalFromToken, revokeToken } from "./tokens";
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
