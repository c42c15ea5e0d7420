/** The gateway core every channel passes (identify, authorize, decide, hold, record, fail closed). */
import "server-only";

export {
  createGatewayCore,
  type GatewayCore,
  type GatewayDeps,
  type HoldRequest,
  REFUSALS,
  type SessionChannel,
  type SessionKind,
  type SessionRecorder,
} from "./core";
export { gatewayCore, productionGatewayDeps, wireGateway } from "./wiring";
