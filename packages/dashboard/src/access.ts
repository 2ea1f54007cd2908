/**
 * What the signed-in caller may do, to hide or disable what its role cannot: the same rule as the server's
 * access table (the server checks every request; this only spares people buttons that would be refused).
 */
import type { Me, Permission, Role } from './api.ts';

const ORDER: readonly Role[] = ['viewer', 'editor', 'releaser', 'admin'];
const NEEDS: Readonly<Record<Exclude<Permission, 'self'>, Role>> = {
  read: 'viewer',
  edit: 'editor',
  release: 'releaser',
  admin: 'admin',
};

/** The caller's role in `environment`, or for every environment when it is undefined. */
export function roleOf(me: Me, environment?: string): Role | null {
  if (environment === undefined) return me.role;
  return me.environments[environment] ?? me.role;
}

/** Whether the caller may do what needs `permission` in `environment` (undefined: every environment). */
export function can(me: Me, permission: Exclude<Permission, 'self'>, environment?: string): boolean {
  const role = roleOf(me, environment);
  return role !== null && ORDER.indexOf(role) >= ORDER.indexOf(NEEDS[permission]);
}
