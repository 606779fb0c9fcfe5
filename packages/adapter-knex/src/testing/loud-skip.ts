/**
 * Skips the current suite with a banner that cannot be missed, or fails it under `CI=true`, where
 * every test must run. `what` names the tests, `why` the missing piece, `remedy` how to run them.
 */
export function skipLoudly(context: Mocha.Context, why: string, what: string, remedy: string): never {
  if (process.env['CI'] === 'true') throw new Error(`${why}, under CI=true: the ${what} must run`);
  console.warn(['', '*'.repeat(78), `*  ${why}.`, `*  SKIPPING the ${what}. ${remedy}, or set CI=true to make this a failure.`, '*'.repeat(78), ''].join('\n'));
  context.skip();
}
