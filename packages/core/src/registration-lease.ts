/**
 * How long a registration lease outlasts the chat service's deadline: the database writes of the
 * saga around the chat-user creation (store the hash, mark the attempt, activate) and clock skew
 * between instances sharing one database.
 */
export const REGISTRATION_LEASE_MARGIN_SECONDS = 5;

/** The lease when the chat provisioner declares no deadline (what every release before used). */
export const UNBOUNDED_PROVISIONER_LEASE_SECONDS = 60;

/**
 * The registration lease for a chat provisioner whose calls end within `deadlineMs`: the deadline
 * rounded up to whole seconds, plus {@link REGISTRATION_LEASE_MARGIN_SECONDS}. A process that dies
 * mid-registration holds its account no longer than this; a live attempt is never taken over while
 * its chat-user creation may still be running.
 */
export function registrationLeaseSecondsFor(deadlineMs: number | undefined, marginSeconds = REGISTRATION_LEASE_MARGIN_SECONDS): number {
  if (deadlineMs === undefined) return UNBOUNDED_PROVISIONER_LEASE_SECONDS;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) throw new RangeError(`The chat provisioner's deadlineMs must be a positive number, got ${deadlineMs}.`);
  if (!Number.isInteger(marginSeconds) || marginSeconds < 1) throw new RangeError(`The lease margin must be a positive whole number of seconds, got ${marginSeconds}.`);
  return Math.ceil(deadlineMs / 1000) + marginSeconds;
}

/**
 * Why `leaseSeconds` cannot be the registration lease next to a provisioner deadline of `deadlineMs`,
 * or undefined when it can. A lease that is not longer than the deadline lets a second attempt take
 * a registration over while the first one's chat-user creation is still running.
 */
export function registrationLeaseProblem(leaseSeconds: number, deadlineMs: number | undefined): string | undefined {
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) return `must be a positive whole number of seconds, got ${leaseSeconds}`;
  if (deadlineMs !== undefined && leaseSeconds * 1000 <= deadlineMs) {
    return `(${leaseSeconds} s) must be longer than the chat service deadline (${deadlineMs} ms, retries included), ` +
      `or a registration could be taken over while its chat user is still being created; ` +
      `leave it unset for ${registrationLeaseSecondsFor(deadlineMs)} s (the deadline plus ${REGISTRATION_LEASE_MARGIN_SECONDS} s)`;
  }
  return undefined;
}

/**
 * The lease a composition uses: `configured` when given (checked against the deadline), else the
 * one derived from the deadline.
 * @throws RangeError when `configured` is not longer than the deadline
 */
export function resolveRegistrationLease(configured: number | undefined, deadlineMs: number | undefined): number {
  if (configured === undefined) return registrationLeaseSecondsFor(deadlineMs);
  const problem = registrationLeaseProblem(configured, deadlineMs);
  if (problem) throw new RangeError(`registrationLeaseSeconds ${problem}.`);
  return configured;
}
