/**
 * What auditors read outside campaigns: the access matrix (a page, or all of it as CSV), the choices of its
 * filters, and the canned questions over recorded sessions and reviews. Permission checks open every function.
 * Not responsible for building the matrix (matrix.ts) or answering a question (questions.ts).
 */
import "server-only";
import { getDb } from "@/db/store";
import { badRequest } from "@/server/errors";
import type { Principal } from "@/server/principal";
import { matrixToCsv } from "./evidence";
import { queryMatrix } from "./matrix";
import { assertAuditor } from "./permissions";
import { answerQuestion } from "./questions";
import { type MatrixFilters, matrixFiltersSchema, questionSchema } from "./schema";
import { filterOptions } from "./store";

/** The matrix, one page; filters from a query string or an object. */
export async function getAccessMatrix(
  principal: Principal,
  filters: Partial<MatrixFilters> | Record<string, unknown>,
) {
  assertAuditor(principal);
  return queryMatrix(await getDb(), matrixFiltersSchema.parse(filters));
}

/** Every row matching the filters, as CSV (what the page shows, without paging). */
export async function exportAccessMatrixCsv(principal: Principal, filters: Record<string, unknown>) {
  assertAuditor(principal);
  const page = await queryMatrix(await getDb(), matrixFiltersSchema.parse(filters), { all: true });
  return matrixToCsv(page.rows);
}

/** Answers one of the auditor's canned questions over recorded sessions and reviews. */
export async function askQuestion(principal: Principal, input: Record<string, unknown>) {
  assertAuditor(principal);
  const parsed = questionSchema.parse(input);
  try {
    return await answerQuestion(await getDb(), parsed);
  } catch (err) {
    if (err instanceof RangeError) throw badRequest(err.message);
    throw err;
  }
}

/** Choices for the matrix filters (auditors). */
export async function getMatrixFilterOptions(principal: Principal) {
  assertAuditor(principal);
  return filterOptions(await getDb());
}
