/** TypeBox schemas shared by the admin routes. */
import { Type } from 'typebox';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Unknown(),
    }),
  },
  { description: 'Every error reply: a code from the closed set, a message, and details' },
);

/** Error replies every admin route may give. */
export const ADMIN_ERRORS = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  413: ErrorSchema,
  415: ErrorSchema,
};

/** Keys of environments: lower-case letters, digits, `-` and `_`. */
export const EnvironmentKey = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' });
/** Flag and segment keys (core checks them too). */
export const ResourceKey = Type.String({ minLength: 1, maxLength: 128 });

export const ADMIN_SECURITY = [{ adminToken: [] }];
