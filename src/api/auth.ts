// Bearer-token check. Both sides are hashed to a fixed length first, so timingSafeEqual never sees different
// lengths and the comparison time says nothing about the token (not even its length).
import { createHash, timingSafeEqual } from 'node:crypto';
import { apiErrors, type ApiError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class BearerAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** null when the Authorization header carries the token; otherwise the 401 to answer. */
  check(header: string | undefined): ApiError | null {
    if (!header) return apiErrors.unauthorized('authentication required: send "Authorization: Bearer <token>"');
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!m) return apiErrors.unauthorized('malformed Authorization header: expected "Bearer <token>"');
    return timingSafeEqual(digest(m[1]!), this.expected) ? null : apiErrors.unauthorized('invalid bearer token');
  }
}
