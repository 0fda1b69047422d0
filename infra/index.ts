import * as pulumi from "@pulumi/pulumi";
import { AccessBridge } from "./access-bridge";
import { keysIn, projectName, readConfig, validateConfig } from "./config";
import { namePrefixFor } from "./names";
import { stackArgs } from "./stack-args";

// The namespace is named rather than taken from the engine's project, so the
// keys stay `access-bridge:*` when another program or a test harness runs this one.
const stack = pulumi.getStack();
const { raw, secretKeys } = readConfig(new pulumi.Config(projectName));
const config = validateConfig(raw, stack, secretKeys, keysIn(projectName));

// The stack's Cloudflare names are `<project>-<stack>-...`, as they always were.
const bridge = new AccessBridge(
  "access-bridge",
  stackArgs(config, secretKeys, namePrefixFor(pulumi.getProject(), stack)),
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
