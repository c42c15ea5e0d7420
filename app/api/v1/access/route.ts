import { exportAccessMatrixCsv, getAccessMatrix } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** The access matrix, filterable (principal, group, connection, unused, type, unusedDays, page, pageSize); `format=csv` exports every matching row. */
export const GET = withAuth({ permission: "audit:read" }, async ({ principal, request }) => {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  if (params.format === "csv") {
    const { format: _format, ...filters } = params;
    return new Response(await exportAccessMatrixCsv(principal, filters), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="access-matrix-${new Date().toISOString().slice(0, 10)}.csv"`,
      },
    });
  }
  return getAccessMatrix(principal, params);
});
