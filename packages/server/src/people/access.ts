/**
 * Who may do what: a caller's role in each environment, from explicit grants (to the person or to one of the
 * provider groups they belong to) and from the group mapping of the configuration. The admin token's own
 * role applies in every environment. Grants are read through a short cache, so a change reaches every node
 * within a second.
 */
import { ALL_ENVIRONMENTS, type GrantView, ROLES, type Role, strongerRole } from '@dimmer/api';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { generateId } from '../secrets.ts';
import { StoreConflictError } from '../storage/write.ts';
import type { GrantRecord, PeopleStore } from './people.store.ts';

/** How long the grant table is cached, in milliseconds. */
export const GRANTS_CACHE_MS = 1_000;

/** One line of the configured group mapping: members of `group` get `role` in `environment` (`*`: all). */
export interface GroupRole {
  group: string;
  environment: string;
  role: Role;
}

/** A caller's roles: the one for every environment, and stronger ones per environment. */
export interface Roles {
  all: Role | null;
  byEnvironment: ReadonlyMap<string, Role>;
}

/** The effective role of `roles` in `environment` (undefined: the role for every environment). */
export function roleIn(roles: Roles, environment: string | undefined): Role | null {
  if (environment === undefined) return roles.all;
  return strongerRole(roles.all, roles.byEnvironment.get(environment) ?? null);
}

/**
 * Parses `group=role[@environment]` entries separated by commas (DIMMER_OIDC_GROUP_ROLES); throws a message
 * naming the bad entry.
 */
export function parseGroupRoles(text: string): GroupRole[] {
  const out: GroupRole[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = /^([^=\s]+)=([a-z]+)(?:@([a-z0-9][a-z0-9_-]{0,62}|\*))?$/.exec(entry);
    if (!match || !(ROLES as readonly string[]).includes(match[2] as string))
      throw new Error(
        `"${entry}": expected group=role or group=role@environment, role one of ${ROLES.join(', ')}`,
      );
    out.push({
      group: match[1] as string,
      role: match[2] as Role,
      environment: match[3] ?? ALL_ENVIRONMENTS,
    });
  }
  return out;
}

function grantView(record: GrantRecord): GrantView {
  return {
    id: record.id,
    subject: record.subject,
    environment: record.environment,
    role: record.role,
    source: 'api',
    createdAt: new Date(record.createdAt).toISOString(),
    createdBy: record.createdBy,
  };
}

export class AccessService {
  #cache: { grants: GrantRecord[]; until: number } | undefined;

  constructor(
    private readonly deps: {
      store: PeopleStore;
      clock: Clock;
      groupRoles: readonly GroupRole[];
      environmentExists(key: string): Promise<boolean>;
    },
  ) {}

  async #grants(): Promise<GrantRecord[]> {
    const now = this.deps.clock.now();
    if (this.#cache !== undefined && this.#cache.until > now) return this.#cache.grants;
    const grants = await this.deps.store.listGrants();
    this.#cache = { grants, until: now + GRANTS_CACHE_MS };
    return grants;
  }

  /** The roles of a person (`user:…` actor, with the subject and provider groups of their session). */
  async rolesOf(person: {
    actor: string;
    subject: string;
    email: string | null;
    groups: readonly string[];
  }): Promise<Roles> {
    const subjects = new Set([person.actor, `user:${person.subject}`]);
    if (person.email !== null) subjects.add(`user:${person.email}`);
    for (const group of person.groups) subjects.add(`group:${group}`);
    const lines: { environment: string; role: Role }[] = [
      ...this.deps.groupRoles.filter((g) => person.groups.includes(g.group)),
      ...(await this.#grants()).filter((g) => subjects.has(g.subject)),
    ];
    let all: Role | null = null;
    const byEnvironment = new Map<string, Role>();
    for (const line of lines)
      if (line.environment === ALL_ENVIRONMENTS) all = strongerRole(all, line.role);
      else
        byEnvironment.set(
          line.environment,
          strongerRole(byEnvironment.get(line.environment) ?? null, line.role) as Role,
        );
    return { all, byEnvironment };
  }

  /** Every grant: the configured group mapping first, then the explicit ones. */
  async listGrants(): Promise<GrantView[]> {
    const configured: GrantView[] = this.deps.groupRoles.map((g) => ({
      id: `config:${g.group}@${g.environment}`,
      subject: `group:${g.group}`,
      environment: g.environment,
      role: g.role,
      source: 'config',
      createdAt: null,
      createdBy: null,
    }));
    return [...configured, ...(await this.deps.store.listGrants()).map(grantView)];
  }

  /** Grants a role; CONFLICT when the subject has a grant in that environment already (delete it first). */
  async createGrant(
    input: { subject: string; environment: string; role: Role },
    actor: string,
  ): Promise<GrantView> {
    if (input.environment !== ALL_ENVIRONMENTS && !(await this.deps.environmentExists(input.environment)))
      throw new AppError('VALIDATION_FAILED', `environment: unknown environment "${input.environment}"`, {
        issues: [
          {
            path: 'environment',
            message: `unknown environment "${input.environment}"; expected a key or "*"`,
          },
        ],
      });
    const record: GrantRecord = {
      id: generateId('grant_'),
      subject: input.subject,
      environment: input.environment,
      role: input.role,
      createdAt: this.deps.clock.now(),
      createdBy: actor,
    };
    const view = grantView(record);
    try {
      await this.deps.store.createGrant(record, {
        at: record.createdAt,
        actor,
        action: 'grant.create',
        resourceType: 'grant',
        resourceKey: record.id,
        ...(record.environment !== ALL_ENVIRONMENTS ? { environment: record.environment } : {}),
        before: null,
        after: view,
      });
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError(
          'CONFLICT',
          `${input.subject} already has a grant in ${input.environment}; delete it first to change the role`,
        );
      throw error;
    }
    this.#cache = undefined;
    return view;
  }

  /** Deletes an explicit grant; NOT_FOUND for an unknown id (configured ones change in the configuration). */
  async deleteGrant(id: string, actor: string): Promise<void> {
    if (id.startsWith('config:'))
      throw new AppError(
        'CONFLICT',
        `grant ${id} comes from DIMMER_OIDC_GROUP_ROLES; change the configuration`,
      );
    const deleted = await this.deps.store.deleteGrant(id, (record) => ({
      at: this.deps.clock.now(),
      actor,
      action: 'grant.delete',
      resourceType: 'grant',
      resourceKey: id,
      ...(record.environment !== ALL_ENVIRONMENTS ? { environment: record.environment } : {}),
      before: grantView(record),
      after: null,
    }));
    if (!deleted) throw new AppError('NOT_FOUND', `grant ${id} not found`);
    this.#cache = undefined;
  }
}
