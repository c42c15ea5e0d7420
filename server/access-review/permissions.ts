/**
 * Who may do what in access reviews: admins manage campaigns, auditors (audit:read) read the matrix and the
 * evidence, reviewers decide the items routed to their group, and nobody decides their own access. Pure
 * checks on a principal and an item; not responsible for loading either.
 */
import "server-only";
import type { AccessReviewItem } from "@/db/schema";
import { GatewayError } from "@/server/errors";
import { hasPermission, type Principal } from "@/server/principal";

export function isAdmin(principal: Principal): boolean {
  return principal.kind === "person" && hasPermission(principal, "users:manage");
}

export function assertAuditor(principal: Principal) {
  if (!hasPermission(principal, "audit:read"))
    throw new GatewayError("forbidden", "the access matrix needs permission audit:read");
}

export function assertAdmin(principal: Principal) {
  if (!isAdmin(principal)) throw new GatewayError("forbidden", "only admins manage access review campaigns");
}

/** May this principal decide this item? Never their own; members of its reviewer group, or admins. */
export function mayDecide(principal: Principal, item: AccessReviewItem): boolean {
  if (item.principalId === principal.id || principal.kind !== "person") return false;
  if (isAdmin(principal)) return true;
  return item.reviewerGroupId !== null && principal.groups.some((g) => g.id === item.reviewerGroupId);
}

/** May see the item: auditors everything; reviewers the items routed to their groups; the principal their own. */
export function maySee(principal: Principal, item: AccessReviewItem): boolean {
  return (
    hasPermission(principal, "audit:read") ||
    item.principalId === principal.id ||
    (item.reviewerGroupId !== null && principal.groups.some((g) => g.id === item.reviewerGroupId))
  );
}
