// The console's client-safe API surface: reply schemas (also the OpenAPI document's), one fetcher per
// resource, and the terminal socket's messages.
export * from "./access";
export * from "./administration";
export * from "./classification";
export * from "./client";
export * from "./connections";
export * from "./database-credentials";
export * from "./exec";
export * from "./reviews";
export * from "./schemas";
export * from "./service-accounts";
export * from "./sessions";
export * from "./terminal-messages";
