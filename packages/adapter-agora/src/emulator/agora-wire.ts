import type { EmulatedUser } from './emulator-users.js';

/** Agora's `error` codes the emulator produces, with the Java exception names Easemob reports. */
export const AGORA_EXCEPTIONS: Readonly<Record<string, string>> = {
  duplicate_unique_property_exists: 'org.apache.usergrid.persistence.exceptions.DuplicateUniquePropertyExistsException',
  illegal_argument: 'java.lang.IllegalArgumentException',
  json_parse: 'com.fasterxml.jackson.core.JsonParseException',
  unauthorized: 'EasemobSecurityException',
  organization_application_not_found: 'org.apache.usergrid.management.exceptions.OrganizationApplicationNotFoundException',
  service_resource_not_found: 'org.apache.usergrid.services.exceptions.ServiceResourceNotFoundException',
  reach_limit: 'EasemobTooManyRequestsException',
  web_application: 'javax.ws.rs.WebApplicationException',
  unsupported_service_operation: 'org.apache.usergrid.services.exceptions.UnsupportedServiceOperationException',
  internal_server_error: 'java.lang.RuntimeException',
};

/** Agora's flat error body. */
export function errorBody(error: string, description: string, startedAt: number): Record<string, unknown> {
  const now = Date.now();
  return {
    error,
    exception: AGORA_EXCEPTIONS[error] ?? 'java.lang.RuntimeException',
    timestamp: now,
    duration: now - startedAt,
    error_description: description,
  };
}

/** The default error code for a status used by fault injection. */
export function defaultErrorFor(status: number): { error: string; description: string } {
  if (status === 429) return { error: 'reach_limit', description: 'This request has reached API limit.' };
  if (status === 401) return { error: 'unauthorized', description: 'Unable to authenticate due to expired access token.' };
  if (status === 404) return { error: 'service_resource_not_found', description: 'Service resource not found' };
  if (status === 408) return { error: 'request_timeout', description: 'The request timed out.' };
  if (status >= 500) return { error: 'internal_server_error', description: 'The server encountered an internal error.' };
  return { error: 'illegal_argument', description: 'This is an invalid request.' };
}

/** One user entity as Agora's envelope carries it. */
export function entity(user: EmulatedUser): Record<string, unknown> {
  return {
    uuid: user.uuid,
    type: 'user',
    created: user.created,
    modified: user.modified,
    username: user.username,
    activated: user.activated,
  };
}

/** What a success envelope says about the request it answers. */
export interface EnvelopeContext {
  readonly action: string;
  readonly orgName: string;
  readonly appName: string;
  readonly applicationId: string;
  readonly uri: string;
  readonly startedAt: number;
}

/** Agora's success envelope for the user endpoints. */
export function envelope(request: EnvelopeContext, fields: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  return {
    path: '/users',
    uri: request.uri,
    timestamp: now,
    organization: request.orgName,
    application: request.applicationId,
    action: request.action,
    duration: now - request.startedAt,
    applicationName: request.appName,
    ...fields,
  };
}
