/** A server error raised while a command is evaluated; the command handler answers with `reply`. */
import type { Document } from 'bson';

export class CommandError extends Error {
  readonly reply: Document;

  constructor(code: number, codeName: string, errmsg: string, extra: Document = {}) {
    super(errmsg);
    this.reply = { ok: 0, errmsg, code, codeName, ...extra };
  }
}

/** A malformed request (BadValue, code 2). */
export function badValue(errmsg: string): CommandError {
  return new CommandError(2, 'BadValue', errmsg);
}
