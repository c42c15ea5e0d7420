/** The console's client-side calls to its own API; errors surface the server's message. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function callApi<T = unknown>(
  path: string,
  options: { method?: string; body?: unknown } = {},
): Promise<T> {
  const method = options.method ?? (options.body === undefined ? "GET" : "POST");
  const response = await fetch(path, {
    method,
    // The console refuses a signed-in change that is not typed JSON, even with no body (cross-site forms).
    headers: method === "GET" ? {} : { "content-type": "application/json" },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  const data = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!response.ok) {
    throw new ApiError(
      data.error?.message ?? `request failed (${response.status})`,
      response.status,
      data.error?.code ?? "error",
    );
  }
  return data as T;
}
