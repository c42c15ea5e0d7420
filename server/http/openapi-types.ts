/**
 * The types an entry of the OpenAPI path list is written in, apart from the list so that openapi.ts and the
 * files it gathers (openapi-administration.ts, openapi-identity.ts) all import them from here and not from each
 * other. Types only; not responsible for building the document (openapi.ts).
 */
import type { z } from "zod";
import type { ResponseSchemaName } from "@/lib/api";
import type { Permission } from "@/server/principal";

/** A reply: in words, or with its schema (one name, or several for oneOf) and headers. */
export type ResponseSpec =
  | string
  | {
      description: string;
      schema?: ResponseSchemaName | ResponseSchemaName[];
      headers?: Record<string, string>;
    };

export interface Operation {
  summary: string;
  /** what a caller needs; several: any one of them */
  permission?: Permission | readonly Permission[];
  body?: z.ZodType;
  /** the body is form-encoded (JSON also accepted): the OAuth token endpoint */
  formBody?: boolean;
  /** only a person (console session) holding the permission may call it; a service account is refused */
  isForPeopleOnly?: boolean;
  /** reachable without a bearer token (it authenticates some other way, described in the summary) */
  isPublic?: boolean;
  /** honours `Prefer: wait=N` */
  isLongPoll?: boolean;
  params?: string[];
  query?: string[];
  responses?: Record<string, ResponseSpec>;
}

export interface ApiPath {
  path: string;
  method: "get" | "post" | "put" | "patch" | "delete";
  operation: Operation;
}
