import * as pulumi from "@pulumi/pulumi";
import { AccessBridge, type AccessBridgeArgs } from "./access-bridge";
import { fromStackConfig } from "./arguments";
import { keysIn, projectName, readConfig } from "./config";
import { namePrefixFor } from "./names";

// The namespace is named rather than taken from the engine's project, so the
// keys stay `access-bridge:*` when another program or a test harness runs this one.
const { raw, secretKeys } = readConfig(new pulumi.Config(projectName));

// The component checks the config, naming its keys, before it declares
// anything; the stack's Cloudflare names are `<project>-<stack>-...`, as they
// always were.
const bridge = new AccessBridge(
  "access-bridge",
  fromStackConfig(
    {
      ...(raw as unknown as AccessBridgeArgs),
      namePrefix: namePrefixFor(pulumi.getProject(), pulumi.getStack()),
    },
    { secretKeys, setKeys: keysIn(projectName) },
  ),
);

export const frontendAppId = bridge.frontendAppId;
export const frontendAud = bridge.frontendAud;
export const peoplePolicyId = bridge.peoplePolicyId;
export const apiAppId = bridge.apiAppId;
export const apiAud = bridge.apiAud;
export const workerName = bridge.workerName;
export const routePattern = bridge.routePattern;
export const serviceTokenId = bridge.serviceTokenId;
export const serviceTokenExpiresAt = bridge.serviceTokenExpiresAt;
export const serviceTokenSecretVersion = bridge.serviceTokenSecretVersion;
export const previousSecretExpiresAt = bridge.previousSecretExpiresAt;
export const identityJwks = bridge.identityJwks;
export const apis = bridge.apis;
