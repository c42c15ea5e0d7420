/**
 * The SCIM 2.0 service at /scim/v2 (RFC 7644): authenticates the identity provider's bearer token (a SCIM token,
 * nothing else), rate limits it like an API token, reads a bounded JSON body, routes Users, Groups and the
 * discovery documents (ServiceProviderConfig, Schemas, ResourceTypes), and answers in SCIM's shapes: resources
 * as application/scim+json and errors as SCIM Error messages with a status and scimType. Unexpected errors are a
 * 500 with an id in the log, never a stack. Not responsible for what a call changes (resources.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { getConfig } from "@/server/config";
import { GatewayError } from "@/server/errors";
import { takeTokenRequest } from "@/server/http/rate-limit";
import { requestText } from "@/server/http/request-body";
import { parseFilter } from "./filter";
import {
  createScimGroup,
  createScimUser,
  deleteScimGroup,
  deleteScimUser,
  GROUP_SCHEMA,
  getScimGroup,
  getUser,
  LIST_SCHEMA,
  listScimGroups,
  listUsers,
  pageOf,
  patchScimGroup,
  patchScimUser,
  replaceScimGroup,
  replaceScimUser,
  ScimError,
  USER_SCHEMA,
} from "./resources";
import { scimActorFromToken } from "./tokens";

const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
const MAX_BODY_BYTES = 1024 * 1024;
const SCIM_TYPE = "application/scim+json";

function reply(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  if (body === undefined) return new Response(null, { status, headers });
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": SCIM_TYPE, "cache-control": "no-store", ...headers },
  });
}

function scimError(status: number, detail: string, scimType?: string, headers?: Record<string, string>) {
  return reply(
    status,
    { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType && { scimType }), detail },
    headers,
  );
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const type = request.headers.get("content-type") ?? "";
  const text = await requestText(request, MAX_BODY_BYTES);
  if (!/^application\/(scim\+)?json\b/i.test(type))
    throw new ScimError(415, "send the body as application/scim+json", "invalidSyntax");
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    throw new ScimError(400, "the body is not a JSON object", "invalidSyntax");
  }
}

function filterOf(url: URL) {
  const text = url.searchParams.get("filter");
  if (text === null) return undefined;
  try {
    return parseFilter(text);
  } catch (err) {
    throw new ScimError(
      400,
      `filter: ${err instanceof Error ? err.message : "not understood"}`,
      "invalidFilter",
    );
  }
}

const SERVICE_PROVIDER_CONFIG = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
  documentationUri: "https://github.com/portcullis/portcullis#scim-20-provisioning",
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 200 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: "oauthbearertoken",
      name: "Bearer token",
      description: "A SCIM token an admin mints in the console (pst_…)",
      primary: true,
    },
  ],
  meta: { resourceType: "ServiceProviderConfig" },
};

const attribute = (name: string, type = "string", extra: Record<string, unknown> = {}) => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
  ...extra,
});

const SCHEMAS = [
  {
    id: USER_SCHEMA,
    name: "User",
    description: "A person who signs in through single sign-on",
    attributes: [
      attribute("userName", "string", { required: true, uniqueness: "server" }),
      attribute("displayName"),
      attribute("name", "complex", {
        subAttributes: [attribute("formatted"), attribute("givenName"), attribute("familyName")],
      }),
      attribute("emails", "complex", {
        multiValued: true,
        subAttributes: [attribute("value"), attribute("primary", "boolean")],
      }),
      attribute("active", "boolean"),
      attribute("externalId"),
      attribute("groups", "complex", { multiValued: true, mutability: "readOnly" }),
    ],
    meta: { resourceType: "Schema", location: `/scim/v2/Schemas/${USER_SCHEMA}` },
  },
  {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "A group of people; connections are granted to groups",
    attributes: [
      attribute("displayName", "string", { required: true, uniqueness: "server" }),
      attribute("externalId"),
      attribute("members", "complex", {
        multiValued: true,
        subAttributes: [attribute("value"), attribute("display")],
      }),
    ],
    meta: { resourceType: "Schema", location: `/scim/v2/Schemas/${GROUP_SCHEMA}` },
  },
];

const RESOURCE_TYPES = [
  { id: "User", name: "User", endpoint: "/Users", schema: USER_SCHEMA },
  { id: "Group", name: "Group", endpoint: "/Groups", schema: GROUP_SCHEMA },
].map((r) => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
  ...r,
  meta: { resourceType: "ResourceType", location: `/scim/v2/ResourceTypes/${r.id}` },
}));

const list = (items: unknown[]) => ({
  schemas: [LIST_SCHEMA],
  totalResults: items.length,
  startIndex: 1,
  itemsPerPage: items.length,
  Resources: items,
});

/** Serves one SCIM request; `path` is what follows /scim/v2 (e.g. ["Users", "<id>"]). */
export async function handleScimRequest(request: Request, path: string[]): Promise<Response> {
  try {
    const match = /^Bearer\s+(\S+)$/i.exec((request.headers.get("authorization") ?? "").trim());
    const actor = match?.[1] ? await scimActorFromToken(match[1]) : null;
    if (!actor)
      return scimError(401, "send Authorization: Bearer <SCIM token>; this one is unknown or revoked");
    const limit = takeTokenRequest(`scim:${actor.tokenId}`);
    if (!limit.allowed)
      return scimError(429, `too many requests; retry in ${limit.retryAfterSeconds} s`, undefined, {
        "Retry-After": String(limit.retryAfterSeconds),
      });
    const url = new URL(request.url);
    const base = `${getConfig().publicUrl.replace(/\/$/, "")}/scim/v2`;
    const [resource, id, ...rest] = path;
    const method = request.method.toUpperCase();
    if (rest.length > 0 || (id !== undefined && id === "")) return scimError(404, "no such SCIM endpoint");
    if (resource === "ServiceProviderConfig" && id === undefined && method === "GET")
      return reply(200, SERVICE_PROVIDER_CONFIG);
    if (resource === "Schemas" && method === "GET") {
      if (id === undefined) return reply(200, list(SCHEMAS));
      const schema = SCHEMAS.find((s) => s.id === id);
      return schema ? reply(200, schema) : scimError(404, `no schema ${id}`);
    }
    if (resource === "ResourceTypes" && method === "GET") {
      if (id === undefined) return reply(200, list(RESOURCE_TYPES));
      const type = RESOURCE_TYPES.find((t) => t.id === id);
      return type ? reply(200, type) : scimError(404, `no resource type ${id}`);
    }
    const page = (items: unknown[]) =>
      reply(200, pageOf(items, url.searchParams.get("startIndex"), url.searchParams.get("count")));
    if (resource === "Users") {
      if (id === undefined && method === "GET") return page(await listUsers(filterOf(url), base));
      if (id === undefined && method === "POST")
        return reply(201, await createScimUser(actor, await readJson(request), base));
      if (id !== undefined && method === "GET") return reply(200, await getUser(id, base));
      if (id !== undefined && method === "PUT")
        return reply(200, await replaceScimUser(actor, id, await readJson(request), base));
      if (id !== undefined && method === "PATCH")
        return reply(200, await patchScimUser(actor, id, await readJson(request), base));
      if (id !== undefined && method === "DELETE") {
        await deleteScimUser(actor, id);
        return reply(204);
      }
    }
    if (resource === "Groups") {
      // Azure AD lists groups with excludedAttributes=members to spare the member lists.
      const withMembers = !/\bmembers\b/.test(url.searchParams.get("excludedAttributes") ?? "");
      if (id === undefined && method === "GET")
        return page(await listScimGroups(filterOf(url), base, withMembers));
      if (id === undefined && method === "POST")
        return reply(201, await createScimGroup(actor, await readJson(request), base));
      if (id !== undefined && method === "GET") return reply(200, await getScimGroup(id, base));
      if (id !== undefined && method === "PUT")
        return reply(200, await replaceScimGroup(actor, id, await readJson(request), base));
      if (id !== undefined && method === "PATCH")
        return reply(200, await patchScimGroup(actor, id, await readJson(request), base));
      if (id !== undefined && method === "DELETE") {
        await deleteScimGroup(actor, id);
        return reply(204);
      }
    }
    return scimError(
      resource === "Users" || resource === "Groups" ? 405 : 404,
      `${method} /scim/v2/${path.join("/")} is not a SCIM endpoint`,
    );
  } catch (err) {
    if (err instanceof ScimError) return scimError(err.status, err.message, err.scimType);
    if (err instanceof GatewayError) return scimError(err.status, err.message);
    const id = randomUUID();
    console.error(`[portcullis] internal SCIM error ${id}:`, err);
    return scimError(500, `Something went wrong on the gateway (error id ${id}).`);
  }
}
