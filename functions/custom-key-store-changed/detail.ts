/**
 * The custom key store events' own field: the store they name (`requestParameters.customKeyStoreId`,
 * its name from `additionalEventData`) and, for UpdateCustomKeyStore, which settings the call
 * changed. CloudTrail hides secret values (the proxy credential, the kmsuser password) but keeps
 * their field names: a field present is a field changed.
 */
import type { DetailInput, DetailParser } from "../shared/event.js";
import { str } from "../shared/json.js";

export interface StoreDetail {
  kind: "custom-key-store";
  storeId: string | undefined;
  storeName: string | undefined;
  /** UpdateCustomKeyStore: the request's fields that change where or how KMS reaches the store. */
  changed: string[];
  /** UpdateCustomKeyStore: a new name only (or nothing that matters). */
  renamed: string | undefined;
}

declare module "../shared/event.js" {
  interface EventDetails {
    "custom-key-store": StoreDetail;
  }
}

/**
 * The settings whose change sends KMS to another place or with other credentials: the external
 * key store proxy's endpoint, path, authentication credential, VPC endpoint service (and its
 * owner) and connectivity; a CloudHSM store's cluster and kmsuser password.
 */
export const SENSITIVE_FIELDS = [
  "xksProxyUriEndpoint",
  "xksProxyUriPath",
  "xksProxyAuthenticationCredential",
  "xksProxyVpcEndpointServiceName",
  "xksProxyVpcEndpointServiceOwner",
  "xksProxyConnectivity",
  "cloudHsmClusterId",
  "keyStorePassword",
] as const;

export const STORE_EVENTS = [
  "DisconnectCustomKeyStore",
  "UpdateCustomKeyStore",
  "DeleteCustomKeyStore",
] as const;

export const storeDetail: DetailParser = {
  eventNames: STORE_EVENTS,
  parse({ request, additional }: DetailInput): StoreDetail {
    return {
      kind: "custom-key-store",
      storeId: str(request.customKeyStoreId),
      storeName: str(additional.customKeyStoreName) ?? str(request.newCustomKeyStoreName),
      changed: SENSITIVE_FIELDS.filter((f) => request[f] !== undefined && request[f] !== null),
      renamed: str(request.newCustomKeyStoreName),
    };
  },
};
