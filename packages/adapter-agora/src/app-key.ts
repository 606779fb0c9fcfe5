/** The two halves of an Agora Chat App Key (`{org_name}#{app_name}`), as used in REST paths. */
export interface AppKeyParts {
  readonly orgName: string;
  readonly appName: string;
}

/** An org name or an app name: plain identifiers on the Console; anything else would break the URL path. */
export const APP_KEY_PART_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Splits an Agora Chat App Key (`org#app`, shown on the Console's Chat page) into org and app names.
 * @throws TypeError naming what is wrong with the key
 * @example parseAppKey('611012345#1234567') // { orgName: '611012345', appName: '1234567' }
 */
export function parseAppKey(appKey: string): AppKeyParts {
  if (typeof appKey !== 'string' || appKey.trim() === '') {
    throw new TypeError('The Agora Chat App Key is missing; expected "org_name#app_name".');
  }
  const parts = appKey.trim().split('#');
  if (parts.length !== 2) {
    throw new TypeError(`The Agora Chat App Key "${appKey}" must contain exactly one "#": "org_name#app_name".`);
  }
  const [orgName = '', appName = ''] = parts;
  if (!APP_KEY_PART_PATTERN.test(orgName) || !APP_KEY_PART_PATTERN.test(appName)) {
    throw new TypeError(
      `The Agora Chat App Key "${appKey}" is malformed: org_name and app_name must be 1-64 of A-Z a-z 0-9 _ -.`,
    );
  }
  return { orgName, appName };
}
