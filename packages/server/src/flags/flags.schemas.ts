/**
 * TypeBox schemas of flag documents. They fix the outer shape (unknown fields rejected, no coercion);
 * conditions and serve clauses are checked in depth by core's validator, whose issues name the path.
 */
import { Type } from 'typebox';
import { EnvironmentKey, ResourceKey } from '../http/schemas.ts';

export const FlagKindSchema = Type.Union([
  Type.Literal('boolean'),
  Type.Literal('string'),
  Type.Literal('number'),
  Type.Literal('object'),
]);

export const RuleSchema = Type.Object(
  {
    id: Type.String(),
    description: Type.Optional(Type.String()),
    when: Type.Optional(
      Type.Unknown({ description: 'A condition: attribute test, all/any/not, or segment reference' }),
    ),
    bucketBy: Type.Optional(Type.String()),
    rollout: Type.Optional(Type.String()),
    experiment: Type.Optional(Type.String()),
    serve: Type.Unknown({
      description: '{ variant } or { split: [{ variant, range: [start, end), arm? }] }',
    }),
  },
  { additionalProperties: false },
);

export const FlagEnvironmentSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    overrides: Type.Optional(Type.Record(Type.String(), Type.String())),
    rules: Type.Array(RuleSchema),
  },
  { additionalProperties: false },
);

const VariantsSchema = Type.Record(Type.String(), Type.Unknown(), {
  description: 'variant name → value (its type follows the kind)',
});

const documentFields = {
  key: ResourceKey,
  kind: FlagKindSchema,
  surface: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  variants: VariantsSchema,
  defaultVariant: Type.String(),
  salt: Type.Optional(
    Type.String({ description: 'Accepted on create only; generated (16 hex chars) when absent' }),
  ),
  hashVersion: Type.Optional(Type.Literal(1)),
  environments: Type.Optional(Type.Record(Type.String(), FlagEnvironmentSchema)),
};

/** Body of POST /flags and PUT /flags/{key} (on PUT, key and salt may be omitted but not changed). */
export const FlagInputSchema = Type.Object(documentFields, { additionalProperties: false });
export const FlagReplaceSchema = Type.Object(
  {
    ...documentFields,
    key: Type.Optional(ResourceKey),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const FlagPatchSchema = Type.Object(
  {
    kind: Type.Optional(FlagKindSchema),
    surface: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    variants: Type.Optional(VariantsSchema),
    defaultVariant: Type.Optional(Type.String()),
    salt: Type.Optional(Type.String({ description: 'Must equal the stored salt' })),
    hashVersion: Type.Optional(Type.Literal(1)),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    environments: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            enabled: Type.Optional(Type.Boolean()),
            overrides: Type.Optional(Type.Record(Type.String(), Type.String())),
            rules: Type.Optional(Type.Array(RuleSchema)),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export const FlagViewSchema = Type.Object({
  key: Type.String(),
  kind: FlagKindSchema,
  surface: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  variants: Type.Record(Type.String(), Type.Unknown()),
  defaultVariant: Type.String(),
  salt: Type.String(),
  hashVersion: Type.Literal(1),
  environments: Type.Record(Type.String(), Type.Unknown()),
  archived: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const PreviewSchema = Type.Record(
  Type.String(),
  Type.Object({
    sampled: Type.Integer(),
    changed: Type.Integer(),
    share: Type.Number({ description: 'Estimated share of units that change variant (synthetic sample)' }),
    transitions: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), count: Type.Integer() })),
  }),
  { description: 'Per environment whose served configuration changed' },
);

export const FlagChangeSchema = Type.Object({ flag: FlagViewSchema, preview: PreviewSchema });

export const FlagKeyParams = Type.Object({ key: ResourceKey });
export const FlagEnvParams = Type.Object({ key: ResourceKey, env: EnvironmentKey });
