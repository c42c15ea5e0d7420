/** SAML 2.0 sign-in: the identity provider's metadata, the answer's checks, the hand-off to a session. */
import "server-only";

export {
  handleSamlAnswer,
  handleSamlLogin,
  handleServiceProviderMetadata,
  samlPostSchema,
} from "./http";
export { parseIdentityProviderMetadata } from "./metadata";
export { SAML_REFUSALS, type SamlRefusalCode, samlRefusalMessage } from "./refusals";
export {
  acceptSamlResponse,
  HANDOFF_COOKIE,
  handoffCookie,
  redeemSamlHandoff,
  type SamlOutcome,
  serviceProviderMetadata,
  startSamlSignIn,
} from "./service";
