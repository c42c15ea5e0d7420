// The detector families (./detect.ts runs them over a segment), their catalog, and the column-name hints.
import "server-only";

export { DETECTOR_INFO, DETECTOR_TYPES, scoreOf } from "./catalog";
export { csiEndsAt, hintFromName } from "./context";
export { type DetectOptions, detectSegment, mayDetect, resolveOverlaps } from "./detect";
