/**
 * Four-eyes releases: a surface may require N approvals, from people other than the rollout's or experiment's
 * author, before it starts and before a manual advance past a stated reach. An approval names the approver and
 * the version reviewed and keeps a digest of what was reviewed (the plan and the flag in that environment); an
 * edit of either afterwards makes it stale, so a new approval is needed. Rollbacks, pauses and the controller's
 * own decisions never ask.
 */
import { createHash } from 'node:crypto';
import type { ApprovalAction, ApprovalPolicy, ApprovalStatus, ApprovalView } from '@dimmer/api';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { generateId } from '../secrets.ts';
import type { ApprovalRecord, PeopleStore } from './people.store.ts';

export type ReviewableType = ApprovalRecord['resourceType'];

/** What a reviewer reviews of a rollout or experiment. */
export interface Reviewable {
  id: string;
  flag: string;
  environment: string;
  status: string;
  revision: number;
  plan: unknown;
  /** The current stage and attempt (rollouts), bound into an advance approval. */
  stage: number | null;
  attempt: number | null;
  /** The reach a manual advance would move to now, in percent (null: none). */
  nextReach: number | null;
}

export interface ApprovalsDeps {
  store: PeopleStore;
  /** The audit log, newest first (the composition root passes the audit store). */
  audit: {
    list(filter: {
      resourceType: ReviewableType;
      resourceKey: string;
      limit: number;
      beforeId?: number;
    }): Promise<readonly { id: number; actor: string; action: string }[]>;
  };
  clock: Clock;
  load(type: ReviewableType, id: string): Promise<Reviewable>;
  /** The flag document (for the digest) and its surface's approval policy. */
  flag(key: string): Promise<{ document: Record<string, unknown>; surface: string | undefined } | undefined>;
  policy(surface: string): Promise<ApprovalPolicy | undefined>;
}

