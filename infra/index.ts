import * as pulumi from "@pulumi/pulumi";
import { AccessBridge } from "./access-bridge";
import { loadConfig, projectName } from "./config";

// The namespace is named rather than taken from the engine's project, so the
// keys stay `access-bridge:*` when another program or a test harness runs this one.
const config = loadConfig(new pulumi.Config(projectName), pulumi.getStack());

const bridge = new AccessBridge("access-bridge", config);

export const frontendAppId = bridge.frontendAppId;
export const frontendAud = bridge.frontendAud;
export const apiAppId = bridge.apiAppId;
export const apiAud = bridge.apiAud;
export const workerName = bridge.workerName;
export const routePattern = bridge.routePattern;
export const serviceTokenId = bridge.serviceTokenId;
export const serviceTokenExpiresAt = bridge.serviceTokenExpiresAt;
export const serviceTokenSecretVersion = bridge.serviceTokenSecretVersion;
export const previousSecretExpiresAt = bridge.previousSecretExpiresAt;
export const identityJwks = bridge.identityJwks;
