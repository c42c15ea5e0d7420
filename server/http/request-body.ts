/**
 * A request body the server already read into memory (the data-path dispatch reads small bodies eagerly:
 * server/http/node-adapter.ts), kept beside its web Request instead of inside it, so reading it costs no web
 * stream. Not responsible for limits or parsing (withAuth's readJsonBody does both).
 */
const bodies = new WeakMap<Request, Buffer>();

/** Keeps `body` as the body of `request` (a Request built without one). */
export function attachBody(request: Request, body: Buffer): void {
  bodies.set(request, body);
}

/** The request's body as text: the attached bytes when there are some, else the Request's own body. */
export function requestText(request: Request): Promise<string> {
  const body = bodies.get(request);
  return body ? Promise.resolve(body.toString("utf8")) : request.text();
}