/** JSON with object keys sorted, so equal documents give equal digests whichever store they came from. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const PERSON = /^user:/;

export class ApprovalsService {
  constructor(private readonly deps: ApprovalsDeps) {}

  async #policy(subject: Reviewable): Promise<ApprovalPolicy | undefined> {
    const flag = await this.deps.flag(subject.flag);
    if (flag?.surface === undefined) return undefined;
    const policy = await this.deps.policy(flag.surface);
    if (policy === undefined) return undefined;
    if (policy.environments !== undefined && !policy.environments.includes(subject.environment))
      return undefined;
    return policy;
  }

  /** The action that would need approvals now: `start` of a draft, `advance` past the surface's reach. */
  #pendingAction(subject: Reviewable, policy: ApprovalPolicy | undefined): ApprovalAction | null {
    if (policy === undefined) return null;
    if (subject.status === 'draft') return 'start';
    if (
      policy.advancePastReach !== undefined &&
      subject.nextReach !== null &&
      subject.nextReach > policy.advancePastReach
    )
      return 'advance';
    return null;
  }

  async #digest(subject: Reviewable, action: ApprovalAction): Promise<string> {
    const flag = await this.deps.flag(subject.flag);
    const document = flag?.document ?? null;
    const environments = (document?.environments ?? {}) as Record<string, unknown>;
    const reviewed = {
      action,
      plan: subject.plan,
      flag:
        document === null ? null : { ...document, environments: environments[subject.environment] ?? null },
      ...(action === 'advance' ? { stage: subject.stage, attempt: subject.attempt } : {}),
    };
    return createHash('sha256').update(canonical(reviewed)).digest('hex');
  }

  /** The author: the actor of the create entry in the audit log. */
  async #author(type: ReviewableType, id: string): Promise<string | null> {
    let beforeId: number | undefined;
    for (;;) {
      const page = await this.deps.audit.list({
        resourceType: type,
        resourceKey: id,
        limit: 500,
        ...(beforeId !== undefined ? { beforeId } : {}),
      });
      const created = page.find((e) => e.action === `${type}.create`);
      if (created !== undefined) return created.actor;
      const last = page[page.length - 1];
      if (page.length < 500 || last === undefined) return null;
      beforeId = last.id;
    }
  }

  async #status(
    type: ReviewableType,
    subject: Reviewable,
    action: ApprovalAction | null,
  ): Promise<ApprovalStatus> {
    const policy = await this.#policy(subject);
    const pending = action ?? this.#pendingAction(subject, policy);
    const author = await this.#author(type, subject.id);
    const records = await this.deps.store.listApprovals(type, subject.id);
    const digests = new Map<ApprovalAction, string>();
    const digestOf = async (a: ApprovalAction) => {
      let d = digests.get(a);
      if (d === undefined) {
        d = await this.#digest(subject, a);
        digests.set(a, d);
      }
      return d;
    };
    const approvals: ApprovalView[] = [];
    for (const r of records)
      approvals.push({
        id: r.id,
        resourceType: r.resourceType,
        resourceId: r.resourceId,
        action: r.action,
        approver: r.approver,
        version: r.version,
        comment: r.comment,
        at: new Date(r.at).toISOString(),
        valid: r.digest === (await digestOf(r.action)),
      });
    const required = pending !== null && policy !== undefined ? policy.required : 0;
    const approvers = new Set(
      approvals
        .filter((a) => a.valid && a.action === pending && a.approver !== author)
        .map((a) => a.approver),
    );
    return { author, required, action: pending, approvals, satisfied: approvers.size >= required };
  }

  /** The approval state of a rollout or experiment. */
  async status(type: ReviewableType, id: string): Promise<ApprovalStatus> {
    return this.#status(type, await this.deps.load(type, id), null);
  }

  /**
   * The gate of the start and manual-advance hooks: throws CONFLICT when the surface requires approvals for
   * this action and fewer valid ones than required were given by people other than the author.
   */
  async check(type: ReviewableType, subject: Reviewable, action: ApprovalAction): Promise<void> {
    const policy = await this.#policy(subject);
    if (policy === undefined) return;
    if (
      action === 'advance' &&
      (policy.advancePastReach === undefined || (subject.nextReach ?? 0) <= policy.advancePastReach)
    )
      return;
    const status = await this.#status(type, subject, action);
    if (status.satisfied) return;
    const valid = new Set(
      status.approvals
        .filter((a) => a.valid && a.action === action && a.approver !== status.author)
        .map((a) => a.approver),
    ).size;
    const stale = status.approvals.filter((a) => !a.valid && a.action === action).length;
    throw new AppError(
      'CONFLICT',
      `${type} ${subject.id} needs ${status.required} approval${status.required === 1 ? '' : 's'} to ${action} from people other than its author (${status.author ?? 'unknown'}); it has ${valid}${stale > 0 ? ` (${stale} made stale by a later edit)` : ''}. Ask with POST …/approvals/request; an approver sends POST …/approvals`,
      { approvals: { action, required: status.required, valid, stale, author: status.author } },
    );
  }

  /** Records a request for approvals in the audit log. */
  async request(
    type: ReviewableType,
    id: string,
    input: { action: ApprovalAction; comment?: string },
    actor: string,
  ): Promise<ApprovalStatus> {
    const subject = await this.deps.load(type, id);
    await this.deps.store.appendAudit({
      at: this.deps.clock.now(),
      actor,
      action: `${type}.approval_request`,
      resourceType: type,
      resourceKey: id,
      environment: subject.environment,
      before: null,
      after: { action: input.action, version: subject.revision, comment: input.comment ?? null },
    });
    return this.#status(type, subject, input.action);
  }

  /** Approves what the approver reviewed at `version`: a person, not the author; CONFLICT when stale. */
  async approve(
    type: ReviewableType,
    id: string,
    input: { action: ApprovalAction; version: number; comment?: string },
    actor: string,
  ): Promise<ApprovalStatus> {
    if (!PERSON.test(actor))
      throw new AppError('FORBIDDEN', `approvals are given by people signed in, not by tokens (${actor})`);
    const subject = await this.deps.load(type, id);
    if (input.version !== subject.revision)
      throw new AppError(
        'CONFLICT',
        `version: ${type} ${id} is at version ${subject.revision}, not ${input.version}; review it again`,
        { currentVersion: subject.revision },
      );
    const author = await this.#author(type, id);
    if (author === actor)
      throw new AppError(
        'FORBIDDEN',
        `${actor} is the author of ${type} ${id}; someone else must approve it`,
      );
    const record: ApprovalRecord = {
      id: generateId('apr_'),
      resourceType: type,
      resourceId: id,
      action: input.action,
      approver: actor,
      version: subject.revision,
      digest: await this.#digest(subject, input.action),
      comment: input.comment ?? null,
      at: this.deps.clock.now(),
    };
    await this.deps.store.createApproval(record, {
      at: record.at,
      actor,
      action: `${type}.approve`,
      resourceType: type,
      resourceKey: id,
      environment: subject.environment,
      before: null,
      after: { action: record.action, version: record.version, comment: record.comment, approval: record.id },
    });
    return this.#status(type, subject, input.action);
  }
}
