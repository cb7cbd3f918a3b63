// The one line between a user's mistake and our bug. A UserError's message is written for the person
// at the keyboard (what went wrong, what to do); hosts show it as it is. Anything else that escapes
// is a bug: hosts show its message too, but add the stack where they keep one.

/** An error meant for the user: bad input, a refusal, a missing setting. Subclasses name the case. */
export class UserError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Whether `error` is meant for the user (a UserError), as opposed to a bug. */
export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
