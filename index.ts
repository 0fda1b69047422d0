// The package's entry: what another Pulumi program, in any language, uses.
export {
  AccessBridge,
  type AccessBridgeArgs,
  type ApiArgs,
  type ApiBridgeOutputs,
  type ApiSettings,
} from "./infra/access-bridge";
export { ConfigError, validateConfig, type AdoptIds, PreflightMode } from "./infra/config";
export {
  IdentityError,
  verifyIdentity,
  type VerifiedIdentity,
  type VerifyIdentityOptions,
} from "./identity/src";
