/**
 * Who approves a held request and how many approvals it needs: from the review rules that held it, else from the
 * connection's settings. Pure, so the pipeline, the terminal and the tests share one reading of it.
 */

export interface ApprovalSettings {
  approverGroups: string[];
  approvalsRequired: number;
}

export function approvalSettings(options: Record<string, unknown>): ApprovalSettings {
  const raw = options.approvals as Partial<ApprovalSettings> | undefined;
  return {
    approverGroups: Array.isArray(raw?.approverGroups)
      ? raw.approverGroups.filter((g) => typeof g === "string")
      : [],
    approvalsRequired: Math.max(1, Math.min(5, Number(raw?.approvalsRequired ?? 1))),
  };
}

/**
 * Who approves a held request: the groups named by the review rules that held it (all of them may approve, and
 * the strictest count applies), else the connection's approver groups and count. Admins always may.
 */
export function approversFor(
  reasons: unknown[],
  connectionOptions: Record<string, unknown>,
): ApprovalSettings {
  const fallback = approvalSettings(connectionOptions);
  const fromRules = reasons.filter(
    (r): r is { approverGroups?: string[]; approvalsRequired?: number } =>
      typeof r === "object" && r !== null && (r as { action?: unknown }).action === "review",
  );
  const groups = [...new Set(fromRules.flatMap((r) => r.approverGroups ?? []))];
  const counts = fromRules.map((r) => r.approvalsRequired).filter((n): n is number => typeof n === "number");
  return {
    approverGroups: groups.length > 0 ? groups : fallback.approverGroups,
    approvalsRequired: counts.length > 0 ? Math.min(5, Math.max(...counts)) : fallback.approvalsRequired,
  };
}
