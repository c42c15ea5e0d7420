// An API client signed in as the first admin through next-auth's credentials callback (a session cookie),
// for journeys that prepare data over HTTP before the browser part starts.
import { type APIRequestContext, expect, request } from "@playwright/test";
import { ADMIN } from "./env";

export async function adminRequest(baseURL: string): Promise<APIRequestContext> {
  const context = await request.newContext({ baseURL });
  const csrf = (await (await context.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const signIn = await context.post("/api/auth/callback/credentials", {
    form: { csrfToken: csrf.csrfToken, email: ADMIN.email, password: ADMIN.password, json: "true" },
  });
  expect(signIn.ok()).toBeTruthy();
  return context;
}
