import type { Model, ModelAttributes, ModelOptions, ModelStatic, Sequelize } from 'sequelize';

/**
 * Defines a model on one Sequelize instance, once. Models are per instance (sequelize.define), not
 * global classes, so two databases open in one process (the embedded and the MariaDB test sets)
 * never share a model bound to the wrong connection.
 */
export function defineOnce<M extends Model>(
  sequelize: Sequelize,
  name: string,
  attributes: ModelAttributes<M>,
  options: ModelOptions<M> = {},
): ModelStatic<M> {
  const existing = sequelize.models[name];
  if (existing) return existing as ModelStatic<M>;
  return sequelize.define<M>(name, attributes, { tableName: name, freezeTableName: true, ...options }) as ModelStatic<M>;
}

/** Timestamps named as the seeds name them. */
export const snakeTimestamps = { timestamps: true, createdAt: 'created_at', updatedAt: 'updated_at' } as const;

/** mysql2 returns BIGINT as a string, SQLite as a number: the domain always sees a string. */
export const idString = (v: string | number | bigint): string => String(v);
