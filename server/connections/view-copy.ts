/**
 * A caller's own copy of a cached connection view (getConnectionForUse hands one out on every statement): the
 * same value as `structuredClone` for the view's known shape (strings, numbers, booleans, null, and the nested
 * objects and string arrays listed here), built directly, which costs a few object literals instead of the
 * structured-clone serializer. Nothing a caller changes in its copy can reach the cache. Not responsible for what
 * the view holds (service.ts builds it).
 */
import "server-only";

/** The nested parts of a connection view (service.ts's ConnectionView); everything else in it is a primitive. */
interface ViewShape {
  groups: string[];
  credentials: object;
  approvals: { approverGroups: string[] };
  terminal: object;
}

export function copyConnectionView<View extends ViewShape>(view: View): View {
  return {
    ...view,
    groups: [...view.groups],
    credentials: { ...view.credentials },
    approvals: { ...view.approvals, approverGroups: [...view.approvals.approverGroups] },
    terminal: { ...view.terminal },
  };
}
